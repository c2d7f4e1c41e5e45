/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "mvd-guest-private.h"

#include <errno.h>
#include <gio/gio.h>
#include <string.h>

#include "mvm-error.h"
#include "mvm-file.h"

#define RESTART_BURST 5
#define RESTART_INTERVAL_USEC (10 * G_USEC_PER_SEC)
#define RESTART_DELAY_MSEC 200

enum
{
  SIGNAL_UNDEFINE_REQUESTED,
  SIGNAL_FINISHED,
  N_SIGNALS,
};
static guint signals[N_SIGNALS];

G_DEFINE_TYPE_WITH_CODE (MvdGuest, mvd_guest, MVM_DBUS_TYPE_GUEST_SKELETON,
                         G_IMPLEMENT_INTERFACE (MVM_DBUS_TYPE_GUEST, mvd_guest_dbus_iface_init))

void
mvd_guest_set_state (MvdGuest *self, MvmGuestState state)
{
  MvmDbusGuest *iface = MVM_DBUS_GUEST (self);

  if (self->state == state)
    return;
  g_message ("guest %s: %s -> %s", self->config->name, mvm_guest_state_to_string (self->state),
             mvm_guest_state_to_string (state));
  self->state = state;
  mvm_dbus_guest_set_state (iface, mvm_guest_state_to_string (state));
  if (state == MVM_GUEST_STATE_STOPPED || state == MVM_GUEST_STATE_CRASHED)
    {
      mvm_dbus_guest_set_main_pid (iface, 0);
      mvm_dbus_guest_set_ready (iface, FALSE);
      mvm_dbus_guest_set_start_timestamp (iface, 0);
    }
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

void
mvd_guest_redefine (MvdGuest *self, MvmGuestConfig *config, const char *guest_file)
{
  mvm_guest_config_free (self->config);
  self->config = config;
  mvm_dbus_guest_set_guest_file (MVM_DBUS_GUEST (self), guest_file);
  mvm_dbus_guest_set_autostart (MVM_DBUS_GUEST (self), config->autostart);
}

/* --- start ---------------------------------------------------------------------------- */

static void
complete_start_waiters (MvdGuest *self, const GError *error)
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

static void start_now (MvdGuest *self);

static gboolean
restart_allowed (MvdGuest *self, gboolean crashed)
{
  gint64 now = g_get_monotonic_time ();

  if (self->stop_requested || self->context->stopping || self->config->restart == MVM_RESTART_NO
      || (self->config->restart == MVM_RESTART_ON_FAILURE && !crashed))
    return FALSE;
  while (self->restart_times->len > 0
         && now - g_array_index (self->restart_times, gint64, 0) > RESTART_INTERVAL_USEC)
    g_array_remove_index (self->restart_times, 0);
  if (self->restart_times->len >= RESTART_BURST)
    {
      g_warning ("guest %s: %d restarts within %d s; leaving it %s", self->config->name,
                 RESTART_BURST, (int)(RESTART_INTERVAL_USEC / G_USEC_PER_SEC),
                 crashed ? "crashed" : "stopped");
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
  if (!self->context->stopping
      && (self->state == MVM_GUEST_STATE_STOPPED || self->state == MVM_GUEST_STATE_CRASHED))
    start_now (self);
  return G_SOURCE_REMOVE;
}

/* The process is gone: the guest is stopped or crashed, and Restart= decides what next. */
static void
ended (MvdGuest *self, gboolean crashed)
{
  mvd_guest_set_state (self, crashed ? MVM_GUEST_STATE_CRASHED : MVM_GUEST_STATE_STOPPED);
  if (restart_allowed (self, crashed))
    self->restart_source = g_timeout_add (RESTART_DELAY_MSEC, on_restart, self);
  else if (mvd_guest_is_transient (self))
    g_signal_emit (self, signals[SIGNAL_FINISHED], 0);
}

static void
on_qemu_exited (MvdQemu *qemu, gboolean crashed, gpointer user_data)
{
  MvdGuest *self = user_data;
  gboolean was_starting = self->state == MVM_GUEST_STATE_STARTING;

  g_signal_handlers_disconnect_by_data (qemu, self);
  g_clear_object (&self->qemu);
  self->vsock_cid = 0;
  if (was_starting)
    {
      mvd_guest_set_state (self, MVM_GUEST_STATE_STOPPED);
      if (self->launch_error)
        complete_start_waiters (self, self->launch_error);
      g_clear_error (&self->launch_error);
      if (mvd_guest_is_transient (self))
        g_signal_emit (self, signals[SIGNAL_FINISHED], 0);
      return;
    }
  if (crashed)
    g_warning ("guest %s: QEMU exited without a shutdown", self->config->name);
  ended (self, crashed);
}

void
mvd_guest_lost (MvdGuest *self)
{
  g_return_if_fail (self->qemu == NULL);
  g_warning ("guest %s: its QEMU ended while no daemon watched it", self->config->name);
  if (!restart_allowed (self, TRUE))
    return; /* it stays stopped: there is no exit status to call it crashed by */
  mvd_guest_set_state (self, MVM_GUEST_STATE_CRASHED);
  self->restart_source = g_timeout_add (RESTART_DELAY_MSEC, on_restart, self);
}

static void
on_qemu_status (MvdQemu *qemu, const char *status, gpointer user_data)
{
  MvdGuest *self = user_data;

  if (self->state == MVM_GUEST_STATE_RUNNING && g_str_equal (status, "paused"))
    mvd_guest_set_state (self, MVM_GUEST_STATE_PAUSED);
  else if (self->state == MVM_GUEST_STATE_PAUSED && g_str_equal (status, "running"))
    mvd_guest_set_state (self, MVM_GUEST_STATE_RUNNING);
}

static void
on_qemu_ready (MvdQemu *qemu, guint64 boot_usec, gpointer user_data)
{
  MvdGuest *self = user_data;

  g_message ("guest %s: ready after %.3f s", self->config->name, boot_usec / 1e6);
  mvm_dbus_guest_set_boot_time_usec (MVM_DBUS_GUEST (self), boot_usec);
  mvm_dbus_guest_set_ready (MVM_DBUS_GUEST (self), TRUE);
}

static void
on_qemu_reset (MvdQemu *qemu, gpointer user_data)
{
  MvdGuest *self = user_data;

  mvm_dbus_guest_set_ready (MVM_DBUS_GUEST (self), FALSE);
  mvm_dbus_guest_set_boot_time_usec (MVM_DBUS_GUEST (self), 0);
}

static void
on_launched (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (MvdGuest) self = user_data;
  MvdQemu *qemu = MVD_QEMU (source);
  GError *error = NULL;

  if (!mvd_qemu_launch_finish (qemu, result, &error))
    {
      g_warning ("%s", error->message);
      if (!mvd_qemu_has_exited (qemu) && mvd_qemu_get_pid (qemu) != 0)
        {
          g_clear_error (&self->launch_error);
          self->launch_error = error; /* reported when the killed process is reaped */
          return;
        }
      if (self->qemu == qemu) /* never spawned: no exit will come to clean up */
        {
          g_signal_handlers_disconnect_by_data (qemu, self);
          g_clear_object (&self->qemu);
          mvd_guest_set_state (self, MVM_GUEST_STATE_STOPPED);
        }
      complete_start_waiters (self, error);
      g_error_free (error);
      return;
    }
  /* a stop asked for during the start is under way: the guest is not running any more */
  mvd_guest_set_state (self,
                       self->stop_requested ? MVM_GUEST_STATE_STOPPING : MVM_GUEST_STATE_RUNNING);
  complete_start_waiters (self, NULL);
}

static void
watch_qemu (MvdGuest *self, MvdQemu *qemu)
{
  self->qemu = qemu;
  g_signal_connect (qemu, "exited", G_CALLBACK (on_qemu_exited), self);
  g_signal_connect (qemu, "status-changed", G_CALLBACK (on_qemu_status), self);
  g_signal_connect (qemu, "ready", G_CALLBACK (on_qemu_ready), self);
  g_signal_connect (qemu, "reset", G_CALLBACK (on_qemu_reset), self);
}

/* RUNTIME/NAME/guest: the definition this QEMU runs, so that a restarted daemon can adopt
 * even a transient guest, which has no file in the guest folder. */
static gboolean
save_running_definition (MvdGuest *self, const char *runtime, GError **error)
{
  g_autofree char *path = g_build_filename (runtime, "guest", NULL);
  const char *text = mvm_dbus_guest_get_guest_file (MVM_DBUS_GUEST (self));

  if (g_mkdir_with_parents (runtime, 0700) < 0)
    {
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno),
                   "guest %s: cannot create %s: %s", self->config->name, runtime,
                   g_strerror (errno));
      return FALSE;
    }
  return mvm_file_write_atomic (path, text, -1, 0600, error);
}

