/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The typed reply decoders take whatever a hostile QEMU answers without crashing the daemon
 * (the review's L3: {"device": 1} in query-blockstats was a NULL dereference). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "qmp-commands.h"

static guint
decode (const char *json)
{
  g_autoptr (JsonNode) node = json_from_string (json, NULL);

  assert_non_null (node);
  return qmp_commands_decode_all (node);
}

/* Refused or decoded, never a crash (CI runs this under valgrind and ASan too). */
static void
test_hostile_replies (void **state)
{
  static const char *const replies[] = {
    "[{\"device\": 1, \"stats\": {}}]",
    "[{\"device\": \"d\", \"stats\": 7}, 3, null, []]",
    "[{\"device\": \"d\", \"stats\": {\"rd_bytes\": \"many\", \"wr_bytes\": -1}}]",
    "{\"status\": 5, \"running\": \"yes\"}",
    "{\"actual\": \"big\"}",
    "[{\"cpu-index\": \"x\", \"thread-id\": {}}]",
    "null",
    "[[[[[]]]]]",
  };

  for (gsize i = 0; i < G_N_ELEMENTS (replies); i++)
    assert_in_range (decode (replies[i]), 0, 5);
}

static void
test_good_replies (void **state)
{
  assert_true (decode ("{\"status\": \"running\", \"running\": true}") >= 1);
  assert_true (decode ("{\"actual\": 1073741824}") >= 1);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_hostile_replies),
    cmocka_unit_test (test_good_replies),
  };

  return cmocka_run_group_tests_name ("qmp-decoders", tests, NULL, NULL);
}
