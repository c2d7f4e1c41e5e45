/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* 'microvmctl log -n': the last lines of a log and its rotated predecessor. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "mvc-tail.h"

/* The tail of older + newer, as 'log -n' prints it; *complete says whether all of it was found. */
static char *
tail_of (const char *older, const char *newer, guint64 n, gboolean *complete)
{
  MvcSpan spans[] = { { older, strlen (older) }, { newer, strlen (newer) } };
  GString *out = g_string_new (NULL);
  guint span = 99;
  gsize offset = 99;

  *complete = mvc_tail_start (spans, 2, n, &span, &offset);
  assert_true (span < 2);
  assert_true (offset <= spans[span].length);
  for (guint i = span; i < 2; i++)
    g_string_append_len (out, spans[i].data + (i == span ? offset : 0),
                         spans[i].length - (i == span ? offset : 0));
  return g_string_free (out, FALSE);
}

static void
check (const char *older, const char *newer, guint64 n, const char *want, gboolean want_complete)
{
  gboolean complete;
  g_autofree char *got = tail_of (older, newer, n, &complete);

  assert_string_equal (got, want);
  assert_int_equal (complete, want_complete);
}

static void
test_within_newest (void **state)
{
  check ("", "a\nb\nc\n", 2, "b\nc\n", TRUE);
  check ("old\n", "a\nb\nc\n", 1, "c\n", TRUE);
  check ("old\n", "a\nb\nc\n", 3, "a\nb\nc\n", TRUE);
}

static void
test_unterminated_last_line_counts (void **state)
{
  check ("", "a\nb\nc", 1, "c", TRUE);
  check ("", "a\nb\nc", 2, "b\nc", TRUE);
}

static void
test_across_rotation (void **state)
{
  check ("x\ny\n", "c\n", 2, "y\nc\n", TRUE);
  check ("x\ny\n", "c\nd\n", 2, "c\nd\n", TRUE);
  check ("x\ny\n", "", 1, "y\n", TRUE);
}

/* The daemon rotates on size, so a line can start in NAME.log.1 and end in NAME.log. */
static void
test_line_split_by_rotation (void **state)
{
  check ("a\nb\nhal", "f\nc\n", 2, "half\nc\n", TRUE);
  check ("a\nb\nhal", "f\nc\n", 3, "b\nhalf\nc\n", TRUE);
}

static void
test_fewer_lines_than_asked (void **state)
{
  /* all of it, and FALSE: an older file may hold the rest */
  check ("x\n", "c\n", 3, "x\nc\n", FALSE);
  check ("", "", 1, "", FALSE);
  check ("", "a\nb\n", 2, "a\nb\n", FALSE);
}

static void
test_zero_lines (void **state)
{
  check ("x\n", "a\nb\n", 0, "", TRUE);
  check ("", "", 0, "", TRUE);
}

static void
test_blank_lines (void **state)
{
  check ("", "\n\n\n", 2, "\n\n", TRUE);
  check ("\n", "\n", 2, "\n\n", FALSE);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_within_newest),
    cmocka_unit_test (test_unterminated_last_line_counts),
    cmocka_unit_test (test_across_rotation),
    cmocka_unit_test (test_line_split_by_rotation),
    cmocka_unit_test (test_fewer_lines_than_asked),
    cmocka_unit_test (test_zero_lines),
    cmocka_unit_test (test_blank_lines),
  };

  return cmocka_run_group_tests (tests, NULL, NULL);
}
