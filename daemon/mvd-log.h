/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

/* Log lines about one guest: "guest NAME: ..." on stderr, and in the journal with the field
 * MICROVMD_GUEST=NAME as well, so that `journalctl MICROVMD_GUEST=NAME` tells that guest's
 * life (GLib's default writer sends every field when stderr is the journal). */
#define mvd_guest_log(level, name, format, ...)                                                    \
  g_log_structured (G_LOG_DOMAIN, (level), "MICROVMD_GUEST", (name), "MESSAGE",                    \
                    "guest %s: " format, (name), ##__VA_ARGS__)

/* The same, with a MESSAGE_ID from the list below (microvmd(8) has it): `journalctl
 * MESSAGE_ID=...` finds every such event of every guest. */
#define mvd_guest_log_id(level, name, id, format, ...)                                             \
  g_log_structured (G_LOG_DOMAIN, (level), "MICROVMD_GUEST", (name), "MESSAGE_ID", (id),           \
                    "MESSAGE", "guest %s: " format, (name), ##__VA_ARGS__)

/* The events of a guest's life that have a MESSAGE_ID (sd-id128 style, fixed forever) */
#define MVD_MESSAGE_STARTED "ea547699aa464776a120f4e824722ee2"
#define MVD_MESSAGE_READY "8abb58c354a548e190b35f4938f20d3d"
#define MVD_MESSAGE_STOPPED "c1a46e21ab394565aff344847d5a9a9d"
#define MVD_MESSAGE_CRASHED "63fefb614848417da703c4fa9ab6266c"
#define MVD_MESSAGE_ADOPTED "71c0b1a27a2e480c91ac51ee27a35652"
#define MVD_MESSAGE_RESTARTED "2cd173a539aa4c66b6c88120e8239d99"

#define mvd_guest_message(name, ...) mvd_guest_log (G_LOG_LEVEL_MESSAGE, name, __VA_ARGS__)
#define mvd_guest_warning(name, ...) mvd_guest_log (G_LOG_LEVEL_WARNING, name, __VA_ARGS__)
#define mvd_guest_debug(name, ...) mvd_guest_log (G_LOG_LEVEL_DEBUG, name, __VA_ARGS__)
