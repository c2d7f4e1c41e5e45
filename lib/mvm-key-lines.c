/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "mvm-key-lines.h"

#include <string.h>

#include "mvm-error.h"

struct _MvmKeyLines
{
  GHashTable *lines;  /* "group" or "group\nkey" -> line */
  GHashTable *values; /* "group\nkey" -> GPtrArray of values, for list keys */
  const char *const *list_keys;
};

static char *
make_id (const char *group, const char *key)
{
  return key ? g_strconcat (group, "\n", key, NULL) : g_strdup (group);
}

static void
value_free (gpointer p)
{
  MvmKeyLineValue *v = p;
  g_free (v->value);
  g_free (v);
}

static void
record_value (MvmKeyLines *self, const char *id, guint line, const char *value)
{
  GPtrArray *values = g_hash_table_lookup (self->values, id);
  MvmKeyLineValue *v = g_new0 (MvmKeyLineValue, 1);

  if (values == NULL)
    {
      values = g_ptr_array_new_with_free_func (value_free);
      g_hash_table_insert (self->values, g_strdup (id), values);
    }
  v->line = line;
  v->value = g_strdup (value);
  g_ptr_array_add (values, v);
}

static gboolean
record (MvmKeyLines *self, const char *group, const char *key, const char *value, guint line,
        const char *file_name, GError **error)
{
  g_autofree char *id = make_id (group, key);
  guint first = GPOINTER_TO_UINT (g_hash_table_lookup (self->lines, id));

  if (key && self->list_keys && g_strv_contains (self->list_keys, key))
    {
      record_value (self, id, line, value);
      if (first != 0)
        return TRUE;
    }
  else if (first != 0)
    {
      if (key)
        g_set_error (error, MVM_ERROR, MVM_ERROR_INVALID_CONFIG,
                     "%s:%u: [%s] %s: key given twice (first at line %u); keep one", file_name,
                     line, group, key, first);
      else
        g_set_error (error, MVM_ERROR, MVM_ERROR_INVALID_CONFIG,
                     "%s:%u: [%s]: group given twice (first at line %u); labels must be unique",
                     file_name, line, group, first);
      return FALSE;
    }
  g_hash_table_insert (self->lines, g_steal_pointer (&id), GUINT_TO_POINTER (line));
  return TRUE;
}

static gboolean
scan_line (MvmKeyLines *self, const char *text, guint line, char **group, const char *file_name,
           GError **error)
{
  g_autofree char *stripped = g_strstrip (g_strdup (text));
  const char *eq;

  /* GKeyFile takes only '#' for a comment and gives no line number for a bad line: name it here */
  if (stripped[0] == '\0' || stripped[0] == '#')
    return TRUE;
  if (stripped[0] == '[' && strchr (stripped, ']') != NULL)
    {
      const char *close = strchr (stripped, ']');
      g_free (*group);
      *group = g_strndup (stripped + 1, close - stripped - 1);
      return record (self, *group, NULL, NULL, line, file_name, error);
    }
  eq = strchr (stripped, '=');
  if (eq == NULL || eq == stripped)
    {
      g_set_error (error, MVM_ERROR, MVM_ERROR_INVALID_CONFIG,
                   "%s:%u: '%s' is not a [Group], a Key=value line or a # comment", file_name, line,
                   stripped);
      return FALSE;
    }
  if (*group == NULL)
    {
      g_set_error (error, MVM_ERROR, MVM_ERROR_INVALID_CONFIG,
                   "%s:%u: '%s' comes before the first [Group]", file_name, line, stripped);
      return FALSE;
    }
  {
    g_autofree char *key = g_strstrip (g_strndup (stripped, eq - stripped));
    g_autofree char *value = g_strstrip (g_strdup (eq + 1));
    return record (self, *group, key, value, line, file_name, error);
  }
}

MvmKeyLines *
mvm_key_lines_new (const char *data, gsize length, const char *file_name,
                   const char *const *list_keys, GError **error)
{
  g_autoptr (MvmKeyLines) self = g_new0 (MvmKeyLines, 1);
  g_autofree char *copy = g_strndup (data, length);
  g_auto (GStrv) lines = g_strsplit (copy, "\n", -1);
  g_autofree char *group = NULL;

  self->lines = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->values
    = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify)g_ptr_array_unref);
  self->list_keys = list_keys;
  for (guint i = 0; lines[i] != NULL; i++)
    if (!scan_line (self, lines[i], i + 1, &group, file_name, error))
      return NULL;
  return g_steal_pointer (&self);
}

void
mvm_key_lines_free (MvmKeyLines *lines)
{
  if (lines == NULL)
    return;
  g_clear_pointer (&lines->lines, g_hash_table_unref);
  g_clear_pointer (&lines->values, g_hash_table_unref);
  g_free (lines);
}

guint
mvm_key_lines_lookup (const MvmKeyLines *lines, const char *group, const char *key)
{
  g_autofree char *id = make_id (group, key);

  return GPOINTER_TO_UINT (g_hash_table_lookup (lines->lines, id));
}

const GPtrArray *
mvm_key_lines_values (const MvmKeyLines *lines, const char *group, const char *key)
{
  g_autofree char *id = make_id (group, key);

  return g_hash_table_lookup (lines->values, id);
}
