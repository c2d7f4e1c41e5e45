/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "mvc-verbs.h"

int
mvc_reload (MvcContext *ctx, int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  MvmDbusManager *manager;
  int status;

  if (!mvc_parse_verb (ctx, NULL, "",
                       "Makes the daemon re-read its guest folder: new files are added, changed "
                       "ones redefined, stopped guests whose file is gone removed. Fails naming "
                       "the files it skipped.",
                       0, &argc, &argv, &status))
    return status;
  if ((manager = mvc_manager (ctx, &error)) == NULL
      || !mvm_dbus_manager_call_reload_sync (manager, NULL, &error))
    return mvc_fail (error);
  return MVC_EXIT_OK;
}
