/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "mvd-dbus-options.h"

#include "mvm-error.h"

static const MvdDbusOption *
find (const MvdDbusOption *known, const char *key, GVariant *value)
{
  for (; known->key; known++)
    if (g_str_equal (known->key, key) && g_variant_is_of_type (value, G_VARIANT_TYPE (known->type)))
      return known;
  return NULL;
}

static void
refuse (const char *method, const char *key, const MvdDbusOption *known, GError **error)
{
  g_autoptr (GString) list = g_string_new (NULL);

  for (; known->key; known++)
    g_string_append_printf (list, "%s%s (%s)", list->len ? ", " : "", known->key, known->type);
  g_set_error (error, MVM_ERROR, MVM_ERROR_INVALID_CONFIG,
               "%s: option '%s' is unknown or not of its type; the options are: %s", method, key,
               list->str);
}

gboolean
mvd_dbus_options_parse (const char *method, GVariant *options, const MvdDbusOption *known,
                        GError **error)
{
  GVariantIter iter;
  const char *key;
  GVariant *value;

  g_variant_iter_init (&iter, options);
  while (g_variant_iter_next (&iter, "{&sv}", &key, &value))
    {
      g_autoptr (GVariant) owned = value;
      const MvdDbusOption *option = find (known, key, value);
      if (option == NULL)
        {
          refuse (method, key, known, error);
          return FALSE;
        }
      if (g_str_equal (option->type, "b"))
        *(gboolean *)option->value = g_variant_get_boolean (value);
      else
        *(guint64 *)option->value = g_variant_get_uint64 (value);
    }
  return TRUE;
}
