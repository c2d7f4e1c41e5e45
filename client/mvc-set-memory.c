/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "mvc-verbs.h"
#include "mvm-value.h"

int
mvc_set_memory (MvcContext *ctx, int argc, char **argv)
{
  g_autoptr (MvmDbusGuest) guest = NULL;
  g_autoptr (GError) error = NULL;
  guint64 bytes;
  int status;

  if (!mvc_parse_verb (ctx, NULL, "NAME SIZE",
                       "Sets the balloon target of running guest NAME: the memory the guest may "
                       "use, between 16M and its Memory=. SIZE takes a K, M or G suffix.",
                       2, &argc, &argv, &status))
    return status;
  if (!mvm_parse_size (argv[2], &bytes))
    return mvc_usage ("set-memory: '%s' is not a size; write e.g. 512M or 1G", argv[2]);
  guest = mvc_guest (ctx, argv[1], &error);
  if (guest == NULL || !mvm_dbus_guest_call_set_memory_sync (guest, bytes, NULL, &error))
    return mvc_fail (error);
  return MVC_EXIT_OK;
}
