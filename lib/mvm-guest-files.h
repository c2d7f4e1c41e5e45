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
  MvmPassedFd fds[2 + 2 * MVM_MAX_DISKS + 1];
  guint n;
} MvmGuestFiles;

/* Opens @launch's kernel and initrd (the daemon's defaults, or beneath ImageDirectories=),
 * every disk of @guest (beneath ImageDirectories=, or a device in AllowedDevices=; a qcow2
 * image must name no other file) and /dev/vhost-vsock for [Vsock], at the fd numbers
 * @launch gives them. On failure
 * nothing stays open and the error names the guest, the group and the key. */
gboolean mvm_guest_files_open (MvmGuestFiles *files, const MvmDaemonConfig *config,
                               const MvmGuestConfig *guest, const MvmLaunch *launch,
                               GError **error);
/* Closes every fd. */
void mvm_guest_files_clear (MvmGuestFiles *files);

G_END_DECLS
