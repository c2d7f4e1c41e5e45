/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* microvmctl -H [USER@]HOST[:PORT]: the remote's bus through ssh and its
 * systemd-stdio-bridge, as machinectl -H and busctl -H do; and, for the verbs whose file
 * descriptors cannot cross ssh, the remote's own microvmctl. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* The environment variable that replaces "ssh" (a command line, split as a shell would) */
#define MVC_REMOTE_SSH_ENV "MICROVMCTL_SSH"

/* FALSE, with @error, when @host is not [USER@]HOST[:PORT] */
gboolean mvc_remote_check_host (const char *host, GError **error);

/* One ssh child carrying a D-Bus connection to the remote's bus; owns both. */
typedef struct _MvcRemote MvcRemote;

/* Connects to microvmd's bus on @host: the system bus, or the user's with @session. */
MvcRemote *mvc_remote_connect (const char *host, gboolean session, GError **error);
/* The connection; owned by @self. */
GDBusConnection *mvc_remote_get_bus (MvcRemote *self);
/* Closes the connection, reaps ssh and passes on what ssh wrote to stderr; NULL is fine. */
void mvc_remote_free (MvcRemote *self);

/* Runs the remote's "microvmctl GLOBALS… ARGV…" on @host with ssh, its stdin, stdout and
 * stderr ours (a terminal when ours are); returns its exit status, or ours for ssh's errors. */
int mvc_remote_run_client (const char *host, const char *const *globals, int argc, char **argv);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MvcRemote, mvc_remote_free)

G_END_DECLS
