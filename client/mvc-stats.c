/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <string.h>

#include "mvc-verbs.h"

/* Keys end in their unit: -bytes, -usec, or nothing for a count. */
static char *
format_value (const char *key, GVariant *value)
{
  guint64 n;

  if (!g_variant_is_of_type (value, G_VARIANT_TYPE_UINT64))
    return g_variant_print (value, FALSE);
  n = g_variant_get_uint64 (value);
  if (g_str_has_suffix (key, "-bytes"))
    {
      g_autofree char *size = g_format_size_full (n, G_FORMAT_SIZE_IEC_UNITS);
      return g_strdup_printf ("%s (%" G_GUINT64_FORMAT ")", size, n);
    }
  if (g_str_has_suffix (key, "-usec"))
    return mvc_format_duration (n);
  return g_strdup_printf ("%" G_GUINT64_FORMAT, n);
}

static int
compare_keys (gconstpointer a, gconstpointer b)
{
  return g_strcmp0 (*(const char *const *)a, *(const char *const *)b);
}

static void
print_human (GVariant *stats)
{
  g_autoptr (GPtrArray) keys = g_ptr_array_new ();
  GVariantIter iter;
  const char *key;
  int width = 0;

  g_variant_iter_init (&iter, stats);
  while (g_variant_iter_next (&iter, "{&sv}", &key, NULL))
    {
      g_ptr_array_add (keys, (gpointer)key);
      width = MAX (width, (int)strlen (key));
    }
  g_ptr_array_sort (keys, compare_keys);
  for (guint i = 0; i < keys->len; i++)
    {
      g_autoptr (GVariant) value = g_variant_lookup_value (stats, keys->pdata[i], NULL);
      g_autofree char *text = format_value (keys->pdata[i], value);
      g_print ("%-*s %s\n", width + 1, (char *)keys->pdata[i], text);
    }
}

int
mvc_stats (MvcContext *ctx, int argc, char **argv)
{
  g_autoptr (MvmDbusGuest) guest = NULL;
  g_autoptr (GVariant) stats = NULL;
  g_autoptr (GError) error = NULL;
  int status;

  if (!mvc_parse_verb_json (ctx, NULL, "NAME",
                            "Shows counters of running guest NAME: CPU time, RSS, balloon size, "
                            "block I/O.",
                            1, &argc, &argv, &status))
    return status;
  guest = mvc_guest (ctx, argv[1], &error);
  if (guest == NULL || !mvm_dbus_guest_call_get_stats_sync (guest, &stats, NULL, &error))
    return mvc_fail (error);
  if (ctx->json)
    mvc_print_json (json_gvariant_serialize (stats));
  else
    print_human (stats);
  return MVC_EXIT_OK;
}
