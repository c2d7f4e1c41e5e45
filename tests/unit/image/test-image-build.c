/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* mvm_image_build as the daemon calls it: progress, cancellation, sizing. The archive is
 * written here with libarchive, uncompressed, so that progress comes every 4 MiB. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "mvm-error.h"
#include "mvm-image-build.h"

#define FILES 16
#define FILE_BYTES (1024 * 1024)

typedef struct
{
  char *dir;
  char *archive;
  char *image;
  int fd;
} Fixture;

static void
write_archive (const char *path)
{
  struct archive *a = archive_write_new ();
  struct archive_entry *entry = archive_entry_new ();
  g_autofree guint8 *data = g_malloc (FILE_BYTES);

  for (gsize i = 0; i < FILE_BYTES; i++)
    data[i] = (guint8)(i * 7 + i / 4096);
  archive_write_set_format_pax_restricted (a);
  assert_int_equal (archive_write_open_filename (a, path), ARCHIVE_OK);
  for (guint i = 0; i < FILES; i++)
    {
      g_autofree char *name = g_strdup_printf ("data/file-%u", i);
      archive_entry_clear (entry);
      archive_entry_set_pathname (entry, name);
      archive_entry_set_filetype (entry, AE_IFREG);
      archive_entry_set_perm (entry, 0644);
      archive_entry_set_size (entry, FILE_BYTES);
      assert_int_equal (archive_write_header (a, entry), ARCHIVE_OK);
      assert_int_equal (archive_write_data (a, data, FILE_BYTES), FILE_BYTES);
    }
  archive_entry_free (entry);
  assert_int_equal (archive_write_close (a), ARCHIVE_OK);
  archive_write_free (a);
}

static int
setup (void **state)
{
  Fixture *f = g_new0 (Fixture, 1);

  f->dir = g_dir_make_tmp ("test-image-build-XXXXXX", NULL);
  f->archive = g_build_filename (f->dir, "a.tar", NULL);
  f->image = g_build_filename (f->dir, "a.img", NULL);
  write_archive (f->archive);
  f->fd = open (f->archive, O_RDONLY | O_CLOEXEC);
  assert_true (f->fd >= 0);
  *state = f;
  return 0;
}

static int
teardown (void **state)
{
  Fixture *f = *state;

  close (f->fd);
  g_unlink (f->image);
  g_unlink (f->archive);
  g_rmdir (f->dir);
  g_free (f->archive);
  g_free (f->image);
  g_free (f->dir);
  g_free (f);
  return 0;
}

typedef struct
{
  guint64 last;
  guint64 total;
  guint calls;
  GCancellable *cancel_at_first;
} Progress;

static void
on_progress (guint64 consumed, guint64 total, gpointer user_data)
{
  Progress *p = user_data;

  assert_true (consumed >= p->last);
  assert_true (consumed <= total);
  p->last = consumed;
  p->total = total;
  p->calls++;
  if (p->cancel_at_first != NULL)
    g_cancellable_cancel (p->cancel_at_first);
}

static void
test_progress_reaches_the_total (void **state)
{
  Fixture *f = *state;
  g_autoptr (GError) error = NULL;
  g_autoptr (MvmImageInfo) info = NULL;
  Progress p = { 0 };
  struct stat st;

  assert_true (mvm_image_build (f->fd, f->image, 0, on_progress, &p, NULL, &info, &error));
  assert_null (error);
  assert_int_equal (fstat (f->fd, &st), 0);
  assert_int_equal (p.total, st.st_size);
  assert_int_equal (p.last, p.total);
  assert_true (p.calls >= 1);
  assert_int_equal (info->kind, MVM_IMAGE_KIND_TAR);
  assert_null (info->config_json);
  /* The file data, a block for the folder "data" and one for the names. */
  assert_int_equal (info->content_bytes, FILES * FILE_BYTES + 2 * 4096);
  assert_int_equal (info->image_bytes, 32 * 1024 * 1024); /* the floor */
}

static void
test_cancelled_build_leaves_nothing (void **state)
{
  Fixture *f = *state;
  g_autoptr (GError) error = NULL;
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  Progress p = { .cancel_at_first = cancellable };

  assert_false (mvm_image_build (f->fd, f->image, 0, on_progress, &p, cancellable, NULL, &error));
  assert_true (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED));
  assert_int_equal (p.calls, 1);
  assert_false (g_file_test (f->image, G_FILE_TEST_EXISTS));
}

static void
test_explicit_size_is_kept (void **state)
{
  Fixture *f = *state;
  g_autoptr (GError) error = NULL;
  g_autoptr (MvmImageInfo) info = NULL;
  struct stat st;

  assert_true (
    mvm_image_build (f->fd, f->image, 100 * 1024 * 1024 + 1, NULL, NULL, NULL, &info, &error));
  assert_int_equal (info->image_bytes, 100 * 1024 * 1024);
  assert_int_equal (g_stat (f->image, &st), 0);
  assert_int_equal (st.st_size, 100 * 1024 * 1024);
}

static void
test_existing_target_is_not_touched (void **state)
{
  Fixture *f = *state;
  g_autoptr (GError) error = NULL;
  g_autofree char *content = NULL;

  assert_true (g_file_set_contents (f->image, "mine", -1, NULL));
  assert_false (mvm_image_build (f->fd, f->image, 0, NULL, NULL, NULL, NULL, &error));
  assert_true (g_error_matches (error, MVM_ERROR, MVM_ERROR_ALREADY_EXISTS));
  assert_true (g_file_get_contents (f->image, &content, NULL, NULL));
  assert_string_equal (content, "mine");
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown (test_progress_reaches_the_total, setup, teardown),
    cmocka_unit_test_setup_teardown (test_cancelled_build_leaves_nothing, setup, teardown),
    cmocka_unit_test_setup_teardown (test_explicit_size_is_kept, setup, teardown),
    cmocka_unit_test_setup_teardown (test_existing_target_is_not_touched, setup, teardown),
  };

  return cmocka_run_group_tests (tests, NULL, NULL);
}
