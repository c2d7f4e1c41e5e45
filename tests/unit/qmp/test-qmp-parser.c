/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The line framer and message parser on their own: framing, limits, sticky failure. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <string.h>

#include "qmp-error.h"
#include "qmp-parser.h"

static void
feed (QmpParser *parser, const char *text)
{
  qmp_parser_feed (parser, text, strlen (text));
}

static JsonObject *
pop_ok (QmpParser *parser)
{
  g_autoptr (GError) error = NULL;
  JsonObject *object = qmp_parser_pop (parser, &error);

  assert_null (error);
  return object;
}

static GError *
pop_error (QmpParser *parser)
{
  GError *error = NULL;

  assert_null (qmp_parser_pop (parser, &error));
  assert_non_null (error);
  assert_int_equal (error->domain, QMP_ERROR);
  assert_int_equal (error->code, QMP_ERROR_PROTOCOL);
  return error;
}

static void
test_framing (void **state)
{
  g_autoptr (QmpParser) parser = qmp_parser_new ();
  g_autoptr (JsonObject) first = NULL;
  g_autoptr (JsonObject) second = NULL;
  g_autoptr (JsonObject) third = NULL;

  feed (parser, "{\"a\": 1}\r\n\r\n  \n{\"b\"");
  first = pop_ok (parser);
  assert_non_null (first);
  assert_int_equal (json_object_get_int_member (first, "a"), 1);
  assert_null (pop_ok (parser));
  assert_int_equal (qmp_parser_get_pending (parser), 4);
  feed (parser, ": 2}\n{\"c\": \"x\\ny\"}\n");
  second = pop_ok (parser);
  third = pop_ok (parser);
  assert_non_null (second);
  assert_non_null (third);
  assert_string_equal (json_object_get_string_member (third, "c"), "x\ny");
  assert_null (pop_ok (parser));
  assert_int_equal (qmp_parser_get_pending (parser), 0);
}

static void
test_byte_at_a_time (void **state)
{
  g_autoptr (QmpParser) parser = qmp_parser_new ();
  const char *text = "{\"event\": \"STOP\", \"data\": {}}\r\n";
  g_autoptr (JsonObject) object = NULL;

  for (gsize i = 0; i + 1 < strlen (text); i++)
    {
      qmp_parser_feed (parser, text + i, 1);
      assert_null (pop_ok (parser));
    }
  qmp_parser_feed (parser, text + strlen (text) - 1, 1);
  object = pop_ok (parser);
  assert_non_null (object);
  assert_string_equal (json_object_get_string_member (object, "event"), "STOP");
}

static char *
nested (guint depth)
{
  GString *s = g_string_new ("{\"return\": ");

  for (guint i = 1; i < depth; i++)
    g_string_append_c (s, '[');
  g_string_append (s, "1");
  for (guint i = 1; i < depth; i++)
    g_string_append_c (s, ']');
  g_string_append (s, "}\n");
  return g_string_free (s, FALSE);
}

static void
test_depth_limit (void **state)
{
  g_autoptr (QmpParser) ok = qmp_parser_new ();
  g_autoptr (QmpParser) bad = qmp_parser_new ();
  g_autoptr (QmpParser) quoted = qmp_parser_new ();
  g_autofree char *at_limit = nested (64);
  g_autofree char *over_limit = nested (65);
  g_autoptr (JsonObject) object = NULL;
  g_autoptr (JsonObject) string_object = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *brackets = g_strnfill (200, '[');
  g_autofree char *line = g_strdup_printf ("{\"s\": \"\\\"%s\"}\n", brackets);

  feed (ok, at_limit);
  object = pop_ok (ok);
  assert_non_null (object);
  feed (bad, over_limit);
  error = pop_error (bad);
  assert_non_null (strstr (error->message, "deeper than 64"));
  /* Brackets inside strings (even after an escaped quote) are not nesting. */
  feed (quoted, line);
  string_object = pop_ok (quoted);
  assert_non_null (string_object);
}

static void
test_bad_lines (void **state)
{
  const struct
  {
    const char *text;
    const char *message;
  } cases[] = {
    { "[1, 2]\n", "not a JSON object" },
    { "\"text\"\n", "not a JSON object" },
    { "{\"a\": \xff}\n", "not valid UTF-8" },
    { "{\"a\": \"\xc3\"}\n", "not valid UTF-8" },
    { "{\"a\": 1\n", "not JSON" },
    { "HTTP/1.1 400 Bad Request\r\n", "'HTTP/1.1 400 Bad Request'" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (QmpParser) parser = qmp_parser_new ();
      g_autoptr (GError) error = NULL;
      g_autoptr (GError) again = NULL;

      feed (parser, cases[i].text);
      error = pop_error (parser);
      if (strstr (error->message, cases[i].message) == NULL)
        fail_msg ("case %zu: '%s' lacks '%s'", i, error->message, cases[i].message);
      /* A failed parser stays failed. */
      feed (parser, "{}\n");
      again = pop_error (parser);
      assert_string_equal (again->message, error->message);
    }
}

static void
test_nul_byte (void **state)
{
  g_autoptr (QmpParser) parser = qmp_parser_new ();
  g_autoptr (GError) error = NULL;

  qmp_parser_feed (parser, "{\"a\":\0 1}\n", 10);
  error = pop_error (parser);
  assert_non_null (strstr (error->message, "UTF-8"));
}

static void
test_line_too_long (void **state)
{
  g_autoptr (QmpParser) parser = qmp_parser_new ();
  g_autofree char *chunk = g_strnfill (1024 * 1024, 'a');
  g_autoptr (GError) error = NULL;
  g_autofree char *pending = NULL;

  const char *head = "{\"return\": \"";

  feed (parser, head);
  for (int i = 0; i < 16; i++)
    {
      /* Up to exactly 16 MiB without a newline is still fine. */
      qmp_parser_feed (parser, chunk, strlen (chunk) - (i == 15 ? strlen (head) : 0));
      assert_null (pop_ok (parser));
    }
  assert_int_equal (qmp_parser_get_pending (parser), QMP_PARSER_MAX_LINE);
  feed (parser, "a");
  error = pop_error (parser);
  assert_non_null (strstr (error->message, "longer than 16 MiB"));
  pending = qmp_parser_describe_pending (parser);
  assert_true (g_str_has_prefix (pending, "'{\\\"return\\\": \\\"aaa"));
  assert_true (g_str_has_suffix (pending, "..."));
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_framing),     cmocka_unit_test (test_byte_at_a_time),
    cmocka_unit_test (test_depth_limit), cmocka_unit_test (test_bad_lines),
    cmocka_unit_test (test_nul_byte),    cmocka_unit_test (test_line_too_long),
  };

  return cmocka_run_group_tests_name ("qmp-parser", tests, NULL, NULL);
}
