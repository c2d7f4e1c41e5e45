/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "mvd-guest-private.h"

#include <errno.h>
#include <gio/gio.h>
#include <string.h>

#include "mvd-authority.h"
#include "mvm-disk-overlay.h"
#include "mvm-error.h"
#include "mvm-file.h"
#include "mvm-snapshot.h"
#include "mvd-log.h"

enum
{
  SIGNAL_FINISHED,
  N_SIGNALS,
};
static guint signals[N_SIGNALS];

G_DEFINE_TYPE_WITH_CODE (MvdGuest, mvd_guest, MVM_DBUS_TYPE_GUEST_SKELETON,
                         G_IMPLEMENT_INTERFACE (MVM_DBUS_TYPE_GUEST, mvd_guest_dbus_iface_init))

/* The MESSAGE_ID of a change to @state for @reason: started (or restarted), stopped,
 * crashed; NULL for the steps between. */
static const char *
state_message_id (MvmGuestState from, MvmGuestState state, MvmStateReason reason)
{
  switch (state)
    {
      case MVM_GUEST_STATE_RUNNING:
        if (from != MVM_GUEST_STATE_STARTING)
          return NULL; /* resumed, or adopted (which has a line of its own) */
        return reason == MVM_STATE_REASON_RESTARTED ? MVD_MESSAGE_RESTARTED : MVD_MESSAGE_STARTED;
      case MVM_GUEST_STATE_STOPPED:
        return MVD_MESSAGE_STOPPED;
      case MVM_GUEST_STATE_CRASHED:
        return MVD_MESSAGE_CRASHED;
      default:
        return NULL;
    }
}

static void
log_state (MvdGuest *self, MvmGuestState state, MvmStateReason reason, const char *message)
{
  GLogLevelFlags level
    = state == MVM_GUEST_STATE_CRASHED ? G_LOG_LEVEL_WARNING : G_LOG_LEVEL_MESSAGE;
  const char *id = state_message_id (self->state, state, reason);
  const char *from = mvm_guest_state_to_string (self->state);
  const char *to = mvm_guest_state_to_string (state);
  const char *why = mvm_state_reason_to_string (reason);
  const char *colon = message && message[0] ? ": " : "";

  if (message == NULL)
    message = "";
  if (id)
    mvd_guest_log_id (level, self->config->name, id, "%s -> %s (%s%s%s)", from, to, why, colon,
                      message);
  else
    mvd_guest_log (level, self->config->name, "%s -> %s (%s%s%s)", from, to, why, colon, message);
}

void
mvd_guest_set_state (MvdGuest *self, MvmGuestState state, MvmStateReason reason,
                     const char *message)
{
  MvmDbusGuest *iface = MVM_DBUS_GUEST (self);

  if (message == NULL)
    message = "";
  if (self->state == state && self->reason == reason
      && g_strcmp0 (mvm_dbus_guest_get_state_message (iface), message) == 0)
    return;
  log_state (self, state, reason, message);
  self->state = state;
  self->reason = reason;
  mvm_dbus_guest_set_state (iface, mvm_guest_state_to_string (state));
  mvm_dbus_guest_set_state_reason (iface, mvm_state_reason_to_string (reason));
  mvm_dbus_guest_set_state_message (iface, message);
  if (mvm_guest_state_is_down (state))
    {
      mvm_dbus_guest_set_main_pid (iface, 0);
      mvm_dbus_guest_set_ready (iface, FALSE);
      mvm_dbus_guest_set_start_timestamp (iface, 0);
      g_clear_pointer (&self->running, mvm_guest_config_free);
      mvd_guest_publish_config (self);
    }
}

const MvmGuestConfig *
mvd_guest_get_active_config (MvdGuest *self)
{
  return self->running ? self->running : self->config;
}

