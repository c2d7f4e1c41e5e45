/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* org.microvmd1.Guest methods: argument checks, state checks, then the life cycle or QMP. */
#include <gio/gunixfdlist.h>
#include <unistd.h>

#include "mvd-dbus-error.h"
#include "mvd-dbus-options.h"
#include "mvd-guest-private.h"
#include "mvd-guest-stats.h"
#include "mvm-error.h"
#include "mvm-value.h"

static gboolean
require_state (MvdGuest *self, GDBusMethodInvocation *invocation, MvmGuestState state,
               const char *verb)
{
  if (self->state == state)
    return TRUE;
  mvd_dbus_return_error (invocation,
                         g_error_new (MVM_ERROR, MVM_ERROR_INVALID_STATE,
                                      "cannot %s guest %s: it is %s, not %s", verb,
                                      self->config->name, mvm_guest_state_to_string (self->state),
                                      mvm_guest_state_to_string (state)));
  return FALSE;
}

static void
on_started (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GDBusMethodInvocation) invocation = user_data;
  GError *error = NULL;

  if (mvd_guest_start_finish (MVD_GUEST (source), result, &error))
    g_dbus_method_invocation_return_value (invocation, NULL);
  else
    mvd_dbus_return_error (invocation, error);
}

static gboolean
handle_start (MvmDbusGuest *iface, GDBusMethodInvocation *invocation)
{
  mvd_guest_start_async (MVD_GUEST (iface), on_started, g_object_ref (invocation));
  return TRUE;
}

static void
on_stopped (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GDBusMethodInvocation) invocation = user_data;
  GError *error = NULL;

  if (mvd_guest_stop_finish (MVD_GUEST (source), result, &error))
    g_dbus_method_invocation_return_value (invocation, NULL);
  else
    mvd_dbus_return_error (invocation, error);
}

static gboolean
handle_shutdown (MvmDbusGuest *iface, GDBusMethodInvocation *invocation, guint timeout_sec)
{
  mvd_guest_shutdown_async (MVD_GUEST (iface), timeout_sec, on_stopped, g_object_ref (invocation));
  return TRUE;
}

static gboolean
handle_kill (MvmDbusGuest *iface, GDBusMethodInvocation *invocation)
{
  mvd_guest_kill_async (MVD_GUEST (iface), on_stopped, g_object_ref (invocation));
  return TRUE;
}

static void
on_command_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GDBusMethodInvocation) invocation = user_data;
  GError *error = NULL;
  g_autoptr (JsonNode) node = mvd_qemu_execute_finish (MVD_QEMU (source), result, &error);

  if (node)
    g_dbus_method_invocation_return_value (invocation, NULL);
  else
    mvd_dbus_return_error (invocation, error);
}

static void
run_command (MvdGuest *self, GDBusMethodInvocation *invocation, const char *command,
             JsonObject *arguments)
{
  mvd_qemu_execute_async (self->qemu, command, arguments, on_command_done,
                          g_object_ref (invocation));
}

static gboolean
handle_pause (MvmDbusGuest *iface, GDBusMethodInvocation *invocation)
{
  MvdGuest *self = MVD_GUEST (iface);

  if (require_state (self, invocation, MVM_GUEST_STATE_RUNNING, "pause"))
    run_command (self, invocation, "stop", NULL);
  return TRUE;
}

static gboolean
handle_resume (MvmDbusGuest *iface, GDBusMethodInvocation *invocation)
{
  MvdGuest *self = MVD_GUEST (iface);

  if (require_state (self, invocation, MVM_GUEST_STATE_PAUSED, "resume"))
    run_command (self, invocation, "cont", NULL);
  return TRUE;
}

static gboolean
handle_reboot (MvmDbusGuest *iface, GDBusMethodInvocation *invocation)
{
  MvdGuest *self = MVD_GUEST (iface);

  if (require_state (self, invocation, MVM_GUEST_STATE_RUNNING, "reboot"))
    run_command (self, invocation, "system_reset", NULL);
  return TRUE;
}

