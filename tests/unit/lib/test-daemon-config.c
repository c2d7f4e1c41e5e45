/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* microvmd.conf: every key, its defaults, and the image-folder policy on real files. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>
#include <unistd.h>
#include <glib/gstdio.h>

#include "config.h"
#include "mvm-daemon-config.h"
#include "mvm-error.h"

/* A temporary folder with images/root.img, outside/secret.img and images/link.img ->
 * ../outside/secret.img, removed by the teardown. */
typedef struct
{
  char *dir;
  char *images;
  char *conf;
} Fixture;

static char *
put (const Fixture *f, const char *name, const char *contents)
{
  char *path = g_build_filename (f->dir, name, NULL);

  assert_true (g_file_set_contents (path, contents, -1, NULL));
  return path;
}

static int
setup (void **state)
{
  Fixture *f = g_new0 (Fixture, 1);
  g_autofree char *outside = NULL;
  g_autofree char *link = NULL;

  f->dir = g_dir_make_tmp ("test-daemon-config-XXXXXX", NULL);
  assert_non_null (f->dir);
  f->images = g_build_filename (f->dir, "images", NULL);
  outside = g_build_filename (f->dir, "outside", NULL);
  f->conf = g_build_filename (f->dir, "microvmd.conf", NULL);
  assert_int_equal (g_mkdir (f->images, 0700), 0);
  assert_int_equal (g_mkdir (outside, 0700), 0);
  g_free (put (f, "images/root.img", "disk"));
  g_free (put (f, "outside/secret.img", "secret"));
  link = g_build_filename (f->images, "link.img", NULL);
  assert_int_equal (symlink ("../outside/secret.img", link), 0);
  *state = f;
  return 0;
}

static void
remove_tree (const char *path)
{
  g_autoptr (GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  while (dir && (name = g_dir_read_name (dir)))
    {
      g_autofree char *child = g_build_filename (path, name, NULL);
      if (g_file_test (child, G_FILE_TEST_IS_DIR) && !g_file_test (child, G_FILE_TEST_IS_SYMLINK))
        remove_tree (child);
      else
        g_unlink (child);
    }
  g_rmdir (path);
}

static int
teardown (void **state)
{
  Fixture *f = *state;

  remove_tree (f->dir);
  g_free (f->dir);
  g_free (f->images);
  g_free (f->conf);
  g_free (f);
  return 0;
}

static MvmDaemonConfig *
load_ok (const Fixture *f, const char *contents)
{
  g_autoptr (GError) error = NULL;
  MvmDaemonConfig *c;

  assert_true (g_file_set_contents (f->conf, contents, -1, NULL));
  c = mvm_daemon_config_load (f->conf, FALSE, &error);
  if (c == NULL)
    fail_msg ("refused: %s", error->message);
  return c;
}

static void
assert_load_error (const Fixture *f, const char *contents, const char *expected_after_path)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MvmDaemonConfig) c = NULL;
  g_autofree char *expected = g_strconcat (f->conf, expected_after_path, NULL);

  assert_true (g_file_set_contents (f->conf, contents, -1, NULL));
  c = mvm_daemon_config_load (f->conf, TRUE, &error);
  assert_null (c);
  assert_true (g_error_matches (error, MVM_ERROR, MVM_ERROR_INVALID_CONFIG));
  assert_string_equal (error->message, expected);
}

static void
assert_defaults (const MvmDaemonConfig *c)
{
  assert_string_equal (c->qemu_binary, MVM_QEMU_BINARY);
  assert_int_equal (c->accelerator, MVM_ACCEL_AUTO);
  assert_null (c->default_kernel);
  assert_null (c->default_initrd);
  assert_non_null (c->image_dirs);
  assert_null (c->image_dirs[0]);
  assert_int_equal (c->log_max_bytes, 1024 * 1024);
  assert_int_equal (c->log_keep_files, 3);
  assert_int_equal (c->shutdown_guests, MVM_SHUTDOWN_GUESTS_KEEP);
  /* nothing of the host is open to guests until root's microvmd.conf says so */
  assert_int_equal (c->max_guests, 1024);
  assert_null (c->allowed_devices[0]);
  assert_null (c->share_dirs[0]);
  assert_null (c->allowed_bridges[0]);
  assert_int_equal (c->guest_uid_first, 0x7E000000);
  assert_int_equal (c->guest_uid_last, 0x7E00FFFF);
}

