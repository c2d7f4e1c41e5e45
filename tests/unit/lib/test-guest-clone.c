/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A clone's guest file: its own name, MACs and autostart; its disks where they were copied;
 * everything else, comments included, as its source's. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "mvm-error.h"
#include "mvm-guest-clone.h"

static MvmGuestConfig *
parse (const char *text, const char *file_name)
{
  g_autoptr (GError) error = NULL;
  MvmGuestConfig *g = mvm_guest_config_new_from_data (text, strlen (text), file_name, &error);

  if (g == NULL)
    fail_msg ("guest refused: %s", error->message);
  return g;
}

static const char web[] = "# the web front\n"
                          "[Guest]\n"
                          "Name=web\n"
                          "Autostart=yes\n"
                          "Memory=256M\n"
                          "\n"
                          "[Disk root]\n"
                          "Image=debian\n"
                          "[Disk data]\n"
                          "Path=/srv/images/web-data.raw\n"
                          "[Network net0]\n"
                          "Mode=user\n"
                          "MAC=52:54:00:12:34:56\n"
                          "Forward=tcp:8080:80\n";

static void
test_clone_of_web (void **state)
{
  g_autoptr (MvmGuestConfig) source = parse (web, "web.guest");
  g_autoptr (GHashTable) paths = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr (GError) error = NULL;
  g_autofree char *text = NULL;
  g_autoptr (MvmGuestConfig) clone = NULL;
  const MvmNetwork *net;

  g_hash_table_insert (paths, (char *)"data", (char *)"/var/lib/microvmd/guests/web2/data.raw");
  text = mvm_guest_clone_text (web, source, "web2", paths, &error);
  assert_non_null (text);
  assert_string_equal (text, "# A clone of guest web\n"
                             "# the web front\n"
                             "[Guest]\n"
                             "Name=web2\n"
                             "Memory=256M\n"
                             "\n"
                             "[Disk root]\n"
                             "Image=debian\n"
                             "[Disk data]\n"
                             "Path=/var/lib/microvmd/guests/web2/data.raw\n"
                             "[Network net0]\n"
                             "Mode=user\n"
                             "Forward=tcp:8080:80\n");
  clone = parse (text, "web2.guest");
  net = clone->networks->pdata[0];
  assert_string_not_equal (clone->uuid, source->uuid);
  assert_string_not_equal (net->mac, "52:54:00:12:34:56");
  assert_false (clone->autostart);
}

/* a file that takes its name from its own file name gets one */
static void
test_name_from_file (void **state)
{
  static const char text[] = "[Guest]\nMemory=128M\n";
  g_autoptr (MvmGuestConfig) source = parse (text, "job.guest");
  g_autoptr (GHashTable) paths = g_hash_table_new (g_str_hash, g_str_equal);
  g_autofree char *clone = mvm_guest_clone_text (text, source, "job-2", paths, NULL);

  assert_string_equal (clone, "# A clone of guest job\n[Guest]\nName=job-2\nMemory=128M\n");
}

static void
test_bad_name_refused (void **state)
{
  g_autoptr (MvmGuestConfig) source = parse (web, "web.guest");
  g_autoptr (GHashTable) paths = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr (GError) error = NULL;

  assert_null (mvm_guest_clone_text (web, source, "../etc", paths, &error));
  assert_non_null (strstr (error->message, "Name"));
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_clone_of_web),
    cmocka_unit_test (test_name_from_file),
    cmocka_unit_test (test_bad_name_refused),
  };
  return cmocka_run_group_tests_name ("guest-clone", tests, NULL, NULL);
}
