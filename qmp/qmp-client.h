/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

#include "qmp-error.h"
#include "qmp-event.h"

G_BEGIN_DECLS

/* Default per-command reply timeout. */
#define QMP_CLIENT_DEFAULT_TIMEOUT_MS 10000

/* One QMP connection. Signals:
 *   "event" (QmpEvent *event), detailed by the event name ("event::SHUTDOWN");
 *   "disconnected" (GError *reason), emitted exactly once when the connection ends.
 * While connected the client holds a reference on itself: it lives until the peer hangs
 * up, the protocol breaks or qmp_client_close() is called. Use it from one main context:
 * the thread-default one when it was created. */
#define QMP_TYPE_CLIENT (qmp_client_get_type ())
G_DECLARE_FINAL_TYPE (QmpClient, qmp_client, QMP, CLIENT, GObject)

/* A client for a connected stream socket; takes ownership of @fd. Call handshake next. */
QmpClient *qmp_client_new_for_fd (int fd);

/* Reads the greeting, negotiates capabilities; the client is ready when this succeeds.
 * EOF, garbage, a timeout or cancellation fails it and closes the connection. */
void qmp_client_handshake_async (QmpClient *self, GCancellable *cancellable,
                                 GAsyncReadyCallback callback, gpointer user_data);
gboolean qmp_client_handshake_finish (QmpClient *self, GAsyncResult *result, GError **error);

/* Connects to the unix socket @path and does the handshake. */
void qmp_client_connect_async (const char *path, GCancellable *cancellable,
                               GAsyncReadyCallback callback, gpointer user_data);
QmpClient *qmp_client_connect_finish (GAsyncResult *result, GError **error);

/* Sends @command with optional @arguments (not consumed). Commands issued before the
 * handshake ends are held until it does. Cancelling or timing out fails only this
 * command; a late reply is then dropped. */
void qmp_client_execute_async (QmpClient *self, const char *command, JsonObject *arguments,
                               GCancellable *cancellable, GAsyncReadyCallback callback,
                               gpointer user_data);
/* The same, and passes @fd to QEMU (SCM_RIGHTS, with the command's first bytes), as getfd and
 * add-fd expect. @fd is not taken: the client sends a copy, which it closes once sent or when
 * the connection ends first. Finish with qmp_client_execute_finish. */
void qmp_client_execute_with_fd_async (QmpClient *self, const char *command, JsonObject *arguments,
                                       int fd, GCancellable *cancellable,
                                       GAsyncReadyCallback callback, gpointer user_data);
/* The command's "return" value (any JSON type), or NULL with @error set. */
JsonNode *qmp_client_execute_finish (QmpClient *self, GAsyncResult *result, GError **error);

/* Fails pending commands, closes the socket and emits "disconnected", unless already done. */
void qmp_client_close (QmpClient *self);

/* Timeout for each later command (and the handshake), in milliseconds; 0: none, the caller
 * bounds them itself. */
void qmp_client_set_timeout (QmpClient *self, guint timeout_ms);
guint qmp_client_get_timeout (QmpClient *self);

/* TRUE between a successful handshake and the disconnection. */
gboolean qmp_client_is_ready (QmpClient *self);
/* TRUE once the connection has ended. */
gboolean qmp_client_is_closed (QmpClient *self);

/* QEMU's version as "major.minor.micro" from the greeting, NULL before it. */
const char *qmp_client_get_version (QmpClient *self);
/* The same as major * 1000000 + minor * 1000 + micro, like libvirt's; 0 before the greeting. */
guint qmp_client_get_version_number (QmpClient *self);
/* QEMU's package string ("Debian 1:7.2+dfsg-7"), possibly empty; NULL before the greeting. */
const char *qmp_client_get_package (QmpClient *self);
/* Whether the greeting offered @capability (e.g. "oob"). */
gboolean qmp_client_has_capability (QmpClient *self, const char *capability);

G_END_DECLS
