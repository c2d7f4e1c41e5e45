/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Ending QEMU: power button, SIGTERM, SIGKILL. */
#include "mvd-qemu-private.h"
#include "mvd-log.h"

#include <signal.h>

/* --- stop ---------------------------------------------------------------------------------- */

static gboolean
on_escalate_kill (gpointer user_data)
{
  MvdQemu *self = user_data;

  self->escalation = 0;
  mvd_guest_message (self->name, "still running %g s after SIGTERM; sending SIGKILL",
                     self->context->timings.term_to_kill_ms / 1000.0);
  mvd_qemu_send_signal (self, SIGKILL);
  return G_SOURCE_REMOVE;
}

static void
terminate (MvdQemu *self)
{
  g_clear_handle_id (&self->escalation, g_source_remove);
  g_clear_handle_id (&self->power_button, g_source_remove);
  self->quit_expected = TRUE;
  mvd_qemu_send_signal (self, SIGTERM);
  self->escalation = g_timeout_add (self->context->timings.term_to_kill_ms, on_escalate_kill, self);
}

static gboolean
on_escalate_term (gpointer user_data)
{
  MvdQemu *self = user_data;

  self->escalation = 0;
  mvd_guest_message (self->name, "no power-off after the power button; sending SIGTERM");
  terminate (self);
  return G_SOURCE_REMOVE;
}

static void on_powerdown_sent (GObject *source, GAsyncResult *result, gpointer user_data);

/* A guest still booting has no one listening to the button yet; a press it missed is
 * repeated, so that a stop soon after a start does not always wait for the timeout. */
static gboolean
on_press_again (gpointer user_data)
{
  MvdQemu *self = user_data;

  if (self->qmp && qmp_client_is_ready (self->qmp))
    qmp_client_execute_async (self->qmp, "system_powerdown", NULL, NULL, on_powerdown_sent,
                              g_object_ref (self));
  return G_SOURCE_CONTINUE;
}

static void
on_powerdown_sent (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (MvdQemu) self = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) node = qmp_client_execute_finish (QMP_CLIENT (source), result, &error);

  if (node == NULL && !self->exited && self->power_button != 0)
    {
      mvd_guest_message (self->name, "system_powerdown failed (%s); sending SIGTERM",
                         error->message);
      terminate (self);
    }
}

static GTask *
add_stop_task (MvdQemu *self, GAsyncReadyCallback callback, gpointer user_data)
{
  GTask *task = g_task_new (self, NULL, callback, user_data);

  if (self->exited)
    {
      g_task_return_boolean (task, TRUE);
      g_object_unref (task);
      return NULL;
    }
  g_ptr_array_add (self->stop_tasks, task);
  return task;
}

void
mvd_qemu_shutdown_async (MvdQemu *self, guint timeout_sec, GAsyncReadyCallback callback,
                         gpointer user_data)
{
  if (add_stop_task (self, callback, user_data) == NULL || self->escalation != 0)
    return; /* already gone, or already on its way down */
  self->quit_expected = TRUE;
  /* to the millisecond, not rounded to the next whole second like g_timeout_add_seconds */
  self->escalation = g_timeout_add (timeout_sec * 1000, on_escalate_term, self);
  if (self->qmp && qmp_client_is_ready (self->qmp))
    {
      self->power_button
        = g_timeout_add (self->context->timings.power_button_repeat_ms, on_press_again, self);
      on_press_again (self);
    }
  else
    terminate (self);
}

void
mvd_qemu_kill_async (MvdQemu *self, GAsyncReadyCallback callback, gpointer user_data)
{
  if (add_stop_task (self, callback, user_data) == NULL)
    return;
  terminate (self);
}

gboolean
mvd_qemu_stop_finish (MvdQemu *self, GAsyncResult *result, GError **error)
{
  return g_task_propagate_boolean (G_TASK (result), error);
}
