/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* microvmctl: a thin client of org.microvmd1; global options, then one verb. */
#include <locale.h>

#include "config.h"
#include "mvc-verbs.h"

typedef struct
{
  const char *name;
  MvcVerbFunc run;
  const char *summary;
} MvcVerb;

static const MvcVerb verbs[] = {
  { "list", mvc_list, "List guests" },
  { "status", mvc_status, "Show a guest" },
  { "define", mvc_define, "Define or replace a persistent guest from a guest file" },
  { "undefine", mvc_undefine, "Remove a stopped guest and its file" },
  { "clone", mvc_clone, "Define a guest like another, over the same images" },
  { "create", mvc_create, "Start a transient guest from a guest file" },
  { "run", mvc_run, "Run a transient guest's command in the foreground, with its exit status" },
  { "start", mvc_start, "Start a guest" },
  { "stop", mvc_stop, "Shut a guest down" },
  { "kill", mvc_kill, "Kill a guest's QEMU" },
  { "reboot", mvc_reboot, "Reset a guest" },
  { "pause", mvc_pause, "Pause a guest" },
  { "resume", mvc_resume, "Resume a paused guest" },
  { "check", mvc_check, "Validate a guest file and print its QEMU command line" },
  { "set-memory", mvc_set_memory, "Set a guest's balloon target" },
  { "stats", mvc_stats, "Show a running guest's counters" },
  { "autostart", mvc_autostart, "Start a guest with the daemon, or not" },
  { "reload", mvc_reload, "Re-read the guest folder" },
  { "console", mvc_console, "Connect to a running guest's serial console" },
  { "log", mvc_log, "Print a guest's serial console log" },
  { "image", mvc_image, "Import, list, inspect or remove images" },
  { "snapshot", mvc_snapshot, "Save, list or remove a guest's snapshots" },
};

static const MvcVerb *
find_verb (const char *name)
{
  for (gsize i = 0; i < G_N_ELEMENTS (verbs); i++)
    if (g_str_equal (verbs[i].name, name))
      return &verbs[i];
  return NULL;
}

static char *
describe_verbs (void)
{
  GString *s = g_string_new ("Verbs:\n");

  for (gsize i = 0; i < G_N_ELEMENTS (verbs); i++)
    g_string_append_printf (s, "  %-12s %s\n", verbs[i].name, verbs[i].summary);
  g_string_append (s, "\n'microvmctl VERB --help' describes a verb. Exit status: 0 done, 1 failed, "
                      "2 usage error, 3 no such guest.");
  return g_string_free (s, FALSE);
}

int
main (int argc, char **argv)
{
  g_auto (MvcContext) ctx = { .bus_type = G_BUS_TYPE_SYSTEM };
  g_autoptr (GOptionContext) octx = g_option_context_new ("VERB [OPTION…] [ARG…]");
  g_autoptr (GError) error = NULL;
  g_autofree char *description = describe_verbs ();
  g_autofree char *host = NULL;
  gboolean session = FALSE, version = FALSE, no_ask_password = FALSE;
  const MvcVerb *verb;
  const GOptionEntry entries[] = {
    { "session", 0, 0, G_OPTION_ARG_NONE, &session, "Talk to microvmd on the session bus", NULL },
    { "host", 'H', 0, G_OPTION_ARG_STRING, &host,
      "Talk to microvmd on HOST through ssh (microvmctl(1): what each verb does there)",
      "[USER@]HOST[:PORT]" },
    { "json", 0, 0, G_OPTION_ARG_NONE, &ctx.json, "Print JSON (list, status, stats)", NULL },
    { "no-ask-password", 0, 0, G_OPTION_ARG_NONE, &no_ask_password,
      "Do not let polkit ask for a password; without the right, fail at once", NULL },
    { "version", 0, 0, G_OPTION_ARG_NONE, &version, "Print the version and exit", NULL },
    { NULL },
  };

  setlocale (LC_ALL, "");
  g_option_context_add_main_entries (octx, entries, NULL);
  g_option_context_set_summary (octx, "Manages QEMU microvm guests through microvmd.");
  g_option_context_set_description (octx, description);
  /* stop at the verb: what follows is the verb's to parse */
  g_option_context_set_strict_posix (octx, TRUE);
  if (!g_option_context_parse (octx, &argc, &argv, &error))
    return mvc_usage ("%s", error->message);
  if (version)
    {
      g_print ("microvmctl %s\n", MVM_VERSION);
      return MVC_EXIT_OK;
    }
  if (host && !mvc_remote_check_host (host, &error))
    return mvc_usage ("%s", error->message);
  if (argc < 2)
    return mvc_usage ("no verb given; see 'microvmctl --help'");
  verb = find_verb (argv[1]);
  if (verb == NULL)
    return mvc_usage ("unknown verb '%s'; see 'microvmctl --help'", argv[1]);
  ctx.bus_type = session ? G_BUS_TYPE_SESSION : G_BUS_TYPE_SYSTEM;
  ctx.ask_password = !no_ask_password;
  ctx.verb = verb->name;
  ctx.host = host;
  return verb->run (&ctx, argc - 1, argv + 1);
}
