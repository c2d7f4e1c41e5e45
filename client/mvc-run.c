/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* microvmctl run: a transient guest in the foreground, as `docker run` is: its command's
 * output on stdout, SIGINT and SIGTERM turned into a graceful stop, and its exit status
 * as microvmctl's. */
#include <glib-unix.h>
#include <stdio.h>

#include "mvc-console-lines.h"
#include "mvc-verbs.h"
#include "mvm-guest-state.h"

/* the shipped init's lines around the command's run (guest-kernel/init) */
#define MARK_BEGIN "microvmd-init: running the command"
#define MARK_END "microvmd-init: the command exited"

typedef struct
{
  MvmDbusGuest *guest;
  GMainLoop *loop;
  gboolean printing; /* between the init's two lines */
  int signal;        /* the first SIGINT or SIGTERM, 0: none */
} Run;

/* The console, line by line; only what the command wrote reaches stdout */
static void
take_line (char *line, gpointer data)
{
  Run *r = data;

  if (g_str_has_prefix (line, MARK_BEGIN))
    r->printing = TRUE;
  else if (g_str_has_prefix (line, MARK_END))
    r->printing = FALSE;
  else if (r->printing)
    {
      fputs (line, stdout);
      fputc ('\n', stdout);
      fflush (stdout);
    }
}

static gboolean
is_down (MvmDbusGuest *guest)
{
  MvmGuestState state;

  return mvm_guest_state_from_string (mvm_dbus_guest_get_state (guest), &state)
         && mvm_guest_state_is_down (state);
}

static void
on_changed (GDBusProxy *proxy, GVariant *changed, GStrv invalidated, gpointer data)
{
  Run *r = data;

  if (is_down (r->guest))
    g_main_loop_quit (r->loop);
}

/* the daemon leaving the bus ends the wait too */
static void
on_owner (GObject *proxy, GParamSpec *pspec, gpointer data)
{
  g_autofree char *owner = g_dbus_proxy_get_name_owner (G_DBUS_PROXY (proxy));

  if (owner == NULL)
    g_main_loop_quit (((Run *)data)->loop);
}

/* The first signal stops the guest gracefully (its command gets SIGTERM); a second kills */
static gboolean
on_signal (gpointer data)
{
  Run *r = data;

  if (r->signal == 0)
    {
      r->signal = SIGTERM;
      mvm_dbus_guest_call_shutdown (r->guest, 0, NULL, NULL, NULL);
    }
  else
    mvm_dbus_guest_call_kill (r->guest, NULL, NULL, NULL);
  return G_SOURCE_CONTINUE;
}

/* --image NAME: a throw-away guest of its own on the image, its writes forgotten */
static char *
image_guest (const char *image)
{
  g_autofree char *name = g_strdup_printf ("run-%.40s-%08x", image, g_random_int ());

  return g_strdup_printf ("[Guest]\nName=%s\nMemory=256M\nCommandLine=quiet\n"
                          "[Disk root]\nImage=%s\nEphemeral=yes\n",
                          name, image);
}

static MvmDbusGuest *
create (MvcContext *ctx, const char *text, GVariant *file_options, char **args, GError **error)
{
  g_autofree char *path = NULL;
  GVariantBuilder options;
  GVariantIter iter;
  GVariant *entry;

  g_variant_builder_init (&options, G_VARIANT_TYPE_VARDICT);
  if (file_options)
    {
      g_variant_iter_init (&iter, file_options);
      while ((entry = g_variant_iter_next_value (&iter)))
        {
          g_variant_builder_add_value (&options, entry);
          g_variant_unref (entry);
        }
    }
  if (args && args[0])
    g_variant_builder_add (&options, "{sv}", "command",
                           g_variant_new_strv ((const char *const *)args, -1));
  if (mvc_manager (ctx, error) == NULL
      || !mvm_dbus_manager_call_create_guest_sync (
        ctx->manager, text, g_variant_builder_end (&options), &path, NULL, error))
    return NULL;
  return mvm_dbus_guest_proxy_new_sync (ctx->bus, G_DBUS_PROXY_FLAGS_NONE, "org.microvmd1", path,
                                        NULL, error);
}