static GVariant *
forwards_variant (const MvmGuestConfig *config)
{
  GVariantBuilder list;

  g_variant_builder_init (&list, G_VARIANT_TYPE ("aa{sv}"));
  for (guint i = 0; i < config->networks->len; i++)
    {
      const MvmNetwork *n = config->networks->pdata[i];
      for (guint j = 0; mvm_network_is_user_mode (n) && j < n->forwards->len; j++)
        {
          const MvmForward *f = n->forwards->pdata[j];
          GVariantBuilder d;

          g_variant_builder_init (&d, G_VARIANT_TYPE ("a{sv}"));
          g_variant_builder_add (&d, "{sv}", "Network", g_variant_new_string (n->label));
          g_variant_builder_add (&d, "{sv}", "Protocol",
                                 g_variant_new_string (f->udp ? "udp" : "tcp"));
          g_variant_builder_add (&d, "{sv}", "HostAddress",
                                 g_variant_new_string (mvm_forward_host_address (f)));
          g_variant_builder_add (&d, "{sv}", "HostPort", g_variant_new_uint16 (f->host_port));
          g_variant_builder_add (&d, "{sv}", "GuestPort", g_variant_new_uint16 (f->guest_port));
          g_variant_builder_add_value (&list, g_variant_builder_end (&d));
        }
    }
  return g_variant_builder_end (&list);
}

void
mvd_guest_publish_config (MvdGuest *self)
{
  MvmDbusGuest *iface = MVM_DBUS_GUEST (self);
  const MvmGuestConfig *config = mvd_guest_get_active_config (self);
  gboolean kvm = self->qemu ? self->accel_kvm : self->context->facts->kvm;

  mvm_dbus_guest_set_cpus (iface, config->cpus);
  mvm_dbus_guest_set_memory (iface, config->memory);
  mvm_dbus_guest_set_transport (iface, mvm_transport_to_string (config->transport));
  mvm_dbus_guest_set_accelerator (iface, kvm ? "kvm" : "tcg");
  mvm_dbus_guest_set_forwards (iface, forwards_variant (config));
}

void
mvd_guest_refresh_accelerator (MvdGuest *self)
{
  if (self->qemu == NULL)
    mvd_guest_publish_config (self);
}

const char *
mvd_guest_get_name (MvdGuest *self)
{
  return self->config->name;
}

MvmGuestState
mvd_guest_get_state (MvdGuest *self)
{
  return self->state;
}

gboolean
mvd_guest_is_transient (MvdGuest *self)
{
  return self->file_path == NULL;
}

static gboolean
config_uses_image (const MvmGuestConfig *config, const char *image)
{
  for (guint i = 0; config && i < config->disks->len; i++)
    if (g_strcmp0 (((const MvmDisk *)config->disks->pdata[i])->image, image) == 0)
      return TRUE;
  return FALSE;
}

gboolean
mvd_guest_uses_image (MvdGuest *self, const char *image)
{
  return config_uses_image (self->config, image)
         || config_uses_image (mvd_guest_get_active_config (self), image);
}

const char *
mvd_guest_get_guest_file (MvdGuest *self)
{
  return self->guest_file;
}

void
mvd_guest_redefine (MvdGuest *self, MvmGuestConfig *config, const char *guest_file)
{
  if (self->config)
    mvm_disk_overlay_forget_changed (self->context->config->guest_data_dir, self->config, config);
  /* a running QEMU keeps what it was started from until it ends */
  if (self->qemu && self->running == NULL)
    self->running = g_steal_pointer (&self->config);
  g_clear_pointer (&self->config, mvm_guest_config_free);
  self->config = config;
  g_free (self->guest_file);
  self->guest_file = g_strdup (guest_file);
  mvm_dbus_guest_set_autostart (MVM_DBUS_GUEST (self), config->autostart);
  mvd_guest_publish_config (self);
}

void
mvd_guest_emit_finished (MvdGuest *self)
{
  g_signal_emit (self, signals[SIGNAL_FINISHED], 0);
}

/* --- QEMU's signals ------------------------------------------------------------------ */

static void
on_qemu_run_state (MvdQemu *qemu, guint run_state, gpointer user_data)
{
  MvdGuest *self = user_data;

  if (self->state == MVM_GUEST_STATE_RUNNING && run_state == QMP_RUN_STATE_PAUSED)
    mvd_guest_set_state (self, MVM_GUEST_STATE_PAUSED, MVM_STATE_REASON_REQUESTED, NULL);
  else if (self->state == MVM_GUEST_STATE_PAUSED && run_state == QMP_RUN_STATE_RUNNING)
    mvd_guest_set_state (self, MVM_GUEST_STATE_RUNNING, MVM_STATE_REASON_REQUESTED, NULL);
}

