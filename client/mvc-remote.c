/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "mvc-remote.h"

#include <errno.h>
#include <glib-unix.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "mvc-common.h"

/* how long ssh may take to leave once its stdin is closed, before it is killed */
#define REAP_TIMEOUT_USEC (5 * G_USEC_PER_SEC)
/* what is kept of ssh's stderr */
#define STDERR_MAX 65536
/* ssh's own failures: it cannot exit otherwise, the remote command's status comes through */
#define SSH_FAILED 255
/* the remote shell's "command not found" */
#define REMOTE_NOT_FOUND 127

/* The user's bus on the remote, as sd-bus's --user would find it (Debian 12's
 * systemd-stdio-bridge ignores --user and talks to the system bus); needs a POSIX shell. */
#define BRIDGE_SYSTEM "systemd-stdio-bridge"
#define BRIDGE_USER                                                                                \
  "systemd-stdio-bridge "                                                                          \
  "--bus-path=\"${DBUS_SESSION_BUS_ADDRESS:-unix:path=$XDG_RUNTIME_DIR/bus}\""

struct _MvcRemote
{
  char *host;
  GSubprocess *ssh;
  /* a memfd that ssh writes its stderr to, read at the end; -1: ssh writes to ours */
  int stderr_fd;
  GDBusConnection *bus;
};

/* [USER@]HOST[:PORT] into ssh's destination and port (NULL: ssh's own) */
static gboolean
parse_host (const char *spec, char **destination, char **port, GError **error)
{
  const char *at = strchr (spec, '@');
  const char *name = at ? at + 1 : spec;
  const char *colon = strchr (name, ':');
  guint64 number;

  /* a destination that ssh would take for an option is never passed on */
  if (spec[0] == '\0' || spec[0] == '-' || name[0] == '\0' || name[0] == '-' || name[0] == ':'
      || at == spec)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "-H: expected [USER@]HOST[:PORT], got '%s'", spec);
      return FALSE;
    }
  /* one colon is a port; more are an IPv6 address, whose port ssh_config can give */
  if (colon == NULL || strchr (colon + 1, ':') != NULL)
    {
      *destination = g_strdup (spec);
      *port = NULL;
      return TRUE;
    }
  if (!g_ascii_string_to_unsigned (colon + 1, 10, 1, 65535, &number, NULL))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "-H %s: the port must be a number from 1 to 65535", spec);
      return FALSE;
    }
  *destination = g_strndup (spec, colon - spec);
  *port = g_strdup (colon + 1);
  return TRUE;
}

gboolean
mvc_remote_check_host (const char *host, GError **error)
{
  g_autofree char *destination = NULL;
  g_autofree char *port = NULL;

  return parse_host (host, &destination, &port, error);
}

/* $MICROVMCTL_SSH (or ssh), its options, the destination and the remote's command line */
static GStrv
ssh_argv (const char *host, gboolean tty, const char *command, GError **error)
{
  g_autoptr (GStrvBuilder) argv = g_strv_builder_new ();
  g_auto (GStrv) ssh = NULL;
  g_autofree char *destination = NULL;
  g_autofree char *port = NULL;
  const char *custom = g_getenv (MVC_REMOTE_SSH_ENV);

  if (!parse_host (host, &destination, &port, error))
    return NULL;
  if (custom && custom[0] && !g_shell_parse_argv (custom, NULL, &ssh, error))
    {
      g_prefix_error (error, "$%s: ", MVC_REMOTE_SSH_ENV);
      return NULL;
    }
  if (ssh)
    g_strv_builder_addv (argv, (const char **)ssh);
  else
    g_strv_builder_add (argv, "ssh");
  /* no X11; no escape character, so that a console passes "~." to the guest as it is */
  g_strv_builder_add_many (argv, "-x", tty ? "-t" : "-T", "-e", "none", NULL);
  if (port)
    g_strv_builder_add_many (argv, "-p", port, NULL);
  g_strv_builder_add_many (argv, "--", destination, command, NULL);
  return g_strv_builder_end (argv);
}

static char *
read_stderr (int fd)
{
  GString *said = g_string_new (NULL);
  char buffer[4096];

  while (fd >= 0 && said->len < STDERR_MAX)
    {
      gssize n = pread (fd, buffer, sizeof buffer, said->len);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        break;
      g_string_append_len (said, buffer, n);
    }
  return g_strstrip (g_string_free (said, FALSE));
}

