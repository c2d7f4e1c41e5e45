/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "qmp-commands.h"

#include "qmp-message.h"

/* Turns a command's "return" value into the typed result, or fails. */
typedef gpointer (*QmpReplyParser) (const char *command, JsonNode *ret, GError **error);

typedef struct
{
  char *command;
  QmpReplyParser parse;
  GDestroyNotify free_result;
} QmpCall;

static void
call_free (QmpCall *call)
{
  g_free (call->command);
  g_free (call);
}

static gpointer
invalid_reply (GError **error, const char *command, const char *what)
{
  g_set_error (error, QMP_ERROR, QMP_ERROR_INVALID_REPLY, "QMP command '%s' returned %s", command,
               what);
  return NULL;
}

static void
on_reply (GObject *source, GAsyncResult *result, gpointer data)
{
  g_autoptr (GTask) task = data;
  QmpCall *call = g_task_get_task_data (task);
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) ret = qmp_client_execute_finish (QMP_CLIENT (source), result, &error);
  gpointer value;

  if (ret == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  if (call->parse == NULL)
    {
      g_task_return_boolean (task, TRUE);
      return;
    }
  value = call->parse (call->command, ret, &error);
  if (value == NULL)
    g_task_return_error (task, g_steal_pointer (&error));
  else
    g_task_return_pointer (task, value, call->free_result);
}

/* The task on_reply completes; @parse NULL means the reply carries nothing but success. */
static GTask *
call_new (QmpClient *client, const char *command, QmpReplyParser parse, GDestroyNotify free_result,
          gpointer source_tag, GCancellable *cancellable, GAsyncReadyCallback callback,
          gpointer user_data)
{
  GTask *task = g_task_new (client, cancellable, callback, user_data);
  QmpCall *call = g_new0 (QmpCall, 1);

  call->command = g_strdup (command);
  call->parse = parse;
  call->free_result = free_result;
  g_task_set_source_tag (task, source_tag);
  g_task_set_task_data (task, call, (GDestroyNotify)call_free);
  return task;
}

static void
call_async (QmpClient *client, const char *command, JsonObject *arguments, QmpReplyParser parse,
            GDestroyNotify free_result, gpointer source_tag, GCancellable *cancellable,
            GAsyncReadyCallback callback, gpointer user_data)
{
  GTask *task
    = call_new (client, command, parse, free_result, source_tag, cancellable, callback, user_data);

  qmp_client_execute_async (client, command, arguments, cancellable, on_reply, task);
}

static gboolean
finish_boolean (QmpClient *client, GAsyncResult *result, gpointer source_tag, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, client), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == source_tag, FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

static gpointer
finish_pointer (QmpClient *client, GAsyncResult *result, gpointer source_tag, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, client), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == source_tag, NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

/* ---- query-status ---- */

static const char *const run_state_names[] = {
  [QMP_RUN_STATE_OTHER] = "other",
  [QMP_RUN_STATE_DEBUG] = "debug",
  [QMP_RUN_STATE_FINISH_MIGRATE] = "finish-migrate",
  [QMP_RUN_STATE_GUEST_PANICKED] = "guest-panicked",
  [QMP_RUN_STATE_INMIGRATE] = "inmigrate",
  [QMP_RUN_STATE_INTERNAL_ERROR] = "internal-error",
  [QMP_RUN_STATE_IO_ERROR] = "io-error",
  [QMP_RUN_STATE_PAUSED] = "paused",
  [QMP_RUN_STATE_POSTMIGRATE] = "postmigrate",
  [QMP_RUN_STATE_PRELAUNCH] = "prelaunch",
  [QMP_RUN_STATE_RESTORE_VM] = "restore-vm",
  [QMP_RUN_STATE_RUNNING] = "running",
  [QMP_RUN_STATE_SAVE_VM] = "save-vm",
  [QMP_RUN_STATE_SHUTDOWN] = "shutdown",
  [QMP_RUN_STATE_SUSPENDED] = "suspended",
  [QMP_RUN_STATE_WATCHDOG] = "watchdog",
  [QMP_RUN_STATE_COLO] = "colo",
};

const char *
qmp_run_state_to_string (QmpRunState state)
{
  return state < G_N_ELEMENTS (run_state_names) ? run_state_names[state] : "other";
}

QmpRunState
qmp_run_state_from_string (const char *name)
{
  for (guint i = 1; name && i < G_N_ELEMENTS (run_state_names); i++)
    if (g_str_equal (run_state_names[i], name))
      return i;
  return QMP_RUN_STATE_OTHER;
}