static gboolean
prepare_launch (MvdGuest *self, char **kernel, char **initrd, guint32 *cid, GError **error)
{
  const MvdContext *ctx = self->context;

  *cid = 0;
  return mvm_daemon_config_check_guest (ctx->config, self->config, error)
         && mvm_daemon_config_resolve_boot (ctx->config, self->config, kernel, initrd, error)
         && (!self->config->vsock
             || mvm_vsock_pick_cid (self->config, ctx->cid_in_use, ctx->cid_in_use_data, cid,
                                    error));
}

static void
start_now (MvdGuest *self)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *kernel = NULL;
  g_autofree char *initrd = NULL;
  g_autofree char *runtime = mvm_paths_guest_runtime (self->context->paths, self->config->name);
  MvmDbusGuest *iface = MVM_DBUS_GUEST (self);
  guint32 cid;

  if (!prepare_launch (self, &kernel, &initrd, &cid, &error))
    {
      complete_start_waiters (self, error);
      return;
    }
  if (!save_running_definition (self, runtime, &error))
    {
      complete_start_waiters (self, error);
      return;
    }
  self->stop_requested = FALSE;
  watch_qemu (self, mvd_qemu_new (self->config->name, runtime, self->serial));
  mvd_guest_set_state (self, MVM_GUEST_STATE_STARTING);
  self->running_memory = self->config->memory;
  mvm_dbus_guest_set_boot_time_usec (iface, 0);
  self->vsock_cid = cid;
  mvd_qemu_launch_async (self->qemu, self->config, self->context->facts, kernel, initrd, cid,
                         on_launched, g_object_ref (self));
  mvm_dbus_guest_set_command_line (iface, mvd_qemu_get_argv (self->qemu));
  mvm_dbus_guest_set_main_pid (iface, mvd_qemu_get_pid (self->qemu));
  mvm_dbus_guest_set_start_timestamp (iface, g_get_real_time ());
}

