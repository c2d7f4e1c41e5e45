/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "mvm-guest-config.h"

G_BEGIN_DECLS

/* Opens the overlay of guest @guest's Image= disk @disk (STATE/guests/NAME/LABEL.qcow2 in
 * @guest_data_dir) read-only into @fds[0] and read-write into @fds[1]. A missing overlay is
 * made, empty and the size of the image @image_fd, when @create; otherwise @fds stay -1. An
 * overlay of another size than the image, or one whose header names another file, is
 * refused: it was made over another image, or written by something other than QEMU. */
gboolean mvm_disk_overlay_open (const char *guest_data_dir, const char *guest, const MvmDisk *disk,
                                int image_fd, gboolean create, int fds[2], GError **error);

/* Makes afresh the overlay of guest disk @disk with Ephemeral=yes in the guest's runtime folder
 * @runtime_dir (LABEL.ephemeral.qcow2, mode 0600, replacing one an earlier run left there) and
 * opens it read-only into @fds[0] and read-write into @fds[1]. It is empty, the size of the
 * disk @backing_fd (a qcow2 disk's virtual size), or a copy of @source_dir/LABEL.qcow2 when
 * @source_dir is set (a restore), which must be a standalone qcow2 image of that size. */
gboolean mvm_disk_overlay_make_ephemeral (const char *runtime_dir, const MvmDisk *disk,
                                          int backing_fd, const char *source_dir, int fds[2],
                                          GError **error);

/* Removes the overlays of @old's Image= disks that @new no longer has over the same image
 * (a disk gone, or its Image= changed): they belong to a disk that is no more. */
void mvm_disk_overlay_forget_changed (const char *guest_data_dir, const MvmGuestConfig *old,
                                      const MvmGuestConfig *new);

G_END_DECLS
