/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "mvc-verbs.h"

int
mvc_check (MvcContext *ctx, int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *text = NULL;
  g_autoptr (GVariant) options = NULL;
  g_auto (GStrv) args = NULL;
  MvmDbusManager *manager;
  int status;

  if (!mvc_parse_verb (ctx, NULL, "FILE",
                       "Validates FILE against the daemon's settings and prints the QEMU command "
                       "line it would run, one argument a line. Starts nothing.",
                       1, &argc, &argv, &status))
    return status;
  text = mvc_read_guest_file (argv[1], &options, &error);
  if (text == NULL || (manager = mvc_manager (ctx, &error)) == NULL)
    return mvc_fail (error);
  if (!mvm_dbus_manager_call_preview_command_line_sync (manager, text, options, &args, NULL,
                                                        &error))
    return mvc_fail_guest_file (error, argv[1]);
  for (guint i = 0; args[i]; i++)
    g_print ("%s\n", args[i]);
  return MVC_EXIT_OK;
}
