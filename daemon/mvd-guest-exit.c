/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What follows the end of a guest's QEMU: the state and reason it leaves, Restart=, and the
 * move to TCG when KVM cannot run the guest (DESIGN.md "Process model"). */
#include "mvd-guest-private.h"

#include "mvm-error.h"
#include "mvd-log.h"

/* Restart= waits, and gives up after a burst: MvdContext's timings. */

static gboolean
restart_allowed (MvdGuest *self, gboolean failed)
{
  const MvdTimings *t = &self->context->timings;
  gint64 now = g_get_monotonic_time ();

  if (self->stop_requested || self->context->stopping || self->config->restart == MVM_RESTART_NO
      || (self->config->restart == MVM_RESTART_ON_FAILURE && !failed))
    return FALSE;
  while (self->restart_times->len > 0
         && now - g_array_index (self->restart_times, gint64, 0)
              > (gint64)t->restart_interval_ms * G_TIME_SPAN_MILLISECOND)
    g_array_remove_index (self->restart_times, 0);
  if (self->restart_times->len >= t->restart_burst)
    {
      mvd_guest_warning (self->config->name, "%u restarts within %g s; leaving it %s",
                         t->restart_burst, t->restart_interval_ms / 1000.0,
                         failed ? "crashed" : "stopped");
      return FALSE;
    }
  g_array_append_val (self->restart_times, now);
  return TRUE;
}

static gboolean
on_restart (gpointer user_data)
{
  MvdGuest *self = user_data;

  self->restart_source = 0;
  if (!self->context->stopping && mvm_guest_state_is_down (self->state))
    mvd_guest_start_now (self, MVM_STATE_REASON_RESTARTED);
  return G_SOURCE_REMOVE;
}

/* The guest is down: Restart= decides what comes next. */
static void
ended (MvdGuest *self, MvmGuestState state, MvmStateReason reason, const char *message)
{
  mvd_guest_set_state (self, state, reason, message);
  if (restart_allowed (self, state == MVM_GUEST_STATE_CRASHED))
    self->restart_source
      = g_timeout_add (self->context->timings.restart_delay_ms, on_restart, self);
  else if (mvd_guest_is_transient (self))
    mvd_guest_emit_finished (self);
}

/* Accelerator=auto, this QEMU on KVM, and the guest stopped by a KVM internal error before
 * its ready line: KVM cannot run guests here (a nested /dev/kvm, typically). */
static gboolean
kvm_fallback_applies (MvdGuest *self, MvmStateReason reason)
{
  return reason == MVM_STATE_REASON_KVM_INTERNAL_ERROR && self->accel_kvm
         && self->context->config->accelerator == MVM_ACCEL_AUTO && self->context->kvm_failed
         && !mvm_dbus_guest_get_ready (MVM_DBUS_GUEST (self)) && !self->stop_requested
         && !self->context->stopping;
}

/* The start the user waits on goes on, under TCG: waiters stay until it ends. */
static void
fall_back_to_tcg (MvdGuest *self, const char *message)
{
  g_autofree char *why
    = g_strdup_printf ("KVM could not run guest %s, so every guest uses TCG from now on: %s",
                       self->config->name, message);

  g_clear_error (&self->launch_error);
  self->context->kvm_failed (why, self->context->kvm_failed_data);
  mvd_guest_start_now (self, MVM_STATE_REASON_KVM_FALLBACK);
}

static gboolean
is_guest_failure (MvmStateReason reason)
{
  return reason == MVM_STATE_REASON_KVM_INTERNAL_ERROR || reason == MVM_STATE_REASON_IO_ERROR
         || reason == MVM_STATE_REASON_GUEST_PANICKED;
}

/* QEMU ended before the guest ran: every waiter gets an error. */
static void
start_ended (MvdGuest *self, MvmStateReason reason, const char *message)
{
  g_autoptr (GError) error = g_steal_pointer (&self->launch_error);

  if (error == NULL)
    error = g_error_new (MVM_ERROR, MVM_ERROR_QEMU_FAILED, "guest %s: %s", self->config->name,
                         message ? message : "QEMU ended during its start");
  if (self->kill_requested)
    mvd_guest_set_state (self, MVM_GUEST_STATE_STOPPED, MVM_STATE_REASON_KILLED,
                         "killed by a caller while starting");
  else if (self->stop_requested)
    mvd_guest_set_state (self, MVM_GUEST_STATE_STOPPED, MVM_STATE_REASON_REQUESTED,
                         "stopped while starting");
  else if (is_guest_failure (reason))
    mvd_guest_set_state (self, MVM_GUEST_STATE_CRASHED, reason, error->message);
  else
    mvd_guest_set_state (self, MVM_GUEST_STATE_STOPPED, MVM_STATE_REASON_START_FAILED,
                         error->message);
  mvd_guest_complete_start_waiters (self, error);
  if (mvd_guest_is_transient (self))
    mvd_guest_emit_finished (self);
}

/* A stop that was asked for: it says how the guest went. */
static void
stop_ended (MvdGuest *self, MvmStateReason reason, const char *message)
{
  if (reason == MVM_STATE_REASON_POWERED_OFF)
    ended (self, MVM_GUEST_STATE_STOPPED, reason, message);
  else if (self->kill_requested)
    ended (self, MVM_GUEST_STATE_STOPPED, MVM_STATE_REASON_KILLED, "killed by a caller");
  else
    ended (self, MVM_GUEST_STATE_STOPPED, MVM_STATE_REASON_REQUESTED,
           "stopped by a caller; it did not power off in time");
}

void
mvd_guest_on_qemu_exited (MvdQemu *qemu, guint reason, const char *message, gboolean failed,
                          gpointer user_data)
{
  MvdGuest *self = user_data;
  gboolean was_starting = self->state == MVM_GUEST_STATE_STARTING;
  g_autofree char *text = g_strdup (message);

  mvd_guest_drop_qemu (self);
  if (kvm_fallback_applies (self, reason))
    fall_back_to_tcg (self, text);
  else if (was_starting)
    start_ended (self, reason, text);
  else if (self->stop_requested)
    stop_ended (self, reason, text);
  else
    ended (self, failed ? MVM_GUEST_STATE_CRASHED : MVM_GUEST_STATE_STOPPED, reason, text);
}

void
mvd_guest_lost (MvdGuest *self)
{
  const char *message = "its QEMU ended while no daemon watched it";

  g_return_if_fail (self->qemu == NULL);
  /* no exit status to call it crashed by: stopped, unless Restart= brings it back */
  if (!restart_allowed (self, TRUE))
    {
      mvd_guest_set_state (self, MVM_GUEST_STATE_STOPPED, MVM_STATE_REASON_LOST, message);
      return;
    }
  mvd_guest_set_state (self, MVM_GUEST_STATE_CRASHED, MVM_STATE_REASON_LOST, message);
  self->restart_source = g_timeout_add (self->context->timings.restart_delay_ms, on_restart, self);
}
