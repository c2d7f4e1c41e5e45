/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The host files of a launch: opened by the daemon beneath ImageDirectories= (no symlink, no
 * "..", regular files only), block devices only where AllowedDevices= lists them, qcow2 images
 * that name no other file, and the daemon's own kernel and initrd. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include <glib/gstdio.h>

#include "mvm-error.h"
#include "mvm-qcow2.h"
#include "mvm-guest-files.h"
#include "mvm-paths.h"

typedef struct
{
  char *dir;    /* removed by the teardown */
  char *images; /* DIR/images: the one ImageDirectories= */
  MvmDaemonConfig *config;
} Fixture;

static char *
put (const Fixture *f, const char *name, const void *data, gsize len)
{
  char *path = g_build_filename (f->dir, name, NULL);

  assert_true (g_file_set_contents (path, data, len, NULL));
  return path;
}

static int
setup (void **state)
{
  Fixture *f = g_new0 (Fixture, 1);
  g_autofree char *outside = NULL;

  f->dir = g_dir_make_tmp ("test-guest-files-XXXXXX", NULL);
  assert_non_null (f->dir);
  f->images = g_build_filename (f->dir, "images", NULL);
  outside = g_build_filename (f->dir, "outside", NULL);
  assert_int_equal (g_mkdir (f->images, 0700), 0);
  assert_int_equal (g_mkdir (outside, 0700), 0);
  g_free (put (f, "images/root.img", "disk", 4));
  g_free (put (f, "images/vmlinux", "kernel", 6));
  g_free (put (f, "outside/secret.img", "secret", 6));
  g_free (put (f, "default-vmlinux", "kernel", 6));
  f->config = mvm_daemon_config_new_default ();
  f->config->default_kernel = g_build_filename (f->dir, "default-vmlinux", NULL);
  mvm_daemon_config_set_default_image_dir (f->config, f->images);
  *state = f;
  return 0;
}

static int
teardown (void **state)
{
  Fixture *f = *state;
  g_autofree char *command = g_strdup_printf ("rm -rf '%s'", f->dir);

  assert_int_equal (system (command), 0);
  mvm_daemon_config_free (f->config);
  g_free (f->images);
  g_free (f->dir);
  g_free (f);
  return 0;
}

static MvmGuestConfig *
guest (const char *format, ...)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *text = NULL;
  va_list args;
  MvmGuestConfig *g;

  va_start (args, format);
  text = g_strdup_vprintf (format, args);
  va_end (args);
  g = mvm_guest_config_new_from_data (text, strlen (text), "g.guest", &error);
  if (g == NULL)
    fail_msg ("guest refused: %s", error->message);
  return g;
}

/* Opens @g's files with the overlays @overlays says; NULL on success, else the error message */
static char *
open_files_with (const Fixture *f, const MvmGuestConfig *g, MvmGuestFiles *files,
                 const MvmOverlayPlace *overlays)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *kernel = NULL;
  g_autofree char *initrd = NULL;
  MvmLaunch launch;

  assert_true (mvm_daemon_config_resolve_boot (f->config, g, &kernel, &initrd, &error));
  mvm_launch_init_default (&launch, g, kernel, initrd);
  if (mvm_guest_files_open (files, f->config, g, &launch, overlays, &error))
    return NULL;
  assert_int_equal (files->n, 0);
  return g_strdup (error->message);
}

/* ... as a start would (@create: Image= overlays are made), no ephemeral overlay made */
static char *
open_files_creating (const Fixture *f, const MvmGuestConfig *g, MvmGuestFiles *files,
                     gboolean create)
{
  MvmOverlayPlace overlays = { .create_image = create };

  return open_files_with (f, g, files, &overlays);
}

/* ... as a preview would: no overlay is made */
static char *
open_files (const Fixture *f, const MvmGuestConfig *g, MvmGuestFiles *files)
{
  return open_files_creating (f, g, files, FALSE);
}

