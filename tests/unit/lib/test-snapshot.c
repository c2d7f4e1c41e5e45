/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Snapshots on disk: a snapshot has its name only once whole, a new one replaces an old one
 * of the name, a list shows whole ones only, and the check says which of QEMU and the
 * command line no longer matches, and how. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <string.h>

#include "mvm-paths.h"
#include "mvm-snapshot.h"

static const char *const ARGV[]
  = { "/usr/bin/qemu-system-x86_64", "-m", "192M", "-smp", "1", "-incoming", "fd:40", NULL };

static int
setup (void **state)
{
  *state = g_dir_make_tmp ("mvm-snapshot-XXXXXX", NULL);
  return 0;
}

static int
teardown (void **state)
{
  assert_true (mvm_paths_remove_tree (*state, 4));
  g_free (*state);
  return 0;
}

/* A snapshot named @name of guest "g", its memory holding @memory */
static void
save (const char *dir, const char *name, const char *memory, gint64 created)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *partial = mvm_snapshot_begin (dir, "g", name, &error);
  g_autofree char *path = NULL;
  MvmSnapshot info = { .name = (char *)name,
                       .created_usec = created,
                       .qemu_binary = (char *)ARGV[0],
                       .qemu_version = (char *)"7.2.22",
                       .argv = mvm_snapshot_argv_without_incoming (ARGV) };

  assert_non_null (partial);
  path = mvm_snapshot_memory_path (partial);
  assert_true (g_file_set_contents (path, memory, -1, NULL));
  assert_true (mvm_snapshot_commit (partial, &info, &error));
  assert_false (g_file_test (partial, G_FILE_TEST_EXISTS));
  g_strfreev (info.argv);
}

static void
test_save_read_list (void **state)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MvmSnapshot) s = NULL;
  g_autoptr (GPtrArray) list = NULL;
  g_autofree char *memory = NULL;
  g_autofree char *dir = NULL;

  save (*state, "b", "bbbb", 2);
  save (*state, "a", "aaaa", 1);
  s = mvm_snapshot_read (*state, "g", "a", &error);
  assert_non_null (s);
  assert_int_equal (s->created_usec, 1);
  assert_string_equal (s->qemu_version, "7.2.22");
  assert_int_equal (g_strv_length (s->argv), 5); /* without -incoming */
  assert_true (s->size > 0);
  list = mvm_snapshot_list (*state, "g");
  assert_int_equal (list->len, 2);
  assert_string_equal (((MvmSnapshot *)list->pdata[0])->name, "a");
  assert_string_equal (((MvmSnapshot *)list->pdata[1])->name, "b");
  /* a second save of a name replaces the first, whole */
  save (*state, "a", "AAAA", 3);
  dir = mvm_snapshot_dir (*state, "g", "a");
  g_free (g_steal_pointer (&memory));
  {
    g_autofree char *path = mvm_snapshot_memory_path (dir);
    assert_true (g_file_get_contents (path, &memory, NULL, NULL));
  }
  assert_string_equal (memory, "AAAA");
  g_clear_pointer (&list, g_ptr_array_unref);
  list = mvm_snapshot_list (*state, "g");
  assert_int_equal (list->len, 2);
  assert_int_equal (((MvmSnapshot *)list->pdata[0])->created_usec, 3);
}

static void
test_missing_and_removed (void **state)
{
  g_autoptr (GError) error = NULL;

  assert_null (mvm_snapshot_read (*state, "g", "none", &error));
  assert_true (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND));
  assert_non_null (strstr (error->message, "guest g has no snapshot none"));
  g_clear_error (&error);
  assert_null (mvm_snapshot_read (*state, "g", "../escape", &error));
  g_clear_error (&error);
  assert_null (mvm_snapshot_begin (*state, "g", "../escape", &error));
  assert_non_null (strstr (error->message, "not a snapshot name"));
  g_clear_error (&error);
  save (*state, "x", "x", 1);
  assert_true (mvm_snapshot_remove (*state, "g", "x", &error));
  assert_false (mvm_snapshot_remove (*state, "g", "x", &error));
  assert_non_null (strstr (error->message, "guest g has no snapshot x"));
}

/* a crash mid-save leaves .NAME.partial: the next save of the name starts afresh */
static void
test_partial_left_over (void **state)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *partial = mvm_snapshot_begin (*state, "g", "p", &error);
  g_autofree char *junk = g_build_filename (partial, "memory", NULL);
  g_autoptr (GPtrArray) list = NULL;

  assert_true (g_file_set_contents (junk, "half", -1, NULL));
  list = mvm_snapshot_list (*state, "g");
  assert_int_equal (list->len, 0);
  save (*state, "p", "whole", 1);
  g_clear_pointer (&list, g_ptr_array_unref);
  list = mvm_snapshot_list (*state, "g");
  assert_int_equal (list->len, 1);
}

static void
test_check (void **state)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MvmSnapshot) s = NULL;
  const char *const other_memory[]
    = { "/usr/bin/qemu-system-x86_64", "-m", "256M", "-smp", "1", NULL };
  const char *const longer[]
    = { "/usr/bin/qemu-system-x86_64", "-m", "192M", "-smp", "1", "-device", "x", NULL };

  save (*state, "c", "c", 1);
  s = mvm_snapshot_read (*state, "g", "c", &error);
  assert_true (mvm_snapshot_check (s, "g", ARGV, "7.2.22", &error));
  assert_false (mvm_snapshot_check (s, "g", ARGV, "8.0.0", &error));
  assert_non_null (strstr (error->message, "saved by QEMU 7.2.22"));
  assert_non_null (strstr (error->message, "it runs QEMU 8.0.0"));
  g_clear_error (&error);
  assert_false (mvm_snapshot_check (s, "g", other_memory, "7.2.22", &error));
  assert_non_null (strstr (error->message, "now has '-m 256M' where the snapshot's has '-m 192M'"));
  g_clear_error (&error);
  assert_false (mvm_snapshot_check (s, "g", longer, "7.2.22", &error));
  assert_non_null (strstr (error->message, "now has '-device' where the snapshot's has nothing"));
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown (test_save_read_list, setup, teardown),
    cmocka_unit_test_setup_teardown (test_missing_and_removed, setup, teardown),
    cmocka_unit_test_setup_teardown (test_partial_left_over, setup, teardown),
    cmocka_unit_test_setup_teardown (test_check, setup, teardown),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
