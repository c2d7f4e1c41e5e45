/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "mvm-paths.h"
#include "mvm-daemon-config.h"
#include "mvm-host-facts.h"

G_BEGIN_DECLS

/* What every guest needs from the daemon, owned by the manager, which outlives its guests. */
typedef struct
{
  MvmDaemonConfig *config;
  MvmHostFacts *facts;
  MvmPaths *paths;
  gboolean stopping; /* the daemon is on its way out: no automatic restarts */
} MvdContext;

G_END_DECLS
