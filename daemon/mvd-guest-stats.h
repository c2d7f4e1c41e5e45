/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "mvd-qemu.h"

G_BEGIN_DECLS

/* GetStats: a{sv} with cpu-time-usec, rss-bytes (from /proc), balloon-actual-bytes and
 * block.DEVICE.{rd,wr}-{bytes,operations} (from QMP). */
void mvd_guest_stats_async (MvdQemu *qemu, GAsyncReadyCallback callback, gpointer user_data);
GVariant *mvd_guest_stats_finish (GAsyncResult *result, GError **error);

G_END_DECLS
