/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* No host file reaches QEMU by a name a caller chose: the daemon opens each one, checks it
 * against microvmd.conf, and QEMU inherits the fd. */
#include "mvm-guest-files.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "mvm-disk-overlay.h"
#include "mvm-error.h"
#include "mvm-host-file.h"
#include "mvm-paths.h"
#include "mvm-qcow2.h"

void
mvm_guest_files_add (MvmGuestFiles *files, int fd, int target)
{
  g_assert (files->n < G_N_ELEMENTS (files->fds));
  files->fds[files->n++] = (MvmPassedFd){ fd, target };
}

/* The daemon's own kernel or initrd, or one beneath ImageDirectories=. */
static int
open_boot_file (const MvmDaemonConfig *config, const char *path, const char *trusted,
                GError **error)
{
  if (trusted && g_str_equal (path, trusted))
    return mvm_host_file_open_trusted (path, error);
  return mvm_host_file_open_beneath ((const char *const *)config->image_dirs, path, O_RDONLY,
                                     error);
}

static gboolean
open_boot (MvmGuestFiles *files, const MvmDaemonConfig *config, const MvmGuestConfig *guest,
           const MvmLaunch *launch, GError **error)
{
  g_autofree char *default_kernel = NULL;
  g_autofree char *default_initrd = NULL;
  int fd;

  mvm_daemon_config_default_boot (config, &default_kernel, &default_initrd);
  if ((fd = open_boot_file (config, launch->kernel, default_kernel, error)) < 0)
    {
      g_prefix_error (error, "guest %s: [Guest] Kernel: ", guest->name);
      return FALSE;
    }
  mvm_guest_files_add (files, fd, launch->kernel_fd);
  if (launch->initrd == NULL)
    return TRUE;
  if ((fd = open_boot_file (config, launch->initrd, default_initrd, error)) < 0)
    {
      g_prefix_error (error, "guest %s: [Guest] Initrd: ", guest->name);
      return FALSE;
    }
  mvm_guest_files_add (files, fd, launch->initrd_fd);
  return TRUE;
}

/* An imported image: beneath the images folder, whatever ImageDirectories= says */
static int
open_image_fd (const MvmDaemonConfig *config, const MvmDisk *disk, int flags, GError **error)
{
  const char *const dirs[] = { config->images_dir, NULL };
  g_autofree char *path = NULL;

  if (config->images_dir == NULL)
    {
      g_set_error (error, MVM_ERROR, MVM_ERROR_INVALID_CONFIG, "this daemon has no images folder");
      return -1;
    }
  path = mvm_paths_image_file (config->images_dir, disk->image);
  if (!g_file_test (path, G_FILE_TEST_EXISTS))
    {
      g_set_error (error, MVM_ERROR, MVM_ERROR_INVALID_CONFIG,
                   "no image named '%s' (microvmctl image list shows the images)", disk->image);
      return -1;
    }
  return mvm_host_file_open_beneath (dirs, path, flags, error);
}

/* A disk a full clone copied lies in its guest's own folder, STATE/guests/NAME */
static char *
own_folder_of (const MvmDaemonConfig *config, const MvmGuestConfig *guest, const char *path)
{
  g_autofree char *dir = NULL;
  g_autofree char *prefix = NULL;

  if (config->guest_data_dir == NULL)
    return NULL;
  dir = mvm_paths_guest_data (config->guest_data_dir, guest->name);
  prefix = g_strconcat (dir, "/", NULL);
  return g_str_has_prefix (path, prefix) ? g_steal_pointer (&dir) : NULL;
}

int
mvm_guest_files_open_disk (const MvmDaemonConfig *config, const MvmGuestConfig *guest,
                           const MvmDisk *disk, int flags, GError **error)
{
  g_autofree char *own = NULL;
  int fd;

  if (disk->image)
    return open_image_fd (config, disk, flags, error);
  if (mvm_host_file_listed ((const char *const *)config->allowed_devices, disk->path))
    return mvm_host_file_open_device (disk->path, flags, error);
  own = own_folder_of (config, guest, disk->path);
  if (own)
    {
      const char *const dirs[] = { own, NULL };
      fd = mvm_host_file_open_beneath (dirs, disk->path, flags, error);
    }
  else
    fd = mvm_host_file_open_beneath ((const char *const *)config->image_dirs, disk->path, flags,
                                     error);
  if (fd >= 0 && disk->format == MVM_DISK_FORMAT_QCOW2 && !mvm_qcow2_check_standalone (fd, error))
    {
      close (fd);
      return -1;
    }
  return fd;
}

static gboolean
open_image_overlay (const MvmDaemonConfig *config, const MvmGuestConfig *guest, const MvmDisk *disk,
                    int image_fd, gboolean create, int fds[2], GError **error)
{
  if (config->guest_data_dir == NULL)
    return TRUE;
  if (mvm_disk_overlay_open (config->guest_data_dir, guest->name, disk, image_fd, create, fds,
                             error))
    return TRUE;
  g_prefix_error (error, "guest %s: [Disk %s] Image=%s: ", guest->name, disk->label, disk->image);
  return FALSE;
}

