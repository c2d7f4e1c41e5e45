/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "mvd-context.h"
#include "mvd-guest.h"
#include "mvm-dbus.h"

G_BEGIN_DECLS

#define MVD_MANAGER_PATH "/org/microvmd1"

/* The daemon's state: every guest, the folder they are stored in, and the bus objects.
 * Exported as org.microvmd1.Manager plus an ObjectManager with one object per guest. */
#define MVD_TYPE_MANAGER (mvd_manager_get_type ())
G_DECLARE_FINAL_TYPE (MvdManager, mvd_manager, MVD, MANAGER, MvmDbusManagerSkeleton)

/* Takes ownership of @paths, @config and @facts (the host as probed at start-up). */
MvdManager *mvd_manager_new (MvmPaths *paths, MvmDaemonConfig *config, MvmHostFacts *facts);
/* How QEMU is started and how long it is waited for (tests: a stand-in process and short
 * times); before any guest starts. */
void mvd_manager_set_spawner (MvdManager *self, MvdSpawnFunc spawn, gpointer spawn_data,
                              const MvdTimings *timings);
/* Loads the guest folder; bad files are logged and skipped. */
void mvd_manager_load (MvdManager *self);
/* Re-reads the folder; fails listing the files it skipped (the rest is applied). */
gboolean mvd_manager_reload (MvdManager *self, GError **error);
/* Takes over the guests a previous daemon left running; cleans up after the others. */
void mvd_manager_adopt_all (MvdManager *self);
gboolean mvd_manager_export (MvdManager *self, GDBusConnection *connection, GError **error);
void mvd_manager_unexport (MvdManager *self);
/* Starts the Autostart=yes guests, a few at a time, in the background. */
void mvd_manager_autostart (MvdManager *self);

/* Shuts every running guest down in parallel, each with its own ShutdownTimeoutSec=
 * and escalation; finishes when all have stopped. */
void mvd_manager_shutdown_all_async (MvdManager *self, GAsyncReadyCallback callback,
                                     gpointer user_data);
gboolean mvd_manager_shutdown_all_finish (MvdManager *self, GAsyncResult *result, GError **error);

const MvdContext *mvd_manager_get_context (MvdManager *self);
MvdGuest *mvd_manager_lookup (MvdManager *self, const char *name);

G_END_DECLS