static void
assert_refused (const Fixture *f, const MvmGuestConfig *g, const char *needle)
{
  MvmGuestFiles files;
  g_autofree char *message = open_files (f, g, &files);

  if (message == NULL)
    fail_msg ("opened, expected an error with \"%s\"", needle);
  if (strstr (message, needle) == NULL)
    fail_msg ("\"%s\" lacks \"%s\"", message, needle);
}

static int
access_mode (int fd)
{
  return fcntl (fd, F_GETFL) & O_ACCMODE;
}

/* A writable disk beneath the folder: a read-only and a read-write fd at their numbers, the
 * daemon's own kernel too; a ReadOnly= disk gets no writable fd. */
static void
test_disk_beneath_images (void **state)
{
  Fixture *f = *state;
  g_autoptr (MvmGuestConfig) rw
    = guest ("[Guest]\nName=g\n[Disk root]\nPath=%s/root.img\n", f->images);
  g_autoptr (MvmGuestConfig) ro
    = guest ("[Guest]\nName=g\n[Disk root]\nPath=%s/root.img\nReadOnly=yes\n", f->images);
  MvmGuestFiles files;

  assert_null (open_files (f, rw, &files));
  assert_int_equal (files.n, 3);
  assert_int_equal (files.fds[0].target, MVM_FD_KERNEL);
  assert_int_equal (files.fds[1].target, MVM_FD_DISK_FIRST);
  assert_int_equal (access_mode (files.fds[1].fd), O_RDONLY);
  assert_int_equal (files.fds[2].target, MVM_FD_DISK_FIRST + 1);
  assert_int_equal (access_mode (files.fds[2].fd), O_RDWR);
  assert_true (fcntl (files.fds[2].fd, F_GETFD) & FD_CLOEXEC);
  mvm_guest_files_clear (&files);
  assert_null (open_files (f, ro, &files));
  assert_int_equal (files.n, 2);
  mvm_guest_files_clear (&files);
}

/* Image=NAME: IMAGES/NAME.ext4, opened beneath the images folder even when
 * ImageDirectories= names other folders; a missing one and a symlink are refused by name. */
static void
test_disk_image (void **state)
{
  Fixture *f = *state;
  g_autofree char *elsewhere = g_build_filename (f->dir, "outside", NULL);
  g_autofree char *link = g_build_filename (f->images, "linked.ext4", NULL);
  g_autoptr (MvmGuestConfig) good = guest ("[Guest]\nName=g\n[Disk root]\nImage=deb\n");
  g_autoptr (MvmGuestConfig) missing = guest ("[Guest]\nName=g\n[Disk root]\nImage=nope\n");
  g_autoptr (MvmGuestConfig) linked = guest ("[Guest]\nName=g\n[Disk root]\nImage=linked\n");
  MvmGuestFiles files;

  g_free (put (f, "images/deb.ext4", "ext4", 4));
  assert_int_equal (symlink ("../outside/secret.img", link), 0);
  g_strfreev (f->config->image_dirs);
  f->config->image_dirs = g_new0 (char *, 2);
  f->config->image_dirs[0] = g_strdup (elsewhere);
  /* a preview opens the image read-only and makes no overlay */
  assert_null (open_files (f, good, &files));
  assert_int_equal (files.n, 2);
  assert_int_equal (files.fds[1].target, MVM_FD_DISK_FIRST);
  assert_int_equal (access_mode (files.fds[1].fd), O_RDONLY);
  mvm_guest_files_clear (&files);
  assert_refused (f, missing, "guest g: [Disk root] Image: no image named 'nope'");
  assert_refused (f, linked, "guest g: [Disk root] Image: ");
  assert_refused (f, linked, "symlink or '..'");
}

/* A writable Image= disk: the image read-only, and the guest's own overlay in its data
 * folder, made at the first start and found again at the next, read-only and read-write. */
