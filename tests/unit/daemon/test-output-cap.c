/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* qemu.out on the /run tmpfs stays under its cap, and QEMU writes on at its new end. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <glib/gstdio.h>

#include "mvd-output-cap.h"

static void
test_cut_back_to_its_end (void **unused)
{
  g_autofree char *dir = g_dir_make_tmp ("mvd-cap-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "qemu.out", NULL);
  g_autofree char *data = NULL;
  g_autoptr (GString) out = g_string_new (NULL);
  int qemu;

  (void)unused;
  for (int i = 0; i < 300; i++)
    g_string_append_printf (out, "line %03d\n", i); /* 9 bytes a line, 2700 in all */
  qemu = open (path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600); /* as the spawner does */
  assert_true (qemu >= 0);
  assert_int_equal (write (qemu, out->str, out->len), out->len);

  assert_false (mvd_output_cap_check (path, 4096, 900)); /* under the cap: left alone */
  assert_true (mvd_output_cap_check (path, 1000, 900));
  assert_true (g_file_get_contents (path, &data, NULL, NULL));
  assert_true (g_str_has_prefix (data, "[microvmd: 1800 bytes of QEMU's output dropped]\n"));
  assert_non_null (strstr (data, "line 200\n"));
  assert_null (strstr (data, "line 199\n"));
  assert_true (g_str_has_suffix (data, "line 299\n"));
  g_clear_pointer (&data, g_free);

  /* QEMU's next line goes at the new end, not at its old offset */
  assert_int_equal (write (qemu, "last words\n", 11), 11);
  assert_true (g_file_get_contents (path, &data, NULL, NULL));
  assert_true (g_str_has_suffix (data, "line 299\nlast words\n"));
  assert_true (strlen (data) < 1000);
  close (qemu);
  g_unlink (path);
  g_rmdir (dir);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_cut_back_to_its_end),
  };

  return cmocka_run_group_tests_name ("output-cap", tests, NULL, NULL);
}
