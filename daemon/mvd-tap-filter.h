/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

#include "mvm-guest-config.h"

G_BEGIN_DECLS

/* The rules on a guest's tap, in an nftables netdev table of its own (microvmd-TAP, hooked
 * on the tap's ingress, so they hold whether the tap is on a bridge or routed): frames from
 * the guest must carry the card's MAC (as libvirt's clean-traffic filter), and with
 * Egress=deny only ARP, neighbour discovery, DHCP and the AllowTo= destinations pass.
 * Replaces what an earlier guest of the same tap name left. Runs nft (CAP_NET_ADMIN). */
gboolean mvd_tap_filter_add (const char *tap, const MvmNetwork *n, GError **error);

/* Removes the tap's table, if any. */
void mvd_tap_filter_remove (const char *tap);

/* The ruleset mvd_tap_filter_add loads (pure; for tests). */
char *mvd_tap_filter_ruleset (const char *tap, const MvmNetwork *n);

G_END_DECLS