/* The daemon's default images folder applies only when microvmd.conf names none. */
static void
test_default_image_dir (void **state)
{
  Fixture *f = *state;
  g_autoptr (MvmDaemonConfig) def = mvm_daemon_config_new_default ();
  g_autoptr (MvmDaemonConfig) set = load_ok (f, "[Daemon]\nImageDirectories=/srv/images\n");

  mvm_daemon_config_set_default_image_dir (def, "/var/lib/microvmd/images");
  mvm_daemon_config_set_default_image_dir (set, "/var/lib/microvmd/images");
  assert_string_equal (def->image_dirs[0], "/var/lib/microvmd/images");
  assert_null (def->image_dirs[1]);
  assert_string_equal (set->image_dirs[0], "/srv/images");
  assert_null (set->image_dirs[1]);
}

static void
test_missing_optional_file_gives_defaults (void **state)
{
  Fixture *f = *state;
  g_autoptr (GError) error = NULL;
  g_autoptr (MvmDaemonConfig) c = mvm_daemon_config_load (f->conf, TRUE, &error);

  assert_null (error);
  assert_non_null (c);
  assert_null (c->source_path);
  assert_defaults (c);
}

static void
test_missing_required_file_fails (void **state)
{
  Fixture *f = *state;
  g_autoptr (GError) error = NULL;
  g_autoptr (MvmDaemonConfig) c = mvm_daemon_config_load (f->conf, FALSE, &error);

  assert_null (c);
  assert_true (g_error_matches (error, G_FILE_ERROR, G_FILE_ERROR_NOENT));
}

static void
test_empty_file_gives_defaults (void **state)
{
  Fixture *f = *state;
  g_autoptr (MvmDaemonConfig) empty = load_ok (f, "# nothing set\n");
  g_autoptr (MvmDaemonConfig) group = load_ok (f, "[Daemon]\n");
  g_autoptr (MvmDaemonConfig) def = mvm_daemon_config_new_default ();

  assert_defaults (empty);
  assert_string_equal (empty->source_path, f->conf);
  assert_defaults (group);
  assert_defaults (def);
}

static void
test_every_key (void **state)
{
  Fixture *f = *state;
  g_autoptr (MvmDaemonConfig) c
    = load_ok (f, "[Daemon]\n"
                  "QemuBinary=/opt/qemu/bin/qemu-system-x86_64\n"
                  "Accelerator=tcg\n"
                  "DefaultKernel=/srv/k/vmlinux\n"
                  "DefaultInitrd=/srv/k/initrd.img\n"
                  "ImageDirectories=/srv/images  /var/lib/microvmd/images\t/mnt\n"
                  "LogMaxBytes=2M\n"
                  "LogKeepFiles=0\n"
                  "ShutdownGuests=shutdown\n"
                  "MaxGuests=12\n"
                  "AllowedDevices=/dev/vg0/swap /dev/disk/by-id/x\n"
                  "ShareDirectories=/srv/shares\n"
                  "AllowedBridges=br0 br-guests\n"
                  "GuestUIDs=70000-70099\n");

  assert_string_equal (c->qemu_binary, "/opt/qemu/bin/qemu-system-x86_64");
  assert_int_equal (c->accelerator, MVM_ACCEL_TCG);
  assert_string_equal (c->default_kernel, "/srv/k/vmlinux");
  assert_string_equal (c->default_initrd, "/srv/k/initrd.img");
  assert_int_equal (g_strv_length (c->image_dirs), 3);
  assert_string_equal (c->image_dirs[0], "/srv/images");
  assert_string_equal (c->image_dirs[1], "/var/lib/microvmd/images");
  assert_string_equal (c->image_dirs[2], "/mnt");
  assert_int_equal (c->log_max_bytes, 2 * 1024 * 1024);
  assert_int_equal (c->log_keep_files, 0);
  assert_int_equal (c->shutdown_guests, MVM_SHUTDOWN_GUESTS_SHUTDOWN);
  assert_int_equal (c->max_guests, 12);
  assert_int_equal (g_strv_length (c->allowed_devices), 2);
  assert_string_equal (c->allowed_devices[1], "/dev/disk/by-id/x");
  assert_string_equal (c->share_dirs[0], "/srv/shares");
  assert_string_equal (c->allowed_bridges[1], "br-guests");
  assert_int_equal (c->guest_uid_first, 70000);
  assert_int_equal (c->guest_uid_last, 70099);
}

