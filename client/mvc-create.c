/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "mvc-verbs.h"

int
mvc_create (MvcContext *ctx, int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *text = NULL;
  g_autofree char *path = NULL;
  MvmDbusManager *manager;
  guint name_line;
  int status;

  if (!mvc_parse_verb (ctx, NULL, "FILE",
                       "Creates a transient guest from FILE and starts it; it is forgotten when it "
                       "stops. Returns once QEMU runs. Names as in define.",
                       1, &argc, &argv, &status))
    return status;
  text = mvc_read_guest_file (argv[1], &name_line, &error);
  if (text == NULL || (manager = mvc_manager (ctx, &error)) == NULL)
    return mvc_fail (error);
  if (!mvm_dbus_manager_call_create_guest_sync (manager, text, g_variant_new ("a{sv}", NULL), &path,
                                                NULL, &error))
    return mvc_fail_guest_file (error, argv[1], name_line);
  return MVC_EXIT_OK;
}
