/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

#include "mvm-guest-config.h"

G_BEGIN_DECLS

/* Before a start: can the guest's QEMU, running as @qemu_uid, have each host port its
 * Forward= lines name? Refuses a port in use, and one below the kernel's first unprivileged
 * port when QEMU will not run as root, naming the card and the forward. */
gboolean mvd_forwards_check (const MvmGuestConfig *config, guint32 qemu_uid, GError **error);

G_END_DECLS