void
qmp_status_free (QmpStatus *status)
{
  if (status == NULL)
    return;
  g_free (status->status);
  g_free (status);
}

static gpointer
parse_status (const char *command, JsonNode *ret, GError **error)
{
  JsonObject *object = JSON_NODE_HOLDS_OBJECT (ret) ? json_node_get_object (ret) : NULL;
  g_autoptr (QmpStatus) status = g_new0 (QmpStatus, 1);
  const char *text = object != NULL ? qmp_json_get_string (object, "status") : NULL;

  if (text == NULL || !qmp_json_get_bool (object, "running", &status->running))
    return invalid_reply (error, command, "no 'status' string and 'running' boolean");
  status->status = g_strdup (text);
  status->run_state = qmp_run_state_from_string (text);
  return g_steal_pointer (&status);
}

void
qmp_query_status_async (QmpClient *client, GCancellable *cancellable, GAsyncReadyCallback callback,
                        gpointer user_data)
{
  call_async (client, "query-status", NULL, parse_status, (GDestroyNotify)qmp_status_free,
              qmp_query_status_async, cancellable, callback, user_data);
}

QmpStatus *
qmp_query_status_finish (QmpClient *client, GAsyncResult *result, GError **error)
{
  return finish_pointer (client, result, qmp_query_status_async, error);
}

/* ---- commands without a result ---- */

void
qmp_cont_async (QmpClient *client, GCancellable *cancellable, GAsyncReadyCallback callback,
                gpointer user_data)
{
  call_async (client, "cont", NULL, NULL, NULL, qmp_cont_async, cancellable, callback, user_data);
}

gboolean
qmp_cont_finish (QmpClient *client, GAsyncResult *result, GError **error)
{
  return finish_boolean (client, result, qmp_cont_async, error);
}

void
qmp_stop_async (QmpClient *client, GCancellable *cancellable, GAsyncReadyCallback callback,
                gpointer user_data)
{
  call_async (client, "stop", NULL, NULL, NULL, qmp_stop_async, cancellable, callback, user_data);
}

gboolean
qmp_stop_finish (QmpClient *client, GAsyncResult *result, GError **error)
{
  return finish_boolean (client, result, qmp_stop_async, error);
}

void
qmp_system_powerdown_async (QmpClient *client, GCancellable *cancellable,
                            GAsyncReadyCallback callback, gpointer user_data)
{
  call_async (client, "system_powerdown", NULL, NULL, NULL, qmp_system_powerdown_async, cancellable,
              callback, user_data);
}

gboolean
qmp_system_powerdown_finish (QmpClient *client, GAsyncResult *result, GError **error)
{
  return finish_boolean (client, result, qmp_system_powerdown_async, error);
}

void
qmp_system_reset_async (QmpClient *client, GCancellable *cancellable, GAsyncReadyCallback callback,
                        gpointer user_data)
{
  call_async (client, "system_reset", NULL, NULL, NULL, qmp_system_reset_async, cancellable,
              callback, user_data);
}

gboolean
qmp_system_reset_finish (QmpClient *client, GAsyncResult *result, GError **error)
{
  return finish_boolean (client, result, qmp_system_reset_async, error);
}

void
qmp_quit_async (QmpClient *client, GCancellable *cancellable, GAsyncReadyCallback callback,
                gpointer user_data)
{
  call_async (client, "quit", NULL, NULL, NULL, qmp_quit_async, cancellable, callback, user_data);
}

gboolean
qmp_quit_finish (QmpClient *client, GAsyncResult *result, GError **error)
{
  g_autoptr (GError) local_error = NULL;

  if (finish_boolean (client, result, qmp_quit_async, &local_error))
    return TRUE;
  if (g_error_matches (local_error, QMP_ERROR, QMP_ERROR_DISCONNECTED))
    return TRUE;
  g_propagate_error (error, g_steal_pointer (&local_error));
  return FALSE;
}

/* ---- getfd ---- */

void
qmp_getfd_async (QmpClient *client, const char *fdname, int fd, GCancellable *cancellable,
                 GAsyncReadyCallback callback, gpointer user_data)
{
  g_autoptr (JsonObject) arguments = json_object_new ();
  GTask *task
    = call_new (client, "getfd", NULL, NULL, qmp_getfd_async, cancellable, callback, user_data);

  json_object_set_string_member (arguments, "fdname", fdname);
  qmp_client_execute_with_fd_async (client, "getfd", arguments, fd, cancellable, on_reply, task);
}

