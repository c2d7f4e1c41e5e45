/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "mvm-value.h"

#include <string.h>

gboolean
mvm_parse_bool (const char *s, gboolean *out)
{
  static const char *const yes[] = { "yes", "true", "on", "1", "y" };
  static const char *const no[] = { "no", "false", "off", "0", "n" };

  for (gsize i = 0; i < G_N_ELEMENTS (yes); i++)
    {
      if (g_ascii_strcasecmp (s, yes[i]) == 0)
        return (*out = TRUE);
      if (g_ascii_strcasecmp (s, no[i]) == 0)
        return !(*out = FALSE);
    }
  return FALSE;
}

static gboolean
parse_digits (const char *s, const char **end, guint64 *out)
{
  guint64 v = 0;
  const char *p = s;

  for (; g_ascii_isdigit (*p); p++)
    {
      guint d = *p - '0';
      if (v > (G_MAXUINT64 - d) / 10)
        return FALSE;
      v = v * 10 + d;
    }
  *end = p;
  *out = v;
  return p != s;
}

gboolean
mvm_parse_uint (const char *s, guint64 min, guint64 max, guint64 *out)
{
  const char *end;
  guint64 v;

  if (!parse_digits (s, &end, &v) || *end != '\0' || v < min || v > max)
    return FALSE;
  *out = v;
  return TRUE;
}

gboolean
mvm_parse_size (const char *s, guint64 *out)
{
  static const char suffixes[] = "KMGT";
  const char *end;
  const char *pos;
  guint64 v;
  guint shift = 0;

  if (!parse_digits (s, &end, &v))
    return FALSE;
  if (*end != '\0')
    {
      if (end[1] != '\0' || (pos = strchr (suffixes, g_ascii_toupper (*end))) == NULL)
        return FALSE;
      shift = 10 * (guint)(pos - suffixes + 1);
    }
  if (shift > 0 && v > (G_MAXUINT64 >> shift))
    return FALSE;
  *out = v << shift;
  return TRUE;
}

char *
mvm_format_size (guint64 bytes)
{
  static const char suffixes[] = "KMGT";
  int i = -1;

  while (i < 3 && bytes >= 1024 && bytes % 1024 == 0)
    {
      bytes /= 1024;
      i++;
    }
  if (i < 0)
    return g_strdup_printf ("%" G_GUINT64_FORMAT, bytes);
  return g_strdup_printf ("%" G_GUINT64_FORMAT "%c", bytes, suffixes[i]);
}

gboolean
mvm_name_is_valid (const char *name)
{
  gsize len = strlen (name);

  if (len == 0 || len > 63 || !g_ascii_isalnum (name[0]) || strstr (name, "..") != NULL)
    return FALSE;
  for (gsize i = 1; i < len; i++)
    {
      char c = name[i];
      if (!g_ascii_isalnum (c) && c != '_' && c != '.' && c != '-')
        return FALSE;
    }
  return TRUE;
}