static gboolean
handle_set_memory (MvmDbusGuest *iface, GDBusMethodInvocation *invocation, guint64 bytes)
{
  MvdGuest *self = MVD_GUEST (iface);
  g_autoptr (JsonObject) args = json_object_new ();
  g_autofree char *want = mvm_format_size (bytes);
  g_autofree char *least = mvm_format_size (MVM_MIN_MEMORY);
  guint64 running = mvd_guest_get_active_config (self)->memory;
  g_autofree char *have = NULL;

  if (!require_state (self, invocation, MVM_GUEST_STATE_RUNNING, "set the memory of"))
    return TRUE;
  /* the running QEMU's size: the stored file may have changed since it started */
  have = mvm_format_size (running);
  if (bytes < MVM_MIN_MEMORY || bytes > running)
    {
      mvd_dbus_return_error (invocation,
                             g_error_new (MVM_ERROR, MVM_ERROR_INVALID_CONFIG,
                                          "guest %s: cannot set the memory to %s: it must be "
                                          "between %s and the %s it was started with",
                                          self->config->name, want, least, have));
      return TRUE;
    }
  json_object_set_int_member (args, "value", (gint64)bytes);
  run_command (self, invocation, "balloon", args);
  return TRUE;
}

static void
on_stats (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GDBusMethodInvocation) invocation = user_data;
  GError *error = NULL;
  GVariant *stats = mvd_guest_stats_finish (result, &error);

  if (stats)
    g_dbus_method_invocation_return_value (invocation, g_variant_new_tuple (&stats, 1));
  else
    mvd_dbus_return_error (invocation, error);
}

static gboolean
handle_get_guest_file (MvmDbusGuest *iface, GDBusMethodInvocation *invocation)
{
  mvm_dbus_guest_complete_get_guest_file (iface, invocation,
                                          mvd_guest_get_guest_file (MVD_GUEST (iface)));
  return TRUE;
}

static gboolean
handle_get_stats (MvmDbusGuest *iface, GDBusMethodInvocation *invocation)
{
  MvdGuest *self = MVD_GUEST (iface);

  if (self->qemu == NULL || self->state == MVM_GUEST_STATE_STARTING)
    {
      mvd_dbus_return_error (invocation,
                             g_error_new (MVM_ERROR, MVM_ERROR_INVALID_STATE,
                                          "guest %s is not running", self->config->name));
      return TRUE;
    }
  mvd_guest_stats_async (self->qemu, on_stats, g_object_ref (invocation));
  return TRUE;
}

static gboolean
handle_undefine (MvmDbusGuest *iface, GDBusMethodInvocation *invocation)
{
  MvdGuest *self = MVD_GUEST (iface);

  GError *error = NULL;

  if (!mvm_guest_state_is_down (self->state))
    {
      mvd_dbus_return_error (
        invocation, g_error_new (MVM_ERROR, MVM_ERROR_INVALID_STATE,
                                 "cannot undefine guest %s while it is %s; stop it first",
                                 self->config->name, mvm_guest_state_to_string (self->state)));
      return TRUE;
    }
  g_clear_handle_id (&self->restart_source, g_source_remove);
  /* the manager drops the guest and its file; self may be gone after an idle */
  if (self->context->undefine (self, self->context->undefine_data, &error))
    mvm_dbus_guest_complete_undefine (iface, invocation);
  else
    mvd_dbus_return_error (invocation, error);
  return TRUE;
}

static gboolean
handle_clone (MvmDbusGuest *iface, GDBusMethodInvocation *invocation, const char *new_name,
              GVariant *options)
{
  MvdGuest *self = MVD_GUEST (iface);
  GError *error = NULL;
  gboolean full = FALSE;
  const MvdDbusOption known[] = { { "full", "b", &full }, { NULL } };

  if (!mvd_dbus_options_parse ("Clone", options, known, &error))
    mvd_dbus_return_error (invocation, error);
  else
    self->context->clone (self, new_name, full, invocation, self->context->clone_data);
  return TRUE;
}

