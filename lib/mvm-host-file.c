/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The host files a guest may use, opened by the daemon and handed to QEMU as fds. */
#include "mvm-host-file.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "mvm-error.h"

/* "/srv/images/a.raw" under "/srv/images/" or "/srv/images": "a.raw"; NULL otherwise. */
static const char *
relative_to (const char *path, const char *dir)
{
  gsize len = strlen (dir);

  while (len > 1 && dir[len - 1] == '/')
    len--;
  if (strncmp (path, dir, len) != 0 || (path[len] != '/' && len != 1))
    return NULL;
  path += len;
  while (*path == '/')
    path++;
  return *path ? path : NULL;
}

static gboolean
check_kind (int fd, const char *path, gboolean device, GError **error)
{
  struct stat st;

  if (fstat (fd, &st) < 0)
    {
      g_set_error (error, MVM_ERROR, MVM_ERROR_INVALID_CONFIG, "cannot use '%s': %s", path,
                   g_strerror (errno));
      return FALSE;
    }
  if (device ? S_ISBLK (st.st_mode) : S_ISREG (st.st_mode))
    return TRUE;
  g_set_error (error, MVM_ERROR, MVM_ERROR_ACCESS_DENIED, "'%s' is not a %s", path,
               device ? "block device" : "regular file");
  return FALSE;
}

static int
checked (int fd, const char *path, gboolean device, GError **error)
{
  if (check_kind (fd, path, device, error))
    return fd;
  close (fd);
  return -1;
}

/* openat2's walk done by hand, for kernels before 5.6 (and valgrind): one component at a
 * time, each opened without following a symlink; "." and ".." are refused by name. */
static int
walk_below (int dirfd, const char *relative, int flags)
{
  g_auto (GStrv) parts = g_strsplit (relative, "/", -1);
  int fd = dup (dirfd);
  guint n = g_strv_length (parts);

  for (guint i = 0; fd >= 0 && i < n; i++)
    {
      gboolean last = i + 1 == n;
      int next;

      if (parts[i][0] == '\0' && !last)
        continue; /* "a//b" */
      if (g_str_equal (parts[i], ".") || g_str_equal (parts[i], "..") || parts[i][0] == '\0')
        {
          close (fd);
          errno = EXDEV;
          return -1;
        }
      next = openat (fd, parts[i],
                     last ? flags | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW
                          : O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (next < 0 && !last && errno == ENOTDIR)
        errno = ELOOP; /* a symlink where a folder should be */
      close (fd);
      fd = next;
    }
  return fd;
}

static int
open_below (const char *dir, const char *relative, const char *path, int flags, GError **error)
{
  struct open_how how
    = { .flags = flags | O_CLOEXEC | O_NOCTTY,
        .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS };
  int dirfd = open (dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
  int fd, err;

  if (dirfd < 0)
    {
      g_set_error (error, MVM_ERROR, MVM_ERROR_INVALID_CONFIG, "cannot open the folder %s: %s", dir,
                   g_strerror (errno));
      return -1;
    }
  fd = syscall (SYS_openat2, dirfd, relative, &how, sizeof how);
  if (fd < 0 && errno == ENOSYS)
    fd = walk_below (dirfd, relative, flags);
  err = errno;
  close (dirfd);
  if (fd >= 0)
    return checked (fd, path, FALSE, error);
  if (err == ELOOP || err == EXDEV)
    g_set_error (error, MVM_ERROR, MVM_ERROR_ACCESS_DENIED,
                 "'%s' goes through a symlink or '..' below %s; name the file itself", path, dir);
  else
    g_set_error (error, MVM_ERROR, MVM_ERROR_INVALID_CONFIG, "cannot use '%s': %s", path,
                 g_strerror (err));
  return -1;
}

int
mvm_host_file_open_beneath (const char *const *dirs, const char *path, int flags, GError **error)
{
  for (guint i = 0; dirs && dirs[i]; i++)
    {
      const char *relative = relative_to (path, dirs[i]);
      if (relative)
        return open_below (dirs[i], relative, path, flags, error);
    }
  if (dirs == NULL || dirs[0] == NULL)
    g_set_error (error, MVM_ERROR, MVM_ERROR_ACCESS_DENIED,
                 "'%s' is not allowed: microvmd.conf allows no folder for it", path);
  else
    {
      g_autofree char *list = g_strjoinv (" ", (char **)dirs);
      g_set_error (error, MVM_ERROR, MVM_ERROR_ACCESS_DENIED,
                   "'%s' is outside the folders microvmd.conf allows (%s)", path, list);
    }
  return -1;
}

/* A path root's microvmd.conf names: followed as it is, then checked for its kind. */
static int
open_named (const char *path, int flags, gboolean device, GError **error)
{
  int fd = open (path, flags | O_CLOEXEC | O_NOCTTY);

  if (fd < 0)
    {
      g_set_error (error, MVM_ERROR, MVM_ERROR_INVALID_CONFIG, "cannot use '%s': %s", path,
                   g_strerror (errno));
      return -1;
    }
  return checked (fd, path, device, error);
}

int
mvm_host_file_open_device (const char *path, int flags, GError **error)
{
  return open_named (path, flags, TRUE, error);
}

int
mvm_host_file_open_trusted (const char *path, GError **error)
{
  return open_named (path, O_RDONLY, FALSE, error);
}

gboolean
mvm_host_file_listed (const char *const *list, const char *path)
{
  return list && g_strv_contains (list, path);
}
