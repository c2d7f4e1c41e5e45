/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "mvm-paths.h"
#include "mvm-daemon-config.h"

G_BEGIN_DECLS

/* Serves org.microvmd1 until SIGTERM or SIGINT; takes @paths and @config. Returns the exit
 * status. Talks to systemd (READY=1, STATUS=, WATCHDOG=1, STOPPING=1) when it runs us. */
int mvd_service_run (MvmPaths *paths, MvmDaemonConfig *config);

G_END_DECLS
