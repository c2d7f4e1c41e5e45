/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "mvc-verbs.h"
#include "mvm-value.h"

int
mvc_autostart (MvcContext *ctx, int argc, char **argv)
{
  g_autoptr (MvmDbusGuest) guest = NULL;
  g_autoptr (GVariant) reply = NULL;
  g_autoptr (GError) error = NULL;
  gboolean on;
  int status;

  if (!mvc_parse_verb (ctx, NULL, "NAME on|off",
                       "Sets whether the daemon starts guest NAME when it starts; stored as "
                       "Autostart= in the guest file.",
                       2, &argc, &argv, &status))
    return status;
  if (!mvm_parse_bool (argv[2], &on))
    return mvc_usage ("autostart: '%s' is neither on nor off", argv[2]);
  guest = mvc_guest (ctx, argv[1], &error);
  if (guest == NULL)
    return mvc_fail (error);
  reply = g_dbus_proxy_call_sync (
    G_DBUS_PROXY (guest), "org.freedesktop.DBus.Properties.Set",
    g_variant_new ("(ssv)", MVC_GUEST_IFACE, "Autostart", g_variant_new_boolean (on)),
    G_DBUS_CALL_FLAGS_NONE, -1, NULL, &error);
  if (reply == NULL)
    return mvc_fail (error);
  return MVC_EXIT_OK;
}
