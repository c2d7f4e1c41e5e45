/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "mvd-service.h"

#include <glib-unix.h>
#include <sys/prctl.h>
#include <systemd/sd-daemon.h>

#include "mvd-cgroup.h"
#include "mvd-manager.h"

#define BUS_NAME "org.microvmd1"

typedef struct
{
  MvdManager *manager;
  GMainLoop *loop;
  gboolean session;
  int status;
  guint watchdog;
  gboolean stopping;
} Service;

static void
on_bus_acquired (GDBusConnection *connection, const char *name, gpointer user_data)
{
  Service *s = user_data;
  g_autoptr (GError) error = NULL;

  /* A lost bus must not raise SIGTERM, which would read as a second quit signal and cut a
   * ShutdownGuests=shutdown short: on_name_lost decides. */
  g_dbus_connection_set_exit_on_close (connection, FALSE);
  if (!mvd_manager_export (s->manager, connection, &error))
    {
      g_critical ("cannot export the API: %s", error->message);
      s->status = 1;
      g_main_loop_quit (s->loop);
    }
}

static void
on_name_acquired (GDBusConnection *connection, const char *name, gpointer user_data)
{
  Service *s = user_data;

  g_message ("serving %s on the %s bus", name, s->session ? "session" : "system");
  sd_notifyf (0, "READY=1\nSTATUS=Serving %s", name);
  mvd_manager_autostart (s->manager);
}

static void
on_name_lost (GDBusConnection *connection, const char *name, gpointer user_data)
{
  Service *s = user_data;

  if (s->stopping)
    {
      /* the guests' power-off goes on over QMP; only the API is gone */
      g_message ("the %s bus went away while guests shut down", s->session ? "session" : "system");
      return;
    }
  if (connection == NULL)
    g_critical ("cannot connect to the %s bus", s->session ? "session" : "system");
  else
    g_critical ("lost or could not own the name %s; is another microvmd running?", name);
  s->status = 1;
  g_main_loop_quit (s->loop);
}

static void
on_guests_down (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Service *s = user_data;

  mvd_manager_shutdown_all_finish (MVD_MANAGER (source), result, NULL);
  g_message ("every guest has stopped");
  g_main_loop_quit (s->loop);
}

/* ShutdownGuests=keep: guests outlive us and a restarted daemon adopts them.
 * ShutdownGuests=shutdown: every guest gets the power button first; a second signal
 * stops waiting for them. */
static gboolean
on_quit_signal (gpointer user_data)
{
  Service *s = user_data;
  gboolean shutdown
    = mvd_manager_get_context (s->manager)->config->shutdown_guests == MVM_SHUTDOWN_GUESTS_SHUTDOWN;

  sd_notify (0, "STOPPING=1\nSTATUS=Stopping");
  if (!shutdown || s->stopping)
    {
      g_message ("stopping; guests keep running");
      g_main_loop_quit (s->loop);
      return G_SOURCE_CONTINUE;
    }
  s->stopping = TRUE;
  g_message ("stopping; shutting every guest down first (ShutdownGuests=shutdown)");
  mvd_manager_unexport (s->manager);
  mvd_manager_shutdown_all_async (s->manager, on_guests_down, s);
  return G_SOURCE_CONTINUE;
}

static gboolean
on_reload_signal (gpointer user_data)
{
  Service *s = user_data;
  g_autoptr (GError) error = NULL;

  sd_notify (0, "RELOADING=1");
  if (!mvd_manager_reload (s->manager, &error))
    g_warning ("reload: %s", error->message);
  sd_notify (0, "READY=1");
  return G_SOURCE_CONTINUE;
}

static gboolean
on_watchdog (gpointer user_data)
{
  sd_notify (0, "WATCHDOG=1");
  return G_SOURCE_CONTINUE;
}

static void
start_watchdog (Service *s)
{
  guint64 usec = 0;

  if (sd_watchdog_enabled (0, &usec) > 0 && usec > 0)
    s->watchdog = g_timeout_add (usec / 2000, on_watchdog, s);
}

int
mvd_service_run (MvmPaths *paths, MvmDaemonConfig *config)
{
  g_autoptr (GError) error = NULL;
  Service s = { .session = paths->session };
  MvmHostFacts *facts;
  guint owner;

  /* DESIGN.md: orphans among our descendants come to us rather than to init. QEMU is our
   * direct child; a previous daemon's QEMUs are not our descendants and are watched through
   * pidfds instead (mvd-qemu-adopt.c). */
  prctl (PR_SET_CHILD_SUBREAPER, 1);
  if (!mvm_paths_ensure (paths, &error))
    {
      g_printerr ("microvmd: %s\n", error->message);
      mvm_paths_free (paths);
      mvm_daemon_config_free (config);
      return 1;
    }
  facts = mvm_host_facts_probe (config->qemu_binary, config->accelerator, &error);
  if (facts && !mvm_daemon_config_apply_user_network (config, facts, &error))
    g_clear_pointer (&facts, mvm_host_facts_free);
  if (facts == NULL)
    {
      g_printerr ("microvmd: %s\n", error->message);
      mvm_paths_free (paths);
      mvm_daemon_config_free (config);
      return 1;
    }
  if (facts->note)
    g_warning ("%s", facts->note);
  s.manager = mvd_manager_new (paths, config, facts);
  mvd_manager_load (s.manager);
  mvd_manager_adopt_all (s.manager);
  mvd_cgroup_sweep ();
  s.loop = g_main_loop_new (NULL, FALSE);
  g_unix_signal_add (SIGTERM, on_quit_signal, &s);
  g_unix_signal_add (SIGINT, on_quit_signal, &s);
  g_unix_signal_add (SIGHUP, on_reload_signal, &s);
  start_watchdog (&s);
  owner = g_bus_own_name (s.session ? G_BUS_TYPE_SESSION : G_BUS_TYPE_SYSTEM, BUS_NAME,
                          G_BUS_NAME_OWNER_FLAGS_NONE, on_bus_acquired, on_name_acquired,
                          on_name_lost, &s, NULL);
  g_main_loop_run (s.loop);
  g_bus_unown_name (owner);
  g_clear_handle_id (&s.watchdog, g_source_remove);
  mvd_manager_unexport (s.manager);
  g_object_unref (s.manager);
  g_main_loop_unref (s.loop);
  return s.status;
}
