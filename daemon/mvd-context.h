/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "mvm-paths.h"
#include "mvm-daemon-config.h"
#include "mvm-host-facts.h"
#include "mvm-vsock.h"

G_BEGIN_DECLS

/* What every guest needs from the daemon, owned by the manager, which outlives its guests. */
typedef struct
{
  MvmDaemonConfig *config;
  MvmHostFacts *facts;
  MvmPaths *paths;
  gboolean stopping;          /* the daemon is on its way out: no automatic restarts */
  MvmCidInUseFunc cid_in_use; /* is this vsock CID taken by a running guest? */
  gpointer cid_in_use_data;
  /* KVM could not run a guest (@why): new starts use TCG from now on (Accelerator=auto) */
  void (*kvm_failed) (const char *why, gpointer data);
  gpointer kvm_failed_data;
  /* drop @guest (an MvdGuest, stopped) and its stored file; FALSE when the file stays */
  gboolean (*undefine) (gpointer guest, gpointer data, GError **error);
  gpointer undefine_data;
} MvdContext;

G_END_DECLS
