/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "mvm-error.h"
#include "mvm-image-path.h"
#include "mvm-image-source.h"

static char *
split_joined (const char *name)
{
  g_autoptr (GError) error = NULL;
  g_auto (GStrv) parts = mvm_image_path_split (name, &error);

  if (parts == NULL)
    fail_msg ("'%s' refused: %s", name, error->message);
  return mvm_image_path_join ((const char *const *)parts, g_strv_length (parts));
}

static void
test_names_stay_below_the_root (void **state)
{
  const struct
  {
    const char *name, *path;
  } cases[] = {
    { "./etc/passwd", "etc/passwd" },
    { "/etc/passwd", "etc/passwd" },
    { "etc//x/./y/", "etc/x/y" },
    { "./", "" },
    { "/", "" },
    { "...", "..." },
    { "a/..b", "a/..b" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *got = split_joined (cases[i].name);
      assert_string_equal (got, cases[i].path);
    }
}

static void
test_dotdot_is_refused (void **state)
{
  const char *names[] = { "..", "../x", "a/../../x", "/a/b/..", "a/./../b" };
  g_autofree char *long_name = g_strnfill (256, 'n');

  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_autoptr (GError) error = NULL;
      g_auto (GStrv) parts = mvm_image_path_split (names[i], &error);
      assert_null (parts);
      assert_true (g_error_matches (error, MVM_ERROR, MVM_ERROR_ACCESS_DENIED));
      assert_non_null (strstr (error->message, names[i]));
    }
  {
    g_autoptr (GError) error = NULL;
    g_auto (GStrv) parts = mvm_image_path_split (long_name, &error);
    assert_null (parts);
    assert_non_null (strstr (error->message, "longer than 255"));
  }
  {
    g_autoptr (GString) deep = g_string_new (NULL);
    g_autoptr (GError) error = NULL;
    g_auto (GStrv) parts = NULL;

    while (deep->len <= 4096)
      g_string_append (deep, "d/");
    parts = mvm_image_path_split (deep->str, &error);
    assert_null (parts);
    assert_non_null (strstr (error->message, "longer than 4096 bytes"));
  }
}

static void
test_kind_names_round_trip (void **state)
{
  MvmImageKind kind;

  for (MvmImageKind k = MVM_IMAGE_KIND_OCI; k <= MVM_IMAGE_KIND_TAR; k++)
    {
      assert_true (mvm_image_kind_from_string (mvm_image_kind_to_string (k), &kind));
      assert_int_equal (kind, k);
    }
  assert_string_equal (mvm_image_kind_to_string (MVM_IMAGE_KIND_DOCKER), "docker");
  assert_false (mvm_image_kind_from_string ("rootfs", &kind));
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_names_stay_below_the_root),
    cmocka_unit_test (test_dotdot_is_refused),
    cmocka_unit_test (test_kind_names_round_trip),
  };

  return cmocka_run_group_tests (tests, NULL, NULL);
}