void
mvd_guest_start_async (MvdGuest *self, GAsyncReadyCallback callback, gpointer user_data)
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
        start_now (self);
        return;
    }
}

gboolean
mvd_guest_start_finish (MvdGuest *self, GAsyncResult *result, GError **error)
{
  return g_task_propagate_boolean (G_TASK (result), error);
}

/* --- adoption ---------------------------------------------------------------------- */

/* The memory a running QEMU has, from its "-m NNNM": the guest file may be newer. */
static guint64
memory_from_argv (char **argv, guint64 fallback)
{
  for (guint i = 0; argv && argv[i] && argv[i + 1]; i++)
    if (g_str_equal (argv[i], "-m"))
      return g_ascii_strtoull (argv[i + 1], NULL, 10) * 1024 * 1024;
  return fallback;
}

/* The vsock CID a running QEMU has, from its "guest-cid=N"; 0 without vsock. */
static guint32
cid_from_argv (char **argv)
{
  for (guint i = 0; argv && argv[i]; i++)
    {
      const char *p = strstr (argv[i], "guest-cid=");
      if (p)
        return (guint32)g_ascii_strtoull (p + strlen ("guest-cid="), NULL, 10);
    }
  return 0;
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
  self->running_memory = memory_from_argv (state->argv, self->config->memory);
  self->vsock_cid = cid_from_argv (state->argv);
}

/* What an adopted QEMU's status says about its guest: whether it must be ended, and how. */
static gboolean
status_is_gone (const char *status, gboolean *crashed)
{
  *crashed = g_str_equal (status, "guest-panicked") || g_str_equal (status, "internal-error");
  /* -no-shutdown keeps QEMU after the guest powered off while no daemon watched */
  return *crashed || g_str_equal (status, "shutdown");
}

static void
on_adopted (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (MvdGuest) self = user_data;
  g_autoptr (GError) error = NULL;
  MvdQemu *qemu = MVD_QEMU (source);
  g_autofree char *status = mvd_qemu_adopt_finish (qemu, result, &error);
  const MvdStateFile *state = mvd_qemu_get_state (qemu);
  gboolean crashed;

  if (status == NULL) /* the process is not ours: nothing of it is touched */
    {
      g_warning ("guest %s: not adopted: %s", self->config->name, error->message);
      g_signal_handlers_disconnect_by_data (qemu, self);
      g_clear_object (&self->qemu);
      mvm_paths_clean_guest_runtime (self->context->paths, self->config->name);
      mvd_guest_set_state (self, MVM_GUEST_STATE_STOPPED);
      complete_start_waiters (self, error);
      return;
    }
  publish_adopted (self, state);
  if (!state->running)
    {
      /* its start was never seen through: undo it rather than guess what the caller wanted */
      g_message ("guest %s: adopted in the middle of a start; stopping it", self->config->name);
      g_clear_error (&self->launch_error);
      self->launch_error = g_error_new (MVM_ERROR, MVM_ERROR_BUSY,
                                        "guest %s: a start interrupted by a daemon restart is "
                                        "being undone; start it again",
                                        self->config->name);
      mvd_guest_kill_async (self, NULL, NULL);
      return;
    }
  g_message ("guest %s: adopted pid %d (%s)", self->config->name, state->pid, status);
  mvd_guest_set_state (self, g_str_equal (status, "paused") ? MVM_GUEST_STATE_PAUSED
                                                            : MVM_GUEST_STATE_RUNNING);
  complete_start_waiters (self, NULL); /* a Start that came meanwhile: it runs */
  if (status_is_gone (status, &crashed))
    {
      g_message ("guest %s: its QEMU reports '%s'; ending it", self->config->name, status);
      mvd_qemu_end (qemu, crashed); /* the exit then applies Restart= */
    }
}

