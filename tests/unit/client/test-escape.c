/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* microvmctl log on a terminal: guest bytes cannot drive the administrator's terminal. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "mvc-escape.h"

static void
assert_escaped (const char *data, gsize length, const char *expected)
{
  g_autoptr (GString) out = g_string_new (NULL);

  mvc_escape_control (out, data, length);
  assert_string_equal (out->str, expected);
}

static void
test_text_stays (void **state)
{
  assert_escaped ("login: root\n\tok ü €\n", strlen ("login: root\n\tok ü €\n"),
                  "login: root\n\tok ü €\n");
  assert_escaped ("a\r\nb\r\n", 6, "a\nb\n"); /* the serial line's newlines */
}

static void
test_controls_escaped (void **state)
{
  /* an OSC title change, a CSI colour, a lone CR, a bell, DEL, NUL */
  assert_escaped ("\x1b]0;owned\x07", 10, "\\x1b]0;owned\\x07");
  assert_escaped ("\x1b[31mred", 8, "\\x1b[31mred");
  assert_escaped ("100%\rdone", 9, "100%\\x0ddone");
  assert_escaped ("a\x7f\0b", 4, "a\\x7f\\x00b");
}

static void
test_c1_and_bad_utf8_escaped (void **state)
{
  /* 8-bit CSI as a raw byte, the same as UTF-8 U+009B, and a cut-off sequence */
  assert_escaped ("\x9b"
                  "31m",
                  4, "\\x9b31m");
  assert_escaped ("\xc2\x9b"
                  "31m",
                  5, "\\xc2\\x9b31m");
  assert_escaped ("ok\xe2\x82", 4, "ok\\xe2\\x82");
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_text_stays),
    cmocka_unit_test (test_controls_escaped),
    cmocka_unit_test (test_c1_and_bad_utf8_escaped),
  };

  return cmocka_run_group_tests_name ("client-escape", tests, NULL, NULL);
}
