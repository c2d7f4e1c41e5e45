/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "mvd-dbus-error.h"

#include "mvm-error.h"
#include "qmp-error.h"

static MvmError
map_code (const GError *error)
{
  if (error->domain == QMP_ERROR)
    return error->code == QMP_ERROR_TIMEOUT ? MVM_ERROR_TIMEOUT : MVM_ERROR_QEMU_FAILED;
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
    return MVM_ERROR_TIMEOUT;
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED))
    return MVM_ERROR_ACCESS_DENIED;
  return MVM_ERROR_FAILED;
}

void
mvd_dbus_return_error (GDBusMethodInvocation *invocation, GError *error)
{
  if (error->domain != MVM_ERROR)
    {
      GError *mapped = g_error_new_literal (MVM_ERROR, map_code (error), error->message);
      g_error_free (error);
      error = mapped;
    }
  g_dbus_method_invocation_take_error (invocation, error);
}