void
mvd_guest_adopt (MvdGuest *self, MvdStateFile *state)
{
  g_autofree char *runtime = mvm_paths_guest_runtime (self->context->paths, self->config->name);

  g_return_if_fail (self->qemu == NULL);
  watch_qemu (self, mvd_qemu_new (self->config->name, runtime, self->serial));
  mvd_guest_set_state (self, MVM_GUEST_STATE_STARTING);
  mvd_qemu_adopt_async (self->qemu, state, on_adopted, g_object_ref (self));
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
    mvd_guest_set_state (self, MVM_GUEST_STATE_STOPPING);
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
    mvd_qemu_kill_async (self->qemu, on_stopped, task);
}

gboolean
mvd_guest_stop_finish (MvdGuest *self, GAsyncResult *result, GError **error)
{
  return g_task_propagate_boolean (G_TASK (result), error);
}

/* --- object --------------------------------------------------------------------------- */

/* Autostart= set over the bus is written into the stored guest file first; the property
 * changes only once that worked, so the caller learns of a failure. */
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

static gboolean
store_autostart (MvdGuest *self, gboolean autostart, GError **error)
{
  g_autoptr (GKeyFile) kf = g_key_file_new ();
  g_autoptr (GError) local = NULL;
  g_autofree char *data = NULL;
  const char *text = mvm_dbus_guest_get_guest_file (MVM_DBUS_GUEST (self));

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
  mvm_dbus_guest_set_guest_file (MVM_DBUS_GUEST (self), data);
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

  if (g_str_equal (property_name, "Autostart"))
    return store_autostart (self, g_variant_get_boolean (value), error);
  return parent_set_property (connection, sender, object_path, interface_name, property_name, value,
                              error, user_data);
}

static GDBusInterfaceVTable *
get_vtable (GDBusInterfaceSkeleton *skeleton)
{
  static GDBusInterfaceVTable vtable;

  if (parent_set_property == NULL)
    {
      vtable = *G_DBUS_INTERFACE_SKELETON_CLASS (mvd_guest_parent_class)->get_vtable (skeleton);
      parent_set_property = vtable.set_property;
      vtable.set_property = set_property;
    }
  return &vtable;
}

static void
mvd_guest_dispose (GObject *object)
{
  MvdGuest *self = MVD_GUEST (object);

  g_clear_handle_id (&self->restart_source, g_source_remove);
  if (self->qemu)
    g_signal_handlers_disconnect_by_data (self->qemu, self);
  g_clear_object (&self->qemu);
  g_clear_object (&self->serial);
  G_OBJECT_CLASS (mvd_guest_parent_class)->dispose (object);
}

static void
mvd_guest_finalize (GObject *object)
{
  MvdGuest *self = MVD_GUEST (object);

  mvm_guest_config_free (self->config);
  g_free (self->file_path);
  g_ptr_array_unref (self->start_waiters);
  g_array_unref (self->restart_times);
  g_clear_error (&self->launch_error);
  G_OBJECT_CLASS (mvd_guest_parent_class)->finalize (object);
}

static void
mvd_guest_class_init (MvdGuestClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  G_DBUS_INTERFACE_SKELETON_CLASS (klass)->get_vtable = get_vtable;
  object_class->dispose = mvd_guest_dispose;
  object_class->finalize = mvd_guest_finalize;
  /* returns a GError * (or NULL on success), owned by the caller */
  signals[SIGNAL_UNDEFINE_REQUESTED]
    = g_signal_new ("undefine-requested", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                    g_signal_accumulator_first_wins, NULL, NULL, G_TYPE_POINTER, 0);
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
  self->config = NULL;
  mvd_guest_redefine (self, config, guest_file);
  return self;
}

guint32
mvd_guest_get_vsock_cid (MvdGuest *self)
{
  return self->qemu ? self->vsock_cid : 0;
}
