/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Saving a guest's memory and devices over QMP: the CPUs stop, QEMU gets the daemon's file
 * (getfd) and migrates into it (DESIGN.md: QEMU opens no path, and its sandbox forbids
 * exec:). */
#include "mvd-qemu-private.h"

#include <unistd.h>

#include "mvm-error.h"
#include "mvd-log.h"
#include "qmp-client.h"

#define FDNAME "microvmd-snapshot"
#define POLL_MS 20
/* QEMU 7.2 throttles a migration to 128 MiB/s unless told; a file takes what it gets */
#define MAX_BANDWIDTH (G_GINT64_CONSTANT (1) << 40)

typedef struct
{
  MvdQemu *self;
  int fd;
  MvdQemuSaveProgress progress;
  gpointer progress_data;
  gboolean cancel_sent; /* migrate_cancel */
  guint poll;
} SaveOp;

static void
save_op_free (SaveOp *op)
{
  g_clear_handle_id (&op->poll, g_source_remove);
  if (op->fd >= 0)
    close (op->fd);
  g_object_unref (op->self);
  g_free (op);
}

/* An error QEMU answered, with the guest's name and what was being done */
static void
fail (GTask *task, GError *error)
{
  SaveOp *op = g_task_get_task_data (task);

  g_task_return_new_error (task, MVM_ERROR, MVM_ERROR_QEMU_FAILED,
                           "guest %s: QEMU cannot save it: %s", op->self->name, error->message);
  g_error_free (error);
}

static void query (GTask *task);

static void
on_cancel_sent (GObject *source, GAsyncResult *result, gpointer data)
{
  g_autoptr (JsonNode) node = qmp_client_execute_finish (QMP_CLIENT (source), result, NULL);
}

/* Cancel() of the job: QEMU stops writing, and the migration ends "cancelled" */
static void
cancel_if_asked (GTask *task)
{
  SaveOp *op = g_task_get_task_data (task);

  if (op->cancel_sent || !g_cancellable_is_cancelled (g_task_get_cancellable (task)))
    return;
  op->cancel_sent = TRUE;
  qmp_client_execute_async (op->self->qmp, "migrate_cancel", NULL, NULL, on_cancel_sent, NULL);
}

static gboolean
on_poll (gpointer data)
{
  GTask *task = data;
  SaveOp *op = g_task_get_task_data (task);

  op->poll = 0;
  query (task);
  return G_SOURCE_REMOVE;
}

static void
on_queried (GObject *source, GAsyncResult *result, gpointer data)
{
  g_autoptr (GTask) task = data;
  SaveOp *op = g_task_get_task_data (task);
  GError *error = NULL;
  g_autoptr (JsonNode) node = qmp_client_execute_finish (QMP_CLIENT (source), result, &error);
  JsonObject *info = node && JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
  const char *status = info ? json_object_get_string_member_with_default (info, "status", "") : "";
  JsonObject *ram = info && json_object_has_member (info, "ram")
                      ? json_object_get_object_member (info, "ram")
                      : NULL;

  if (node == NULL)
    return fail (task, error);
  if (ram && op->progress)
    op->progress (json_object_get_int_member_with_default (ram, "transferred", 0),
                  json_object_get_int_member_with_default (ram, "total", 0), op->progress_data);
  if (g_str_equal (status, "cancelled") && op->cancel_sent)
    g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_CANCELLED, "guest %s: save cancelled",
                             op->self->name);
  else if (g_str_equal (status, "completed"))
    {
      if (ram)
        mvd_guest_debug (op->self->name,
                         "saved: %" G_GINT64_FORMAT " pages of data, %" G_GINT64_FORMAT
                         " zero pages, %" G_GINT64_FORMAT " bytes",
                         json_object_get_int_member_with_default (ram, "normal", 0),
                         json_object_get_int_member_with_default (ram, "duplicate", 0),
                         json_object_get_int_member_with_default (ram, "transferred", 0));
      g_task_return_boolean (task, TRUE);
    }
  else if (g_str_equal (status, "failed") || g_str_equal (status, "cancelled"))
    fail (task, g_error_new (MVM_ERROR, MVM_ERROR_QEMU_FAILED, "the migration %s%s%s", status,
                             json_object_has_member (info, "error-desc") ? ": " : "",
                             json_object_get_string_member_with_default (info, "error-desc", "")));
  else
    {
      cancel_if_asked (task);
      op->poll = g_timeout_add (POLL_MS, on_poll, g_steal_pointer (&task));
    }
}

static void
query (GTask *task)
{
  SaveOp *op = g_task_get_task_data (task);

  qmp_client_execute_async (op->self->qmp, "query-migrate", NULL, NULL, on_queried,
                            g_object_ref (task));
}