static void
on_qemu_ready (MvdQemu *qemu, guint64 boot_usec, gpointer user_data)
{
  MvdGuest *self = user_data;

  mvd_guest_log_id (G_LOG_LEVEL_MESSAGE, self->config->name, MVD_MESSAGE_READY,
                    "ready after %.3f s", boot_usec / 1e6);
  mvm_dbus_guest_set_boot_time_usec (MVM_DBUS_GUEST (self), boot_usec);
  mvm_dbus_guest_set_ready (MVM_DBUS_GUEST (self), TRUE);
}

/* The guest's command ended: its status stands until the next start */
static void
on_qemu_exit_status (MvdQemu *qemu, int status, gpointer user_data)
{
  MvdGuest *self = user_data;

  mvd_guest_message (self->config->name, "its command exited with status %d", status);
  mvm_dbus_guest_set_exit_status (MVM_DBUS_GUEST (self), status);
}

static void
on_qemu_reset (MvdQemu *qemu, gpointer user_data)
{
  MvdGuest *self = user_data;

  mvm_dbus_guest_set_ready (MVM_DBUS_GUEST (self), FALSE);
  mvm_dbus_guest_set_boot_time_usec (MVM_DBUS_GUEST (self), 0);
}

void
mvd_guest_watch_qemu (MvdGuest *self, MvdQemu *qemu)
{
  self->qemu = qemu;
  g_signal_connect (qemu, "exited", G_CALLBACK (mvd_guest_on_qemu_exited), self);
  g_signal_connect (qemu, "run-state-changed", G_CALLBACK (on_qemu_run_state), self);
  g_signal_connect (qemu, "ready", G_CALLBACK (on_qemu_ready), self);
  g_signal_connect (qemu, "reset", G_CALLBACK (on_qemu_reset), self);
  g_signal_connect (qemu, "exit-status", G_CALLBACK (on_qemu_exit_status), self);
}

void
mvd_guest_drop_qemu (MvdGuest *self)
{
  if (self->qemu)
    g_signal_handlers_disconnect_by_data (self->qemu, self);
  g_clear_object (&self->qemu);
  self->vsock_cid = 0;
}

/* --- start ---------------------------------------------------------------------------- */

void
mvd_guest_complete_start_waiters (MvdGuest *self, const GError *error)
{
  g_autoptr (GPtrArray) waiters = g_steal_pointer (&self->start_waiters);

  self->start_waiters = g_ptr_array_new_with_free_func (g_object_unref);
  for (guint i = 0; i < waiters->len; i++)
    {
      if (error)
        g_task_return_error (waiters->pdata[i], g_error_copy (error));
      else
        g_task_return_boolean (waiters->pdata[i], TRUE);
    }
}

static const char *
start_message (MvmStateReason reason)
{
  switch (reason)
    {
      case MVM_STATE_REASON_AUTOSTART:
        return "started with the daemon (Autostart=yes)";
      case MVM_STATE_REASON_RESTARTED:
        return "started again (Restart=)";
      case MVM_STATE_REASON_KVM_FALLBACK:
        return "started again under TCG: KVM could not run it";
      default:
        return "started by a caller";
    }
}

static void
on_launched (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (MvdGuest) self = user_data;
  MvdQemu *qemu = MVD_QEMU (source);
  GError *error = NULL;

  if (!mvd_qemu_launch_finish (qemu, result, &error))
    {
      const char *message;
      MvmStateReason reason = mvd_qemu_get_end_reason (qemu, &message);

      if (self->qemu != qemu) /* its exit came first and told the waiters already */
        {
          g_error_free (error);
          return;
        }
      g_clear_error (&self->launch_error);
      self->launch_error = error; /* what the start waiters are told */
      /* QEMU still runs (killed, the exit reports it); or it is gone, or never spawned,
       * and this is the end of it: the exit's signal comes after this, unheard */
      if (mvd_qemu_has_exited (qemu) || mvd_qemu_get_pid (qemu) == 0)
        mvd_guest_on_qemu_exited (qemu, reason, message, FALSE, self);
      return;
    }
  /* a stop asked for during the start is under way: the guest is not running any more */
  if (self->stop_requested)
    mvd_guest_set_state (self, MVM_GUEST_STATE_STOPPING, MVM_STATE_REASON_REQUESTED, NULL);
  else
    mvd_guest_set_state (self, MVM_GUEST_STATE_RUNNING, self->start_reason, self->start_message);
  mvd_guest_complete_start_waiters (self, NULL);
}