static void
test_disk_image_overlay (void **state)
{
  Fixture *f = *state;
  g_autoptr (MvmGuestConfig) g = guest ("[Guest]\nName=g\n[Disk root]\nImage=deb\n");
  g_autofree char *overlay = g_build_filename (f->dir, "data", "g", "root.qcow2", NULL);
  MvmGuestFiles files;
  guint64 size = 0;

  g_free (put (f, "images/deb.ext4", "ext4", 4));
  f->config->guest_data_dir = g_build_filename (f->dir, "data", NULL);
  for (int start = 0; start < 2; start++)
    {
      assert_null (open_files_creating (f, g, &files, TRUE));
      assert_int_equal (files.n, 4);
      assert_int_equal (files.fds[1].target, MVM_FD_DISK_FIRST);
      assert_int_equal (access_mode (files.fds[1].fd), O_RDONLY);
      assert_int_equal (files.fds[2].target, MVM_FD_OVERLAY_FIRST);
      assert_int_equal (access_mode (files.fds[2].fd), O_RDONLY);
      assert_int_equal (files.fds[3].target, MVM_FD_OVERLAY_FIRST + 1);
      assert_int_equal (access_mode (files.fds[3].fd), O_RDWR);
      assert_true (mvm_qcow2_virtual_size (files.fds[3].fd, &size, NULL));
      assert_int_equal (size, 4);
      mvm_guest_files_clear (&files);
      assert_true (g_file_test (overlay, G_FILE_TEST_IS_REGULAR));
    }
  /* another image by that name under the overlay */
  g_free (put (f, "images/deb.ext4", "ext4ext4", 8));
  assert_refused (f, g, "guest g: [Disk root] Image=deb: overlay ");
  assert_refused (f, g, "it was made over another image");
}

/* the runtime folder of guest g, made as the daemon makes it before the plan */
static char *
make_runtime (const Fixture *f)
{
  char *runtime = g_build_filename (f->dir, "run", "g", NULL);

  assert_int_equal (g_mkdir_with_parents (runtime, 0700), 0);
  return runtime;
}

/* @files as an ephemeral disk's launch has them: kernel, the disk read-only and never
 * writable, its overlay read-only and read-write; the overlay's virtual size */
static guint64
assert_ephemeral_fds (const MvmGuestFiles *files)
{
  guint64 size = 0;

  assert_int_equal (files->n, 4);
  assert_int_equal (files->fds[1].target, MVM_FD_DISK_FIRST);
  assert_int_equal (access_mode (files->fds[1].fd), O_RDONLY);
  assert_int_equal (files->fds[2].target, MVM_FD_OVERLAY_FIRST);
  assert_int_equal (access_mode (files->fds[2].fd), O_RDONLY);
  assert_int_equal (files->fds[3].target, MVM_FD_OVERLAY_FIRST + 1);
  assert_int_equal (access_mode (files->fds[3].fd), O_RDWR);
  assert_true (mvm_qcow2_check_standalone (files->fds[3].fd, NULL));
  assert_true (mvm_qcow2_virtual_size (files->fds[3].fd, &size, NULL));
  return size;
}

/* Ephemeral=yes: the disk read-only under an overlay the daemon makes afresh at each start in
 * the guest's runtime folder (mode 0600, the disk's size in whole sectors), replacing what an
 * earlier run left there; gone with the folder. A preview makes none. */