static gboolean
make_ephemeral_overlay (const MvmGuestConfig *guest, const MvmDisk *disk, int disk_fd,
                        const MvmOverlayPlace *overlays, int fds[2], GError **error)
{
  if (overlays->runtime_dir == NULL)
    return TRUE;
  if (mvm_disk_overlay_make_ephemeral (overlays->runtime_dir, disk, disk_fd,
                                       overlays->ephemeral_source_dir, fds, error))
    return TRUE;
  g_prefix_error (error, "guest %s: [Disk %s] Ephemeral=yes: ", guest->name, disk->label);
  return FALSE;
}

/* Its fds follow the disk's read-only one, which backs it */
static gboolean
open_overlay (MvmGuestFiles *files, const MvmDaemonConfig *config, const MvmGuestConfig *guest,
              guint i, const MvmLaunch *launch, const MvmOverlayPlace *overlays, GError **error)
{
  const MvmDisk *disk = guest->disks->pdata[i];
  int fds[2] = { -1, -1 };
  int disk_fd;
  gboolean ok;

  if (launch->overlay_fds[i][0] < 0)
    return TRUE;
  g_assert (files->n > 0 && files->fds[files->n - 1].target == launch->disk_fds[i][0]);
  disk_fd = files->fds[files->n - 1].fd;
  ok = mvm_disk_has_ephemeral_overlay (disk)
         ? make_ephemeral_overlay (guest, disk, disk_fd, overlays, fds, error)
         : open_image_overlay (config, guest, disk, disk_fd, overlays->create_image, fds, error);
  for (guint m = 0; ok && m < 2; m++)
    if (fds[m] >= 0)
      mvm_guest_files_add (files, fds[m], launch->overlay_fds[i][m]);
  return ok;
}

static gboolean
open_disk (MvmGuestFiles *files, const MvmDaemonConfig *config, const MvmGuestConfig *guest,
           guint i, const MvmLaunch *launch, GError **error)
{
  static const int flags[] = { O_RDONLY, O_RDWR };
  const MvmDisk *disk = guest->disks->pdata[i];

  for (guint m = 0; m < 2; m++)
    {
      int fd;
      if (launch->disk_fds[i][m] < 0)
        continue;
      if ((fd = mvm_guest_files_open_disk (config, guest, disk, flags[m], error)) < 0)
        {
          g_prefix_error (error, "guest %s: [Disk %s] %s: ", guest->name, disk->label,
                          disk->image ? "Image" : "Path");
          return FALSE;
        }
      mvm_guest_files_add (files, fd, launch->disk_fds[i][m]);
    }
  return TRUE;
}

/* vhost-vsock: QEMU under its own uid gets the device open, as it gets the taps */
static gboolean
open_vhost_vsock (MvmGuestFiles *files, const MvmGuestConfig *guest, const MvmLaunch *launch,
                  GError **error)
{
  int fd;

  if (launch->vhost_vsock_fd < 0)
    return TRUE;
  fd = open ("/dev/vhost-vsock", O_RDWR | O_CLOEXEC | O_NOCTTY);
  if (fd < 0)
    {
      g_set_error (error, MVM_ERROR, MVM_ERROR_INVALID_CONFIG,
                   "guest %s: [Vsock] cannot open /dev/vhost-vsock: %s", guest->name,
                   g_strerror (errno));
      return FALSE;
    }
  mvm_guest_files_add (files, fd, launch->vhost_vsock_fd);
  return TRUE;
}

gboolean
mvm_guest_files_open (MvmGuestFiles *files, const MvmDaemonConfig *config,
                      const MvmGuestConfig *guest, const MvmLaunch *launch,
                      const MvmOverlayPlace *overlays, GError **error)
{
  files->n = 0;
  if (!open_boot (files, config, guest, launch, error))
    goto fail;
  for (guint i = 0; i < guest->disks->len; i++)
    if (!open_disk (files, config, guest, i, launch, error)
        || !open_overlay (files, config, guest, i, launch, overlays, error))
      goto fail;
  if (!open_vhost_vsock (files, guest, launch, error))
    goto fail;
  return TRUE;

fail:
  mvm_guest_files_clear (files);
  return FALSE;
}

int
mvm_guest_files_fd_for (const MvmGuestFiles *files, int target)
{
  for (guint i = 0; target >= 0 && i < files->n; i++)
    if (files->fds[i].target == target)
      return files->fds[i].fd;
  return -1;
}

void
mvm_guest_files_clear (MvmGuestFiles *files)
{
  for (guint i = 0; i < files->n; i++)
    close (files->fds[i].fd);
  files->n = 0;
}
