/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* A guest as systemd-machined knows it: `machinectl list` shows it, `machinectl terminate`
 * ends it. machined makes the scope (machine-NAME.scope in machine.slice) with
 * @scope_properties added to its own, puts @leader (QEMU) in it and answers once the scope
 * runs; the machine goes away with the scope, when QEMU ends. */
typedef struct
{
  const char *name;
  const char *uuid; /* "xxxxxxxx-xxxx-...": the guest's, as QEMU's -uuid */
  GPid leader;
  const int *ifindex; /* its taps' interface indexes */
  guint n_ifindex;
} MvdMachine;

/* CreateMachineWithNetwork on @bus; finish with g_dbus_connection_call_finish. A missing
 * machined answers G_DBUS_ERROR_SERVICE_UNKNOWN (or NAME_HAS_NO_OWNER). */
void mvd_machine_create_async (GDBusConnection *bus, const MvdMachine *machine,
                               GVariant *scope_properties, GAsyncReadyCallback callback,
                               gpointer user_data);

G_END_DECLS
