/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* microvmctl console: relays a terminal or a pipe to a guest's serial console. */
#include <errno.h>
#include <glib-unix.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>

#include "mvc-verbs.h"
#include "mvm-guest-state.h"

#define ESCAPE_BYTE 0x1d /* Ctrl-], as in telnet and virsh console */
#define CHUNK 4096
#define DEFAULT_LINGER_SEC 1.0
/* the daemon's answer to "why did the console close?" */
#define STATE_QUERY_TIMEOUT_MSEC 5000

typedef struct
{
  const char *name;
  MvmDbusGuest *guest;
  int sock;
  gboolean tty;       /* stdin is a terminal, now in raw mode */
  gboolean force;     /* take typing over from another client */
  gboolean read_only; /* only show the output; stdin is read for Ctrl-] alone */
  struct termios saved;
  gboolean escape;
  guint linger_msec;
  GByteArray *pending; /* read from stdin, not yet taken by the socket */
  gboolean stdin_done;
  guint stdin_watch;
  guint sock_in_watch;
  guint sock_out_watch;
  guint linger_timer;
  guint signal_watches[3];
  gulong props_handler;
  gulong owner_handler;
  GMainLoop *loop;
  gboolean leaving;
  int status;
  char *message; /* printed once the terminal is restored */
} Console;

static gboolean on_stdin (int fd, GIOCondition condition, gpointer user_data);
static gboolean on_sock_out (int fd, GIOCondition condition, gpointer user_data);

/* Only the first reason to leave counts. Takes @message. */
static void
leave (Console *c, int status, char *message)
{
  if (c->leaving)
    {
      g_free (message);
      return;
    }
  c->leaving = TRUE;
  c->status = status;
  c->message = message;
  g_main_loop_quit (c->loop);
}

static void
leave_on_error (Console *c, GError *error)
{
  /* a reader that went away (| head) is a normal end */
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_BROKEN_PIPE))
    leave (c, MVC_EXIT_OK, NULL);
  else
    leave (c, MVC_EXIT_FAILURE, g_strdup_printf ("microvmctl: %s", error->message));
  g_error_free (error);
}

static gboolean
on_linger_done (gpointer user_data)
{
  Console *c = user_data;

  c->linger_timer = 0;
  leave (c, MVC_EXIT_OK, NULL);
  return G_SOURCE_REMOVE;
}

/* Pipe mode, once all input is sent: leave when the guest has been quiet for a while. */
static void
restart_linger (Console *c)
{
  if (!c->stdin_done || c->pending->len > 0)
    return;
  g_clear_handle_id (&c->linger_timer, g_source_remove);
  c->linger_timer = g_timeout_add (c->linger_msec, on_linger_done, c);
}

static void
watch_stdin (Console *c)
{
  if (!c->stdin_done && c->stdin_watch == 0)
    c->stdin_watch = g_unix_fd_add (STDIN_FILENO, G_IO_IN | G_IO_HUP | G_IO_ERR, on_stdin, c);
}

/* Output left in the socket when the guest or the daemon went away is still shown. */
static void
drain_socket (Console *c)
{
  char buf[CHUNK];
  gssize n;

  while ((n = recv (c->sock, buf, sizeof buf, MSG_DONTWAIT)) > 0 || (n < 0 && errno == EINTR))
    if (n > 0 && !mvc_write_all (STDOUT_FILENO, "standard output", buf, n, NULL))
      return;
}

static gboolean
state_is_down (const char *name)
{
  MvmGuestState state;

  return mvm_guest_state_from_string (name, &state) && mvm_guest_state_is_down (state);
}

/* Why the socket closed: the guest stopped, or the daemon left. */
static void
console_closed (Console *c)
{
  GDBusProxy *proxy = G_DBUS_PROXY (c->guest);
  g_autoptr (GVariant) reply = NULL;
  g_autoptr (GVariant) state = NULL;
  g_autoptr (GError) error = NULL;
  const char *state_name = NULL;

  reply = g_dbus_connection_call_sync (
    g_dbus_proxy_get_connection (proxy), g_dbus_proxy_get_name (proxy),
    g_dbus_proxy_get_object_path (proxy), "org.freedesktop.DBus.Properties", "Get",
    g_variant_new ("(ss)", MVC_GUEST_IFACE, "State"), G_VARIANT_TYPE ("(v)"),
    G_DBUS_CALL_FLAGS_NO_AUTO_START, STATE_QUERY_TIMEOUT_MSEC, NULL, &error);
  if (reply)
    g_variant_get (reply, "(v)", &state);
  if (state && g_variant_is_of_type (state, G_VARIANT_TYPE_STRING))
    state_name = g_variant_get_string (state, NULL);
  if (state_is_down (state_name))
    leave (c, MVC_EXIT_OK, g_strdup_printf ("microvmctl: guest %s %s", c->name, state_name));
  else if (state_name)
    leave (c, MVC_EXIT_FAILURE,
           g_strdup_printf ("microvmctl: microvmd closed guest %s's console; the guest is %s",
                            c->name, state_name));
  else if (g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_UNKNOWN_OBJECT)
           || g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_UNKNOWN_METHOD))
    /* a transient guest is gone once it stops */
    leave (c, MVC_EXIT_OK, g_strdup_printf ("microvmctl: guest %s stopped", c->name));
  else if (error == NULL || g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_NAME_HAS_NO_OWNER)
           || g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_SERVICE_UNKNOWN))
    leave (
      c, MVC_EXIT_FAILURE,
      g_strdup_printf ("microvmctl: microvmd left the bus; guest %s's console is closed", c->name));
  else
    {
      g_dbus_error_strip_remote_error (error);
      leave (c, MVC_EXIT_FAILURE,
             g_strdup_printf ("microvmctl: guest %s's console closed; microvmd: %s", c->name,
                              error->message));
    }
}