/* ssh leaves once its stdin is closed (the remote command then reads EOF); one that does
 * not within a few seconds, on a dead network, is killed. Reaped either way. */
static void
reap (GSubprocess *ssh)
{
  gint64 deadline = g_get_monotonic_time () + REAP_TIMEOUT_USEC;

  /* GSubprocess reaps in GLib's worker thread; the identifier goes once it has */
  while (g_subprocess_get_identifier (ssh) && g_get_monotonic_time () < deadline)
    g_usleep (10000);
  if (g_subprocess_get_identifier (ssh))
    g_subprocess_force_exit (ssh);
  g_subprocess_wait (ssh, NULL, NULL);
}

/* Why the bus on @host cannot be reached, in ssh's words where it said some */
static void
set_connect_error (MvcRemote *self, const GError *bus_error, GError **error)
{
  g_autofree char *said = read_stderr (self->stderr_fd);
  int status
    = g_subprocess_get_if_exited (self->ssh) ? g_subprocess_get_exit_status (self->ssh) : -1;

  if (status == REMOTE_NOT_FOUND)
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                 "cannot reach microvmd on %s: ssh logged in, but the host has no "
                 "systemd-stdio-bridge on its PATH (it comes with systemd)%s%s",
                 self->host, said[0] ? ": " : "", said);
  else if (status == SSH_FAILED && said[0])
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                 "cannot reach microvmd on %s through ssh: %s", self->host, said);
  else if (status == SSH_FAILED)
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                 "cannot reach microvmd on %s through ssh (ssh's message is above)", self->host);
  else
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                 "cannot reach microvmd on %s: ssh ran systemd-stdio-bridge there, which "
                 "ended (ssh's exit status %d) without connecting to the bus%s%s; is D-Bus "
                 "running there? (%s)",
                 self->host, status, said[0] ? ": " : "", said, bus_error->message);
}

static GSubprocess *
spawn_ssh (const char *const *argv, int stderr_fd, GError **error)
{
  g_autoptr (GSubprocessLauncher) launcher
    = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE);
  int copy;

  if (stderr_fd < 0)
    return g_subprocess_launcher_spawnv (launcher, argv, error);
  copy = dup (stderr_fd);
  if (copy < 0)
    {
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno), "dup: %s", g_strerror (errno));
      return NULL;
    }
  g_subprocess_launcher_take_stderr_fd (launcher, copy);
  return g_subprocess_launcher_spawnv (launcher, argv, error);
}

MvcRemote *
mvc_remote_connect (const char *host, gboolean session, GError **error)
{
  g_autoptr (MvcRemote) self = g_new0 (MvcRemote, 1);
  g_autoptr (GError) bus_error = NULL;
  g_autoptr (GIOStream) stream = NULL;
  g_auto (GStrv) argv = ssh_argv (host, FALSE, session ? BRIDGE_USER : BRIDGE_SYSTEM, error);

  self->host = g_strdup (host);
  self->stderr_fd = -1;
  if (argv == NULL)
    return NULL;
  /* on a terminal ssh speaks for itself as it goes: the host key it asks the user to trust
   * is shown on stderr, only the question on the terminal. Otherwise (scripts) what it said
   * becomes part of one error message. */
  if (!isatty (STDERR_FILENO))
    self->stderr_fd = memfd_create ("ssh-stderr", MFD_CLOEXEC);
  if (!isatty (STDERR_FILENO) && self->stderr_fd < 0)
    {
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno), "memfd_create: %s",
                   g_strerror (errno));
      return NULL;
    }
  self->ssh = spawn_ssh ((const char *const *)argv, self->stderr_fd, error);
  if (self->ssh == NULL)
    {
      g_prefix_error (error, "cannot run %s for -H %s: ", argv[0], host);
      return NULL;
    }
  /* pipes, not a socket: GDBus then offers no fd passing, which ssh could not carry, and a
   * call that needs it fails here instead of ending the bridge on the remote */
  stream = g_simple_io_stream_new (g_subprocess_get_stdout_pipe (self->ssh),
                                   g_subprocess_get_stdin_pipe (self->ssh));
  /* EXTERNAL sends our uid, which means nothing on the remote: the bridge takes any (it
   * authenticates as anonymous), runs as whoever ssh logged in as, and that is who
   * microvmd and polkit see there */
  self->bus = g_dbus_connection_new_sync (stream, NULL,
                                          G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT
                                            | G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
                                          NULL, NULL, &bus_error);
  if (self->bus == NULL)
    {
      g_io_stream_close (stream, NULL, NULL);
      reap (self->ssh);
      set_connect_error (self, bus_error, error);
      return NULL;
    }
  return g_steal_pointer (&self);
}