/* RUNTIME/NAME, before the plan: the ephemeral disks' overlays are made in it */
static gboolean
make_runtime_dir (MvdGuest *self, const char *runtime, GError **error)
{
  if (g_mkdir_with_parents (runtime, 0700) == 0)
    return TRUE;
  g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno), "guest %s: cannot create %s: %s",
               self->config->name, runtime, g_strerror (errno));
  return FALSE;
}

/* RUNTIME/NAME/guest: the definition this QEMU runs, so that a restarted daemon can adopt
 * even a transient guest, which has no file in the guest folder. */
static gboolean
save_running_definition (MvdGuest *self, const char *runtime, GError **error)
{
  g_autofree char *path = g_build_filename (runtime, "guest", NULL);

  return mvm_file_write_runtime (path, self->guest_file, -1, 0600, error);
}

static void
start_failed (MvdGuest *self, const GError *error)
{
  mvd_guest_set_state (self, MVM_GUEST_STATE_STOPPED, MVM_STATE_REASON_START_FAILED,
                       error->message);
  mvd_guest_complete_start_waiters (self, error);
}

/* The lowest uid of GuestUIDs= that no running guest's QEMU has; 0 (root) when the daemon
 * does not run as root, or when microvmd.conf says GuestUIDs=no. */
static guint32
pick_uid (const MvdContext *ctx, const char *name, GError **error)
{
  const MvmDaemonConfig *config = ctx->config;

  if (geteuid () != 0 || config->guest_uid_first == 0)
    return 0;
  for (guint32 uid = config->guest_uid_first; uid <= config->guest_uid_last; uid++)
    if (!ctx->uid_in_use || !ctx->uid_in_use (uid, ctx->uid_in_use_data))
      return uid;
  g_set_error (error, MVM_ERROR, MVM_ERROR_LIMIT_EXCEEDED,
               "guest %s: every uid of GuestUIDs= (%u-%u) in microvmd.conf runs a guest", name,
               config->guest_uid_first, config->guest_uid_last);
  return 0;
}

/* The snapshot this start restores (StartFromSnapshot, else StartFrom=), read, or NULL for
 * a boot; NULL with @error when it cannot be had. */
static MvmSnapshot *
snapshot_to_restore (MvdGuest *self, char **dir, GError **error)
{
  g_autofree char *name = g_steal_pointer (&self->start_snapshot); /* for this start only */
  const char *guest = self->config->name;
  const char *data_dir;
  MvmSnapshot *snapshot;

  if (name == NULL && self->config->start_from)
    name = g_strdup (self->config->start_from);
  if (name == NULL || (data_dir = mvd_guest_data_dir (self, error)) == NULL)
    return NULL;
  if ((snapshot = mvm_snapshot_read (data_dir, guest, name, error)) == NULL)
    return NULL;
  *dir = mvm_snapshot_dir (data_dir, guest, name);
  return snapshot;
}

/* The launch of this start: a boot, or a restore of @snapshot checked against it */
static MvmLaunchPlan *
plan_launch (MvdGuest *self, const char *runtime, const MvmSnapshot *snapshot,
             const char *snapshot_dir, GError **error)
{
  const MvdContext *ctx = self->context;
  MvmLaunchPlace place = { .cid_in_use = ctx->cid_in_use,
                           .cid_in_use_data = ctx->cid_in_use_data,
                           .create_overlays = TRUE,
                           .runtime_dir = runtime,
                           .snapshot_dir = snapshot_dir,
                           .ephemeral_source_dir = snapshot_dir };
  g_autoptr (MvmLaunchPlan) plan
    = mvm_launch_plan_new (ctx->config, ctx->facts, self->config, &place, error);

  if (plan && snapshot
      && !mvm_snapshot_check (snapshot, self->config->name, (const char *const *)plan->argv,
                              ctx->facts->qemu_version, error))
    return NULL;
  return g_steal_pointer (&plan);
}

