/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <string.h>

#include "mvc-verbs.h"
#include "mvm-value.h"

/* Every cached property, as D-Bus names them, and GuestFile. */
static void
print_json (MvmDbusGuest *guest, const char *text)
{
  g_auto (GStrv) names = g_dbus_proxy_get_cached_property_names (G_DBUS_PROXY (guest));
  g_autoptr (JsonBuilder) b = json_builder_new ();

  json_builder_begin_object (b);
  for (guint i = 0; names && names[i]; i++)
    {
      g_autoptr (GVariant) value
        = g_dbus_proxy_get_cached_property (G_DBUS_PROXY (guest), names[i]);
      json_builder_set_member_name (b, names[i]);
      json_builder_add_value (b, json_gvariant_serialize (value));
    }
  json_builder_set_member_name (b, "GuestFile");
  json_builder_add_string_value (b, text);
  json_builder_end_object (b);
  mvc_print_json (json_builder_get_root (b));
}

static void
print_field (const char *label, const char *value)
{
  g_print ("%14s: %s\n", label, value);
}

/* Quoted where needed, so that it can be pasted into a shell. */
static char *
join_command (const char *const *argv)
{
  g_autoptr (GString) s = g_string_new (NULL);

  for (guint i = 0; argv && argv[i]; i++)
    {
      gboolean plain = argv[i][0] && strpbrk (argv[i], " \t\n'\"\\$`;&|<>()*?[]{}~#!") == NULL;
      g_autofree char *quoted = plain ? g_strdup (argv[i]) : g_shell_quote (argv[i]);
      g_string_append_printf (s, "%s%s", i ? " " : "", quoted);
    }
  return g_string_free (g_steal_pointer (&s), FALSE);
}

static void
print_running (MvmDbusGuest *guest)
{
  guint64 start = mvm_dbus_guest_get_start_timestamp (guest);
  guint64 boot = mvm_dbus_guest_get_boot_time_usec (guest);
  const char *const *argv = mvm_dbus_guest_get_command_line (guest);
  g_autofree char *since = mvc_format_timestamp (start);
  g_autofree char *uptime = mvc_format_uptime (start);
  g_autofree char *started = g_strdup_printf ("%s (up %s)", since, uptime);
  g_autofree char *pid = g_strdup_printf ("%u", mvm_dbus_guest_get_main_pid (guest));
  g_autofree char *boot_time = g_strdup_printf ("%.3f s", boot / 1e6);
  g_autofree char *command = join_command (argv);

  print_field ("Main PID", pid);
  print_field ("Started", started);
  print_field ("Ready", mvm_dbus_guest_get_ready (guest) ? "yes" : "no");
  if (boot)
    print_field ("Boot time", boot_time);
  print_field ("Command line", command);
}

/* "tcp 0.0.0.0:18080 -> 80 (net0)", a line each */
static void
print_forwards (MvmDbusGuest *guest)
{
  GVariant *forwards = mvm_dbus_guest_get_forwards (guest);
  GVariantIter iter;
  GVariant *f;
  gboolean first = TRUE;

  if (forwards == NULL)
    return;
  g_variant_iter_init (&iter, forwards);
  while ((f = g_variant_iter_next_value (&iter)))
    {
      const char *net = "", *proto = "", *address = "";
      guint16 host_port = 0, guest_port = 0;
      g_autofree char *line = NULL;

      g_variant_lookup (f, "Network", "&s", &net);
      g_variant_lookup (f, "Protocol", "&s", &proto);
      g_variant_lookup (f, "HostAddress", "&s", &address);
      g_variant_lookup (f, "HostPort", "q", &host_port);
      g_variant_lookup (f, "GuestPort", "q", &guest_port);
      line = g_strdup_printf ("%s %s:%u -> %u (%s)", proto, address, host_port, guest_port, net);
      if (first)
        print_field ("Forwards", line);
      else
        g_print ("%16s%s\n", "", line);
      first = FALSE;
      g_variant_unref (f);
    }
}

static void
print_human (MvmDbusGuest *guest, const char *text)
{
  const char *message = mvm_dbus_guest_get_state_message (guest);
  g_autofree char *cpus = g_strdup_printf ("%u", mvm_dbus_guest_get_cpus (guest));
  g_autofree char *memory = mvm_format_size (mvm_dbus_guest_get_memory (guest));
  g_auto (GStrv) lines = g_strsplit (text, "\n", -1);

  g_print ("%s\n", mvm_dbus_guest_get_name (guest));
  print_field ("State", mvm_dbus_guest_get_state (guest));
  print_field ("Reason", mvm_dbus_guest_get_state_reason (guest));
  if (message && message[0])
    print_field ("Message", message);
  print_field ("UUID", mvm_dbus_guest_get_uuid (guest));
  print_field ("CPUs", cpus);
  print_field ("Memory", memory);
  print_field ("Transport", mvm_dbus_guest_get_transport (guest));
  print_field ("Accelerator", mvm_dbus_guest_get_accelerator (guest));
  print_field ("Autostart", mvm_dbus_guest_get_autostart (guest) ? "yes" : "no");
  print_forwards (guest);
  if (mvm_dbus_guest_get_main_pid (guest))
    print_running (guest);
  g_print ("%14s:\n", "Guest file");
  for (guint i = 0; lines[i]; i++)
    if (lines[i][0] || lines[i + 1])
      g_print ("%16s%s\n", "", lines[i]);
}

int
mvc_status (MvcContext *ctx, int argc, char **argv)
{
  g_autoptr (MvmDbusGuest) guest = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *text = NULL;
  int status;

  if (!mvc_parse_verb_json (ctx, NULL, "NAME",
                            "Shows guest NAME: state, readiness, process, timings, command line "
                            "and stored guest file.",
                            1, &argc, &argv, &status))
    return status;
  guest = mvc_guest_watched (ctx, argv[1], &error);
  /* a method, not a property: GetManagedObjects stays small with many guests */
  if (guest == NULL || !mvm_dbus_guest_call_get_guest_file_sync (guest, &text, NULL, &error))
    return mvc_fail (error);
  if (ctx->json)
    print_json (guest, text);
  else
    print_human (guest, text);
  return MVC_EXIT_OK;
}
