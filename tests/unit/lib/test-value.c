/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Booleans, sizes, numbers and names as guest files and microvmd.conf spell them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "mvm-value.h"

#define SENTINEL 0x5a5a5a5a5a5a5a5aULL

static void
test_bool_spellings (void **state)
{
  static const char *const yes[] = { "yes", "true", "on", "1", "y", "YES", "True", "On", "Y" };
  static const char *const no[] = { "no", "false", "off", "0", "n", "NO", "False", "OFF", "N" };

  for (size_t i = 0; i < G_N_ELEMENTS (yes); i++)
    {
      gboolean v = FALSE;
      assert_true (mvm_parse_bool (yes[i], &v));
      assert_true (v);
    }
  for (size_t i = 0; i < G_N_ELEMENTS (no); i++)
    {
      gboolean v = TRUE;
      assert_true (mvm_parse_bool (no[i], &v));
      assert_false (v);
    }
}

static void
test_bool_refused (void **state)
{
  static const char *const bad[] = { "", "maybe", "yess", "2", "-1", " yes", "yes ", "nope", "o" };

  for (size_t i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      gboolean v = 42;
      assert_false (mvm_parse_bool (bad[i], &v));
      assert_int_equal (v, 42); /* untouched on failure */
    }
}

static void
assert_size (const char *s, guint64 expected)
{
  guint64 v = SENTINEL;

  if (!mvm_parse_size (s, &v))
    fail_msg ("'%s' was refused, expected %" G_GUINT64_FORMAT, s, expected);
  assert_int_equal (v, expected);
}

static void
assert_not_size (const char *s)
{
  guint64 v = SENTINEL;

  if (mvm_parse_size (s, &v))
    fail_msg ("'%s' was accepted as %" G_GUINT64_FORMAT, s, v);
  assert_int_equal (v, SENTINEL);
}

static void
test_size_suffixes (void **state)
{
  assert_size ("0", 0);
  assert_size ("1", 1);
  assert_size ("4096", 4096);
  assert_size ("1K", 1024);
  assert_size ("1k", 1024);
  assert_size ("256M", 256ULL << 20);
  assert_size ("256m", 256ULL << 20);
  assert_size ("2G", 2ULL << 30);
  assert_size ("4T", 4ULL << 40);
  assert_size ("1572864K", 1536ULL << 20);
  assert_size ("007M", 7ULL << 20);
}

static void
test_size_refused (void **state)
{
  assert_not_size ("");
  assert_not_size ("M");
  assert_not_size ("12X");
  assert_not_size ("1.5G");
  assert_not_size ("-1");
  assert_not_size ("+1");
  assert_not_size (" 1");
  assert_not_size ("1 ");
  assert_not_size ("1MB");
  assert_not_size ("1MM");
  assert_not_size ("1P"); /* no peta */
  assert_not_size ("0x10");
}

static void
test_size_overflow_edges (void **state)
{
  assert_size ("18446744073709551615", G_MAXUINT64);
  assert_not_size ("18446744073709551616");
  assert_not_size ("99999999999999999999");
  assert_not_size ("99999999999999999999G");
  /* the largest count each suffix allows, and one more */
  assert_size ("18014398509481983K", G_MAXUINT64 >> 10 << 10);
  assert_not_size ("18014398509481984K");
  assert_size ("17592186044415M", G_MAXUINT64 >> 20 << 20);
  assert_not_size ("17592186044416M");
  assert_size ("17179869183G", G_MAXUINT64 >> 30 << 30);
  assert_not_size ("17179869184G");
  assert_size ("16777215T", G_MAXUINT64 >> 40 << 40);
  assert_not_size ("16777216T");
}

static void
assert_uint (const char *s, guint64 min, guint64 max, guint64 expected)
{
  guint64 v = SENTINEL;

  if (!mvm_parse_uint (s, min, max, &v))
    fail_msg ("'%s' was refused in [%" G_GUINT64_FORMAT ", %" G_GUINT64_FORMAT "]", s, min, max);
  assert_int_equal (v, expected);
}

static void
assert_not_uint (const char *s, guint64 min, guint64 max)
{
  guint64 v = SENTINEL;

  if (mvm_parse_uint (s, min, max, &v))
    fail_msg ("'%s' was accepted as %" G_GUINT64_FORMAT, s, v);
  assert_int_equal (v, SENTINEL);
}