void
mvd_guest_start_now (MvdGuest *self, MvmStateReason reason)
{
  const MvdContext *ctx = self->context;
  gint64 begin_usec = g_get_monotonic_time ();
  g_autoptr (GError) error = NULL;
  g_autofree char *runtime = mvm_paths_guest_runtime (ctx->paths, self->config->name);
  g_autofree char *snapshot_dir = NULL;
  g_autoptr (MvmSnapshot) snapshot = NULL;
  g_autoptr (MvmLaunchPlan) plan = NULL;
  g_autofree char *message = NULL;
  MvmDbusGuest *iface = MVM_DBUS_GUEST (self);
  guint32 uid = 0;

  if (!make_runtime_dir (self, runtime, &error)
      || (!(snapshot = snapshot_to_restore (self, &snapshot_dir, &error)) && error)
      || !(plan = plan_launch (self, runtime, snapshot, snapshot_dir, &error))
      || !save_running_definition (self, runtime, &error)
      || ((uid = pick_uid (ctx, self->config->name, &error)) == 0 && error))
    {
      /* no QEMU has it yet: what the plan made there (ephemeral overlays) goes */
      mvm_paths_clean_runtime_dir (runtime);
      start_failed (self, error);
      return;
    }
  message = snapshot
              ? g_strdup_printf ("%s, from snapshot %s", start_message (reason), snapshot->name)
              : g_strdup (start_message (reason));
  self->stop_requested = self->kill_requested = FALSE;
  self->start_reason = reason;
  g_free (self->start_message);
  self->start_message = g_strdup (message);
  self->accel_kvm = ctx->facts->kvm;
  self->vsock_cid = plan->launch.vsock_cid;
  mvd_guest_watch_qemu (self, mvd_qemu_new (ctx, self->config->name, runtime, self->serial));
  mvd_guest_set_state (self, MVM_GUEST_STATE_STARTING, reason, message);
  mvd_guest_publish_config (self);
  mvm_dbus_guest_set_boot_time_usec (iface, 0);
  mvm_dbus_guest_set_exit_status (iface, -1);
  mvd_qemu_set_start_info (self->qemu, reason, message, mvm_host_facts_accelerator (ctx->facts),
                           self->vsock_cid, begin_usec);
  mvd_qemu_set_disks (self->qemu, self->config);
  mvd_qemu_set_uid (self->qemu, uid);
  mvd_qemu_launch_async (self->qemu, self->config, plan, on_launched, g_object_ref (self));
  mvm_dbus_guest_set_command_line (iface, mvd_qemu_get_argv (self->qemu));
  mvm_dbus_guest_set_main_pid (iface, mvd_qemu_get_pid (self->qemu));
  mvm_dbus_guest_set_start_timestamp (iface, g_get_real_time ());
}

void
mvd_guest_start_with_reason_async (MvdGuest *self, MvmStateReason reason,
                                   GAsyncReadyCallback callback, gpointer user_data)
{
  g_autoptr (GTask) task = g_task_new (self, NULL, callback, user_data);

  switch (self->state)
    {
      case MVM_GUEST_STATE_STARTING: /* a second caller shares the first one's result */
        g_ptr_array_add (self->start_waiters, g_steal_pointer (&task));
        return;
      case MVM_GUEST_STATE_RUNNING:
      case MVM_GUEST_STATE_PAUSED:
        g_task_return_new_error (task, MVM_ERROR, MVM_ERROR_INVALID_STATE,
                                 "guest %s is already running", self->config->name);
        return;
      case MVM_GUEST_STATE_STOPPING:
        g_task_return_new_error (task, MVM_ERROR, MVM_ERROR_BUSY,
                                 "guest %s is stopping; start it once it has stopped",
                                 self->config->name);
        return;
      case MVM_GUEST_STATE_STOPPED:
      case MVM_GUEST_STATE_CRASHED:
        g_clear_handle_id (&self->restart_source, g_source_remove);
        g_ptr_array_add (self->start_waiters, g_steal_pointer (&task));
        mvd_guest_start_now (self, reason);
        return;
    }
}

void
mvd_guest_start_from_snapshot_async (MvdGuest *self, const char *snapshot,
                                     GAsyncReadyCallback callback, gpointer user_data)
{
  if (mvm_guest_state_is_down (self->state))
    {
      g_free (self->start_snapshot);
      self->start_snapshot = g_strdup (snapshot);
    }
  mvd_guest_start_with_reason_async (self, MVM_STATE_REASON_REQUESTED, callback, user_data);
}

void
mvd_guest_start_async (MvdGuest *self, GAsyncReadyCallback callback, gpointer user_data)
{
  mvd_guest_start_with_reason_async (self, MVM_STATE_REASON_REQUESTED, callback, user_data);
}

