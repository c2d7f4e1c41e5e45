/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* One code per org.microvmd1.Error.* name; the daemon maps them one to one. */
typedef enum
{
  MVM_ERROR_FAILED,
  MVM_ERROR_NO_SUCH_GUEST,
  MVM_ERROR_INVALID_CONFIG,
  MVM_ERROR_ALREADY_EXISTS,
  MVM_ERROR_INVALID_STATE,
  MVM_ERROR_QEMU_FAILED,
  MVM_ERROR_TIMEOUT,
  MVM_ERROR_ACCESS_DENIED,
  MVM_ERROR_BUSY,
  MVM_ERROR_LIMIT_EXCEEDED,
} MvmError;

#define MVM_ERROR (mvm_error_quark ())
/* Also registers the D-Bus error names, so GErrors cross the bus intact. */
GQuark mvm_error_quark (void);

G_END_DECLS
