/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Golden argv tests: every NAME.guest here is built against fixed host facts and compared
 * with NAME.args (one argument a line) or, for a guest that must be refused, NAME.err.
 * A "# golden: kvm vsock noqboot paused sockets passt novirtiofsd" comment line selects the host
 * facts.
 * MICROVMD_GOLDEN_UPDATE=1 rewrites the expected files: see README.md. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>
#include <glib/gstdio.h>

#include "mvm-argv.h"
#include "mvm-image-run.h"

typedef struct
{
  char *dir;
  char *stem;
} GoldenCase;

static gboolean
has_flag (const char *data, const char *flag)
{
  const char *line = strstr (data, "# golden:");
  g_autofree char *directive = NULL;
  g_auto (GStrv) words = NULL;

  if (line == NULL)
    return FALSE;
  directive = g_strndup (line + 9, strcspn (line + 9, "\n"));
  words = g_strsplit_set (directive, " \t", -1);
  return g_strv_contains ((const char *const *)words, flag);
}

static MvmHostFacts
fake_facts (const char *data)
{
  MvmHostFacts facts = {
    .qemu_binary = (char *)"qemu-system-x86_64",
    .qemu_version = (char *)"7.2.0",
    .kvm = has_flag (data, "kvm"),
    .vhost_vsock = has_flag (data, "vsock"),
    .qboot_rom = has_flag (data, "noqboot") ? NULL : (char *)"/usr/share/qemu/qboot.rom",
    .passt = has_flag (data, "passt") ? (char *)"/usr/bin/passt" : NULL,
    .virtiofsd = has_flag (data, "novirtiofsd") ? NULL : (char *)"/usr/lib/qemu/virtiofsd",
    .tsc_khz = 2600000,
  };
  return facts;
}

/* The argv joined by newlines, or "error: MESSAGE". */
static char *
render (const char *file_name, const char *data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MvmGuestConfig) guest = NULL;
  g_auto (GStrv) argv = NULL;
  g_autofree char *joined = NULL;
  g_autofree char *run = NULL;
  MvmHostFacts facts = fake_facts (data);
  MvmLaunch launch;

  guest = mvm_guest_config_new_from_data (data, strlen (data), file_name, &error);
  if (guest)
    {
      mvm_launch_init_default (&launch, guest,
                               guest->kernel ? guest->kernel : "/usr/share/microvmd/vmlinux",
                               guest->kernel ? guest->initrd : "/usr/share/microvmd/initrd.img");
      launch.paused = has_flag (data, "paused");
      if (has_flag (data, "sockets"))
        {
          launch.qmp = (MvmSocket){ -1, "/run/microvmd/web,x/qmp.sock" };
          launch.serial = (MvmSocket){ -1, "/run/microvmd/web,x/console.sock" };
          launch.ready = (MvmSocket){ -1, "/run/microvmd/web,x/ready.sock" };
        }
      /* Command= (an image's config takes the daemon's images folder: not here) */
      run = mvm_image_run_argument (NULL, (const char *const *)guest->command, &error);
      launch.run = run;
      if (error == NULL)
        argv = mvm_argv_build (guest, &facts, &launch, &error);
    }
  if (argv == NULL)
    return g_strdup_printf ("error: %s\n", error->message);
  joined = g_strjoinv ("\n", argv);
  return g_strconcat (joined, "\n", NULL);
}

static void
test_golden_case (void **state)
{
  const GoldenCase *c = *state;
  g_autofree char *guest_name = g_strconcat (c->stem, ".guest", NULL);
  g_autofree char *guest_path = g_build_filename (c->dir, guest_name, NULL);
  g_autofree char *args_path = g_strconcat (c->dir, "/", c->stem, ".args", NULL);
  g_autofree char *err_path = g_strconcat (c->dir, "/", c->stem, ".err", NULL);
  g_autofree char *data = NULL, *expected = NULL, *actual = NULL;
  const char *expected_path;

  assert_true (g_file_get_contents (guest_path, &data, NULL, NULL));
  actual = render (guest_name, data);
  expected_path = g_file_test (err_path, G_FILE_TEST_EXISTS) || g_str_has_prefix (actual, "error: ")
                    ? err_path
                    : args_path;
  if (g_getenv ("MICROVMD_GOLDEN_UPDATE"))
    {
      /* the other kind of expectation must not linger beside the new one */
      g_unlink (expected_path == err_path ? args_path : err_path);
      assert_true (g_file_set_contents (expected_path, actual, -1, NULL));
    }
  if (!g_file_get_contents (expected_path, &expected, NULL, NULL))
    fail_msg ("%s: no %s; run with MICROVMD_GOLDEN_UPDATE=1 to create it", guest_name,
              expected_path);
  if (g_str_has_prefix (actual, "error: ") != (expected_path == err_path))
    fail_msg ("%s: expected %s, got:\n%s", guest_name,
              expected_path == err_path ? "an error" : "an argv", actual);
  if (expected_path == err_path)
    {
      g_autofree char *want = g_strconcat ("error: ", expected, NULL);
      assert_string_equal (actual, g_str_has_prefix (expected, "error: ") ? expected : want);
    }
  else
    assert_string_equal (actual, expected);
}

static int
compare_names (gconstpointer a, gconstpointer b)
{
  return g_strcmp0 (*(const char *const *)a, *(const char *const *)b);
}

int
main (int argc, char **argv)
{
  const char *dir = argc > 1 ? argv[1] : ".";
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  g_autofree struct CMUnitTest *tests = NULL;
  g_autofree GoldenCase *cases = NULL;
  const char *name;
  int status;

  assert_non_null (d);
  while ((name = g_dir_read_name (d)))
    if (g_str_has_suffix (name, ".guest"))
      g_ptr_array_add (names, g_strndup (name, strlen (name) - strlen (".guest")));
  g_ptr_array_sort (names, compare_names);
  tests = g_new0 (struct CMUnitTest, names->len);
  cases = g_new0 (GoldenCase, names->len);
  for (guint i = 0; i < names->len; i++)
    {
      cases[i] = (GoldenCase){ (char *)dir, names->pdata[i] };
      tests[i] = (struct CMUnitTest){ names->pdata[i], test_golden_case, NULL, NULL, &cases[i] };
    }
  status = _cmocka_run_group_tests ("golden", tests, names->len, NULL, NULL);
  return status;
}
