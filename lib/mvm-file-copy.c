/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Whole-disk copies for full clones: sparse disks stay sparse, copy-on-write filesystems
 * share blocks, and a half copy never has a name. */
#include "mvm-file-copy.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mvm-error.h"
#include "mvm-file.h"

#define CHUNK (64 << 20) /* between checks for cancellation */

static gboolean
fail (GError **error, const char *what, const char *path)
{
  g_set_error (error, MVM_ERROR, MVM_ERROR_FAILED, "cannot %s %s: %s", what, path,
               g_strerror (errno));
  return FALSE;
}

static gboolean
copy_range (int in, int out, off_t from, off_t to, GCancellable *cancellable, const char *path,
            GError **error)
{
  while (from < to)
    {
      loff_t src = from, dst = from;
      ssize_t n = copy_file_range (in, &src, out, &dst, MIN (to - from, CHUNK), 0);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return fail (error, "copy into", path);
      if (n == 0)
        {
          g_set_error (error, MVM_ERROR, MVM_ERROR_FAILED,
                       "cannot copy into %s: the source ended early", path);
          return FALSE;
        }
      from += n;
      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        return FALSE;
    }
  return TRUE;
}

/* Each data range of @in in turn; what lies between stays a hole of @out */
static gboolean
copy_data (int in, int out, off_t size, GCancellable *cancellable, const char *path, GError **error)
{
  off_t data = 0;

  if (ftruncate (out, size) < 0)
    return fail (error, "size", path);
  while (data < size)
    {
      off_t hole;
      data = lseek (in, data, SEEK_DATA);
      if (data < 0 && errno == ENXIO)
        return TRUE; /* only a hole is left */
      if (data < 0 || (hole = lseek (in, data, SEEK_HOLE)) < 0)
        return fail (error, "read the source of", path);
      if (!copy_range (in, out, data, hole, cancellable, path, error))
        return FALSE;
      data = hole;
    }
  return TRUE;
}

gboolean
mvm_file_copy (int source_fd, const char *path, GCancellable *cancellable, GError **error)
{
  g_autofree char *dir = g_path_get_dirname (path);
  struct stat st;
  gboolean ok;
  int out;

  if (fstat (source_fd, &st) < 0)
    return fail (error, "read the source of", path);
  if ((out = mvm_file_open_unnamed (dir, error)) < 0)
    return FALSE;
  ok = ioctl (out, FICLONE, source_fd) == 0
       || copy_data (source_fd, out, st.st_size, cancellable, path, error);
  ok = ok && mvm_file_link_unnamed (out, path, error);
  close (out);
  return ok;
}