static void
test_accelerator_values (void **state)
{
  Fixture *f = *state;
  g_autoptr (MvmDaemonConfig) kvm = load_ok (f, "[Daemon]\nAccelerator=kvm\n");
  g_autoptr (MvmDaemonConfig) any = load_ok (f, "[Daemon]\nAccelerator=auto\n");
  g_autoptr (MvmDaemonConfig) keep = load_ok (f, "[Daemon]\nShutdownGuests=keep\n");

  assert_int_equal (kvm->accelerator, MVM_ACCEL_KVM);
  assert_int_equal (any->accelerator, MVM_ACCEL_AUTO);
  assert_int_equal (keep->shutdown_guests, MVM_SHUTDOWN_GUESTS_KEEP);
}

/* UserNetwork= decides what Mode=user cards get, on top of what the host has */
static void
test_user_network (void **state)
{
  Fixture *f = *state;
  g_autoptr (MvmDaemonConfig) dflt = load_ok (f, "[Daemon]\n");
  g_autoptr (MvmDaemonConfig) slirp = load_ok (f, "[Daemon]\nUserNetwork=slirp\n");
  g_autoptr (MvmDaemonConfig) passt = load_ok (f, "[Daemon]\nUserNetwork=passt\n");
  MvmHostFacts with = { .passt = g_strdup ("/usr/bin/passt") }, without = { 0 };
  g_autoptr (GError) error = NULL;

  assert_int_equal (dflt->user_network, MVM_USER_NETWORK_AUTO);
  assert_true (mvm_daemon_config_apply_user_network (dflt, &with, NULL));
  assert_string_equal (with.passt, "/usr/bin/passt");
  assert_true (mvm_daemon_config_apply_user_network (passt, &with, NULL));
  assert_true (mvm_daemon_config_apply_user_network (slirp, &with, NULL));
  assert_null (with.passt);
  assert_true (mvm_daemon_config_apply_user_network (dflt, &without, NULL));
  assert_false (mvm_daemon_config_apply_user_network (passt, &without, &error));
  assert_non_null (strstr (error->message, "UserNetwork=passt, but passt is not installed"));
  assert_load_error (f, "[Daemon]\nUserNetwork=vde\n",
                     ":2: [Daemon] UserNetwork: 'vde' is not one of auto, passt, slirp");
}

