/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* Returns @error (consumed) as an org.microvmd1.Error.*: errors of other domains are mapped
 * (a QMP timeout to Timeout, other QMP and I/O failures to QemuFailed or Failed). */
void mvd_dbus_return_error (GDBusMethodInvocation *invocation, GError *error);

G_END_DECLS