/* Each step's answer, from libqmp's typed finish (qmp_stop_finish, ...): FALSE, and @task
 * failed, when QEMU refused it */
typedef gboolean (*StepFinish) (QmpClient *client, GAsyncResult *result, GError **error);

static gboolean
step_ok (GObject *source, GAsyncResult *result, StepFinish finish, GTask *task)
{
  GError *error = NULL;

  if (finish (QMP_CLIENT (source), result, &error))
    return TRUE;
  fail (task, error);
  return FALSE;
}

/* ... of a command without a typed wrapper in libqmp */
static gboolean
step_done (GObject *source, GAsyncResult *result, GTask *task)
{
  GError *error = NULL;
  g_autoptr (JsonNode) node = qmp_client_execute_finish (QMP_CLIENT (source), result, &error);

  if (node == NULL)
    fail (task, error);
  return node != NULL;
}

static void
on_migrating (GObject *source, GAsyncResult *result, gpointer data)
{
  g_autoptr (GTask) task = data;

  if (step_done (source, result, task))
    query (task);
}

static void
on_fd_passed (GObject *source, GAsyncResult *result, gpointer data)
{
  g_autoptr (GTask) task = data;
  SaveOp *op = g_task_get_task_data (task);
  g_autoptr (JsonObject) args = json_object_new ();

  if (!step_ok (source, result, qmp_getfd_finish, task)
      || g_task_return_error_if_cancelled (task)) /* before anything was written */
    return;
  json_object_set_string_member (args, "uri", "fd:" FDNAME);
  qmp_client_execute_async (op->self->qmp, "migrate", args, NULL, on_migrating,
                            g_steal_pointer (&task));
}

static void
on_parameters_set (GObject *source, GAsyncResult *result, gpointer data)
{
  g_autoptr (GTask) task = data;
  SaveOp *op = g_task_get_task_data (task);

  if (!step_done (source, result, task))
    return;
  qmp_getfd_async (op->self->qmp, FDNAME, op->fd, NULL, on_fd_passed, g_steal_pointer (&task));
}

static void
on_stopped (GObject *source, GAsyncResult *result, gpointer data)
{
  g_autoptr (GTask) task = data;
  SaveOp *op = g_task_get_task_data (task);
  g_autoptr (JsonObject) args = json_object_new ();

  if (!step_ok (source, result, qmp_stop_finish, task))
    return;
  json_object_set_int_member (args, "max-bandwidth", MAX_BANDWIDTH);
  qmp_client_execute_async (op->self->qmp, "migrate-set-parameters", args, NULL, on_parameters_set,
                            g_steal_pointer (&task));
}

void
mvd_qemu_save_snapshot_async (MvdQemu *self, int memory_fd, MvdQemuSaveProgress progress,
                              gpointer progress_data, GCancellable *cancellable,
                              GAsyncReadyCallback callback, gpointer user_data)
{
  g_autoptr (GTask) task = g_task_new (self, cancellable, callback, user_data);
  SaveOp *op = g_new0 (SaveOp, 1);

  op->self = g_object_ref (self);
  op->fd = memory_fd;
  op->progress = progress;
  op->progress_data = progress_data;
  g_task_set_task_data (task, op, (GDestroyNotify)save_op_free);
  if (self->qmp == NULL || self->exited || !qmp_client_is_ready (self->qmp))
    {
      g_task_return_new_error (task, MVM_ERROR, MVM_ERROR_INVALID_STATE,
                               "guest %s: QEMU is not running", self->name);
      return;
    }
  self->saving = TRUE; /* the stop is no pause to report */
  qmp_stop_async (self->qmp, NULL, on_stopped, g_steal_pointer (&task));
}

gboolean
mvd_qemu_save_snapshot_finish (MvdQemu *self, GAsyncResult *result, GError **error)
{
  return g_task_propagate_boolean (G_TASK (result), error);
}

static void
on_resumed (GObject *source, GAsyncResult *result, gpointer data)
{
  g_autoptr (MvdQemu) self = data;
  g_autoptr (GError) error = NULL;
  gboolean ok = qmp_cont_finish (QMP_CLIENT (source), result, &error);

  self->saving = FALSE;
  if (!ok && !self->exited)
    mvd_guest_warning (self->name, "cannot run it again after its snapshot: %s", error->message);
}

void
mvd_qemu_end_snapshot (MvdQemu *self, gboolean run)
{
  if (!run || self->qmp == NULL || self->exited)
    {
      self->saving = FALSE;
      return;
    }
  qmp_cont_async (self->qmp, NULL, on_resumed, g_object_ref (self));
}
