/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A writable Image= disk's own qcow2 overlay: the image stays as imported, shared by every
 * guest that boots it, and what one guest writes stays in its own folder. And an ephemeral
 * disk's, made by the daemon rather than by QEMU so that it has a name a snapshot can save
 * and a restore can put back. */
#include "mvm-disk-overlay.h"

#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mvm-error.h"
#include "mvm-file-copy.h"
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

/* @rw's file read-only into @fds[0], and @rw itself into @fds[1]; closes @rw on failure */
static gboolean
open_both (int rw, const char *path, int fds[2], GError **error)
{
  g_autofree char *proc = g_strdup_printf ("/proc/self/fd/%d", rw);

  if ((fds[0] = open (proc, O_RDONLY | O_CLOEXEC)) < 0)
    {
      fail_errno (error, "reopen", path);
      close (rw);
      return FALSE;
    }
  fds[1] = rw;
  return TRUE;
}

gboolean
mvm_disk_overlay_open (const char *guest_data_dir, const char *guest, const MvmDisk *disk,
                       int image_fd, gboolean create, int fds[2], GError **error)
{
  g_autofree char *dir = mvm_paths_guest_data (guest_data_dir, guest);
  g_autofree char *path = mvm_paths_disk_overlay (guest_data_dir, guest, disk->label);
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
  return open_both (rw, path, fds, error);
}

/* What the guest sees of the disk @fd: a qcow2 image's virtual size, or a raw file or device's
 * bytes in whole sectors, as QEMU pads the last one */
static gboolean
disk_size (const MvmDisk *disk, int fd, guint64 *size, GError **error)
{
  struct stat st;

  if (disk->format == MVM_DISK_FORMAT_QCOW2)
    return mvm_qcow2_virtual_size (fd, size, error);
  if (fstat (fd, &st) < 0 || (S_ISBLK (st.st_mode) && ioctl (fd, BLKGETSIZE64, size) < 0))
    {
      g_set_error (error, MVM_ERROR, MVM_ERROR_FAILED, "cannot read the disk's size: %s",
                   g_strerror (errno));
      return FALSE;
    }
  if (!S_ISBLK (st.st_mode))
    *size = st.st_size;
  *size = (*size + 511) / 512 * 512;
  return TRUE;
}

/* The overlay a snapshot saved, @source_dir/LABEL.qcow2, checked as an overlay of this disk */
static int
open_saved (const char *source_dir, const MvmDisk *disk, guint64 size, GError **error)
{
  g_autofree char *file = g_strconcat (disk->label, ".qcow2", NULL);
  g_autofree char *path = g_build_filename (source_dir, file, NULL);
  guint64 saved_size = 0;
  int fd = open (path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

  if (fd < 0 && errno == ENOENT)
    {
      g_set_error (error, MVM_ERROR, MVM_ERROR_INVALID_CONFIG,
                   "the saved overlay %s is missing: the snapshot holds no overlay of this disk",
                   path);
      return -1;
    }
  if (fd < 0)
    return fail_errno (error, "open the saved overlay", path);
  if (!mvm_qcow2_check_standalone (fd, error) || !mvm_qcow2_virtual_size (fd, &saved_size, error))
    g_prefix_error (error, "the saved overlay %s: ", path);
  else if (saved_size != size)
    g_set_error (error, MVM_ERROR, MVM_ERROR_INVALID_CONFIG,
                 "the saved overlay %s is for a disk of %" G_GUINT64_FORMAT
                 " bytes, the disk has %" G_GUINT64_FORMAT ": the disk changed since the snapshot",
                 path, saved_size, size);
  else
    return fd;
  close (fd);
  return -1;
}

/* One an earlier run left, of a QEMU whose runtime folder was not cleaned up */
static gboolean
remove_stale (const char *path, GError **error)
{
  if (unlink (path) == 0 || errno == ENOENT)
    return TRUE;
  fail_errno (error, "replace", path);
  return FALSE;
}

/* The new overlay's contents: empty, or the saved one's */
static gboolean
fill_ephemeral (int fd, const char *path, const char *source_dir, const MvmDisk *disk, guint64 size,
                GError **error)
{
  gboolean ok;
  int saved;

  if (source_dir == NULL)
    return mvm_qcow2_write_overlay (fd, size, error);
  if ((saved = open_saved (source_dir, disk, size, error)) < 0)
    return FALSE;
  ok = mvm_file_copy_into (saved, fd, path, NULL, error);
  close (saved);
  return ok;
}

gboolean
mvm_disk_overlay_make_ephemeral (const char *runtime_dir, const MvmDisk *disk, int backing_fd,
                                 const char *source_dir, int fds[2], GError **error)
{
  g_autofree char *path = mvm_paths_ephemeral_overlay (runtime_dir, disk->label);
  guint64 size = 0;
  int rw;

  fds[0] = fds[1] = -1;
  if (!disk_size (disk, backing_fd, &size, error))
    return FALSE;
  if ((rw = mvm_file_open_unnamed (runtime_dir, error)) < 0)
    return FALSE;
  if (!fill_ephemeral (rw, path, source_dir, disk, size, error) || !remove_stale (path, error)
      || !mvm_file_link_unnamed (rw, path, error))
    {
      close (rw);
      return FALSE;
    }
  close (rw);
  /* by its name, which /proc and lsof then show rather than the unnamed file's "(deleted)";
   * only the daemon writes in the folder yet */
  if ((rw = open (path, O_RDWR | O_CLOEXEC | O_NOFOLLOW)) < 0)
    {
      fail_errno (error, "open", path);
      return FALSE;
    }
  return open_both (rw, path, fds, error);
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
