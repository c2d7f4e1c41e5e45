/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

#include "mvm-daemon-config.h"

G_BEGIN_DECLS

/* The argv this daemon would run for @guest (mvm_launch_plan_new, as a start builds it):
 * sockets as fds 3-5, or as paths in @socket_dir. Also what PreviewCommandLine returns;
 * a CID=auto shows its derived CID, which a start moves on when another guest holds it. */
GStrv mvd_check_argv (const MvmDaemonConfig *config, const MvmHostFacts *facts,
                      MvmGuestConfig *guest, const char *socket_dir, GError **error);

/* `microvmd --check`: prints each file's argv for this host, or its errors; 0 when all valid. */
int mvd_check_run (const MvmDaemonConfig *config, const char *socket_dir, char **files);

G_END_DECLS