static gboolean
on_sock_in (int fd, GIOCondition condition, gpointer user_data)
{
  Console *c = user_data;
  GError *error = NULL;
  char buf[CHUNK];
  gssize n = recv (fd, buf, sizeof buf, MSG_DONTWAIT);

  if (n < 0 && (errno == EAGAIN || errno == EINTR))
    return G_SOURCE_CONTINUE;
  if (n <= 0)
    {
      c->sock_in_watch = 0;
      console_closed (c);
      return G_SOURCE_REMOVE;
    }
  if (!mvc_write_all (STDOUT_FILENO, "standard output", buf, n, &error))
    {
      c->sock_in_watch = 0;
      leave_on_error (c, error);
      return G_SOURCE_REMOVE;
    }
  if (c->linger_timer)
    restart_linger (c);
  return G_SOURCE_CONTINUE;
}

/* Sends what the socket takes without blocking; FALSE when the console is gone. */
static gboolean
flush_pending (Console *c)
{
  while (c->pending->len > 0)
    {
      gssize n = send (c->sock, c->pending->data, c->pending->len, MSG_DONTWAIT | MSG_NOSIGNAL);

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0 && errno == EAGAIN)
        return TRUE;
      if (n < 0)
        return FALSE;
      g_byte_array_remove_range (c->pending, 0, n);
    }
  return TRUE;
}

/* Sends what is pending; FALSE while the socket is full (then stdin waits and the socket is
 * watched) or after the console closed. */
static gboolean
send_pending (Console *c)
{
  if (!flush_pending (c))
    {
      drain_socket (c);
      console_closed (c);
      return FALSE;
    }
  if (c->pending->len > 0)
    {
      if (c->sock_out_watch == 0)
        c->sock_out_watch = g_unix_fd_add (c->sock, G_IO_OUT | G_IO_ERR, on_sock_out, c);
      return FALSE;
    }
  restart_linger (c);
  return TRUE;
}

static gboolean
on_sock_out (int fd, GIOCondition condition, gpointer user_data)
{
  Console *c = user_data;

  c->sock_out_watch = 0;
  if (send_pending (c))
    watch_stdin (c);
  return G_SOURCE_REMOVE;
}

static gboolean
on_stdin (int fd, GIOCondition condition, gpointer user_data)
{
  Console *c = user_data;
  char buf[CHUNK];
  gssize n = read (fd, buf, sizeof buf);
  const char *escape;

  if (n < 0 && (errno == EAGAIN || errno == EINTR))
    return G_SOURCE_CONTINUE;
  if (n <= 0)
    {
      /* a terminal that hung up, or the end of a script */
      c->stdin_watch = 0;
      c->stdin_done = TRUE;
      if (c->tty)
        leave (c, MVC_EXIT_OK, NULL);
      else
        send_pending (c);
      return G_SOURCE_REMOVE;
    }
  escape = c->tty && c->escape ? memchr (buf, ESCAPE_BYTE, n) : NULL;
  if (!c->read_only)
    g_byte_array_append (c->pending, (const guint8 *)buf, escape ? escape - buf : n);
  if (escape)
    {
      c->stdin_watch = 0;
      (void)flush_pending (c);
      leave (c, MVC_EXIT_OK, NULL);
      return G_SOURCE_REMOVE;
    }
  if (send_pending (c))
    return G_SOURCE_CONTINUE;
  c->stdin_watch = 0;
  return G_SOURCE_REMOVE;
}

static gboolean
on_signal (gpointer user_data)
{
  leave (user_data, MVC_EXIT_OK, NULL);
  return G_SOURCE_CONTINUE;
}

/* The daemon does not always close the consoles of a guest that stopped: watch its state. */
static void
on_properties_changed (GDBusProxy *proxy, GVariant *changed, GStrv invalidated, gpointer user_data)
{
  Console *c = user_data;
  const char *state = NULL;

  if (!g_variant_lookup (changed, "State", "&s", &state))
    return;
  if (state_is_down (state))
    {
      drain_socket (c);
      leave (c, MVC_EXIT_OK, g_strdup_printf ("microvmctl: guest %s %s", c->name, state));
    }
}

static void
on_name_owner (GObject *proxy, GParamSpec *pspec, gpointer user_data)
{
  Console *c = user_data;
  g_autofree char *owner = g_dbus_proxy_get_name_owner (G_DBUS_PROXY (proxy));

  if (owner)
    return;
  drain_socket (c);
  leave (
    c, MVC_EXIT_FAILURE,
    g_strdup_printf ("microvmctl: microvmd left the bus; guest %s's console is closed", c->name));
}

