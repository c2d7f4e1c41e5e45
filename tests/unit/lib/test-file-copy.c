/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Whole-file copies: the same bytes, holes and all, within one filesystem and from one to
 * another (a snapshot's saved overlay to a runtime folder on tmpfs, where copy_file_range
 * answers EXDEV); a half copy never has a name. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mvm-file-copy.h"

#define SOURCE_SIZE (3 << 20)

typedef struct
{
  char *dir;
  char *source;
} Fixture;

static int
setup (void **state)
{
  Fixture *f = g_new0 (Fixture, 1);
  int fd;

  f->dir = g_dir_make_tmp ("mvm-file-copy-XXXXXX", NULL);
  assert_non_null (f->dir);
  f->source = g_build_filename (f->dir, "source", NULL);
  fd = open (f->source, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  assert_true (fd >= 0);
  /* data at the start, a hole, data past the middle, a hole to the end */
  assert_int_equal (pwrite (fd, "head", 4, 0), 4);
  assert_int_equal (pwrite (fd, "middle", 6, 2 << 20), 6);
  assert_int_equal (ftruncate (fd, SOURCE_SIZE), 0);
  close (fd);
  *state = f;
  return 0;
}

static int
teardown (void **state)
{
  Fixture *f = *state;
  g_autofree char *command = g_strdup_printf ("rm -rf '%s'", f->dir);

  assert_int_equal (system (command), 0);
  g_free (f->source);
  g_free (f->dir);
  g_free (f);
  return 0;
}

static void
assert_same_file (const char *a, const char *b)
{
  g_autofree char *data_a = NULL, *data_b = NULL;
  gsize len_a = 0, len_b = 0;

  assert_true (g_file_get_contents (a, &data_a, &len_a, NULL));
  assert_true (g_file_get_contents (b, &data_b, &len_b, NULL));
  assert_int_equal (len_a, SOURCE_SIZE);
  assert_int_equal (len_b, len_a);
  assert_memory_equal (data_a, data_b, len_a);
}

static void
copy_to (const Fixture *f, const char *path)
{
  g_autoptr (GError) error = NULL;
  int in = open (f->source, O_RDONLY | O_CLOEXEC);
  struct stat st;

  assert_true (in >= 0);
  if (!mvm_file_copy (in, path, NULL, &error))
    fail_msg ("copy to %s: %s", path, error->message);
  close (in);
  assert_int_equal (stat (path, &st), 0);
  assert_int_equal (st.st_mode & 07777, 0600);
  assert_same_file (f->source, path);
}

static void
test_copy_in_one_filesystem (void **state)
{
  Fixture *f = *state;
  g_autofree char *copy = g_build_filename (f->dir, "copy", NULL);

  copy_to (f, copy);
}

/* /dev/shm is a tmpfs where the temporary folder is not: copy_file_range refuses (EXDEV) */
static void
test_copy_to_another_filesystem (void **state)
{
  Fixture *f = *state;
  g_autofree char *name = g_path_get_basename (f->dir); /* unique in the temporary folder */
  g_autofree char *shm_dir = g_build_filename ("/dev/shm", name, NULL);
  g_autofree char *copy = g_build_filename (shm_dir, "copy", NULL);
  struct stat tmp_st, shm_st;

  if (stat (f->dir, &tmp_st) < 0 || stat ("/dev/shm", &shm_st) < 0
      || tmp_st.st_dev == shm_st.st_dev)
    skip ();
  assert_int_equal (g_mkdir (shm_dir, 0700), 0);
  copy_to (f, copy);
  g_unlink (copy);
  g_rmdir (shm_dir);
}

static void
test_copy_refuses_an_existing_name (void **state)
{
  Fixture *f = *state;
  g_autofree char *copy = g_build_filename (f->dir, "copy", NULL);
  g_autoptr (GError) error = NULL;
  int in = open (f->source, O_RDONLY | O_CLOEXEC);

  assert_true (g_file_set_contents (copy, "there", 5, NULL));
  assert_false (mvm_file_copy (in, copy, NULL, &error));
  assert_true (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_EXISTS));
  close (in);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown (test_copy_in_one_filesystem, setup, teardown),
    cmocka_unit_test_setup_teardown (test_copy_to_another_filesystem, setup, teardown),
    cmocka_unit_test_setup_teardown (test_copy_refuses_an_existing_name, setup, teardown),
  };

  return cmocka_run_group_tests_name ("file-copy", tests, NULL, NULL);
}