gboolean
qmp_getfd_finish (QmpClient *client, GAsyncResult *result, GError **error)
{
  return finish_boolean (client, result, qmp_getfd_async, error);
}

/* ---- balloon ---- */

void
qmp_balloon_async (QmpClient *client, guint64 bytes, GCancellable *cancellable,
                   GAsyncReadyCallback callback, gpointer user_data)
{
  g_autoptr (JsonObject) arguments = json_object_new ();

  json_object_set_int_member (arguments, "value", (gint64)MIN (bytes, (guint64)G_MAXINT64));
  call_async (client, "balloon", arguments, NULL, NULL, qmp_balloon_async, cancellable, callback,
              user_data);
}

gboolean
qmp_balloon_finish (QmpClient *client, GAsyncResult *result, GError **error)
{
  return finish_boolean (client, result, qmp_balloon_async, error);
}

static gpointer
parse_balloon (const char *command, JsonNode *ret, GError **error)
{
  JsonObject *object = JSON_NODE_HOLDS_OBJECT (ret) ? json_node_get_object (ret) : NULL;
  gint64 actual = -1;

  if (object == NULL || !qmp_json_get_int (object, "actual", &actual) || actual < 0)
    return invalid_reply (error, command, "no 'actual' byte count");
  return g_memdup2 (&actual, sizeof actual);
}

void
qmp_query_balloon_async (QmpClient *client, GCancellable *cancellable, GAsyncReadyCallback callback,
                         gpointer user_data)
{
  call_async (client, "query-balloon", NULL, parse_balloon, g_free, qmp_query_balloon_async,
              cancellable, callback, user_data);
}

gboolean
qmp_query_balloon_finish (QmpClient *client, GAsyncResult *result, guint64 *actual, GError **error)
{
  g_autofree gint64 *value = finish_pointer (client, result, qmp_query_balloon_async, error);

  if (value == NULL)
    return FALSE;
  if (actual != NULL)
    *actual = (guint64)*value;
  return TRUE;
}

/* ---- query-cpus-fast ---- */

void
qmp_cpu_free (QmpCpu *cpu)
{
  if (cpu == NULL)
    return;
  g_free (cpu->qom_path);
  g_free (cpu);
}

static gpointer
parse_cpus (const char *command, JsonNode *ret, GError **error)
{
  JsonArray *array = JSON_NODE_HOLDS_ARRAY (ret) ? json_node_get_array (ret) : NULL;
  g_autoptr (GPtrArray) cpus = g_ptr_array_new_with_free_func ((GDestroyNotify)qmp_cpu_free);

  if (array == NULL)
    return invalid_reply (error, command, "no array");
  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      JsonNode *node = json_array_get_element (array, i);
      JsonObject *entry = JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
      g_autoptr (QmpCpu) cpu = g_new0 (QmpCpu, 1);

      if (entry == NULL || !qmp_json_get_int (entry, "cpu-index", &cpu->cpu_index)
          || !qmp_json_get_int (entry, "thread-id", &cpu->thread_id))
        return invalid_reply (error, command, "a CPU without 'cpu-index' or 'thread-id'");
      cpu->qom_path = g_strdup (qmp_json_get_string (entry, "qom-path"));
      g_ptr_array_add (cpus, g_steal_pointer (&cpu));
    }
  return g_steal_pointer (&cpus);
}

void
qmp_query_cpus_fast_async (QmpClient *client, GCancellable *cancellable,
                           GAsyncReadyCallback callback, gpointer user_data)
{
  call_async (client, "query-cpus-fast", NULL, parse_cpus, (GDestroyNotify)g_ptr_array_unref,
              qmp_query_cpus_fast_async, cancellable, callback, user_data);
}

GPtrArray *
qmp_query_cpus_fast_finish (QmpClient *client, GAsyncResult *result, GError **error)
{
  return finish_pointer (client, result, qmp_query_cpus_fast_async, error);
}

/* ---- query-blockstats ---- */

void
qmp_block_stats_free (QmpBlockStats *stats)
{
  if (stats == NULL)
    return;
  g_free (stats->device);
  g_free (stats->node_name);
  g_free (stats->qdev);
  g_free (stats);
}

static guint64
get_counter (JsonObject *stats, const char *member)
{
  gint64 value = 0;

  return qmp_json_get_int (stats, member, &value) && value > 0 ? (guint64)value : 0;
}

