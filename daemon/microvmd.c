/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <locale.h>
#include <stdlib.h>

#include "config.h"
#include "mvd-check.h"
#include "mvd-service.h"

typedef struct
{
  gboolean check;
  gboolean session;
  gboolean version;
  char *config_path;
  char *socket_dir;
  char **files;
} Options;

static void options_clear (Options *o);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Options, options_clear)

static void
options_clear (Options *o)
{
  g_free (o->config_path);
  g_free (o->socket_dir);
  g_strfreev (o->files);
}

static gboolean
parse_options (Options *o, int *argc, char ***argv, GError **error)
{
  const GOptionEntry entries[] = {
    { "check", 0, 0, G_OPTION_ARG_NONE, &o->check,
      "Validate guest files and print each one's QEMU command line, one argument a line", NULL },
    { "config", 'c', 0, G_OPTION_ARG_FILENAME, &o->config_path, "Read daemon settings from PATH",
      "PATH" },
    { "socket-dir", 0, 0, G_OPTION_ARG_FILENAME, &o->socket_dir,
      "With --check: sockets as paths in DIR instead of inherited fds", "DIR" },
    { "session", 0, 0, G_OPTION_ARG_NONE, &o->session, "Serve the session bus, per-user folders",
      NULL },
    { "version", 0, 0, G_OPTION_ARG_NONE, &o->version, "Print the version and exit", NULL },
    { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &o->files, NULL, "[FILE…]" },
    { NULL },
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("- QEMU microvm manager");

  g_option_context_add_main_entries (ctx, entries, NULL);
  g_option_context_set_summary (ctx, "Without --check, serves org.microvmd1 on the bus.");
  if (!g_option_context_parse (ctx, argc, argv, error))
    return FALSE;
  if (o->check && (o->files == NULL || o->files[0] == NULL))
    {
      g_set_error_literal (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                           "--check needs at least one guest file");
      return FALSE;
    }
  return TRUE;
}

static MvmDaemonConfig *
load_config (const Options *o, const MvmPaths *paths, GError **error)
{
  /* An explicit --config must exist; the default file is optional. */
  MvmDaemonConfig *config = mvm_daemon_config_load (
    o->config_path ? o->config_path : paths->config_file, o->config_path == NULL, error);

  if (config)
    {
      mvm_daemon_config_set_default_image_dir (config, paths->images_dir);
      mvm_daemon_config_set_guest_data_dir (config, paths->guest_data_dir);
    }
  return config;
}

int
main (int argc, char **argv)
{
  g_auto (Options) opts = { 0 };
  g_autoptr (GError) error = NULL;
  g_autoptr (MvmDaemonConfig) config = NULL;
  g_autoptr (MvmPaths) paths = NULL;

  setlocale (LC_ALL, "");
  if (!parse_options (&opts, &argc, &argv, &error))
    {
      g_printerr ("microvmd: %s\n", error->message);
      return 2;
    }
  if (opts.version)
    {
      g_print ("microvmd %s\n", MVM_VERSION);
      return 0;
    }
  paths = mvm_paths_new (opts.session);
  config = load_config (&opts, paths, &error);
  if (config == NULL)
    {
      g_printerr ("microvmd: %s\n", error->message);
      return 1;
    }
  if (opts.check)
    return mvd_check_run (config, opts.socket_dir, opts.files);
  return mvd_service_run (g_steal_pointer (&paths), g_steal_pointer (&config));
}