static void
test_errors (void **state)
{
  Fixture *f = *state;

  assert_load_error (f, "[Daemon]\nAccelerator=kvm\nQemuPath=/usr/bin/qemu\n",
                     ":3: [Daemon] QemuPath: unknown key; this group takes QemuBinary, "
                     "Accelerator, DefaultKernel, DefaultInitrd, ImageDirectories, LogMaxBytes, "
                     "LogKeepFiles, ShutdownGuests, MaxGuests, AllowedDevices, ShareDirectories, "
                     "AllowedBridges, GuestUIDs, UserNetwork");
  assert_load_error (f, "[Daemon]\n[Guests]\n",
                     ":2: [Guests] unknown group; microvmd.conf has only [Daemon]");
  assert_load_error (f, "[Daemon]\nAccelerator=hvf\n",
                     ":2: [Daemon] Accelerator: 'hvf' is not one of auto, kvm, tcg");
  assert_load_error (f, "[Daemon]\nImageDirectories=/srv images\n",
                     ":2: [Daemon] ImageDirectories: 'images' is a relative path; give absolute "
                     "paths, separated by spaces");
  assert_load_error (f, "[Daemon]\nDefaultKernel=vmlinux\n",
                     ":2: [Daemon] DefaultKernel: 'vmlinux' is a relative path; give an absolute "
                     "path");
  assert_load_error (f, "[Daemon]\nLogMaxBytes=1K\n",
                     ":2: [Daemon] LogMaxBytes: '1K' is out of range (4K to 4294967295)");
  assert_load_error (f, "[Daemon]\nLogKeepFiles=101\n",
                     ":2: [Daemon] LogKeepFiles: '101' is not a whole number from 0 to 100");
  assert_load_error (f, "[Daemon]\nGuestUIDs=1000-2000\n",
                     ":2: [Daemon] GuestUIDs: '1000-2000' is neither no nor a range FIRST-LAST of "
                     "uids from 65536 to 2147483647");
  assert_load_error (f, "[Daemon]\nShutdownGuests=kill\n",
                     ":2: [Daemon] ShutdownGuests: 'kill' is not one of keep, shutdown");
}

/* A share outside ShareDirectories= (none by default), and a share that is no folder. */
static void
test_check_guest_shares (void **state)
{
  Fixture *f = *state;
  g_autofree char *conf = g_strdup_printf ("[Daemon]\nShareDirectories=%s\n", f->dir);
  g_autoptr (MvmDaemonConfig) none = mvm_daemon_config_new_default ();
  g_autoptr (MvmDaemonConfig) c = load_ok (f, conf);
  g_autofree char *file_data
    = g_strdup_printf ("[Guest]\nName=g\n[Share data]\nPath=%s/images/root.img\n", f->dir);
  g_autofree char *file_expected
    = g_strdup_printf ("guest g: [Share data] Path: '%s/images/root.img' is not a folder", f->dir);
  g_autofree char *dir_data
    = g_strdup_printf ("[Guest]\nName=g\n[Share data]\nPath=%s\n", f->images);
  const char *root_data = "[Guest]\nName=g\n[Share data]\nPath=/\nReadOnly=no\n";
  g_autoptr (MvmGuestConfig) file
    = mvm_guest_config_new_from_data (file_data, strlen (file_data), "g.guest", NULL);
  g_autoptr (MvmGuestConfig) dir
    = mvm_guest_config_new_from_data (dir_data, strlen (dir_data), "g.guest", NULL);
  g_autoptr (MvmGuestConfig) root
    = mvm_guest_config_new_from_data (root_data, strlen (root_data), "g.guest", NULL);
  g_autoptr (GError) error = NULL;

  assert_false (mvm_daemon_config_check_guest (c, file, &error));
  assert_string_equal (error->message, file_expected);
  g_clear_error (&error);
  assert_false (mvm_daemon_config_check_guest (none, dir, &error));
  assert_non_null (strstr (error->message, "allows, nor inside one (it allows none)"));
  g_clear_error (&error);
  assert_false (mvm_daemon_config_check_guest (c, root, &error));
  assert_string_equal (error->message, "guest g: [Share data] Path: '/' is not a folder that "
                                       "ShareDirectories= in microvmd.conf allows, nor inside one");
  g_clear_error (&error);
  assert_true (mvm_daemon_config_check_guest (c, dir, &error));
}

