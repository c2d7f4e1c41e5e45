/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "mvm-file.h"

#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

static gboolean
fail_errno (GError **error, const char *what, const char *path)
{
  int saved = errno;

  g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved), "cannot %s %s: %s", what, path,
               g_strerror (saved));
  return FALSE;
}

static gboolean
write_all (int fd, const char *data, gsize length)
{
  while (length > 0)
    {
      gssize n = write (fd, data, length);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        return FALSE;
      data += n;
      length -= n;
    }
  return TRUE;
}

static void
sync_folder (const char *path)
{
  g_autofree char *dir = g_path_get_dirname (path);
  int fd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

  if (fd >= 0)
    {
      fsync (fd);
      close (fd);
    }
}

static gboolean
write_replace (const char *path, const char *data, gssize length, int mode, gboolean durable,
               GError **error)
{
  g_autofree char *tmp = g_strconcat (path, ".new", NULL);
  gsize len = length < 0 ? strlen (data) : (gsize)length;
  int fd = open (tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);

  if (fd < 0)
    return fail_errno (error, "create", tmp);
  if (!write_all (fd, data, len) || (durable && fsync (fd) < 0))
    {
      fail_errno (error, "write", tmp);
      close (fd);
      g_unlink (tmp);
      return FALSE;
    }
  if (close (fd) < 0 || rename (tmp, path) < 0)
    {
      fail_errno (error, "replace", path);
      g_unlink (tmp);
      return FALSE;
    }
  if (durable)
    sync_folder (path);
  return TRUE;
}

gboolean
mvm_file_write_atomic (const char *path, const char *data, gssize length, int mode, GError **error)
{
  return write_replace (path, data, length, mode, TRUE, error);
}

gboolean
mvm_file_write_runtime (const char *path, const char *data, gssize length, int mode, GError **error)
{
  return write_replace (path, data, length, mode, FALSE, error);
}

int
mvm_file_open_unnamed (const char *dir, GError **error)
{
  int fd = open (dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);

  if (fd < 0)
    fail_errno (error, "create a file in", dir);
  return fd;
}

gboolean
mvm_file_link_unnamed (int fd, const char *path, GError **error)
{
  g_autofree char *proc = g_strdup_printf ("/proc/self/fd/%d", fd);

  if (fsync (fd) < 0)
    return fail_errno (error, "write", path);
  if (linkat (AT_FDCWD, proc, AT_FDCWD, path, AT_SYMLINK_FOLLOW) < 0)
    return fail_errno (error, "create", path);
  return TRUE;
}
