/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "mvm-guest-config.h"

G_BEGIN_DECLS

/* Refuses a guest whose Memory= cannot hold what QEMU loads into it: the uncompressed kernel
 * @kernel_fd (an ELF vmlinux, booted through PVH, lies at its segments' physical addresses)
 * and the initrd @initrd_fd (-1: none) above it. Such a guest would hang before its first
 * console byte. A kernel that is no ELF file (a bzImage) is not judged. The error names the
 * guest, the key and the least Memory= that boots. */
gboolean mvm_kernel_image_check_fits (const MvmGuestConfig *guest, int kernel_fd, int initrd_fd,
                                      GError **error);

G_END_DECLS