gboolean
mvd_guest_start_finish (MvdGuest *self, GAsyncResult *result, GError **error)
{
  return g_task_propagate_boolean (G_TASK (result), error);
}

/* --- stop ------------------------------------------------------------------------------ */

static void
on_stopped (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  GError *error = NULL;

  if (mvd_qemu_stop_finish (MVD_QEMU (source), result, &error))
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, error);
}

static GTask *
stop_task (MvdGuest *self, GAsyncReadyCallback callback, gpointer user_data)
{
  GTask *task = g_task_new (self, NULL, callback, user_data);

  g_clear_handle_id (&self->restart_source, g_source_remove);
  if (self->qemu == NULL)
    {
      g_task_return_new_error (task, MVM_ERROR, MVM_ERROR_INVALID_STATE, "guest %s is not running",
                               self->config->name);
      g_object_unref (task);
      return NULL;
    }
  self->stop_requested = TRUE;
  if (self->state != MVM_GUEST_STATE_STARTING)
    mvd_guest_set_state (self, MVM_GUEST_STATE_STOPPING, MVM_STATE_REASON_REQUESTED, NULL);
  return task;
}

void
mvd_guest_shutdown_async (MvdGuest *self, guint timeout_sec, GAsyncReadyCallback callback,
                          gpointer user_data)
{
  gboolean paused = self->state == MVM_GUEST_STATE_PAUSED;
  GTask *task = stop_task (self, callback, user_data);

  /* a paused guest cannot see the power button: let it run to take it */
  if (task && paused)
    mvd_qemu_execute_async (self->qemu, "cont", NULL, NULL, NULL);
  if (task)
    mvd_qemu_shutdown_async (
      self->qemu, timeout_sec ? timeout_sec : self->config->shutdown_timeout_sec, on_stopped, task);
}

void
mvd_guest_kill_async (MvdGuest *self, GAsyncReadyCallback callback, gpointer user_data)
{
  GTask *task = stop_task (self, callback, user_data);

  if (task)
    {
      self->kill_requested = TRUE;
      mvd_qemu_kill_async (self->qemu, on_stopped, task);
    }
}

gboolean
mvd_guest_stop_finish (MvdGuest *self, GAsyncResult *result, GError **error)
{
  return g_task_propagate_boolean (G_TASK (result), error);
}

/* --- object --------------------------------------------------------------------------- */

/* Errors of this setter go out as they are: in our domain, with a name on the bus. */
static gboolean
store_failed (MvdGuest *self, const GError *cause, GError **error)
{
  gboolean denied = g_error_matches (cause, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED);

  g_set_error (error, MVM_ERROR, denied ? MVM_ERROR_ACCESS_DENIED : MVM_ERROR_FAILED,
               "guest %s: cannot store Autostart= in %s: %s", self->config->name, self->file_path,
               cause->message);
  return FALSE;
}

/* Autostart= set over the bus is written into the stored guest file first; the property
 * changes only once that worked, so the caller learns of a failure. */
static gboolean
store_autostart (MvdGuest *self, gboolean autostart, GError **error)
{
  g_autoptr (GKeyFile) kf = g_key_file_new ();
  g_autoptr (GError) local = NULL;
  g_autofree char *data = NULL;
  const char *text = self->guest_file;

  if (self->file_path == NULL)
    {
      g_set_error (error, MVM_ERROR, MVM_ERROR_INVALID_STATE,
                   "guest %s is transient: it has no file to keep Autostart= in",
                   self->config->name);
      return FALSE;
    }
  if (!g_key_file_load_from_data (kf, text, -1, G_KEY_FILE_KEEP_COMMENTS, &local))
    return store_failed (self, local, error);
  g_key_file_set_string (kf, "Guest", "Autostart", autostart ? "yes" : "no");
  data = g_key_file_to_data (kf, NULL, NULL);
  if (!mvm_file_write_atomic (self->file_path, data, -1, 0644, &local))
    return store_failed (self, local, error);
  self->config->autostart = autostart;
  g_free (self->guest_file);
  self->guest_file = g_steal_pointer (&data);
  mvm_dbus_guest_set_autostart (MVM_DBUS_GUEST (self), autostart);
  return TRUE;
}

static GDBusInterfaceSetPropertyFunc parent_set_property;

