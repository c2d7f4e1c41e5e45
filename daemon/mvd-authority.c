/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Authorization by polkit, as systemd, udisks and fprintd do it: the subject is the caller's
 * bus name, the answer comes from org.freedesktop.PolicyKit1.Authority.CheckAuthorization. */
#include "mvd-authority.h"

#include "mvm-error.h"

#define POLKIT_NAME "org.freedesktop.PolicyKit1"
#define POLKIT_PATH "/org/freedesktop/PolicyKit1/Authority"
#define POLKIT_IFACE "org.freedesktop.PolicyKit1.Authority"
#define POLKIT_ALLOW_USER_INTERACTION 1u
#define QUICK_TIMEOUT_MS 25000
/* a password prompt nobody answers must not hold GDBus's worker thread for ever */
#define INTERACTIVE_TIMEOUT_MS (5 * 60 * 1000)

static const struct
{
  const char *method;
  MvdAction action;
} method_actions[] = {
  { "DefineGuest", MVD_ACTION_MANAGE },
  { "CreateGuest", MVD_ACTION_MANAGE },
  { "PreviewCommandLine", MVD_ACTION_MANAGE }, /* it opens host files as root: not for all */
  { "Reload", MVD_ACTION_MANAGE },
  { "Start", MVD_ACTION_MANAGE },
  { "Pause", MVD_ACTION_MANAGE },
  { "Resume", MVD_ACTION_MANAGE },
  { "Reboot", MVD_ACTION_MANAGE },
  { "Shutdown", MVD_ACTION_MANAGE },
  { "Kill", MVD_ACTION_MANAGE },
  { "Undefine", MVD_ACTION_MANAGE },
  { "Clone", MVD_ACTION_MANAGE },
  { "SaveSnapshot", MVD_ACTION_MANAGE },
  { "StartFromSnapshot", MVD_ACTION_MANAGE },
  { "RemoveSnapshot", MVD_ACTION_MANAGE },
  { "SetMemory", MVD_ACTION_MANAGE },
  { "Set", MVD_ACTION_MANAGE }, /* org.freedesktop.DBus.Properties: Autostart */
  { "OpenConsole", MVD_ACTION_CONSOLE },
  { "ImportImage", MVD_ACTION_MANAGE },
  { "Remove", MVD_ACTION_MANAGE }, /* org.microvmd1.Image */
  { "Cancel", MVD_ACTION_MANAGE }, /* org.microvmd1.Job */
};

MvdAction
mvd_authority_action_for (const char *method)
{
  for (gsize i = 0; i < G_N_ELEMENTS (method_actions); i++)
    if (g_str_equal (method_actions[i].method, method))
      return method_actions[i].action;
  return MVD_ACTION_NONE;
}

static const char *
action_id (MvdAction action)
{
  return action == MVD_ACTION_CONSOLE ? "org.microvmd1.console" : "org.microvmd1.manage";
}

static gboolean
sender_is_root (GDBusConnection *connection, const char *sender)
{
  g_autoptr (GVariant) reply = g_dbus_connection_call_sync (
    connection, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
    "GetConnectionUnixUser", g_variant_new ("(s)", sender), G_VARIANT_TYPE ("(u)"),
    G_DBUS_CALL_FLAGS_NONE, QUICK_TIMEOUT_MS, NULL, NULL);
  guint32 uid = 1;

  if (reply)
    g_variant_get (reply, "(u)", &uid);
  return uid == 0;
}

static gboolean
denied (GError **error, MvdAction action, const char *why)
{
  g_set_error (error, MVM_ERROR, MVM_ERROR_ACCESS_DENIED, "not authorized for %s%s",
               action_id (action), why);
  return FALSE;
}

gboolean
mvd_authority_check_sync (const MvdContext *context, GDBusConnection *connection,
                          const char *sender, MvdAction action, gboolean interactive,
                          GError **error)
{
  g_autoptr (GVariant) reply = NULL;
  g_autoptr (GError) local = NULL;
  GVariantBuilder subject;
  gboolean authorized = FALSE;

  if (action == MVD_ACTION_NONE || context->paths->session || sender_is_root (connection, sender))
    return TRUE;
  g_variant_builder_init (&subject, G_VARIANT_TYPE ("a{sv}"));
  g_variant_builder_add (&subject, "{sv}", "name", g_variant_new_string (sender));
  reply = g_dbus_connection_call_sync (
    connection, POLKIT_NAME, POLKIT_PATH, POLKIT_IFACE, "CheckAuthorization",
    g_variant_new ("((sa{sv})sa{ss}us)", "system-bus-name", &subject, action_id (action), NULL,
                   interactive ? POLKIT_ALLOW_USER_INTERACTION : 0u, ""),
    G_VARIANT_TYPE ("((bba{ss}))"), G_DBUS_CALL_FLAGS_NONE,
    interactive ? INTERACTIVE_TIMEOUT_MS : QUICK_TIMEOUT_MS, NULL, &local);
  if (reply == NULL)
    {
      /* no polkit, no answer: closed */
      g_autofree char *why = g_strdup_printf (" (polkit did not answer: %s)", local->message);
      return denied (error, action, why);
    }
  g_variant_get (reply, "((bb@a{ss}))", &authorized, NULL, NULL);
  return authorized || denied (error, action, "");
}

/* GDBus runs this in a worker thread, before the method's handler in the main loop. */
static gboolean
on_authorize_method (GDBusInterfaceSkeleton *skeleton, GDBusMethodInvocation *invocation,
                     gpointer user_data)
{
  const MvdContext *context = user_data;
  GDBusMessage *message = g_dbus_method_invocation_get_message (invocation);
  gboolean interactive
    = g_dbus_message_get_flags (message) & G_DBUS_MESSAGE_FLAGS_ALLOW_INTERACTIVE_AUTHORIZATION;
  MvdAction action
    = mvd_authority_action_for (g_dbus_method_invocation_get_method_name (invocation));
  GError *error = NULL;

  if (mvd_authority_check_sync (context, g_dbus_method_invocation_get_connection (invocation),
                                g_dbus_method_invocation_get_sender (invocation), action,
                                interactive, &error))
    return TRUE;
  /* unauthorized: the call is ours to answer, and answering it takes GDBus's reference */
  g_dbus_method_invocation_take_error (invocation, error);
  return FALSE;
}

void
mvd_authority_guard (GDBusInterfaceSkeleton *skeleton, const MvdContext *context)
{
  if (context->paths->session)
    return; /* nobody to ask: calls go straight to their handlers, without a thread hop */
  g_signal_connect (skeleton, "g-authorize-method", G_CALLBACK (on_authorize_method),
                    (gpointer)context);
}