static void
test_uint_range (void **state)
{
  assert_uint ("1", 1, 255, 1);
  assert_uint ("255", 1, 255, 255);
  assert_uint ("0", 0, 100, 0);
  assert_uint ("0042", 1, 255, 42);
  assert_not_uint ("0", 1, 255);
  assert_not_uint ("256", 1, 255);
  assert_uint ("4294967294", 3, G_MAXUINT32 - 1, G_MAXUINT32 - 1);
  assert_not_uint ("4294967295", 3, G_MAXUINT32 - 1);
}

static void
test_uint_refused (void **state)
{
  assert_not_uint ("", 0, G_MAXUINT64);
  assert_not_uint ("+1", 0, G_MAXUINT64);
  assert_not_uint ("-1", 0, G_MAXUINT64);
  assert_not_uint ("1x", 0, G_MAXUINT64);
  assert_not_uint ("1K", 0, G_MAXUINT64); /* sizes are not numbers */
  assert_not_uint (" 1", 0, G_MAXUINT64);
  assert_not_uint ("1.0", 0, G_MAXUINT64);
}

static void
test_uint_overflow_edges (void **state)
{
  assert_uint ("18446744073709551615", 0, G_MAXUINT64, G_MAXUINT64);
  assert_not_uint ("18446744073709551616", 0, G_MAXUINT64);
  assert_not_uint ("18446744073709551620", 0, G_MAXUINT64);
  assert_not_uint ("184467440737095516150", 0, G_MAXUINT64);
}

static void
assert_format (guint64 bytes, const char *expected)
{
  g_autofree char *s = mvm_format_size (bytes);

  assert_string_equal (s, expected);
}

static void
test_format_size (void **state)
{
  assert_format (0, "0");
  assert_format (1, "1");
  assert_format (1023, "1023");
  assert_format (1024, "1K");
  assert_format (1536, "1536");
  assert_format (4096, "4K");
  assert_format (16ULL << 20, "16M");
  assert_format (256ULL << 20, "256M");
  assert_format (1536ULL << 20, "1536M");
  assert_format (1ULL << 30, "1G");
  assert_format (2ULL << 30, "2G");
  assert_format (4ULL << 40, "4T");
  assert_format (1024ULL << 40, "1024T"); /* no suffix beyond T */
  assert_format ((1ULL << 30) + 1, "1073741825");
  assert_format (G_MAXUINT64, "18446744073709551615");
}

static void
test_format_size_round_trips (void **state)
{
  static const guint64 sizes[] = {
    0, 1, 1023, 1024, 1536, 16ULL << 20, 1536ULL << 20, 3ULL << 30, 4ULL << 40, G_MAXUINT64,
  };

  for (size_t i = 0; i < G_N_ELEMENTS (sizes); i++)
    {
      g_autofree char *s = mvm_format_size (sizes[i]);
      guint64 v = SENTINEL;

      assert_true (mvm_parse_size (s, &v));
      assert_int_equal (v, sizes[i]);
    }
}

static void
test_name_valid (void **state)
{
  static const char *const good[] = {
    "a", "0", "web", "Web-1", "db_2", "a.b", "a-", "a.", "x.y.z", "A-b_c.d",
  };
  g_autofree char *max = g_strnfill (63, 'n');

  for (size_t i = 0; i < G_N_ELEMENTS (good); i++)
    if (!mvm_name_is_valid (good[i]))
      fail_msg ("'%s' was refused", good[i]);
  assert_true (mvm_name_is_valid (max));
}

static void
test_name_invalid (void **state)
{
  static const char *const bad[] = {
    "",    "-a",  "_a",  ".a",   ".",    "..",          "a..b", "a/b",  "../etc",
    "a,b", "a b", "a:b", "a\nb", "a\\b", "caf\xc3\xa9", "a*",   "$(x)", "a;b",
  };
  g_autofree char *too_long = g_strnfill (64, 'n');

  for (size_t i = 0; i < G_N_ELEMENTS (bad); i++)
    if (mvm_name_is_valid (bad[i]))
      fail_msg ("'%s' was accepted", bad[i]);
  assert_false (mvm_name_is_valid (too_long));
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_bool_spellings),      cmocka_unit_test (test_bool_refused),
    cmocka_unit_test (test_size_suffixes),       cmocka_unit_test (test_size_refused),
    cmocka_unit_test (test_size_overflow_edges), cmocka_unit_test (test_uint_range),
    cmocka_unit_test (test_uint_refused),        cmocka_unit_test (test_uint_overflow_edges),
    cmocka_unit_test (test_format_size),         cmocka_unit_test (test_format_size_round_trips),
    cmocka_unit_test (test_name_valid),          cmocka_unit_test (test_name_invalid),
  };

  return cmocka_run_group_tests_name ("value", tests, NULL, NULL);
}