static gboolean
open_console (Console *c, GError **error)
{
  c->sock = mvc_open_console (c->guest, c->force, c->read_only, error);
  return c->sock >= 0;
}

static void
enter_raw_mode (Console *c)
{
  struct termios raw;

  if (!isatty (STDIN_FILENO) || tcgetattr (STDIN_FILENO, &c->saved) < 0)
    return;
  raw = c->saved;
  cfmakeraw (&raw);
  if (tcsetattr (STDIN_FILENO, TCSANOW, &raw) < 0)
    return;
  c->tty = TRUE;
  g_printerr (c->escape ? "Connected to guest %s's console; press Ctrl-] to leave.\r\n"
                        : "Connected to guest %s's console; it ends when the guest stops.\r\n",
              c->name);
}

static void
leave_raw_mode (Console *c)
{
  if (!c->tty)
    return;
  tcsetattr (STDIN_FILENO, TCSADRAIN, &c->saved);
  c->tty = FALSE;
  /* the guest's prompt left the cursor mid-line */
  g_printerr ("\n");
}

static void
relay (Console *c)
{
  const int signals[] = { SIGINT, SIGTERM, SIGHUP };

  c->loop = g_main_loop_new (NULL, FALSE);
  c->pending = g_byte_array_new ();
  for (gsize i = 0; i < G_N_ELEMENTS (signals); i++)
    c->signal_watches[i] = g_unix_signal_add (signals[i], on_signal, c);
  c->props_handler
    = g_signal_connect (c->guest, "g-properties-changed", G_CALLBACK (on_properties_changed), c);
  c->owner_handler
    = g_signal_connect (c->guest, "notify::g-name-owner", G_CALLBACK (on_name_owner), c);
  c->sock_in_watch = g_unix_fd_add (c->sock, G_IO_IN | G_IO_HUP | G_IO_ERR, on_sock_in, c);
  enter_raw_mode (c);
  watch_stdin (c);
  g_main_loop_run (c->loop);
  leave_raw_mode (c);

  g_clear_handle_id (&c->stdin_watch, g_source_remove);
  g_clear_handle_id (&c->sock_in_watch, g_source_remove);
  g_clear_handle_id (&c->sock_out_watch, g_source_remove);
  g_clear_handle_id (&c->linger_timer, g_source_remove);
  for (gsize i = 0; i < G_N_ELEMENTS (signals); i++)
    g_clear_handle_id (&c->signal_watches[i], g_source_remove);
  g_clear_signal_handler (&c->props_handler, c->guest);
  g_clear_signal_handler (&c->owner_handler, c->guest);
  g_clear_pointer (&c->pending, g_byte_array_unref);
  g_clear_pointer (&c->loop, g_main_loop_unref);
}

int
mvc_console (MvcContext *ctx, int argc, char **argv)
{
  g_autoptr (MvmDbusGuest) guest = NULL;
  g_autoptr (GError) error = NULL;
  Console c = { .sock = -1, .status = MVC_EXIT_OK };
  gboolean no_escape = FALSE;
  double linger = DEFAULT_LINGER_SEC;
  int status;
  const GOptionEntry entries[] = {
    { "no-escape", 0, 0, G_OPTION_ARG_NONE, &no_escape,
      "Send Ctrl-] to the guest too; leave only by a signal or when the guest stops", NULL },
    { "force", 0, 0, G_OPTION_ARG_NONE, &c.force,
      "Type even while another client types; that client then only watches", NULL },
    { "read-only", 0, 0, G_OPTION_ARG_NONE, &c.read_only,
      "Only watch: what is typed (but Ctrl-]) is dropped", NULL },
    { "linger", 0, 0, G_OPTION_ARG_DOUBLE, &linger,
      "When stdin is not a terminal: after its end, wait until the guest was quiet for S "
      "seconds (default 1)",
      "S" },
    { NULL },
  };

  /* -H: the console socket is a file descriptor, which cannot cross ssh */
  if (ctx->host)
    return mvc_remote_client (ctx, argc, argv);
  if (!mvc_parse_verb (ctx, entries, "NAME",
                       "Connects the terminal, or a pipe, to guest NAME's serial console.", 1,
                       &argc, &argv, &status))
    return status;
  if (!(linger >= 0 && linger <= 86400))
    return mvc_usage ("console: --linger needs a number of seconds from 0 to 86400");
  /* a closed stdout is reported as EPIPE, after the terminal is restored */
  signal (SIGPIPE, SIG_IGN);
  c.name = argv[1];
  c.escape = !no_escape;
  c.linger_msec = (guint)(linger * 1000 + 0.5);
  guest = mvc_guest_watched (ctx, argv[1], &error);
  if (guest == NULL)
    return mvc_fail (error);
  c.guest = guest;
  if (!open_console (&c, &error))
    return mvc_fail (error);
  relay (&c);
  close (c.sock);
  if (c.message)
    g_printerr ("%s\n", c.message);
  g_free (c.message);
  return c.status;
}
