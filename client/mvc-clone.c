/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "mvc-verbs.h"

int
mvc_clone (MvcContext *ctx, int argc, char **argv)
{
  gboolean full = FALSE;
  const GOptionEntry entries[] = {
    { "full", 0, 0, G_OPTION_ARG_NONE, &full,
      "Copy SOURCE's own writes too (its overlays and writable Path= disks); SOURCE must be "
      "stopped",
      NULL },
    { NULL },
  };
  g_autoptr (MvmDbusGuest) guest = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *path = NULL;
  GVariantDict options;
  int status;

  if (!mvc_parse_verb (ctx, entries, "SOURCE NEW",
                       "Defines NEW, a guest like SOURCE with its own name, UUID and MACs. Its "
                       "Image= disks get overlays of their own over the same images; without "
                       "--full it starts from the images as imported, not from SOURCE's writes.",
                       2, &argc, &argv, &status))
    return status;
  g_variant_dict_init (&options, NULL);
  if (full)
    g_variant_dict_insert (&options, "full", "b", TRUE);
  guest = mvc_guest (ctx, argv[1], &error);
  if (guest == NULL
      || !mvm_dbus_guest_call_clone_sync (guest, argv[2], g_variant_dict_end (&options), &path,
                                          NULL, &error))
    return mvc_fail (error);
  g_print ("guest %s: defined as a clone of %s\n", argv[2], argv[1]);
  return MVC_EXIT_OK;
}
