/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "mvd-machined.h"

#include <string.h>

/* The 16 bytes of a textual UUID; all zeros (machined: "no id") if it is not one. */
static GVariant *
uuid_bytes (const char *uuid)
{
  guint8 bytes[16] = { 0 };
  guint n = 0;

  for (const char *p = uuid; *p && n < 32; p++)
    {
      int v = g_ascii_xdigit_value (*p);
      if (*p == '-')
        continue;
      if (v < 0)
        break;
      bytes[n / 2] |= n % 2 ? v : v << 4;
      n++;
    }
  if (n != 32)
    memset (bytes, 0, sizeof bytes);
  return g_variant_new_fixed_array (G_VARIANT_TYPE_BYTE, bytes, sizeof bytes, 1);
}

void
mvd_machine_create_async (GDBusConnection *bus, const MvdMachine *machine,
                          GVariant *scope_properties, GAsyncReadyCallback callback,
                          gpointer user_data)
{
  GVariant *ifindex = g_variant_new_fixed_array (G_VARIANT_TYPE_INT32, machine->ifindex,
                                                 machine->n_ifindex, sizeof (gint32));

  /* machined is started on demand by the bus, as libvirt expects it too */
  g_dbus_connection_call (
    bus, "org.freedesktop.machine1", "/org/freedesktop/machine1",
    "org.freedesktop.machine1.Manager", "CreateMachineWithNetwork",
    g_variant_new ("(s@ayssus@ai@a(sv))", machine->name, uuid_bytes (machine->uuid), "microvmd",
                   "vm", (guint32)machine->leader, "", ifindex, scope_properties),
    G_VARIANT_TYPE ("(o)"), G_DBUS_CALL_FLAGS_NONE, 30000, NULL, callback, user_data);
}
