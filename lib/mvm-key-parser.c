/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "mvm-key-parser.h"

#include <stdarg.h>
#include <string.h>

#include "mvm-error.h"
#include "mvm-value.h"

gboolean
mvm_key_parser_init (MvmKeyParser *parser, const char *data, gsize length, const char *file_name,
                     const char *const *list_keys, GError **error)
{
  g_autoptr (GKeyFile) keyfile = g_key_file_new ();
  g_autoptr (GError) local = NULL;

  parser->file_name = file_name;
  if (!g_utf8_validate (data, length, NULL))
    return mvm_key_parser_fail (parser, NULL, NULL, error, "not valid UTF-8 text");
  /* the line index first: it names the line of a syntax error, GKeyFile does not */
  parser->lines
    = mvm_key_lines_new (data, length, file_name ? file_name : "guest file", list_keys, error);
  if (parser->lines == NULL)
    return FALSE;
  if (!g_key_file_load_from_data (keyfile, data, length, G_KEY_FILE_NONE, &local))
    {
      g_clear_pointer (&parser->lines, mvm_key_lines_free);
      return mvm_key_parser_fail (parser, NULL, NULL, error, "%s", local->message);
    }
  parser->keyfile = g_steal_pointer (&keyfile);
  return TRUE;
}

void
mvm_key_parser_clear (MvmKeyParser *parser)
{
  g_clear_pointer (&parser->keyfile, g_key_file_unref);
  g_clear_pointer (&parser->lines, mvm_key_lines_free);
}

static gboolean
fail_at (const MvmKeyParser *parser, guint line, const char *group, const char *key, GError **error,
         const char *format, va_list args)
{
  g_autoptr (GString) msg = g_string_new (parser->file_name ? parser->file_name : "guest file");

  if (line == 0 && parser->lines && group)
    line = mvm_key_lines_lookup (parser->lines, group, key);
  if (line == 0 && parser->lines && group)
    line = mvm_key_lines_lookup (parser->lines, group, NULL);
  if (line > 0)
    g_string_append_printf (msg, ":%u", line);
  g_string_append (msg, ": ");
  if (group)
    g_string_append_printf (msg, "[%s] ", group);
  if (key)
    g_string_append_printf (msg, "%s: ", key);
  g_string_append_vprintf (msg, format, args);
  g_set_error_literal (error, MVM_ERROR, MVM_ERROR_INVALID_CONFIG, msg->str);
  return FALSE;
}

gboolean
mvm_key_parser_fail (const MvmKeyParser *parser, const char *group, const char *key, GError **error,
                     const char *format, ...)
{
  va_list args;

  va_start (args, format);
  fail_at (parser, 0, group, key, error, format, args);
  va_end (args);
  return FALSE;
}

static gboolean
fail_at_line (const MvmKeyParser *parser, guint line, const char *group, const char *key,
              GError **error, const char *format, ...)
{
  va_list args;

  va_start (args, format);
  fail_at (parser, line, group, key, error, format, args);
  va_end (args);
  return FALSE;
}

gboolean
mvm_key_parser_check_keys (const MvmKeyParser *parser, const char *group,
                           const char *const *allowed, GError **error)
{
  g_auto (GStrv) keys = g_key_file_get_keys (parser->keyfile, group, NULL, NULL);

  for (guint i = 0; keys && keys[i]; i++)
    {
      if (!g_strv_contains (allowed, keys[i]))
        {
          g_autofree char *list = g_strjoinv (", ", (GStrv)allowed);
          return mvm_key_parser_fail (parser, group, keys[i], error,
                                      "unknown key; this group takes %s", list);
        }
    }
  return TRUE;
}

/* Trailing blanks are typing noise, as in systemd's files; an escaped "\s" keeps one. */
static void
chomp_unescaped (const MvmKeyParser *parser, const char *group, const char *key, char *value)
{
  g_autofree char *raw = g_key_file_get_value (parser->keyfile, group, key, NULL);

  if (raw == NULL || !g_str_has_suffix (raw, "\\s"))
    g_strchomp (value);
}

gboolean
mvm_key_parser_get_string (const MvmKeyParser *parser, const char *group, const char *key,
                           char **out, GError **error)
{
  g_autoptr (GError) local = NULL;
  char *value;

  if (!g_key_file_has_key (parser->keyfile, group, key, NULL))
    return TRUE;
  value = g_key_file_get_string (parser->keyfile, group, key, &local);
  if (value == NULL)
    return mvm_key_parser_fail (parser, group, key, error, "%s", local->message);
  chomp_unescaped (parser, group, key, value);
  g_free (*out);
  *out = value;
  return TRUE;
}

static gboolean
has_control_chars (const char *s)
{
  for (; *s; s++)
    if ((guchar)*s < 0x20 || *s == 0x7f)
      return TRUE;
  return FALSE;
}

