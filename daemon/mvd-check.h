/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

#include "mvm-daemon-config.h"

G_BEGIN_DECLS

/* `microvmd --check`: prints each file's argv for this host, or its errors; 0 when all valid. */
int mvd_check_run (const MvmDaemonConfig *config, const char *socket_dir, char **files);

G_END_DECLS
