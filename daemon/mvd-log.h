/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

/* Log lines about one guest: "guest NAME: ..." on stderr, and in the journal with the field
 * MICROVMD_GUEST=NAME as well, so that `journalctl MICROVMD_GUEST=NAME` tells that guest's
 * life (GLib's default writer sends every field when stderr is the journal). */
#define mvd_guest_log(level, name, format, ...)                                                    \
  g_log_structured (G_LOG_DOMAIN, (level), "MICROVMD_GUEST", (name), "MESSAGE",                    \
                    "guest %s: " format, (name), ##__VA_ARGS__)

#define mvd_guest_message(name, ...) mvd_guest_log (G_LOG_LEVEL_MESSAGE, name, __VA_ARGS__)
#define mvd_guest_warning(name, ...) mvd_guest_log (G_LOG_LEVEL_WARNING, name, __VA_ARGS__)
#define mvd_guest_debug(name, ...) mvd_guest_log (G_LOG_LEVEL_DEBUG, name, __VA_ARGS__)
