/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Taking over the QEMU a previous daemon started for this guest: what it runs comes from
 * the definition and the state file it left in the runtime folder, not from its argv. */
#include "mvd-guest-private.h"

#include "mvm-error.h"
#include "mvd-log.h"

/* RUNTIME/NAME/guest, the definition the QEMU was started from, where it differs from the
 * stored one (a redefinition while it ran). */
static void
load_running_definition (MvdGuest *self, const char *runtime)
{
  g_autofree char *path = g_build_filename (runtime, "guest", NULL);
  g_autofree char *file_name = g_strconcat (self->config->name, ".guest", NULL);
  g_autofree char *text = NULL;
  g_autoptr (GError) error = NULL;
  gsize len;

  g_clear_pointer (&self->running, mvm_guest_config_free);
  if (!g_file_get_contents (path, &text, &len, &error))
    {
      mvd_guest_warning (self->config->name, "%s; its stored definition stands in", error->message);
      return;
    }
  if (g_strcmp0 (text, self->guest_file) == 0)
    return;
  self->running = mvm_guest_config_new_from_data (text, len, file_name, &error);
  if (self->running == NULL)
    mvd_guest_warning (self->config->name, "%s; its stored definition stands in", error->message);
}

static void
publish_adopted (MvdGuest *self, const MvdStateFile *state)
{
  MvmDbusGuest *iface = MVM_DBUS_GUEST (self);

  mvm_dbus_guest_set_command_line (iface, (const char *const *)state->argv);
  mvm_dbus_guest_set_main_pid (iface, state->pid);
  mvm_dbus_guest_set_start_timestamp (iface, state->start_timestamp);
  mvm_dbus_guest_set_boot_time_usec (iface, state->ready ? state->boot_usec : 0);
  mvm_dbus_guest_set_ready (iface, state->ready);
  self->accel_kvm
    = state->accelerator ? g_str_equal (state->accelerator, "kvm") : self->context->facts->kvm;
  self->vsock_cid = state->vsock_cid;
  mvd_guest_publish_config (self);
}

static void
not_adopted (MvdGuest *self, MvdQemu *qemu, const GError *error)
{
  mvd_guest_warning (self->config->name, "not adopted: %s", error->message);
  mvd_guest_drop_qemu (self);
  mvm_paths_clean_guest_runtime (self->context->paths, self->config->name);
  mvd_guest_set_state (self, MVM_GUEST_STATE_STOPPED, MVM_STATE_REASON_LOST, error->message);
  mvd_guest_complete_start_waiters (self, error);
}

/* Its start was never seen through: undo it rather than guess what the caller wanted. */
static void
undo_interrupted_start (MvdGuest *self)
{
  mvd_guest_message (self->config->name, "adopted in the middle of a start; stopping it");
  g_clear_error (&self->launch_error);
  self->launch_error = g_error_new (MVM_ERROR, MVM_ERROR_BUSY,
                                    "guest %s: a start interrupted by a daemon restart is "
                                    "being undone; start it again",
                                    self->config->name);
  mvd_guest_kill_async (self, NULL, NULL);
}

/* What an adopted QEMU's run state says about its guest: gone ones are ended, and the exit
 * then applies Restart=. */
static void
settle_run_state (MvdGuest *self, MvdQemu *qemu, QmpRunState run_state)
{
  if (mvd_qemu_run_state_is_failure (run_state))
    mvd_qemu_fail_guest (qemu, run_state);
  else if (run_state == QMP_RUN_STATE_SHUTDOWN) /* -no-shutdown kept it after a power-off */
    mvd_qemu_end (qemu, MVM_STATE_REASON_POWERED_OFF,
                  "the guest powered off while no daemon watched it");
}

static void
on_adopted (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (MvdGuest) self = user_data;
  g_autoptr (GError) error = NULL;
  g_autofree char *message = NULL;
  MvdQemu *qemu = MVD_QEMU (source);
  const MvdStateFile *state = mvd_qemu_get_state (qemu);
  QmpRunState run_state;

  if (!mvd_qemu_adopt_finish (qemu, result, &run_state, &error))
    {
      not_adopted (self, qemu, error); /* the process is not ours: nothing of it is touched */
      return;
    }
  publish_adopted (self, state);
  if (!state->running)
    {
      undo_interrupted_start (self);
      return;
    }
  mvd_guest_log_id (G_LOG_LEVEL_MESSAGE, self->config->name, MVD_MESSAGE_ADOPTED,
                    "adopted pid %d (%s)", state->pid, qmp_run_state_to_string (run_state));
  message
    = g_strdup_printf ("%s%sadopted by a restarted daemon", state->message ? state->message : "",
                       state->message && state->message[0] ? "; " : "");
  mvd_guest_set_state (
    self, run_state == QMP_RUN_STATE_PAUSED ? MVM_GUEST_STATE_PAUSED : MVM_GUEST_STATE_RUNNING,
    state->reason, message);
  mvd_guest_complete_start_waiters (self, NULL); /* a Start that came meanwhile: it runs */
  settle_run_state (self, qemu, run_state);
}

void
mvd_guest_adopt (MvdGuest *self, MvdStateFile *state)
{
  g_autofree char *runtime = mvm_paths_guest_runtime (self->context->paths, self->config->name);

  g_return_if_fail (self->qemu == NULL);
  load_running_definition (self, runtime);
  mvd_guest_watch_qemu (self,
                        mvd_qemu_new (self->context, self->config->name, runtime, self->serial));
  mvd_qemu_set_disks (self->qemu, mvd_guest_get_active_config (self));
  self->start_reason = MVM_STATE_REASON_ADOPTED;
  mvd_guest_set_state (self, MVM_GUEST_STATE_STARTING, MVM_STATE_REASON_ADOPTED,
                       "being adopted from a previous daemon");
  mvd_qemu_adopt_async (self->qemu, state, on_adopted, g_object_ref (self));
}