gboolean
mvm_key_parser_get_path (const MvmKeyParser *parser, const char *group, const char *key, char **out,
                         GError **error)
{
  g_autofree char *value = NULL;

  if (!mvm_key_parser_get_string (parser, group, key, &value, error))
    return FALSE;
  if (value == NULL)
    return TRUE;
  if (value[0] == '\0')
    return TRUE; /* empty means "the default", as in systemd */
  if (!g_path_is_absolute (value))
    return mvm_key_parser_fail (parser, group, key, error,
                                "'%s' is a relative path; give an absolute path", value);
  if (has_control_chars (value))
    return mvm_key_parser_fail (parser, group, key, error, "the path contains a control character");
  g_free (*out);
  *out = g_steal_pointer (&value);
  return TRUE;
}

gboolean
mvm_key_parser_get_bool (const MvmKeyParser *parser, const char *group, const char *key,
                         gboolean *out, GError **error)
{
  g_autofree char *value = NULL;

  if (!mvm_key_parser_get_string (parser, group, key, &value, error))
    return FALSE;
  if (value && !mvm_parse_bool (value, out))
    return mvm_key_parser_fail (parser, group, key, error, "'%s' is not a boolean; use yes or no",
                                value);
  return TRUE;
}

gboolean
mvm_key_parser_get_uint (const MvmKeyParser *parser, const char *group, const char *key,
                         guint64 min, guint64 max, guint64 *out, GError **error)
{
  g_autofree char *value = NULL;

  if (!mvm_key_parser_get_string (parser, group, key, &value, error))
    return FALSE;
  if (value && !mvm_parse_uint (value, min, max, out))
    return mvm_key_parser_fail (parser, group, key, error,
                                "'%s' is not a whole number from %" G_GUINT64_FORMAT
                                " to %" G_GUINT64_FORMAT,
                                value, min, max);
  return TRUE;
}

/* Digits and at most one known suffix: the shape of a size, whether or not it fits 64 bits. */
static gboolean
looks_like_size (const char *value)
{
  gsize digits = strspn (value, "0123456789");

  return digits > 0
         && (value[digits] == '\0'
             || (strchr ("KMGTkmgt", value[digits]) != NULL && value[digits + 1] == '\0'));
}

gboolean
mvm_key_parser_get_size (const MvmKeyParser *parser, const char *group, const char *key,
                         guint64 min, guint64 max, guint64 *out, GError **error)
{
  g_autofree char *value = NULL;
  g_autofree char *min_s = mvm_format_size (min);
  g_autofree char *max_s = mvm_format_size (max);
  guint64 v = 0;
  gboolean parsed;

  if (!mvm_key_parser_get_string (parser, group, key, &value, error))
    return FALSE;
  if (value == NULL)
    return TRUE;
  parsed = mvm_parse_size (value, &v);
  if (!parsed && !looks_like_size (value))
    return mvm_key_parser_fail (parser, group, key, error,
                                "'%s' is not a size; use a number with an optional K, M, G or T "
                                "suffix, such as 256M",
                                value);
  if (!parsed || v < min || v > max) /* not parsed here: too large for 64 bits */
    return mvm_key_parser_fail (parser, group, key, error, "'%s' is out of range (%s to %s)", value,
                                min_s, max_s);
  *out = v;
  return TRUE;
}

gboolean
mvm_key_parser_get_enum (const MvmKeyParser *parser, const char *group, const char *key,
                         const MvmEnumEntry *entries, int *out, GError **error)
{
  g_autofree char *value = NULL;
  g_autoptr (GString) names = g_string_new (NULL);

  if (!mvm_key_parser_get_string (parser, group, key, &value, error))
    return FALSE;
  if (value == NULL)
    return TRUE;
  for (const MvmEnumEntry *e = entries; e->name; e++)
    {
      if (g_strcmp0 (e->name, value) == 0)
        {
          *out = e->value;
          return TRUE;
        }
      g_string_append_printf (names, "%s%s", names->len ? ", " : "", e->name);
    }
  return mvm_key_parser_fail (parser, group, key, error, "'%s' is not one of %s", value,
                              names->str);
}

const char *
mvm_enum_to_string (const MvmEnumEntry *entries, int value)
{
  for (const MvmEnumEntry *e = entries; e->name; e++)
    if (e->value == value)
      return e->name;
  return NULL;
}

gboolean
mvm_key_parser_get_list (const MvmKeyParser *parser, const char *group, const char *key,
                         MvmListCheck check, gpointer check_data, GStrv *out, GError **error)
{
  const GPtrArray *lines = mvm_key_lines_values (parser->lines, group, key);
  g_autoptr (GStrvBuilder) words = NULL;

  if (lines == NULL)
    return TRUE;
  words = g_strv_builder_new ();
  for (guint i = 0; i < lines->len; i++)
    {
      const MvmKeyLineValue *v = lines->pdata[i];
      g_auto (GStrv) split = g_strsplit_set (v->value, " \t", -1);

      if (v->value[0] == '\0') /* an empty assignment empties the list, as in systemd */
        {
          g_strv_builder_unref (words);
          words = g_strv_builder_new ();
          continue;
        }
      for (guint w = 0; split[w]; w++)
        {
          g_autofree char *why = NULL;
          if (split[w][0] == '\0')
            continue;
          if (check && !check (split[w], check_data, &why))
            return fail_at_line (parser, v->line, group, key, error, "'%s' %s", split[w], why);
          g_strv_builder_add (words, split[w]);
        }
    }
  g_strfreev (*out);
  *out = g_strv_builder_end (words);
  return TRUE;
}