static void
test_disk_ephemeral_overlay (void **state)
{
  Fixture *f = *state;
  g_autoptr (MvmGuestConfig) g
    = guest ("[Guest]\nName=g\n[Disk root]\nPath=%s/root.img\nEphemeral=yes\n", f->images);
  g_autofree char *runtime = make_runtime (f);
  g_autofree char *overlay = g_build_filename (runtime, "root.ephemeral.qcow2", NULL);
  MvmOverlayPlace start = { .create_image = TRUE, .runtime_dir = runtime };
  MvmGuestFiles files;
  struct stat st;

  assert_null (open_files (f, g, &files));
  assert_int_equal (files.n, 2); /* the kernel, the disk read-only */
  mvm_guest_files_clear (&files);
  assert_false (g_file_test (overlay, G_FILE_TEST_EXISTS));
  for (int run = 0; run < 2; run++)
    {
      assert_null (open_files_with (f, g, &files, &start));
      assert_int_equal (assert_ephemeral_fds (&files), 512); /* root.img: 4 bytes */
      assert_int_equal (stat (overlay, &st), 0);
      assert_int_equal (st.st_mode & 07777, 0600);
      /* this run's writes, over the header even: the next run starts afresh all the same */
      assert_int_equal (pwrite (files.fds[3].fd, "written", 7, 0), 7);
      mvm_guest_files_clear (&files);
    }
  mvm_paths_clean_runtime_dir (runtime);
  assert_false (g_file_test (overlay, G_FILE_TEST_EXISTS));
  assert_false (g_file_test (runtime, G_FILE_TEST_EXISTS));
}

/* A qcow2 disk's overlay has its virtual size, not the file's */
static void
test_disk_ephemeral_qcow2 (void **state)
{
  Fixture *f = *state;
  g_autofree char *path = g_build_filename (f->images, "q.qcow2", NULL);
  g_autoptr (MvmGuestConfig) g
    = guest ("[Guest]\nName=g\n[Disk d]\nPath=%s\nFormat=qcow2\nEphemeral=yes\n", path);
  g_autofree char *runtime = make_runtime (f);
  MvmOverlayPlace start = { .runtime_dir = runtime };
  MvmGuestFiles files;
  int fd = open (path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);

  assert_true (fd >= 0 && mvm_qcow2_write_overlay (fd, 3 << 20, NULL));
  close (fd);
  assert_null (open_files_with (f, g, &files, &start));
  assert_int_equal (assert_ephemeral_fds (&files), 3 << 20);
  mvm_guest_files_clear (&files);
}

/* A restore: each ephemeral overlay is a copy of the one the snapshot saved, which must be
 * there and be an overlay of this disk */
