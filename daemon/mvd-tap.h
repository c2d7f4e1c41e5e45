/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

#include "mvm-guest-config.h"

G_BEGIN_DECLS

/* "mvm" + 8 hex digits of the guest's UUID + "n" + index: unique per guest and NIC, and
 * within the kernel's 15 characters. */
char *mvd_tap_name (const MvmGuestConfig *config, guint index);

/* Creates tap @name (with virtio-net headers), brings it up and, when @bridge is set,
 * enslaves it there. Returns the tap's fd, which QEMU inherits; the tap goes away with the
 * last fd. Needs CAP_NET_ADMIN. */
int mvd_tap_open (const char *name, const char *bridge, GError **error);

G_END_DECLS