GDBusConnection *
mvc_remote_get_bus (MvcRemote *self)
{
  return self->bus;
}

void
mvc_remote_free (MvcRemote *self)
{
  if (self == NULL)
    return;
  if (self->bus)
    {
      g_autofree char *said = NULL;

      g_dbus_connection_close_sync (self->bus, NULL, NULL);
      g_clear_object (&self->bus);
      reap (self->ssh);
      /* what ssh said on the way, warnings about host keys say: passed on, as ssh would */
      said = read_stderr (self->stderr_fd);
      if (said[0])
        g_printerr ("%s\n", said);
    }
  g_clear_object (&self->ssh);
  if (self->stderr_fd >= 0)
    close (self->stderr_fd);
  g_free (self->host);
  g_free (self);
}

static void
on_client_exited (GObject *source, GAsyncResult *result, gpointer data)
{
  g_subprocess_wait_finish (G_SUBPROCESS (source), result, NULL);
  g_main_loop_quit (data);
}

static gboolean
on_signal_sigint (gpointer data)
{
  g_subprocess_send_signal (data, SIGINT);
  return G_SOURCE_CONTINUE;
}

static gboolean
on_signal_sigterm (gpointer data)
{
  g_subprocess_send_signal (data, SIGTERM);
  return G_SOURCE_CONTINUE;
}

/* Until ssh ends; SIGINT and SIGTERM sent to microvmctl are ssh's to act on */
static void
wait_client (GSubprocess *ssh)
{
  g_autoptr (GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  guint sigint = g_unix_signal_add (SIGINT, on_signal_sigint, ssh);
  guint sigterm = g_unix_signal_add (SIGTERM, on_signal_sigterm, ssh);

  g_subprocess_wait_async (ssh, NULL, on_client_exited, loop);
  g_main_loop_run (loop);
  g_source_remove (sigint);
  g_source_remove (sigterm);
}

int
mvc_remote_run_client (const char *host, const char *const *globals, int argc, char **argv)
{
  g_autoptr (GString) command = g_string_new ("microvmctl");
  g_autoptr (GError) error = NULL;
  g_autoptr (GSubprocess) ssh = NULL;
  g_auto (GStrv) ssh_args = NULL;
  /* a terminal at both ends: a pty on the remote too, for the console's raw mode and
   * Ctrl-]; otherwise pipes, so that no "\r" is added to what is piped on */
  gboolean tty = isatty (STDIN_FILENO) && isatty (STDOUT_FILENO);
  int status;

  for (gsize i = 0; globals[i]; i++)
    g_string_append_printf (command, " %s", globals[i]);
  for (int i = 0; i < argc; i++)
    {
      g_autofree char *quoted = g_shell_quote (argv[i]);
      g_string_append_printf (command, " %s", quoted);
    }
  ssh_args = ssh_argv (host, tty, command->str, &error);
  if (ssh_args == NULL)
    {
      g_printerr ("microvmctl: %s\n", error->message);
      return MVC_EXIT_USAGE;
    }
  ssh = g_subprocess_newv ((const char *const *)ssh_args, G_SUBPROCESS_FLAGS_STDIN_INHERIT, &error);
  if (ssh == NULL)
    {
      g_printerr ("microvmctl: cannot run %s for -H %s: %s\n", ssh_args[0], host, error->message);
      return MVC_EXIT_FAILURE;
    }
  wait_client (ssh);
  if (!g_subprocess_get_if_exited (ssh))
    return 128 + g_subprocess_get_term_sig (ssh);
  status = g_subprocess_get_exit_status (ssh);
  if (status == SSH_FAILED)
    g_printerr ("microvmctl: cannot reach %s through ssh (ssh's message is above)\n", host);
  else if (status == REMOTE_NOT_FOUND)
    g_printerr ("microvmctl: %s has no microvmctl on its PATH, which %s needs there\n", host,
                argv[0]);
  else
    return status;
  return MVC_EXIT_FAILURE;
}