static void
test_disk_ephemeral_restored (void **state)
{
  Fixture *f = *state;
  g_autoptr (MvmGuestConfig) g
    = guest ("[Guest]\nName=g\n[Disk root]\nPath=%s/root.img\nEphemeral=yes\n", f->images);
  g_autofree char *runtime = make_runtime (f);
  g_autofree char *saved_dir = g_build_filename (f->dir, "snapshot", NULL);
  g_autofree char *saved = g_build_filename (saved_dir, "root.qcow2", NULL);
  g_autofree char *overlay = g_build_filename (runtime, "root.ephemeral.qcow2", NULL);
  g_autofree char *want = NULL, *got = NULL, *message = NULL;
  gsize want_len = 0, got_len = 0;
  MvmOverlayPlace restore = { .runtime_dir = runtime, .ephemeral_source_dir = saved_dir };
  MvmGuestFiles files;
  int fd;

  assert_int_equal (g_mkdir (saved_dir, 0700), 0);
  message = open_files_with (f, g, &files, &restore);
  assert_non_null (message);
  assert_non_null (strstr (message, "guest g: [Disk root] Ephemeral=yes: the saved overlay "));
  assert_non_null (strstr (message, "snapshot/root.qcow2 is missing"));
  g_clear_pointer (&message, g_free);

  fd = open (saved, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  assert_true (fd >= 0 && mvm_qcow2_write_overlay (fd, 512, NULL));
  assert_int_equal (pwrite (fd, "guest data", 10, 4 << 16), 10); /* the L1 table's cluster */
  close (fd);
  assert_null (open_files_with (f, g, &files, &restore));
  assert_int_equal (assert_ephemeral_fds (&files), 512);
  mvm_guest_files_clear (&files);
  assert_true (g_file_get_contents (saved, &want, &want_len, NULL));
  assert_true (g_file_get_contents (overlay, &got, &got_len, NULL));
  assert_int_equal (got_len, want_len);
  assert_memory_equal (got, want, want_len);

  /* saved over a disk of another size */
  fd = open (saved, O_RDWR | O_TRUNC | O_CLOEXEC);
  assert_true (fd >= 0 && mvm_qcow2_write_overlay (fd, 1024, NULL));
  close (fd);
  message = open_files_with (f, g, &files, &restore);
  assert_non_null (message);
  assert_non_null (strstr (message, "is for a disk of 1024 bytes, the disk has 512"));
}

/* The review's H1 and H4: host files, "..", a symlink swapped in, a string prefix. */
static void
test_disk_escapes_refused (void **state)
{
  Fixture *f = *state;
  g_autofree char *link = g_build_filename (f->images, "link.img", NULL);
  g_autofree char *inner = g_build_filename (f->images, "inner.img", NULL);
  g_autofree char *ima = g_strndup (f->images, strlen (f->images) - 3);
  g_autoptr (MvmGuestConfig) shadow = guest ("[Guest]\nName=g\n[Disk root]\nPath=/etc/shadow\n");
  g_autoptr (MvmGuestConfig) dotdot
    = guest ("[Guest]\nName=g\n[Disk root]\nPath=%s/../outside/secret.img\n", f->images);
  g_autoptr (MvmGuestConfig) out = guest ("[Guest]\nName=g\n[Disk root]\nPath=%s\n", link);
  g_autoptr (MvmGuestConfig) in = guest ("[Guest]\nName=g\n[Disk root]\nPath=%s\n", inner);
  g_autoptr (MvmGuestConfig) prefix
    = guest ("[Guest]\nName=g\n[Disk root]\nPath=%s/root.img\n", f->images);

  assert_int_equal (symlink ("../outside/secret.img", link), 0);
  assert_int_equal (symlink ("root.img", inner), 0);
  assert_refused (f, shadow, "guest g: [Disk root] Path: '/etc/shadow' is outside the folders");
  assert_refused (f, dotdot, "guest g: [Disk root] Path: ");
  assert_refused (f, dotdot, "symlink or '..'");
  assert_refused (f, out, "symlink or '..'");
  assert_refused (f, in, "symlink or '..'"); /* even one that stays inside: name the file */
  g_strfreev (f->config->image_dirs);
  f->config->image_dirs = g_new0 (char *, 2);
  f->config->image_dirs[0] = g_steal_pointer (&ima); /* ".../ima" is no parent of ".../images" */
  assert_refused (f, prefix, "is outside the folders");
}

/* Block devices: never beneath the images folder, only by the name AllowedDevices= lists. */
static void
test_devices (void **state)
{
  Fixture *f = *state;
  g_autofree char *node = g_build_filename (f->images, "blk", NULL);
  g_autoptr (MvmGuestConfig) sda = guest ("[Guest]\nName=g\n[Disk root]\nPath=/dev/sda\n");
  g_autoptr (MvmGuestConfig) null = guest ("[Guest]\nName=g\n[Disk root]\nPath=/dev/null\n");
  g_autoptr (MvmGuestConfig) beneath = guest ("[Guest]\nName=g\n[Disk root]\nPath=%s\n", node);

  assert_int_equal (mknod (node, S_IFCHR | 0600, makedev (1, 3)), 0); /* /dev/null's twin */
  assert_refused (f, sda, "guest g: [Disk root] Path: '/dev/sda' is outside the folders");
  assert_refused (f, beneath, "is not a regular file");
  g_strfreev (f->config->allowed_devices);
  f->config->allowed_devices = g_strdupv ((char *[]){ "/dev/null", NULL });
  assert_refused (f, null, "guest g: [Disk root] Path: '/dev/null' is not a block device");
}

static void
put_qcow2 (const Fixture *f, const char *name, guint64 backing_offset, guint64 incompatible)
{
  guint8 header[104] = { 'Q', 'F', 'I', 0xfb, 0, 0, 0, 3 };
  guint64 be = GUINT64_TO_BE (backing_offset);
  g_autofree char *path = NULL;

  memcpy (header + 8, &be, 8);
  be = GUINT64_TO_BE (incompatible);
  memcpy (header + 72, &be, 8);
  path = put (f, name, header, sizeof header);
}

/* A qcow2 header that names another file would make QEMU open it by that name. */
static void
test_qcow2_header (void **state)
{
  Fixture *f = *state;
  g_autoptr (MvmGuestConfig) plain = NULL, backing = NULL, data_file = NULL, raw = NULL;

  put_qcow2 (f, "images/plain.qcow2", 0, 0);
  put_qcow2 (f, "images/backing.qcow2", 0x200, 0);
  put_qcow2 (f, "images/data.qcow2", 0, 1 << 2);
  plain = guest ("[Guest]\nName=g\n[Disk d]\nPath=%s/plain.qcow2\nFormat=qcow2\n", f->images);
  backing = guest ("[Guest]\nName=g\n[Disk d]\nPath=%s/backing.qcow2\nFormat=qcow2\n", f->images);
  data_file = guest ("[Guest]\nName=g\n[Disk d]\nPath=%s/data.qcow2\nFormat=qcow2\n", f->images);
  raw = guest ("[Guest]\nName=g\n[Disk d]\nPath=%s/root.img\nFormat=qcow2\n", f->images);
  {
    MvmGuestFiles files;
    assert_null (open_files (f, plain, &files));
    mvm_guest_files_clear (&files);
  }
  assert_refused (f, backing,
                  "guest g: [Disk d] Path: the qcow2 header names a backing file "
                  "(backing_file_offset)");
  assert_refused (f, data_file,
                  "guest g: [Disk d] Path: the qcow2 header names an external "
                  "data file");
  assert_refused (f, raw, "not a qcow2 image");
}

/* Kernel= and Initrd= beneath the images folder or the daemon's own (the review's H3). */
static void
test_boot_files (void **state)
{
  Fixture *f = *state;
  g_autoptr (MvmGuestConfig) own = guest ("[Guest]\nName=g\nKernel=%s/vmlinux\n", f->images);
  g_autoptr (MvmGuestConfig) plain = guest ("[Guest]\nName=g\n");
  g_autoptr (MvmGuestConfig) kernel = guest ("[Guest]\nName=g\nKernel=/etc/shadow\n");
  g_autoptr (MvmGuestConfig) initrd
    = guest ("[Guest]\nName=g\nKernel=%s/vmlinux\nInitrd=/etc/shadow\n", f->images);
  MvmGuestFiles files;

  assert_null (open_files (f, own, &files));
  mvm_guest_files_clear (&files);
  assert_null (open_files (f, plain, &files));
  mvm_guest_files_clear (&files);
  assert_refused (f, kernel, "guest g: [Guest] Kernel: '/etc/shadow' is outside the folders");
  assert_refused (f, initrd, "guest g: [Guest] Initrd: '/etc/shadow' is outside the folders");
}

#define FIXTURE(t) cmocka_unit_test_setup_teardown (t, setup, teardown)

int
main (void)
{
  const struct CMUnitTest tests[] = {
    FIXTURE (test_disk_beneath_images),  FIXTURE (test_disk_image),
    FIXTURE (test_disk_image_overlay),   FIXTURE (test_disk_ephemeral_overlay),
    FIXTURE (test_disk_ephemeral_qcow2), FIXTURE (test_disk_ephemeral_restored),
    FIXTURE (test_disk_escapes_refused), FIXTURE (test_devices),
    FIXTURE (test_qcow2_header),         FIXTURE (test_boot_files),
  };

  return cmocka_run_group_tests_name ("guest-files", tests, NULL, NULL);
}
