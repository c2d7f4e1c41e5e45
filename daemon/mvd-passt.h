/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gio/gio.h>

#include "mvm-guest-config.h"

G_BEGIN_DECLS

/* passt (https://passt.top) as the user-mode network of one card: a process of its own under
 * the guest's uid (@uid, 0: the daemon's), talking to QEMU over a socket pair, so there is no
 * socket file and nothing to wait for, and quitting by itself once QEMU closes its end
 * (--one-off). The guest cannot reach the host's loopback unless HostLoopback=yes; Forward=
 * become passt's -t and -u. Its output goes to mvm_paths_passt_output (@runtime_dir, @index).
 * Returns the process, with QEMU's end of the pair in *@qemu_end. */
GSubprocess *mvd_passt_spawn (const char *binary, const MvmNetwork *n, guint index,
                              const char *runtime_dir, guint32 uid, int *qemu_end, GError **error);

/* passt's argv for card @n (pure; for tests and for the spawn) */
GStrv mvd_passt_argv (const char *binary, const MvmNetwork *n);

G_END_DECLS
