/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* RUNTIME/NAME/state: what a restarted daemon trusts when it adopts a QEMU. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>
#include <unistd.h>
#include <glib/gstdio.h>

#include "mvd-state-file.h"

static char *
temp_path (void)
{
  g_autofree char *dir = g_dir_make_tmp ("mvd-state-XXXXXX", NULL);

  assert_non_null (dir);
  return g_build_filename (dir, "state", NULL);
}

static void
remove_temp (char *path)
{
  g_autofree char *dir = g_path_get_dirname (path);

  g_unlink (path);
  g_rmdir (dir);
  g_free (path);
}

static MvdStateFile *
save_and_load (const MvdStateFile *saved)
{
  char *path = temp_path ();
  g_autoptr (GError) error = NULL;
  MvdStateFile *loaded;

  assert_true (mvd_state_file_save (saved, path, &error));
  loaded = mvd_state_file_load (path, &error);
  assert_non_null (loaded);
  remove_temp (path);
  return loaded;
}

/* What a start writes comes back, and names this very process. */
static void
test_round_trip_names_the_process (void **unused)
{
  g_autoptr (MvdStateFile) saved = g_new0 (MvdStateFile, 1);
  g_autoptr (MvdStateFile) loaded = NULL;

  (void)unused;
  saved->pid = getpid ();
  assert_true (mvd_state_file_read_process (saved->pid, &saved->start_time, &saved->binary));
  saved->reason = MVM_STATE_REASON_KVM_FALLBACK;
  saved->message = g_strdup ("KVM internal error");
  saved->accelerator = g_strdup ("tcg");
  saved->vsock_cid = 42;
  loaded = save_and_load (saved);
  assert_int_equal (loaded->reason, MVM_STATE_REASON_KVM_FALLBACK);
  assert_string_equal (loaded->message, "KVM internal error");
  assert_string_equal (loaded->accelerator, "tcg");
  assert_int_equal (loaded->vsock_cid, 42);
  assert_true (mvd_state_file_matches_process (loaded));
}

/* A QEMU that ended before /proc could name it still leaves a file (G_DEBUG=fatal-criticals
 * made this a daemon crash), and that file never adopts whatever gets the pid next. */
static void
test_process_gone_before_read_never_matches (void **unused)
{
  g_autoptr (MvdStateFile) saved = g_new0 (MvdStateFile, 1);
  g_autoptr (MvdStateFile) loaded = NULL;

  (void)unused;
  saved->pid = getpid ();
  loaded = save_and_load (saved);
  assert_false (mvd_state_file_matches_process (loaded));
}

/* A file from a daemon before reasons existed reads as adopted; PID=1 is refused. */
static void
test_old_and_bad_files (void **unused)
{
  char *path = temp_path ();
  g_autoptr (MvdStateFile) loaded = NULL;
  g_autoptr (GError) error = NULL;

  (void)unused;
  assert_true (g_file_set_contents (path,
                                    "[Process]\nPID=4242\nStartTime=7\nBinary=/usr/bin/qemu\n"
                                    "StartTimestamp=1\nRunning=true\n",
                                    -1, NULL));
  loaded = mvd_state_file_load (path, &error);
  assert_non_null (loaded);
  assert_int_equal (loaded->reason, MVM_STATE_REASON_ADOPTED);
  assert_true (g_file_set_contents (path,
                                    "[Process]\nPID=1\nStartTime=7\nBinary=/sbin/init\n"
                                    "StartTimestamp=1\nRunning=true\n",
                                    -1, NULL));
  assert_null (mvd_state_file_load (path, &error));
  assert_non_null (strstr (error->message, "PID=1"));
  remove_temp (path);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_round_trip_names_the_process),
    cmocka_unit_test (test_process_gone_before_read_never_matches),
    cmocka_unit_test (test_old_and_bad_files),
  };

  return cmocka_run_group_tests (tests, NULL, NULL);
}