static gboolean
handle_save_snapshot (MvmDbusGuest *iface, GDBusMethodInvocation *invocation, const char *name)
{
  GError *error = NULL;
  MvdJob *job = mvd_guest_save_snapshot (MVD_GUEST (iface), name, &error);

  if (job)
    mvm_dbus_guest_complete_save_snapshot (iface, invocation, mvd_job_get_path (job));
  else
    mvd_dbus_return_error (invocation, error);
  return TRUE;
}

static gboolean
handle_start_from_snapshot (MvmDbusGuest *iface, GDBusMethodInvocation *invocation,
                            const char *name)
{
  mvd_guest_start_from_snapshot_async (MVD_GUEST (iface), name, on_started,
                                       g_object_ref (invocation));
  return TRUE;
}

static gboolean
handle_remove_snapshot (MvmDbusGuest *iface, GDBusMethodInvocation *invocation, const char *name)
{
  GError *error = NULL;

  if (mvd_guest_remove_snapshot (MVD_GUEST (iface), name, &error))
    mvm_dbus_guest_complete_remove_snapshot (iface, invocation);
  else
    mvd_dbus_return_error (invocation, error);
  return TRUE;
}

/* OpenConsole's options: "force" and "read-only", booleans. */
static gboolean
console_mode (GVariant *options, MvdConsoleMode *mode, GError **error)
{
  gboolean force = FALSE, read_only = FALSE;
  const MvdDbusOption known[]
    = { { "force", "b", &force }, { "read-only", "b", &read_only }, { NULL } };

  if (!mvd_dbus_options_parse ("OpenConsole", options, known, error))
    return FALSE;
  *mode = read_only ? MVD_CONSOLE_READ_ONLY : force ? MVD_CONSOLE_FORCE : MVD_CONSOLE_WRITE;
  return TRUE;
}

static gboolean
handle_open_console (MvmDbusGuest *iface, GDBusMethodInvocation *invocation, GUnixFDList *in,
                     GVariant *options)
{
  MvdGuest *self = MVD_GUEST (iface);
  g_autoptr (GUnixFDList) fds = g_unix_fd_list_new ();
  MvdConsoleMode mode;
  GError *error = NULL;
  int fd;

  if (!console_mode (options, &mode, &error))
    {
      mvd_dbus_return_error (invocation, error);
      return TRUE;
    }
  if (self->qemu == NULL)
    {
      mvd_dbus_return_error (invocation,
                             g_error_new (MVM_ERROR, MVM_ERROR_INVALID_STATE,
                                          "guest %s is not running", self->config->name));
      return TRUE;
    }
  fd = mvd_serial_open_console (self->serial, mode, &error);
  if (fd < 0 || g_unix_fd_list_append (fds, fd, &error) < 0)
    {
      if (fd >= 0)
        close (fd);
      mvd_dbus_return_error (invocation, error);
      return TRUE;
    }
  close (fd);
  mvm_dbus_guest_complete_open_console (iface, invocation, fds, g_variant_new_handle (0));
  return TRUE;
}

void
mvd_guest_dbus_iface_init (MvmDbusGuestIface *iface)
{
  iface->handle_start = handle_start;
  iface->handle_shutdown = handle_shutdown;
  iface->handle_kill = handle_kill;
  iface->handle_pause = handle_pause;
  iface->handle_resume = handle_resume;
  iface->handle_reboot = handle_reboot;
  iface->handle_set_memory = handle_set_memory;
  iface->handle_get_stats = handle_get_stats;
  iface->handle_get_guest_file = handle_get_guest_file;
  iface->handle_undefine = handle_undefine;
  iface->handle_clone = handle_clone;
  iface->handle_open_console = handle_open_console;
  iface->handle_save_snapshot = handle_save_snapshot;
  iface->handle_start_from_snapshot = handle_start_from_snapshot;
  iface->handle_remove_snapshot = handle_remove_snapshot;
}
