/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The overlay header microvmd writes is one QEMU's own checker accepts, of the size asked,
 * naming no backing file; and the standalone check still refuses one that names one. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <unistd.h>

#include "mvm-qcow2.h"

typedef struct
{
  char *dir;
  char *path;
  int fd;
} Overlay;

static int
setup (void **state)
{
  Overlay *o = g_new0 (Overlay, 1);

  o->dir = g_dir_make_tmp ("mvm-qcow2-XXXXXX", NULL);
  o->path = g_build_filename (o->dir, "root.qcow2", NULL);
  o->fd = open (o->path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  assert_true (o->fd >= 0);
  *state = o;
  return 0;
}

static int
teardown (void **state)
{
  Overlay *o = *state;

  close (o->fd);
  g_unlink (o->path);
  g_rmdir (o->dir);
  g_free (o->path);
  g_free (o->dir);
  g_free (o);
  return 0;
}

/* qemu-img's answer for @path: info as JSON, after check found no error */
static JsonObject *
qemu_img_info (const char *path, JsonParser *parser)
{
  const char *check[] = { "qemu-img", "check", "-f", "qcow2", path, NULL };
  const char *info[] = { "qemu-img", "info", "-f", "qcow2", "--output=json", path, NULL };
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  int status = -1;

  assert_true (g_spawn_sync (NULL, (char **)check, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &out,
                             &err, &status, NULL));
  if (!g_spawn_check_wait_status (status, NULL))
    fail_msg ("qemu-img check: %s%s", out, err);
  g_clear_pointer (&out, g_free);
  assert_true (g_spawn_sync (NULL, (char **)info, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &out, NULL,
                             &status, NULL));
  assert_true (g_spawn_check_wait_status (status, NULL));
  assert_true (json_parser_load_from_data (parser, out, -1, NULL));
  return json_node_get_object (json_parser_get_root (parser));
}

static void
check_overlay_of (void **state, guint64 size)
{
  Overlay *o = *state;
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) error = NULL;
  JsonObject *info;
  guint64 read_back = 0;

  assert_true (ftruncate (o->fd, 0) == 0);
  assert_true (mvm_qcow2_write_overlay (o->fd, size, &error));
  info = qemu_img_info (o->path, parser);
  assert_int_equal (json_object_get_int_member (info, "virtual-size"), size);
  assert_false (json_object_has_member (info, "backing-filename"));
  assert_true (mvm_qcow2_virtual_size (o->fd, &read_back, &error));
  assert_int_equal (read_back, size);
  assert_true (mvm_qcow2_check_standalone (o->fd, &error));
}

static void
test_small_overlay (void **state)
{
  check_overlay_of (state, 1 << 20);
}

static void
test_overlay_of_an_imported_image (void **state)
{
  check_overlay_of (state, 192ull << 20);
}

/* more than one L2 table, and an L1 table of more than one cluster */
static void
test_large_overlay (void **state)
{
  check_overlay_of (state, 3ull << 40);
}

static void
test_too_large_is_refused (void **state)
{
  Overlay *o = *state;
  g_autoptr (GError) error = NULL;

  assert_false (mvm_qcow2_write_overlay (o->fd, G_MAXUINT64 / 2, &error));
  assert_non_null (strstr (error->message, "too large for a qcow2 overlay"));
}

static void
test_backing_file_is_refused (void **state)
{
  Overlay *o = *state;
  const char *create[] = { "qemu-img", "create", "-q",          "-f",    "qcow2", "-F",
                           "raw",      "-b",     "/etc/shadow", o->path, "1M",    NULL };
  g_autoptr (GError) error = NULL;
  int status = -1;
  int fd;

  assert_true (g_spawn_sync (NULL, (char **)create, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL,
                             NULL, &status, NULL));
  assert_true (g_spawn_check_wait_status (status, NULL));
  fd = open (o->path, O_RDONLY | O_CLOEXEC);
  assert_false (mvm_qcow2_check_standalone (fd, &error));
  assert_non_null (strstr (error->message, "backing file"));
  close (fd);
}

/* The size a disk QEMU made has for the guest: the header's, not the file's */
static void
test_virtual_size_of_qemu_img_image (void **state)
{
  Overlay *o = *state;
  const char *create[] = { "qemu-img", "create", "-q", "-f", "qcow2", o->path, "5000K", NULL };
  g_autoptr (GError) error = NULL;
  guint64 size = 0;
  int status = -1;
  int fd;

  assert_true (g_spawn_sync (NULL, (char **)create, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL,
                             NULL, &status, NULL));
  assert_true (g_spawn_check_wait_status (status, NULL));
  fd = open (o->path, O_RDONLY | O_CLOEXEC);
  assert_true (mvm_qcow2_virtual_size (fd, &size, &error));
  assert_int_equal (size, 5000 * 1024);
  close (fd);
}

static void
test_virtual_size_of_raw_is_refused (void **state)
{
  Overlay *o = *state;
  g_autoptr (GError) error = NULL;
  guint8 zeros[4096] = { 0 };
  guint64 size = 0;

  assert_int_equal (pwrite (o->fd, zeros, sizeof zeros, 0), sizeof zeros);
  assert_false (mvm_qcow2_virtual_size (o->fd, &size, &error));
  assert_non_null (strstr (error->message, "not a qcow2 image"));
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown (test_small_overlay, setup, teardown),
    cmocka_unit_test_setup_teardown (test_overlay_of_an_imported_image, setup, teardown),
    cmocka_unit_test_setup_teardown (test_large_overlay, setup, teardown),
    cmocka_unit_test_setup_teardown (test_too_large_is_refused, setup, teardown),
    cmocka_unit_test_setup_teardown (test_backing_file_is_refused, setup, teardown),
    cmocka_unit_test_setup_teardown (test_virtual_size_of_qemu_img_image, setup, teardown),
    cmocka_unit_test_setup_teardown (test_virtual_size_of_raw_is_refused, setup, teardown),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
