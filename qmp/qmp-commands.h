/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "qmp-client.h"

G_BEGIN_DECLS

/* Typed wrappers for the commands the daemon sends. Each _finish fails with the QMP error,
 * or QMP_ERROR_INVALID_REPLY when the reply does not have the documented shape. */

/* QEMU's RunState (qapi/run-state.json), the ones a daemon must tell apart; any other
 * name reads as QMP_RUN_STATE_OTHER with the name kept in QmpStatus.status. */
typedef enum
{
  QMP_RUN_STATE_OTHER,
  QMP_RUN_STATE_DEBUG,
  QMP_RUN_STATE_FINISH_MIGRATE,
  QMP_RUN_STATE_GUEST_PANICKED,
  QMP_RUN_STATE_INMIGRATE,
  QMP_RUN_STATE_INTERNAL_ERROR,
  QMP_RUN_STATE_IO_ERROR,
  QMP_RUN_STATE_PAUSED,
  QMP_RUN_STATE_POSTMIGRATE,
  QMP_RUN_STATE_PRELAUNCH,
  QMP_RUN_STATE_RESTORE_VM,
  QMP_RUN_STATE_RUNNING,
  QMP_RUN_STATE_SAVE_VM,
  QMP_RUN_STATE_SHUTDOWN,
  QMP_RUN_STATE_SUSPENDED,
  QMP_RUN_STATE_WATCHDOG,
  QMP_RUN_STATE_COLO,
} QmpRunState;

const char *qmp_run_state_to_string (QmpRunState state);
QmpRunState qmp_run_state_from_string (const char *name);

typedef struct
{
  gboolean running;
  QmpRunState run_state;
  char *status; /* QEMU's own name for it: "prelaunch", "running", "internal-error", ... */
} QmpStatus;

void qmp_status_free (QmpStatus *status);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (QmpStatus, qmp_status_free)

typedef struct
{
  gint64 cpu_index;
  gint64 thread_id; /* host thread running the vCPU */
  char *qom_path;
} QmpCpu;

void qmp_cpu_free (QmpCpu *cpu);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (QmpCpu, qmp_cpu_free)

typedef struct
{
  char *device;    /* may be empty for -blockdev nodes */
  char *node_name; /* may be NULL */
  char *qdev;      /* may be NULL */
  guint64 rd_bytes;
  guint64 wr_bytes;
  guint64 rd_operations;
  guint64 wr_operations;
  guint64 flush_operations;
} QmpBlockStats;

void qmp_block_stats_free (QmpBlockStats *stats);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (QmpBlockStats, qmp_block_stats_free)

/* query-status */
void qmp_query_status_async (QmpClient *client, GCancellable *cancellable,
                             GAsyncReadyCallback callback, gpointer user_data);
QmpStatus *qmp_query_status_finish (QmpClient *client, GAsyncResult *result, GError **error);

/* cont */
void qmp_cont_async (QmpClient *client, GCancellable *cancellable, GAsyncReadyCallback callback,
                     gpointer user_data);
gboolean qmp_cont_finish (QmpClient *client, GAsyncResult *result, GError **error);

/* stop */
void qmp_stop_async (QmpClient *client, GCancellable *cancellable, GAsyncReadyCallback callback,
                     gpointer user_data);
gboolean qmp_stop_finish (QmpClient *client, GAsyncResult *result, GError **error);

/* system_powerdown: presses the ACPI power button */
void qmp_system_powerdown_async (QmpClient *client, GCancellable *cancellable,
                                 GAsyncReadyCallback callback, gpointer user_data);
gboolean qmp_system_powerdown_finish (QmpClient *client, GAsyncResult *result, GError **error);

/* system_reset */
void qmp_system_reset_async (QmpClient *client, GCancellable *cancellable,
                             GAsyncReadyCallback callback, gpointer user_data);
gboolean qmp_system_reset_finish (QmpClient *client, GAsyncResult *result, GError **error);

/* quit: also succeeds when QEMU hangs up before replying, which is what quit is for */
void qmp_quit_async (QmpClient *client, GCancellable *cancellable, GAsyncReadyCallback callback,
                     gpointer user_data);
gboolean qmp_quit_finish (QmpClient *client, GAsyncResult *result, GError **error);

/* getfd: QEMU keeps a copy of @fd (not taken) as @fdname, for "fd:NAME" migration URIs and
 * the like; a name already in use is replaced */
void qmp_getfd_async (QmpClient *client, const char *fdname, int fd, GCancellable *cancellable,
                      GAsyncReadyCallback callback, gpointer user_data);
gboolean qmp_getfd_finish (QmpClient *client, GAsyncResult *result, GError **error);

/* balloon: sets the guest's memory target in bytes */
void qmp_balloon_async (QmpClient *client, guint64 bytes, GCancellable *cancellable,
                        GAsyncReadyCallback callback, gpointer user_data);
gboolean qmp_balloon_finish (QmpClient *client, GAsyncResult *result, GError **error);

/* query-balloon: the guest's current memory in bytes */
void qmp_query_balloon_async (QmpClient *client, GCancellable *cancellable,
                              GAsyncReadyCallback callback, gpointer user_data);
gboolean qmp_query_balloon_finish (QmpClient *client, GAsyncResult *result, guint64 *actual,
                                   GError **error);

/* query-cpus-fast: a GPtrArray of QmpCpu, owning them */
void qmp_query_cpus_fast_async (QmpClient *client, GCancellable *cancellable,
                                GAsyncReadyCallback callback, gpointer user_data);
GPtrArray *qmp_query_cpus_fast_finish (QmpClient *client, GAsyncResult *result, GError **error);

/* query-blockstats: a GPtrArray of QmpBlockStats, owning them */
void qmp_query_blockstats_async (QmpClient *client, GCancellable *cancellable,
                                 GAsyncReadyCallback callback, gpointer user_data);
GPtrArray *qmp_query_blockstats_finish (QmpClient *client, GAsyncResult *result, GError **error);

/* human-monitor-command: runs an HMP command line, returns its output */
void qmp_human_monitor_command_async (QmpClient *client, const char *command_line,
                                      GCancellable *cancellable, GAsyncReadyCallback callback,
                                      gpointer user_data);
char *qmp_human_monitor_command_finish (QmpClient *client, GAsyncResult *result, GError **error);

/* Runs every typed reply decoder above on @ret (what a hostile QEMU may answer anything
 * with) and frees what they return; the number that accepted it. For the fuzzer. */
guint qmp_commands_decode_all (JsonNode *ret);

G_END_DECLS