static gboolean
set_property (GDBusConnection *connection, const char *sender, const char *object_path,
              const char *interface_name, const char *property_name, GVariant *value,
              GError **error, gpointer user_data)
{
  MvdGuest *self = MVD_GUEST (user_data);

  /* property writes do not pass g-authorize-method: ask polkit here, without a prompt */
  if (!mvd_authority_check_sync (self->context, connection, sender, MVD_ACTION_MANAGE, FALSE,
                                 error))
    return FALSE;
  if (g_str_equal (property_name, "Autostart"))
    return store_autostart (self, g_variant_get_boolean (value), error);
  return parent_set_property (connection, sender, object_path, interface_name, property_name, value,
                              error, user_data);
}

/* The skeleton's vtable with our own property setter, filled once in class_init. */
static GDBusInterfaceVTable guest_vtable;

static GDBusInterfaceVTable *
get_vtable (GDBusInterfaceSkeleton *skeleton)
{
  return &guest_vtable;
}

static void
mvd_guest_dispose (GObject *object)
{
  MvdGuest *self = MVD_GUEST (object);

  g_clear_handle_id (&self->restart_source, g_source_remove);
  mvd_guest_drop_qemu (self);
  g_clear_object (&self->serial);
  G_OBJECT_CLASS (mvd_guest_parent_class)->dispose (object);
}

static void
mvd_guest_finalize (GObject *object)
{
  MvdGuest *self = MVD_GUEST (object);

  mvm_guest_config_free (self->config);
  g_clear_pointer (&self->running, mvm_guest_config_free);
  g_free (self->file_path);
  g_free (self->guest_file);
  g_ptr_array_unref (self->start_waiters);
  g_array_unref (self->restart_times);
  g_clear_error (&self->launch_error);
  g_free (self->start_snapshot);
  g_free (self->start_message);
  G_OBJECT_CLASS (mvd_guest_parent_class)->finalize (object);
}

static void
mvd_guest_class_init (MvdGuestClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GDBusInterfaceSkeletonClass *skeleton_class = G_DBUS_INTERFACE_SKELETON_CLASS (klass);

  /* the generated skeleton's get_vtable ignores its instance */
  guest_vtable = *G_DBUS_INTERFACE_SKELETON_CLASS (mvd_guest_parent_class)->get_vtable (NULL);
  parent_set_property = guest_vtable.set_property;
  guest_vtable.set_property = set_property;
  skeleton_class->get_vtable = get_vtable;
  object_class->dispose = mvd_guest_dispose;
  object_class->finalize = mvd_guest_finalize;
  signals[SIGNAL_FINISHED] = g_signal_new ("finished", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                           0, NULL, NULL, NULL, G_TYPE_NONE, 0);
}

static void
mvd_guest_init (MvdGuest *self)
{
  self->start_waiters = g_ptr_array_new_with_free_func (g_object_unref);
  self->restart_times = g_array_new (FALSE, FALSE, sizeof (gint64));
}

MvdGuest *
mvd_guest_new (const MvdContext *context, MvmGuestConfig *config, const char *guest_file,
               const char *file_path)
{
  MvdGuest *self = g_object_new (MVD_TYPE_GUEST, NULL);
  MvmDbusGuest *iface = MVM_DBUS_GUEST (self);
  g_autofree char *log = mvm_paths_guest_log (context->paths, config->name);

  self->context = context;
  self->file_path = g_strdup (file_path);
  self->serial = mvd_serial_new (config->name, log, context->config->log_max_bytes,
                                 context->config->log_keep_files);
  mvm_dbus_guest_set_name (iface, config->name);
  mvm_dbus_guest_set_uuid (iface, config->uuid);
  mvm_dbus_guest_set_state (iface, mvm_guest_state_to_string (MVM_GUEST_STATE_STOPPED));
  mvm_dbus_guest_set_state_reason (iface, mvm_state_reason_to_string (MVM_STATE_REASON_NONE));
  mvm_dbus_guest_set_exit_status (iface, -1);
  self->config = NULL;
  mvd_guest_redefine (self, config, guest_file);
  mvd_guest_publish_snapshots (self);
  return self;
}

guint32
mvd_guest_get_uid (MvdGuest *self)
{
  return self->qemu ? mvd_qemu_get_uid (self->qemu) : 0;
}

guint32
mvd_guest_get_vsock_cid (MvdGuest *self)
{
  return self->qemu ? self->vsock_cid : 0;
}
