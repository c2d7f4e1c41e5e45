/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "mvm-error.h"
#include "mvm-vsock.h"

static gboolean
in_set (guint32 cid, gpointer user_data)
{
  return g_hash_table_contains (user_data, GUINT_TO_POINTER (cid));
}

static MvmGuestConfig *
guest (const char *text)
{
  g_autoptr (GError) error = NULL;
  MvmGuestConfig *g = mvm_guest_config_new_from_data (text, strlen (text), "g.guest", &error);

  if (g == NULL)
    fail_msg ("guest refused: %s", error->message);
  return g;
}

static void
test_explicit_cid (void **state)
{
  g_autoptr (MvmGuestConfig) g = guest ("[Guest]\n[Vsock]\nCID=42\n");
  g_autoptr (GHashTable) used = g_hash_table_new (NULL, NULL);
  g_autoptr (GError) error = NULL;
  guint32 cid = 0;

  assert_true (mvm_vsock_pick_cid (g, in_set, used, &cid, &error));
  assert_int_equal (cid, 42);
  g_hash_table_add (used, GUINT_TO_POINTER (42));
  assert_false (mvm_vsock_pick_cid (g, in_set, used, &cid, &error));
  assert_true (g_error_matches (error, MVM_ERROR, MVM_ERROR_INVALID_CONFIG));
  assert_string_equal (error->message, "guest g: [Vsock] CID: 42 is used by another running "
                                       "guest; give another or CID=auto");
}

static void
test_auto_cid_is_derived_and_moves_on (void **state)
{
  g_autoptr (MvmGuestConfig) g = guest ("[Guest]\n[Vsock]\nCID=auto\n");
  g_autoptr (MvmGuestConfig) other = guest ("[Guest]\nName=other\n[Vsock]\n");
  g_autoptr (GHashTable) used = g_hash_table_new (NULL, NULL);
  guint32 derived = mvm_vsock_derived_cid (g);
  guint32 cid = 0;

  assert_true (derived >= 3 && derived < (1u << 31));
  assert_int_not_equal (derived, mvm_vsock_derived_cid (other));
  assert_true (mvm_vsock_pick_cid (g, in_set, used, &cid, NULL));
  assert_int_equal (cid, derived);
  /* taken by running guests: the next free ones */
  g_hash_table_add (used, GUINT_TO_POINTER (derived));
  g_hash_table_add (used, GUINT_TO_POINTER (derived + 1));
  assert_true (mvm_vsock_pick_cid (g, in_set, used, &cid, NULL));
  assert_int_equal (cid, derived + 2);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_explicit_cid),
    cmocka_unit_test (test_auto_cid_is_derived_and_moves_on),
  };

  return cmocka_run_group_tests_name ("vsock", tests, NULL, NULL);
}
