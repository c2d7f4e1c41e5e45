/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "mvc-verbs.h"

int
mvc_define (MvcContext *ctx, int argc, char **argv)
{
  int status;

  if (!mvc_parse_verb (ctx, NULL, "FILE",
                       "Defines a persistent guest from FILE, or replaces the guest of that name. "
                       "Without Name= in [Guest] the guest is named after FILE, less .guest.",
                       1, &argc, &argv, &status))
    return status;
  return mvc_send_guest_file (ctx, argv[1], mvm_dbus_manager_call_define_guest_sync);
}
