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
#define BUFFER (1 << 20) /* a copy by read and write, at a time */

static gboolean
fail (GError **error, const char *what, const char *path)
{
  g_set_error (error, MVM_ERROR, MVM_ERROR_FAILED, "cannot %s %s: %s", what, path,
               g_strerror (errno));
  return FALSE;
}

/* Where copy_file_range cannot go, from one filesystem to another (a snapshot's disk to a
 * runtime folder on tmpfs): the bytes through a buffer */
static gboolean
copy_by_hand (int in, int out, off_t from, off_t to, GCancellable *cancellable, const char *path,
              GError **error)
{
  g_autofree char *buffer = g_malloc (BUFFER);

  while (from < to)
    {
      ssize_t n = pread (in, buffer, MIN (to - from, BUFFER), from);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return fail (error, "read the source of", path);
      if (n == 0)
        {
          g_set_error (error, MVM_ERROR, MVM_ERROR_FAILED,
                       "cannot copy into %s: the source ended early", path);
          return FALSE;
        }
      for (ssize_t done = 0; done < n;)
        {
          ssize_t w = pwrite (out, buffer + done, n - done, from + done);
          if (w < 0 && errno != EINTR)
            return fail (error, "copy into", path);
          done += MAX (w, 0);
        }
      from += n;
      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        return FALSE;
    }
  return TRUE;
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
      if (n < 0 && (errno == EXDEV || errno == EOPNOTSUPP || errno == ENOSYS))
        return copy_by_hand (in, out, from, to, cancellable, path, error);
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
mvm_file_copy_into (int source_fd, int out_fd, const char *what, GCancellable *cancellable,
                    GError **error)
{
  struct stat st;

  if (fstat (source_fd, &st) < 0)
    return fail (error, "read the source of", what);
  return ioctl (out_fd, FICLONE, source_fd) == 0
         || copy_data (source_fd, out_fd, st.st_size, cancellable, what, error);
}

gboolean
mvm_file_copy (int source_fd, const char *path, GCancellable *cancellable, GError **error)
{
  g_autofree char *dir = g_path_get_dirname (path);
  gboolean ok;
  int out;

  if ((out = mvm_file_open_unnamed (dir, error)) < 0)
    return FALSE;
  ok = mvm_file_copy_into (source_fd, out, path, cancellable, error)
       && mvm_file_link_unnamed (out, path, error);
  close (out);
  return ok;
}
