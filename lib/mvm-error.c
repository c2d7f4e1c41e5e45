/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "mvm-error.h"

#include <gio/gio.h>

static const GDBusErrorEntry mvm_error_entries[] = {
  { MVM_ERROR_FAILED, "org.microvmd1.Error.Failed" },
  { MVM_ERROR_NO_SUCH_GUEST, "org.microvmd1.Error.NoSuchGuest" },
  { MVM_ERROR_INVALID_CONFIG, "org.microvmd1.Error.InvalidConfig" },
  { MVM_ERROR_ALREADY_EXISTS, "org.microvmd1.Error.AlreadyExists" },
  { MVM_ERROR_INVALID_STATE, "org.microvmd1.Error.InvalidState" },
  { MVM_ERROR_QEMU_FAILED, "org.microvmd1.Error.QemuFailed" },
  { MVM_ERROR_TIMEOUT, "org.microvmd1.Error.Timeout" },
  { MVM_ERROR_ACCESS_DENIED, "org.microvmd1.Error.AccessDenied" },
  { MVM_ERROR_BUSY, "org.microvmd1.Error.Busy" },
  { MVM_ERROR_LIMIT_EXCEEDED, "org.microvmd1.Error.LimitExceeded" },
};

GQuark
mvm_error_quark (void)
{
  static gsize quark = 0;

  g_dbus_error_register_error_domain ("mvm-error-quark", &quark, mvm_error_entries,
                                      G_N_ELEMENTS (mvm_error_entries));
  return (GQuark)quark;
}
