/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Taking over a QEMU that a previous daemon started. */
#include "mvd-qemu-private.h"

#include <glib-unix.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "mvm-error.h"
#include "mvd-cgroup.h"
#include "mvd-state-file.h"
#include "qmp-commands.h"
#include "mvd-log.h"

/* --- adoption --------------------------------------------------------------------- */

static void
on_adopt_status (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (MvdQemu) self = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (QmpStatus) status = qmp_query_status_finish (QMP_CLIENT (source), result, &error);
  g_autoptr (GTask) task = g_steal_pointer (&self->launch_task);

  g_clear_handle_id (&self->launch_timeout, g_source_remove);
  if (status == NULL)
    mvd_guest_warning (self->name,
                       "adopted without a working QMP connection (%s); kill still works",
                       error->message);
  if (task)
    g_task_return_int (task, status ? status->run_state : QMP_RUN_STATE_RUNNING);
}

static void
on_adopt_handshake (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (MvdQemu) self = user_data;
  g_autoptr (GError) error = NULL;

  if (!qmp_client_handshake_finish (QMP_CLIENT (source), result, &error))
    {
      g_autoptr (GTask) task = g_steal_pointer (&self->launch_task);
      g_clear_handle_id (&self->launch_timeout, g_source_remove);
      mvd_guest_warning (self->name, "adopted, but QMP does not answer: %s", error->message);
      if (task)
        g_task_return_int (task, QMP_RUN_STATE_RUNNING);
      return;
    }
  qmp_query_status_async (self->qmp, NULL, on_adopt_status, g_object_ref (self));
}

/* The real uid on the "Uid:" line of /proc/PID/status: an adopted QEMU keeps its own. */
static guint32
process_uid (GPid pid)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/status", pid);
  g_autofree char *text = NULL;
  const char *line;

  if (!g_file_get_contents (path, &text, NULL, NULL) || (line = strstr (text, "\nUid:")) == NULL)
    return 0;
  return (guint32)g_ascii_strtoull (line + 5, NULL, 10);
}

static gboolean
open_pidfd (MvdQemu *self, GError **error)
{
  self->pidfd = syscall (SYS_pidfd_open, self->pid, 0);
  /* checked again once the pidfd pins the process: it cannot be reused from now on */
  if (self->pidfd < 0 || !mvd_state_file_matches_process (self->state))
    {
      if (self->pidfd >= 0)
        close (self->pidfd); /* never keep a handle on someone else's process */
      self->pidfd = -1;
      g_set_error (error, MVM_ERROR, MVM_ERROR_FAILED,
                   "pid %d is no longer the QEMU that was started", self->pid);
      return FALSE;
    }
  self->pidfd_watch = g_unix_fd_add (self->pidfd, G_IO_IN, mvd_qemu_on_pidfd_exited, self);
  mvd_qemu_cap_output (self);
  self->uid = process_uid (self->pid);
  self->cgroup_dir = mvd_cgroup_of_process (self->pid);
  return TRUE;
}

void
mvd_qemu_adopt_async (MvdQemu *self, MvdStateFile *state, GAsyncReadyCallback callback,
                      gpointer user_data)
{
  g_autoptr (GTask) task = g_task_new (self, NULL, callback, user_data);
  GError *error = NULL;

  self->state = state;
  self->pid = state->pid;
  self->argv = g_strdupv (state->argv);
  self->ready_seen = state->ready;
  self->spawn_usec = g_get_monotonic_time () - (g_get_real_time () - state->start_timestamp);
  if (!open_pidfd (self, &error))
    {
      g_task_return_error (task, error);
      return;
    }
  self->launch_task = g_steal_pointer (&task);
  /* The process is ours from here on: whatever fails now, it is adopted (and can be
   * killed through the pidfd), never left running unknown. A hung QEMU: the handshake's
   * own timeout lets go, and the others are not held up. */
  if (!mvd_qemu_connect_channels (self, &error))
    {
      g_autoptr (GTask) adopted = g_steal_pointer (&self->launch_task);
      mvd_guest_warning (self->name, "adopted pid %d without its channels: %s; kill still works",
                         self->pid, error->message);
      g_error_free (error);
      g_task_return_int (adopted, QMP_RUN_STATE_RUNNING);
      return;
    }
  qmp_client_handshake_async (self->qmp, NULL, on_adopt_handshake, g_object_ref (self));
}

gboolean
mvd_qemu_adopt_finish (MvdQemu *self, GAsyncResult *result, QmpRunState *run_state, GError **error)
{
  gssize value = g_task_propagate_int (G_TASK (result), error);

  if (value < 0)
    return FALSE;
  *run_state = value;
  return TRUE;
}

const MvdStateFile *
mvd_qemu_get_state (MvdQemu *self)
{
  return self->state;
}