/* The exit status microvmctl takes: the command's, or why there is none */
static int
outcome (Run *r)
{
  int status = mvm_dbus_guest_get_exit_status (r->guest);
  const char *state = mvm_dbus_guest_get_state (r->guest);

  if (status >= 0)
    return status;
  if (r->signal)
    return 128 + r->signal;
  g_printerr ("microvmctl: guest %s ended without its command's status: %s (%s)%s%s\n",
              mvm_dbus_guest_get_name (r->guest), state, mvm_dbus_guest_get_state_reason (r->guest),
              mvm_dbus_guest_get_state_message (r->guest)[0] ? ": " : "",
              mvm_dbus_guest_get_state_message (r->guest));
  return MVC_EXIT_FAILURE;
}

static int
follow (MvmDbusGuest *guest)
{
  Run r = { .guest = guest, .loop = g_main_loop_new (NULL, FALSE) };
  g_autoptr (GError) error = NULL;
  MvcConsoleLines *console = mvc_console_lines_open (guest, take_line, &r, &error);
  guint sigint = g_unix_signal_add (SIGINT, on_signal, &r);
  guint sigterm = g_unix_signal_add (SIGTERM, on_signal, &r);
  gulong changed = g_signal_connect (guest, "g-properties-changed", G_CALLBACK (on_changed), &r);
  gulong owner = g_signal_connect (guest, "notify::g-name-owner", G_CALLBACK (on_owner), &r);
  int status;

  if (console == NULL)
    g_printerr ("microvmctl: no console, the command's output is in the guest's log: %s\n",
                error->message);
  if (!is_down (guest))
    g_main_loop_run (r.loop);
  if (console)
    mvc_console_lines_drain (console); /* what the console still holds */
  status = outcome (&r);
  mvc_console_lines_close (console);
  g_signal_handler_disconnect (guest, changed);
  g_signal_handler_disconnect (guest, owner);
  g_source_remove (sigint);
  g_source_remove (sigterm);
  g_main_loop_unref (r.loop);
  return status;
}

int
mvc_run (MvcContext *ctx, int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MvmDbusGuest) guest = NULL;
  g_autoptr (GVariant) file_options = NULL;
  g_autofree char *image = NULL;
  g_autofree char *text = NULL;
  char **args = NULL;
  int status, split = argc;
  gboolean by_image = FALSE;
  const GOptionEntry entries[] = {
    { "image", 0, 0, G_OPTION_ARG_STRING, &image,
      "Run image NAME's own command (its Entrypoint and Cmd) on a throw-away guest", "NAME" },
    { NULL },
  };

  /* what follows "--" replaces the command's arguments, as with docker run */
  for (int i = 1; i < argc; i++)
    {
      if (g_str_equal (argv[i], "--"))
        {
          split = i;
          args = argv + i + 1;
          break;
        }
      if (g_str_has_prefix (argv[i], "--image"))
        by_image = TRUE;
    }
  argv[split] = NULL;
  argc = split;
  if (!mvc_parse_verb (ctx, entries, "FILE | --image NAME [-- ARGS…]",
                       "Runs a transient guest in the foreground: from guest file FILE, or on a "
                       "throw-away copy of image NAME. Its command (Command=, or the image's "
                       "Entrypoint and Cmd; ARGS replace Cmd) writes to stdout; SIGINT or SIGTERM "
                       "stops the guest gracefully, a second one kills it; microvmctl exits with "
                       "the command's exit status.",
                       by_image ? 0 : 1, &argc, &argv, &status))
    return status;
  if (image)
    text = image_guest (image);
  else if ((text = mvc_read_guest_file (argv[1], &file_options, &error)) == NULL)
    return mvc_fail (error);
  if ((guest = create (ctx, text, file_options, args, &error)) == NULL)
    return image ? mvc_fail (error) : mvc_fail_guest_file (error, argv[1]);
  return follow (guest);
}
