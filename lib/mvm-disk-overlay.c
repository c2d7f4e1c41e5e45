/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A writable Image= disk's own qcow2 overlay: the image stays as imported, shared by every
 * guest that boots it, and what one guest writes stays in its own folder. */
#include "mvm-disk-overlay.h"

#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mvm-error.h"
#include "mvm-file.h"
#include "mvm-paths.h"
#include "mvm-qcow2.h"

/* Sets @error from errno; returns -1, the failed fd */
static int
fail_errno (GError **error, const char *what, const char *path)
{
  g_set_error (error, MVM_ERROR, MVM_ERROR_FAILED, "cannot %s %s: %s", what, path,
               g_strerror (errno));
  return -1;
}

/* Written as an unnamed file, then linked: a half-made overlay never has a name. */
static int
create_overlay (const char *dir, const char *path, guint64 size, GError **error)
{
  g_autoptr (GError) local = NULL;
  int fd;

  if (g_mkdir_with_parents (dir, 0700) < 0)
    return fail_errno (error, "create", dir);
  if ((fd = mvm_file_open_unnamed (dir, error)) < 0)
    return -1;
  if (mvm_qcow2_write_overlay (fd, size, &local) && mvm_file_link_unnamed (fd, path, &local))
    return fd;
  close (fd);
  if (!g_error_matches (local, G_IO_ERROR, G_IO_ERROR_EXISTS))
    {
      g_propagate_error (error, g_steal_pointer (&local));
      return -1;
    }
  /* made meanwhile by another start of this guest: that one */
  if ((fd = open (path, O_RDWR | O_CLOEXEC | O_NOFOLLOW)) < 0)
    fail_errno (error, "open", path);
  return fd;
}

static gboolean
check_overlay (int fd, guint64 image_size, const char *path, GError **error)
{
  struct stat st;
  guint64 size = 0;

  if (fstat (fd, &st) < 0 || !S_ISREG (st.st_mode))
    {
      g_set_error (error, MVM_ERROR, MVM_ERROR_INVALID_CONFIG, "overlay %s is not a file", path);
      return FALSE;
    }
  if (!mvm_qcow2_check_standalone (fd, error) || !mvm_qcow2_virtual_size (fd, &size, error))
    {
      g_prefix_error (error, "overlay %s: ", path);
      return FALSE;
    }
  if (size == image_size)
    return TRUE;
  g_set_error (error, MVM_ERROR, MVM_ERROR_INVALID_CONFIG,
               "overlay %s is for an image of %" G_GUINT64_FORMAT
               " bytes, the image has %" G_GUINT64_FORMAT
               ": it was made over another image; remove it to start afresh",
               path, size, image_size);
  return FALSE;
}

gboolean
mvm_disk_overlay_open (const char *guest_data_dir, const char *guest, const MvmDisk *disk,
                       int image_fd, gboolean create, int fds[2], GError **error)
{
  g_autofree char *dir = mvm_paths_guest_data (guest_data_dir, guest);
  g_autofree char *path = mvm_paths_disk_overlay (guest_data_dir, guest, disk->label);
  g_autofree char *proc = NULL;
  struct stat image;
  int rw;

  fds[0] = fds[1] = -1;
  if (fstat (image_fd, &image) < 0)
    {
      fail_errno (error, "stat the image under", path);
      return FALSE;
    }
  rw = open (path, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
  if (rw < 0 && errno == ENOENT && !create)
    return TRUE;
  if (rw < 0 && errno == ENOENT)
    rw = create_overlay (dir, path, image.st_size, error);
  else if (rw < 0)
    fail_errno (error, "open", path);
  if (rw < 0)
    return FALSE;
  if (!check_overlay (rw, image.st_size, path, error))
    {
      close (rw);
      return FALSE;
    }
  proc = g_strdup_printf ("/proc/self/fd/%d", rw);
  if ((fds[0] = open (proc, O_RDONLY | O_CLOEXEC)) < 0)
    {
      fail_errno (error, "reopen", path);
      close (rw);
      return FALSE;
    }
  fds[1] = rw;
  return TRUE;
}

static gboolean
has_overlay_over (const MvmGuestConfig *config, const MvmDisk *disk)
{
  for (guint i = 0; i < config->disks->len; i++)
    {
      const MvmDisk *d = config->disks->pdata[i];
      if (g_str_equal (d->label, disk->label) && mvm_disk_has_overlay (d)
          && g_str_equal (d->image, disk->image))
        return TRUE;
    }
  return FALSE;
}

void
mvm_disk_overlay_forget_changed (const char *guest_data_dir, const MvmGuestConfig *old,
                                 const MvmGuestConfig *new)
{
  for (guint i = 0; guest_data_dir && i < old->disks->len; i++)
    {
      const MvmDisk *d = old->disks->pdata[i];
      if (mvm_disk_has_overlay (d) && !has_overlay_over (new, d))
        {
          g_autofree char *path = mvm_paths_disk_overlay (guest_data_dir, old->name, d->label);
          unlink (path);
        }
    }
}
