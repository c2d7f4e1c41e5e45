/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

#include "mvd-context.h"
#include "mvd-serial.h"
#include "mvd-state-file.h"
#include "mvm-launch-plan.h"
#include "mvm-guest-state.h"
#include "qmp-commands.h"

G_BEGIN_DECLS

/* One QEMU process of one guest: its sockets, its QMP connection, its serial and ready
 * streams, and the escalation that ends it. Signals:
 *   "run-state-changed" (QmpRunState)       QMP_RUN_STATE_RUNNING or _PAUSED, from QMP
 *   "ready" (guint64 boot_usec)             the guest's first ready line since spawn or reset
 *   "reset" ()                              the guest rebooted
 *   "exit-status" (int)                     the guest's command (Command=) ended so
 *   "exited" (MvmStateReason, const char *) the process is gone and reaped: why, in a word
 *                                           and a sentence (with QEMU's last words after a
 *                                           failure) */
#define MVD_TYPE_QEMU (mvd_qemu_get_type ())
G_DECLARE_FINAL_TYPE (MvdQemu, mvd_qemu, MVD, QEMU, GObject)

/* @runtime_dir gets qmp.sock, console.sock and ready.sock; @serial receives the console;
 * @context (which outlives it) spawns QEMU and says how long to wait for it. */
MvdQemu *mvd_qemu_new (const MvdContext *context, const char *name, const char *runtime_dir,
                       MvdSerial *serial);

/* Spawns QEMU with the CPUs stopped, connects every channel, then runs the guest; finishes
 * once QMP reports it running, or fails with the last lines QEMU wrote. */
void mvd_qemu_launch_async (MvdQemu *self, const MvmGuestConfig *config, const MvmLaunchPlan *plan,
                            GAsyncReadyCallback callback, gpointer user_data);
gboolean mvd_qemu_launch_finish (MvdQemu *self, GAsyncResult *result, GError **error);

/* What the state file keeps about this launch besides the process: why it runs and on
 * what. Call before mvd_qemu_launch_async. */
/* @begin_usec: when the start was asked for (monotonic), for the start's debug line */
void mvd_qemu_set_start_info (MvdQemu *self, MvmStateReason reason, const char *message,
                              const char *accelerator, guint32 vsock_cid, gint64 begin_usec);

/* The guest's disks, so that an I/O error names the one the guest file calls it by. */
void mvd_qemu_set_disks (MvdQemu *self, const MvmGuestConfig *config);

/* Takes over a QEMU a previous daemon started, as @state (taken) describes it: pins it
 * with a pidfd, reconnects QMP, the console and the ready port. Finishes with QEMU's
 * run state, or fails when the process is not the one the state file names. A QEMU whose
 * QMP does not answer is adopted all the same (as running). */
void mvd_qemu_adopt_async (MvdQemu *self, MvdStateFile *state, GAsyncReadyCallback callback,
                           gpointer user_data);
gboolean mvd_qemu_adopt_finish (MvdQemu *self, GAsyncResult *result, QmpRunState *run_state,
                                GError **error);
const MvdStateFile *mvd_qemu_get_state (MvdQemu *self);

/* Progress of a save: @done of @total bytes of memory written */
typedef void (*MvdQemuSaveProgress) (guint64 done, guint64 total, gpointer data);
/* Saves the guest's memory and devices into @memory_fd (taken): stops the CPUs and migrates
 * into the file; finishes with the CPUs still stopped and the disks flushed, so that the
 * caller can copy what goes with the memory. Call mvd_qemu_end_snapshot after it either
 * way. A restore is a launch whose plan has a snapshot (MvmLaunchPlace.snapshot_dir): it is
 * ready as soon as it runs, and its guest is told the time (a "TIME=SEC.NSEC" line on the
 * ready port). */
/* @cancellable cancels the migration (G_IO_ERROR_CANCELLED). */
void mvd_qemu_save_snapshot_async (MvdQemu *self, int memory_fd, MvdQemuSaveProgress progress,
                                   gpointer progress_data, GCancellable *cancellable,
                                   GAsyncReadyCallback callback, gpointer user_data);
gboolean mvd_qemu_save_snapshot_finish (MvdQemu *self, GAsyncResult *result, GError **error);
/* After a save: lets the CPUs run again when @run (they ran before it). */
void mvd_qemu_end_snapshot (MvdQemu *self, gboolean run);

/* Power button, then SIGTERM after @timeout_sec, then SIGKILL; finishes once QEMU exited. */
void mvd_qemu_shutdown_async (MvdQemu *self, guint timeout_sec, GAsyncReadyCallback callback,
                              gpointer user_data);
/* SIGTERM, then SIGKILL; finishes once QEMU exited. */
void mvd_qemu_kill_async (MvdQemu *self, GAsyncReadyCallback callback, gpointer user_data);
gboolean mvd_qemu_stop_finish (MvdQemu *self, GAsyncResult *result, GError **error);

void mvd_qemu_execute_async (MvdQemu *self, const char *command, JsonObject *arguments,
                             GAsyncReadyCallback callback, gpointer user_data);
JsonNode *mvd_qemu_execute_finish (MvdQemu *self, GAsyncResult *result, GError **error);

/* Ends a QEMU whose guest is already gone with "quit", a clean stop, for @reason (unless an
 * earlier one is known). A guest that failed goes through mvd_qemu_fail_guest instead. */
void mvd_qemu_end (MvdQemu *self, MvmStateReason reason, const char *message);
/* QEMU stopped the guest for good (@state is a failure run state): recorded as the reason
 * it ends, and QEMU is killed. */
void mvd_qemu_fail_guest (MvdQemu *self, QmpRunState state);
/* A process beside QEMU ended under the guest (a card's passt: @reason network-failed; a
 * share's virtiofsd: share-failed): the guest crashes with @reason and @message (taken), and
 * QEMU is killed. */
void mvd_qemu_fail_helper (MvdQemu *self, MvmStateReason reason, char *message);
/* Is @state one that no guest comes back from by itself? */
gboolean mvd_qemu_run_state_is_failure (QmpRunState state);

/* Why it ended, or is ending, once known (NONE before); @message gets the sentence. */
MvmStateReason mvd_qemu_get_end_reason (MvdQemu *self, const char **message);
GPid mvd_qemu_get_pid (MvdQemu *self);
/* The uid QEMU runs under, set before the launch (0: root); read from /proc when adopted. */
void mvd_qemu_set_uid (MvdQemu *self, guint32 uid);
guint32 mvd_qemu_get_uid (MvdQemu *self);
/* Its QMP connection, for libqmp's typed commands; valid while the process lives. */
QmpClient *mvd_qemu_get_qmp (MvdQemu *self);
const char *const *mvd_qemu_get_argv (MvdQemu *self);
gboolean mvd_qemu_has_exited (MvdQemu *self);

G_END_DECLS
