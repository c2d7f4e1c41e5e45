/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "mvc-verbs.h"

int
mvc_create (MvcContext *ctx, int argc, char **argv)
{
  int status;

  if (!mvc_parse_verb (ctx, NULL, "FILE",
                       "Creates a transient guest from FILE and starts it; it is forgotten when it "
                       "stops. Returns once QEMU runs. Names as in define.",
                       1, &argc, &argv, &status))
    return status;
  return mvc_send_guest_file (ctx, argv[1], mvm_dbus_manager_call_create_guest_sync);
}
