/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "mvc-verbs.h"

int
mvc_stop (MvcContext *ctx, int argc, char **argv)
{
  g_autoptr (MvmDbusGuest) guest = NULL;
  g_autoptr (GError) error = NULL;
  int timeout = -1; /* -1: the guest's own ShutdownTimeoutSec= */
  int status;
  const GOptionEntry entries[] = {
    { "timeout", 't', 0, G_OPTION_ARG_INT, &timeout,
      "Seconds the guest OS gets before SIGTERM (default: its ShutdownTimeoutSec=)", "S" },
    { NULL },
  };

  if (!mvc_parse_verb (ctx, entries, "NAME",
                       "Shuts guest NAME down: the ACPI power button, then SIGTERM to QEMU after "
                       "the timeout, then SIGKILL. Returns once QEMU has exited.",
                       1, &argc, &argv, &status))
    return status;
  if (timeout == 0 || timeout < -1)
    return mvc_usage ("stop: --timeout must be at least 1 second");
  guest = mvc_guest (ctx, argv[1], &error);
  if (guest == NULL || !mvm_dbus_guest_call_shutdown_sync (guest, MAX (timeout, 0), NULL, &error))
    return mvc_fail (error);
  return MVC_EXIT_OK;
}
