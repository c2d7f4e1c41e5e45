/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "mvc-verbs.h"

int
mvc_resume (MvcContext *ctx, int argc, char **argv)
{
  g_autoptr (MvmDbusGuest) guest = NULL;
  g_autoptr (GError) error = NULL;
  int status;

  if (!mvc_parse_verb (ctx, NULL, "NAME", "Resumes paused guest NAME.", 1, &argc, &argv, &status))
    return status;
  guest = mvc_guest (ctx, argv[1], &error);
  if (guest == NULL || !mvm_dbus_guest_call_resume_sync (guest, NULL, &error))
    return mvc_fail (error);
  return MVC_EXIT_OK;
}