static void
test_check_guest_bridges (void **state)
{
  Fixture *f = *state;
  g_autoptr (MvmDaemonConfig) c = load_ok (f, "[Daemon]\nAllowedBridges=br-guests\n");
  const char *ok_data = "[Guest]\nName=g\n[Network lan]\nMode=tap\nBridge=br-guests\n";
  const char *bad_data = "[Guest]\nName=g\n[Network lan]\nMode=tap\nBridge=docker0\n";
  g_autoptr (MvmGuestConfig) ok
    = mvm_guest_config_new_from_data (ok_data, strlen (ok_data), "g.guest", NULL);
  g_autoptr (MvmGuestConfig) bad
    = mvm_guest_config_new_from_data (bad_data, strlen (bad_data), "g.guest", NULL);
  g_autoptr (GError) error = NULL;

  assert_true (mvm_daemon_config_check_guest (c, ok, &error));
  assert_false (mvm_daemon_config_check_guest (c, bad, &error));
  assert_string_equal (error->message, "guest g: [Network lan] Bridge: 'docker0' is not in "
                                       "AllowedBridges= in microvmd.conf");
}

static void
test_resolve_boot (void **state)
{
  Fixture *f = *state;
  g_autofree char *kernel = put (f, "vmlinux", "kernel");
  g_autofree char *initrd = put (f, "initrd.img", "initrd");
  g_autofree char *own = put (f, "own-vmlinux", "kernel");
  g_autofree char *conf
    = g_strdup_printf ("[Daemon]\nDefaultKernel=%s\nDefaultInitrd=%s\n", kernel, initrd);
  g_autofree char *own_data = g_strdup_printf ("[Guest]\nName=own\nKernel=%s\n", own);
  g_autoptr (MvmDaemonConfig) c = load_ok (f, conf);
  g_autoptr (MvmGuestConfig) plain
    = mvm_guest_config_new_from_data ("[Guest]\n", 8, "plain.guest", NULL);
  g_autoptr (MvmGuestConfig) with_own
    = mvm_guest_config_new_from_data (own_data, strlen (own_data), "own.guest", NULL);
  g_autoptr (GError) error = NULL;
  g_autofree char *k = NULL, *i = NULL, *k2 = NULL, *i2 = NULL;

  assert_true (mvm_daemon_config_resolve_boot (c, plain, &k, &i, &error));
  assert_string_equal (k, kernel);
  assert_string_equal (i, initrd);
  /* the default initrd goes with the default kernel only */
  assert_true (mvm_daemon_config_resolve_boot (c, with_own, &k2, &i2, &error));
  assert_string_equal (k2, own);
  assert_null (i2);
}

static void
test_resolve_boot_missing_kernel (void **state)
{
  Fixture *f = *state;
  g_autofree char *gone = g_build_filename (f->dir, "gone-vmlinux", NULL);
  g_autofree char *conf = g_strdup_printf ("[Daemon]\nDefaultKernel=%s\n", gone);
  g_autofree char *expected
    = g_strdup_printf ("guest plain: kernel '%s' is missing or unreadable", gone);
  g_autoptr (MvmDaemonConfig) c = load_ok (f, conf);
  g_autoptr (MvmGuestConfig) plain
    = mvm_guest_config_new_from_data ("[Guest]\n", 8, "plain.guest", NULL);
  g_autoptr (GError) error = NULL;
  g_autofree char *k = NULL, *i = NULL;

  assert_false (mvm_daemon_config_resolve_boot (c, plain, &k, &i, &error));
  assert_string_equal (error->message, expected);
  assert_null (k);
}

#define FIXTURE(t) cmocka_unit_test_setup_teardown (t, setup, teardown)

int
main (void)
{
  const struct CMUnitTest tests[] = {
    FIXTURE (test_missing_optional_file_gives_defaults),
    FIXTURE (test_missing_required_file_fails),
    FIXTURE (test_empty_file_gives_defaults),
    FIXTURE (test_every_key),
    FIXTURE (test_accelerator_values),
    FIXTURE (test_errors),
    FIXTURE (test_user_network),
    FIXTURE (test_default_image_dir),
    FIXTURE (test_check_guest_shares),
    FIXTURE (test_check_guest_bridges),
    FIXTURE (test_resolve_boot),
    FIXTURE (test_resolve_boot_missing_kernel),
  };

  return cmocka_run_group_tests_name ("daemon-config", tests, NULL, NULL);
}
