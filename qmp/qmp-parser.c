/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "qmp-parser.h"

#include <string.h>

#include "qmp-error.h"

/* How much of an offending line an error message quotes. */
#define EXCERPT_LEN 64

struct _QmpParser
{
  GByteArray *buf;
  gsize start; /* first byte not yet consumed */
  gsize scan;  /* where the search for the next newline resumes */
  GError *failure;
  JsonParser *json;
};

QmpParser *
qmp_parser_new (void)
{
  QmpParser *parser = g_new0 (QmpParser, 1);

  parser->buf = g_byte_array_new ();
  parser->json = json_parser_new ();
  return parser;
}

void
qmp_parser_free (QmpParser *parser)
{
  if (parser == NULL)
    return;
  g_byte_array_unref (parser->buf);
  g_clear_error (&parser->failure);
  g_object_unref (parser->json);
  g_free (parser);
}

static void
compact (QmpParser *parser)
{
  if (parser->start == 0)
    return;
  g_byte_array_remove_range (parser->buf, 0, parser->start);
  parser->scan -= parser->start;
  parser->start = 0;
}

void
qmp_parser_feed (QmpParser *parser, const void *data, gsize len)
{
  if (parser->failure != NULL || len == 0)
    return;
  /* Consumed bytes are dropped lazily, so a burst of small messages costs one move. */
  if (parser->start > parser->buf->len / 2)
    compact (parser);
  g_byte_array_append (parser->buf, data, len);
}

gsize
qmp_parser_get_pending (QmpParser *parser)
{
  return parser->buf->len - parser->start;
}

static char *
excerpt (const guint8 *data, gsize len)
{
  g_autofree char *head
    = len > 0 ? g_strndup ((const char *)data, MIN (len, EXCERPT_LEN)) : g_strdup ("");
  g_autofree char *escaped = g_strescape (head, NULL);

  return g_strdup_printf ("'%s'%s", escaped, len > EXCERPT_LEN ? "..." : "");
}

char *
qmp_parser_describe_pending (QmpParser *parser)
{
  return excerpt (parser->buf->data + parser->start, qmp_parser_get_pending (parser));
}

static JsonObject *
fail (QmpParser *parser, GError **error, const guint8 *line, gsize len, const char *what)
{
  g_autofree char *quoted = excerpt (line, len);

  parser->failure = g_error_new (QMP_ERROR, QMP_ERROR_PROTOCOL, "%s: %s", what, quoted);
  g_propagate_error (error, g_error_copy (parser->failure));
  return NULL;
}

/* json-glib recurses once per level, so depth is bounded before it sees the text. */
static gboolean
nesting_within_limit (const guint8 *line, gsize len)
{
  gboolean in_string = FALSE;
  gboolean escaped = FALSE;
  guint depth = 0;

  for (gsize i = 0; i < len; i++)
    {
      guint8 c = line[i];

      if (in_string)
        {
          if (escaped)
            escaped = FALSE;
          else if (c == '\\')
            escaped = TRUE;
          else if (c == '"')
            in_string = FALSE;
        }
      else if (c == '"')
        in_string = TRUE;
      else if (c == '{' || c == '[')
        {
          if (++depth > QMP_PARSER_MAX_DEPTH)
            return FALSE;
        }
      else if ((c == '}' || c == ']') && depth > 0)
        depth--;
    }
  return TRUE;
}

static gboolean
is_blank (const guint8 *line, gsize len)
{
  for (gsize i = 0; i < len; i++)
    {
      if (!g_ascii_isspace (line[i]))
        return FALSE;
    }
  return TRUE;
}

static JsonObject *
parse_line (QmpParser *parser, const guint8 *line, gsize len, GError **error)
{
  g_autoptr (GError) local_error = NULL;
  g_autoptr (JsonNode) root = NULL;
  const char *end = NULL;

  if (len > QMP_PARSER_MAX_LINE)
    return fail (parser, error, line, len, "QMP line longer than 16 MiB");
  if (!g_utf8_validate_len ((const char *)line, len, &end))
    return fail (parser, error, line, len, "QMP line is not valid UTF-8");
  if (!nesting_within_limit (line, len))
    return fail (parser, error, line, len, "QMP message nests deeper than 64 levels");
  if (!json_parser_load_from_data (parser->json, (const char *)line, len, &local_error))
    {
      g_autofree char *what
        = g_strdup_printf ("QMP message is not JSON (%s)", local_error->message);
      return fail (parser, error, line, len, what);
    }
  root = json_parser_steal_root (parser->json);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    return fail (parser, error, line, len, "QMP message is not a JSON object");
  return json_object_ref (json_node_get_object (root));
}

/* The next line without its terminator, or NULL when none is complete yet. */
static const guint8 *
next_line (QmpParser *parser, gsize *len)
{
  const guint8 *base = parser->buf->data;
  const guint8 *nl = memchr (base + parser->scan, '\n', parser->buf->len - parser->scan);
  const guint8 *line = base + parser->start;

  if (nl == NULL)
    {
      parser->scan = parser->buf->len;
      return NULL;
    }
  *len = nl - line;
  parser->start = parser->scan = (nl - base) + 1;
  if (*len > 0 && line[*len - 1] == '\r')
    (*len)--;
  return line;
}

JsonObject *
qmp_parser_pop (QmpParser *parser, GError **error)
{
  const guint8 *line;
  gsize len = 0;

  if (parser->failure != NULL)
    {
      g_propagate_error (error, g_error_copy (parser->failure));
      return NULL;
    }
  while ((line = next_line (parser, &len)) != NULL)
    {
      if (!is_blank (line, len))
        return parse_line (parser, line, len, error);
    }
  if (qmp_parser_get_pending (parser) > QMP_PARSER_MAX_LINE)
    return fail (parser, error, parser->buf->data + parser->start, qmp_parser_get_pending (parser),
                 "QMP line longer than 16 MiB");
  return NULL;
}