static QmpBlockStats *
parse_one_block_stats (JsonObject *entry)
{
  JsonObject *stats = qmp_json_get_object (entry, "stats");
  QmpBlockStats *result;

  if (stats == NULL)
    return NULL;
  result = g_new0 (QmpBlockStats, 1);
  result->device = g_strdup (qmp_json_get_string (entry, "device"));
  if (result->device == NULL)
    result->device = g_strdup ("");
  result->node_name = g_strdup (qmp_json_get_string (entry, "node-name"));
  result->qdev = g_strdup (qmp_json_get_string (entry, "qdev"));
  result->rd_bytes = get_counter (stats, "rd_bytes");
  result->wr_bytes = get_counter (stats, "wr_bytes");
  result->rd_operations = get_counter (stats, "rd_operations");
  result->wr_operations = get_counter (stats, "wr_operations");
  result->flush_operations = get_counter (stats, "flush_operations");
  return result;
}

static gpointer
parse_blockstats (const char *command, JsonNode *ret, GError **error)
{
  JsonArray *array = JSON_NODE_HOLDS_ARRAY (ret) ? json_node_get_array (ret) : NULL;
  g_autoptr (GPtrArray) all = g_ptr_array_new_with_free_func ((GDestroyNotify)qmp_block_stats_free);

  if (array == NULL)
    return invalid_reply (error, command, "no array");
  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      JsonNode *node = json_array_get_element (array, i);
      JsonObject *entry = JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
      QmpBlockStats *stats = entry != NULL ? parse_one_block_stats (entry) : NULL;

      if (stats == NULL)
        return invalid_reply (error, command, "an entry without a 'stats' object");
      g_ptr_array_add (all, stats);
    }
  return g_steal_pointer (&all);
}

void
qmp_query_blockstats_async (QmpClient *client, GCancellable *cancellable,
                            GAsyncReadyCallback callback, gpointer user_data)
{
  call_async (client, "query-blockstats", NULL, parse_blockstats, (GDestroyNotify)g_ptr_array_unref,
              qmp_query_blockstats_async, cancellable, callback, user_data);
}

GPtrArray *
qmp_query_blockstats_finish (QmpClient *client, GAsyncResult *result, GError **error)
{
  return finish_pointer (client, result, qmp_query_blockstats_async, error);
}

/* ---- human-monitor-command ---- */

static gpointer
parse_hmp (const char *command, JsonNode *ret, GError **error)
{
  if (!JSON_NODE_HOLDS_VALUE (ret) || json_node_get_value_type (ret) != G_TYPE_STRING)
    return invalid_reply (error, command, "no string");
  return g_strdup (json_node_get_string (ret));
}

void
qmp_human_monitor_command_async (QmpClient *client, const char *command_line,
                                 GCancellable *cancellable, GAsyncReadyCallback callback,
                                 gpointer user_data)
{
  g_autoptr (JsonObject) arguments = json_object_new ();

  json_object_set_string_member (arguments, "command-line", command_line);
  call_async (client, "human-monitor-command", arguments, parse_hmp, g_free,
              qmp_human_monitor_command_async, cancellable, callback, user_data);
}

char *
qmp_human_monitor_command_finish (QmpClient *client, GAsyncResult *result, GError **error)
{
  return finish_pointer (client, result, qmp_human_monitor_command_async, error);
}

/* ---- every decoder, for the fuzzer ---- */

static const struct
{
  const char *command;
  QmpReplyParser parse;
  GDestroyNotify free_result;
} decoders[] = {
  { "query-status", parse_status, (GDestroyNotify)qmp_status_free },
  { "query-balloon", parse_balloon, g_free },
  { "query-cpus-fast", parse_cpus, (GDestroyNotify)g_ptr_array_unref },
  { "query-blockstats", parse_blockstats, (GDestroyNotify)g_ptr_array_unref },
  { "human-monitor-command", parse_hmp, g_free },
};

guint
qmp_commands_decode_all (JsonNode *ret)
{
  guint accepted = 0;

  for (gsize i = 0; i < G_N_ELEMENTS (decoders); i++)
    {
      g_autoptr (GError) error = NULL;
      gpointer value = decoders[i].parse (decoders[i].command, ret, &error);

      if (value != NULL)
        {
          decoders[i].free_result (value);
          accepted++;
        }
    }
  return accepted;
}
