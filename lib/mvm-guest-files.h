/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "mvm-argv.h"
#include "mvm-daemon-config.h"

G_BEGIN_DECLS

/* One fd the daemon opened and the number QEMU finds it under. */
typedef struct
{
  int fd;
  int target;
} MvmPassedFd;

/* The host files of one launch, opened by the daemon under microvmd.conf's policy. */
typedef struct
{
  /* kernel, initrd, disks, vhost-vsock, overlays, a snapshot's memory */
  MvmPassedFd fds[2 + 2 * MVM_MAX_DISKS + 1 + 2 * MVM_MAX_DISKS + 1];
  guint n;
} MvmGuestFiles;

/* Which overlays a launch opens or makes. */
typedef struct
{
  gboolean create_image; /* a writable Image= disk's overlay is made when missing */
  /* RUNTIME/NAME: each ephemeral disk's overlay is made there afresh; NULL: none (a preview) */
  const char *runtime_dir;
  const char *ephemeral_source_dir; /* a restore: each is a copy of DIR/LABEL.qcow2 */
} MvmOverlayPlace;

/* Opens @launch's kernel and initrd (the daemon's defaults, or beneath ImageDirectories=),
 * every disk of @guest (beneath ImageDirectories=, or a device in AllowedDevices=; a qcow2
 * image must name no other file), the overlays of its Image= and ephemeral disks as
 * @overlays says (else left out) and /dev/vhost-vsock for [Vsock], at the fd numbers @launch
 * gives them. On failure nothing stays open and the error names the guest, the group and the
 * key. */
gboolean mvm_guest_files_open (MvmGuestFiles *files, const MvmDaemonConfig *config,
                               const MvmGuestConfig *guest, const MvmLaunch *launch,
                               const MvmOverlayPlace *overlays, GError **error);
/* Opens @guest's disk @disk as a start does: an image beneath the images folder, a device
 * AllowedDevices= lists, a file beneath ImageDirectories= or the guest's own folder. */
int mvm_guest_files_open_disk (const MvmDaemonConfig *config, const MvmGuestConfig *guest,
                               const MvmDisk *disk, int flags, GError **error);
/* Adds @fd (taken) for QEMU's fd @target. */
void mvm_guest_files_add (MvmGuestFiles *files, int fd, int target);
/* The fd opened for QEMU's fd @target (MVM_FD_KERNEL, say), or -1. */
int mvm_guest_files_fd_for (const MvmGuestFiles *files, int target);
/* Closes every fd. */
void mvm_guest_files_clear (MvmGuestFiles *files);

G_END_DECLS
