/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* virtiofsd as a transient service of systemd's, for a daemon that may not run it itself: the
 * hardened microvmd.service has no CAP_SYS_ADMIN, which virtiofsd needs to sandbox itself, and
 * must not get it for every guest's sake. systemd starts virtiofsd with what a service gets by
 * default, its listening socket as standard input, its output into the file the daemon reads
 * its last words from, and the share read-only through ReadOnlyPaths=; the daemon follows the
 * unit's ActiveState, as it follows a child's exit. */
#include "mvd-virtiofs-unit.h"

#include <gio/gunixfdlist.h>

#define SYSTEMD_NAME "org.freedesktop.systemd1"
#define SYSTEMD_PATH "/org/freedesktop/systemd1"
#define SYSTEMD_MANAGER "org.freedesktop.systemd1.Manager"
#define SYSTEMD_UNIT "org.freedesktop.systemd1.Unit"
#define SYSTEMD_SERVICE "org.freedesktop.systemd1.Service"
#define CLD_EXITED_CODE 1 /* ExecMainCode, as waitid's si_code */
#define SLICE "machine.slice"
#define CALL_TIMEOUT_MS 10000

struct _MvdVirtiofsUnit
{
  GDBusConnection *bus;
  char *name; /* microvm-GUEST-fsINDEX-virtiofsd-RANDOM.service */
  char *path; /* its object */
  guint subscription;
  gboolean left_inactive; /* the new unit is "inactive" until its start begins */
  int exec_code;          /* how virtiofsd ended (ExecMainCode, ExecMainStatus), once it did */
  int exec_status;
  MvdVirtiofsUnitEnded ended;
  gpointer data;
  GDestroyNotify destroy;
};

static void
unit_free (MvdVirtiofsUnit *unit)
{
  if (unit->subscription)
    g_dbus_connection_signal_unsubscribe (unit->bus, unit->subscription);
  if (unit->destroy)
    unit->destroy (unit->data);
  g_object_unref (unit->bus);
  g_free (unit->name);
  g_free (unit->path);
  g_free (unit);
}

/* systemd sends units' PropertiesChanged only while someone subscribed; asked once a bus */
static void
subscribe_systemd (GDBusConnection *bus)
{
  static GDBusConnection *subscribed;

  if (subscribed == bus)
    return;
  subscribed = bus;
  g_dbus_connection_call (bus, SYSTEMD_NAME, SYSTEMD_PATH, SYSTEMD_MANAGER, "Subscribe", NULL, NULL,
                          G_DBUS_CALL_FLAGS_NO_AUTO_START, CALL_TIMEOUT_MS, NULL, NULL, NULL);
}

/* "inactive" after virtiofsd quit by itself (QEMU hung up), "failed" otherwise; a new unit
 * says "inactive" before it starts */
static void
on_properties_changed (GDBusConnection *bus, const char *sender, const char *path,
                       const char *iface, const char *signal, GVariant *parameters,
                       gpointer user_data)
{
  MvdVirtiofsUnit *unit = user_data;
  g_autoptr (GVariant) changed = NULL;
  const char *interface, *state = NULL;

  g_variant_get (parameters, "(&s@a{sv}@as)", &interface, &changed, NULL);
  /* the Service's change comes first, then the Unit's */
  if (g_str_equal (interface, SYSTEMD_SERVICE))
    {
      g_variant_lookup (changed, "ExecMainCode", "i", &unit->exec_code);
      g_variant_lookup (changed, "ExecMainStatus", "i", &unit->exec_status);
      return;
    }
  if (!g_str_equal (interface, SYSTEMD_UNIT)
      || !g_variant_lookup (changed, "ActiveState", "&s", &state))
    return;
  if (!g_str_equal (state, "inactive") && !g_str_equal (state, "failed"))
    {
      unit->left_inactive = TRUE;
      return;
    }
  if (!unit->left_inactive && g_str_equal (state, "inactive"))
    return;
  if (g_str_equal (state, "failed"))
    {
      g_autofree char *how = unit->exec_code == CLD_EXITED_CODE
                               ? g_strdup_printf ("exited with status %d", unit->exec_status)
                             : unit->exec_code
                               ? g_strdup_printf ("was killed by signal %d", unit->exec_status)
                               : g_strdup ("failed");
      unit->ended (how, unit->data);
    }
  else
    unit->ended (NULL, unit->data);
  unit_free (unit);
}

