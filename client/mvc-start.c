/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "mvc-progress.h"
#include "mvc-verbs.h"
#include "mvm-error.h"
#include "mvm-guest-state.h"

#define DEFAULT_READY_TIMEOUT_SEC 120

typedef struct
{
  MvmDbusGuest *guest;
  GMainLoop *loop;
  GError *error;
  guint timeout_sec;
  guint timer;
} ReadyWait;

/* Decides from the proxy's cache; called once the changes queued during Start are applied. */
static void
check_ready (ReadyWait *w)
{
  const char *name = mvm_dbus_guest_get_name (w->guest);
  const char *message = mvm_dbus_guest_get_state_message (w->guest);
  MvmGuestState state;

  if (mvm_dbus_guest_get_ready (w->guest))
    g_main_loop_quit (w->loop);
  /* "starting" again is a restart under TCG (kvm-fallback): the wait goes on */
  else if (mvm_guest_state_from_string (mvm_dbus_guest_get_state (w->guest), &state)
           && mvm_guest_state_is_down (state))
    {
      g_set_error (&w->error, G_IO_ERROR, G_IO_ERROR_FAILED,
                   "guest %s %s before it was ready (%s)%s%s", name,
                   mvm_guest_state_to_string (state), mvm_dbus_guest_get_state_reason (w->guest),
                   message && message[0] ? ": " : "; see its serial log", message ? message : "");
      g_main_loop_quit (w->loop);
    }
}

static void
on_properties_changed (GDBusProxy *proxy, GVariant *changed, GStrv invalidated, gpointer user_data)
{
  check_ready (user_data);
}

static void
on_name_owner (GObject *proxy, GParamSpec *pspec, gpointer user_data)
{
  ReadyWait *w = user_data;
  g_autofree char *owner = g_dbus_proxy_get_name_owner (G_DBUS_PROXY (proxy));

  if (owner)
    return;
  g_set_error (&w->error, G_IO_ERROR, G_IO_ERROR_FAILED,
               "microvmd left the bus while guest %s was booting",
               mvm_dbus_guest_get_name (w->guest));
  g_main_loop_quit (w->loop);
}

static gboolean
on_timeout (gpointer user_data)
{
  ReadyWait *w = user_data;

  w->timer = 0;
  g_set_error (&w->error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
               "guest %s is %s but not ready after %u s; is its userspace up (serial log)? Guests "
               "without the shipped initrd never report ready",
               mvm_dbus_guest_get_name (w->guest), mvm_dbus_guest_get_state (w->guest),
               w->timeout_sec);
  g_main_loop_quit (w->loop);
  return G_SOURCE_REMOVE;
}

static gboolean
wait_ready (MvmDbusGuest *guest, guint timeout_sec, gboolean quiet, GError **error)
{
  ReadyWait w = { .guest = guest, .timeout_sec = timeout_sec };
  g_autoptr (GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  gulong changed
    = g_signal_connect (guest, "g-properties-changed", G_CALLBACK (on_properties_changed), &w);
  gulong owner = g_signal_connect (guest, "notify::g-name-owner", G_CALLBACK (on_name_owner), &w);

  w.loop = loop;
  w.timer = g_timeout_add_seconds (timeout_sec, on_timeout, &w);
  /* PropertiesChanged that arrived while Start ran are queued, not yet in the cache */
  while (g_main_context_iteration (NULL, FALSE))
    ;
  check_ready (&w);
  if (!mvm_dbus_guest_get_ready (guest) && w.error == NULL)
    {
      MvcProgress *progress = quiet ? NULL : mvc_progress_begin (guest);
      g_main_loop_run (loop);
      mvc_progress_end (progress);
    }
  g_clear_handle_id (&w.timer, g_source_remove);
  g_signal_handler_disconnect (guest, changed);
  g_signal_handler_disconnect (guest, owner);
  if (w.error)
    {
      g_propagate_error (error, w.error);
      return FALSE;
    }
  return TRUE;
}

int
mvc_start (MvcContext *ctx, int argc, char **argv)
{
  g_autoptr (MvmDbusGuest) guest = NULL;
  g_autoptr (GError) error = NULL;
  gboolean ready = FALSE;
  gboolean if_stopped = FALSE;
  g_autofree char *snapshot = NULL;
  gboolean started;
  int timeout = -1;
  int status;
  const GOptionEntry entries[] = {
    { "wait-ready", 'w', 0, G_OPTION_ARG_NONE, &ready,
      "Then wait until the guest's userspace reports ready", NULL },
    { "timeout", 't', 0, G_OPTION_ARG_INT, &timeout,
      "With --wait-ready: give up after S seconds (default 120)", "S" },
    { "if-stopped", 0, 0, G_OPTION_ARG_NONE, &if_stopped,
      "A guest that already runs is success, as with systemctl start", NULL },
    { "snapshot", 0, 0, G_OPTION_ARG_STRING, &snapshot,
      "Start from snapshot SNAP (microvmctl snapshot save) instead of booting", "SNAP" },
    { NULL },
  };

  if (!mvc_parse_verb (ctx, entries, "NAME",
                       "Starts guest NAME; returns once QEMU runs the guest, or has failed.", 1,
                       &argc, &argv, &status))
    return status;
  if (timeout != -1 && (!ready || timeout < 1))
    return mvc_usage ("start: --timeout needs --wait-ready and at least 1 second");
  /* --wait-ready follows the guest's properties from before the start on */
  guest = ready ? mvc_guest_watched (ctx, argv[1], &error) : mvc_guest (ctx, argv[1], &error);
  if (guest == NULL)
    return mvc_fail (error);
  started = snapshot ? mvm_dbus_guest_call_start_from_snapshot_sync (guest, snapshot, NULL, &error)
                     : mvm_dbus_guest_call_start_sync (guest, NULL, &error);
  if (!started && !(if_stopped && g_error_matches (error, MVM_ERROR, MVM_ERROR_INVALID_STATE)))
    return mvc_fail (error);
  /* a terminal gets a live line while it waits; a pipe or --json nothing more */
  if (ready
      && !wait_ready (guest, timeout > 0 ? timeout : DEFAULT_READY_TIMEOUT_SEC, ctx->json, &error))
    return mvc_fail (error);
  return MVC_EXIT_OK;
}