static GVariant *
properties (const char *description, GStrv argv, const char *read_only, int stdin_index,
            int output_index)
{
  GVariantBuilder props;
  GVariantBuilder exec;

  g_variant_builder_init (&props, G_VARIANT_TYPE ("a(sv)"));
  g_variant_builder_add (&props, "(sv)", "Description", g_variant_new_string (description));
  g_variant_builder_add (&props, "(sv)", "Slice", g_variant_new_string (SLICE));
  g_variant_builder_add (&props, "(sv)", "CollectMode",
                         g_variant_new_string ("inactive-or-failed"));
  g_variant_builder_init (&exec, G_VARIANT_TYPE ("a(sasb)"));
  g_variant_builder_add (&exec, "(s^asb)", argv[0], argv, FALSE);
  g_variant_builder_add (&props, "(sv)", "ExecStart", g_variant_builder_end (&exec));
  g_variant_builder_add (&props, "(sv)", "StandardInputFileDescriptor",
                         g_variant_new_handle (stdin_index));
  g_variant_builder_add (&props, "(sv)", "StandardOutputFileDescriptor",
                         g_variant_new_handle (output_index));
  g_variant_builder_add (&props, "(sv)", "StandardErrorFileDescriptor",
                         g_variant_new_handle (output_index));
  if (read_only)
    g_variant_builder_add (&props, "(sv)", "ReadOnlyPaths",
                           g_variant_new_strv ((const char *const[]){ read_only }, 1));
  return g_variant_builder_end (&props);
}

static gboolean
start_unit (MvdVirtiofsUnit *unit, GVariant *props, int listen_fd, int output_fd, GError **error)
{
  g_autoptr (GUnixFDList) fds = g_unix_fd_list_new ();
  g_autoptr (GVariant) reply = NULL;

  if (g_unix_fd_list_append (fds, listen_fd, error) < 0
      || g_unix_fd_list_append (fds, output_fd, error) < 0)
    {
      g_variant_unref (g_variant_ref_sink (props));
      return FALSE;
    }
  reply = g_dbus_connection_call_with_unix_fd_list_sync (
    unit->bus, SYSTEMD_NAME, SYSTEMD_PATH, SYSTEMD_MANAGER, "StartTransientUnit",
    g_variant_new ("(ss@a(sv)a(sa(sv)))", unit->name, "fail", props, NULL), G_VARIANT_TYPE ("(o)"),
    G_DBUS_CALL_FLAGS_NO_AUTO_START, CALL_TIMEOUT_MS, fds, NULL, NULL, error);
  if (reply == NULL)
    g_prefix_error (error, "systemd could not start virtiofsd as %s: ", unit->name);
  return reply != NULL;
}

MvdVirtiofsUnit *
mvd_virtiofs_unit_start (GDBusConnection *bus, const MvdVirtiofsUnitRequest *request,
                         MvdVirtiofsUnitEnded ended, gpointer data, GDestroyNotify destroy,
                         GError **error)
{
  MvdVirtiofsUnit *unit = g_new0 (MvdVirtiofsUnit, 1);
  g_autofree char *description = g_strdup_printf ("virtiofsd of [Share %s] of microvm guest %s",
                                                  request->share->label, request->guest);
  g_autofree char *escaped = NULL;

  unit->bus = g_object_ref (bus);
  unit->name = g_strdup_printf ("microvm-%s-fs%u-virtiofsd-%08x.service", request->guest,
                                request->index, g_random_int ());
  escaped = g_dbus_escape_object_path (unit->name);
  unit->path = g_strconcat (SYSTEMD_PATH "/unit/", escaped, NULL);
  unit->ended = ended;
  subscribe_systemd (bus);
  /* before the start, so that an end at once is not missed */
  unit->subscription = g_dbus_connection_signal_subscribe (
    bus, SYSTEMD_NAME, "org.freedesktop.DBus.Properties", "PropertiesChanged", unit->path, NULL,
    G_DBUS_SIGNAL_FLAGS_NONE, on_properties_changed, unit, NULL);
  if (!start_unit (unit,
                   properties (description, request->argv,
                               request->share->read_only ? request->share->path : NULL, 0, 1),
                   request->listen_fd, request->output_fd, error))
    {
      unit_free (unit);
      return NULL;
    }
  unit->data = data;
  unit->destroy = destroy;
  return unit;
}
