/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Guest files: the defaults a parsed guest carries, and errors that name file and line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>
#include <glib/gstdio.h>

#include "mvm-error.h"
#include "mvm-guest-config.h"

static MvmGuestConfig *
parse_ok (const char *file_name, const char *data)
{
  g_autoptr (GError) error = NULL;
  MvmGuestConfig *c = mvm_guest_config_new_from_data (data, strlen (data), file_name, &error);

  if (c == NULL)
    fail_msg ("%s was refused: %s", file_name, error->message);
  return c;
}

/* The message of the error @data gives, which must be an InvalidConfig. */
static char *
parse_error (const char *file_name, const char *data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MvmGuestConfig) c
    = mvm_guest_config_new_from_data (data, strlen (data), file_name, &error);

  assert_null (c);
  assert_non_null (error);
  assert_true (g_error_matches (error, MVM_ERROR, MVM_ERROR_INVALID_CONFIG));
  return g_strdup (error->message);
}

static void
test_defaults (void **state)
{
  g_autoptr (MvmGuestConfig) c = parse_ok ("web.guest", "[Guest]\n");

  assert_string_equal (c->name, "web");
  assert_int_equal (c->os, MVM_OS_LINUX);
  assert_int_equal (c->transport, MVM_TRANSPORT_PCIE);
  assert_int_equal (c->cpus, 1);
  assert_int_equal (c->memory, 256ULL << 20);
  assert_int_equal (c->tcg_cache, 0);
  assert_null (c->kernel);
  assert_null (c->initrd);
  assert_string_equal (c->command_line, "");
  assert_false (c->autostart);
  assert_int_equal (c->restart, MVM_RESTART_NO);
  assert_int_equal (c->shutdown_timeout_sec, 30);
  assert_int_equal (c->disks->len, 0);
  assert_int_equal (c->networks->len, 0);
  assert_int_equal (c->shares->len, 0);
  assert_false (c->vsock);
  assert_int_equal (c->vsock_cid, 0);
  assert_true (c->balloon_free_page_reporting);
  assert_true (c->balloon_deflate_on_oom);
  assert_null (c->source_path);
  assert_null (c->start_from);
}

static void
test_every_guest_key (void **state)
{
  g_autoptr (MvmGuestConfig) c
    = parse_ok ("x.guest", "[Guest]\nName=db\nOS=freebsd\nTransport=pcie\nCPUs=8\nMemory=3G\n"
                           "Kernel=/k/vmlinux\nInitrd=/k/initrd\nCommandLine=quiet  splash\n"
                           "Autostart=yes\nRestart=on-failure\nShutdownTimeoutSec=120\n"
                           "StartFrom=warm.1\nTCGCacheSize=32M\n");

  assert_string_equal (c->name, "db");
  assert_string_equal (c->start_from, "warm.1");
  assert_int_equal (c->os, MVM_OS_FREEBSD);
  assert_int_equal (c->transport, MVM_TRANSPORT_PCIE);
  assert_int_equal (c->cpus, 8);
  assert_int_equal (c->memory, 3ULL << 30);
  assert_string_equal (c->kernel, "/k/vmlinux");
  assert_string_equal (c->initrd, "/k/initrd");
  assert_string_equal (c->command_line, "quiet  splash");
  assert_true (c->autostart);
  assert_int_equal (c->restart, MVM_RESTART_ON_FAILURE);
  assert_int_equal (c->shutdown_timeout_sec, 120);
  assert_int_equal (c->tcg_cache, 32ULL << 20);
  assert_string_equal (mvm_os_to_string (c->os), "freebsd");
  assert_string_equal (mvm_transport_to_string (c->transport), "pcie");
  assert_string_equal (mvm_restart_to_string (c->restart), "on-failure");
}

static void
assert_transport (const char *guest_group, MvmTransport expected)
{
  g_autoptr (MvmGuestConfig) c = parse_ok ("t.guest", guest_group);

  if (c->transport != expected)
    fail_msg ("%s: got %s, expected %s", guest_group, mvm_transport_to_string (c->transport),
              mvm_transport_to_string (expected));
}

static void
test_transport_auto (void **state)
{
  assert_transport ("[Guest]\nOS=linux\n", MVM_TRANSPORT_PCIE);
  assert_transport ("[Guest]\nOS=linux\nTransport=auto\n", MVM_TRANSPORT_PCIE);
  assert_transport ("[Guest]\nOS=netbsd\n", MVM_TRANSPORT_MMIO);
  assert_transport ("[Guest]\nOS=freebsd\n", MVM_TRANSPORT_MMIO);
  assert_transport ("[Guest]\nOS=openbsd\nTransport=auto\n", MVM_TRANSPORT_MMIO);
  assert_transport ("[Guest]\nOS=other\n", MVM_TRANSPORT_MMIO);
  /* an explicit choice wins both ways */
  assert_transport ("[Guest]\nOS=linux\nTransport=mmio\n", MVM_TRANSPORT_MMIO);
  assert_transport ("[Guest]\nOS=netbsd\nTransport=pcie\n", MVM_TRANSPORT_PCIE);
}

static void
test_uuid_stable_per_name (void **state)
{
  g_autoptr (MvmGuestConfig) a = parse_ok ("web.guest", "[Guest]\n");
  g_autoptr (MvmGuestConfig) b = parse_ok ("other.guest", "[Guest]\nName=web\nCPUs=4\n");
  g_autoptr (MvmGuestConfig) c = parse_ok ("web2.guest", "[Guest]\n");

  /* RFC 4122 version 5, variant 10xx */
  assert_int_equal (strlen (a->uuid), 36);
  assert_true (g_uuid_string_is_valid (a->uuid));
  assert_int_equal (a->uuid[14], '5');
  assert_non_null (strchr ("89ab", a->uuid[19]));
  /* the name alone decides it: not the file, not the other keys */
  assert_string_equal (a->uuid, b->uuid);
  assert_string_not_equal (a->uuid, c->uuid);
}

static void
assert_derived_mac (const char *mac)
{
  guint first;

  assert_int_equal (strlen (mac), 17);
  assert_true (g_str_has_prefix (mac, "52:54:00:"));
  assert_int_equal (sscanf (mac, "%x:", &first), 1);
  assert_int_equal (first & 1, 0); /* unicast */
}

static void
test_derived_mac (void **state)
{
  const char *data = "[Guest]\n[Network net0]\n[Network net1]\nMode=tap\n";
  g_autoptr (MvmGuestConfig) a = parse_ok ("web.guest", data);
  g_autoptr (MvmGuestConfig) again = parse_ok ("web.guest", data);
  g_autoptr (MvmGuestConfig) other = parse_ok ("db.guest", data);
  const MvmNetwork *a0 = a->networks->pdata[0], *a1 = a->networks->pdata[1];

  assert_derived_mac (a0->mac);
  assert_derived_mac (a1->mac);
  assert_string_equal (a0->mac, ((MvmNetwork *)again->networks->pdata[0])->mac);
  assert_string_equal (a1->mac, ((MvmNetwork *)again->networks->pdata[1])->mac);
  assert_string_not_equal (a0->mac, a1->mac);
  assert_string_not_equal (a0->mac, ((MvmNetwork *)other->networks->pdata[0])->mac);
}

static void
test_network_fields (void **state)
{
  g_autoptr (MvmGuestConfig) c
    = parse_ok ("n.guest", "[Guest]\n[Network a]\n[Network b]\nMode=tap\nBridge=br0\n"
                           "MAC=02:00:00:00:00:01\n[Network c]\nMode=none\nBridge=\n");
  const MvmNetwork *a = c->networks->pdata[0], *b = c->networks->pdata[1],
                   *n = c->networks->pdata[2];

  assert_int_equal (c->networks->len, 3);
  assert_string_equal (a->label, "a");
  assert_int_equal (a->mode, MVM_NET_MODE_USER);
  assert_null (a->bridge);
  assert_int_equal (b->mode, MVM_NET_MODE_TAP);
  assert_string_equal (b->bridge, "br0");
  assert_string_equal (b->mac, "02:00:00:00:00:01");
  assert_int_equal (n->mode, MVM_NET_MODE_NONE);
  assert_null (n->bridge); /* empty means unset */
}

static void
test_disk_fields (void **state)
{
  g_autoptr (MvmGuestConfig) c
    = parse_ok ("d.guest", "[Guest]\n[Disk root]\nPath=/i/root.img\n[Disk data]\n"
                           "Path=/i/data.qcow2\nFormat=qcow2\nReadOnly=yes\nEphemeral=yes\n");
  const MvmDisk *root = c->disks->pdata[0], *data = c->disks->pdata[1];

  /* file order, which is /dev/vda, /dev/vdb */
  assert_string_equal (root->label, "root");
  assert_string_equal (root->path, "/i/root.img");
  assert_int_equal (root->format, MVM_DISK_FORMAT_RAW);
  assert_false (root->read_only);
  assert_false (root->ephemeral);
  assert_string_equal (data->label, "data");
  assert_int_equal (data->format, MVM_DISK_FORMAT_QCOW2);
  assert_true (data->read_only);
  assert_true (data->ephemeral);
}

static void
test_share_tag_defaults_to_label (void **state)
{
  g_autoptr (MvmGuestConfig) c
    = parse_ok ("s.guest", "[Guest]\n[Share data]\nPath=/srv/data\n[Share src]\nPath=/srv/src\n"
                           "Tag=code\nReadOnly=no\n[Share empty]\nPath=/srv/e\nTag=\n");
  const MvmShare *data = c->shares->pdata[0], *src = c->shares->pdata[1],
                 *empty = c->shares->pdata[2];

  assert_string_equal (data->tag, "data");
  assert_true (data->read_only); /* read-only unless told */
  assert_string_equal (src->tag, "code");
  assert_false (src->read_only);
  assert_string_equal (empty->tag, "empty");
}

static void
test_vsock_and_balloon (void **state)
{
  g_autoptr (MvmGuestConfig) auto_cid = parse_ok ("v.guest", "[Guest]\n[Vsock]\nCID=auto\n");
  g_autoptr (MvmGuestConfig) empty = parse_ok ("v.guest", "[Guest]\n[Vsock]\n");
  g_autoptr (MvmGuestConfig) fixed
    = parse_ok ("v.guest", "[Guest]\n[Vsock]\nCID=1234\n[Balloon]\nFreePageReporting=no\n"
                           "SmallPages=yes\n");

  assert_true (auto_cid->vsock);
  assert_int_equal (auto_cid->vsock_cid, 0);
  assert_true (empty->vsock);
  assert_int_equal (empty->vsock_cid, 0);
  assert_true (fixed->vsock);
  assert_int_equal (fixed->vsock_cid, 1234);
  assert_false (fixed->balloon_free_page_reporting);
  assert_true (fixed->balloon_deflate_on_oom);
  assert_true (fixed->balloon_small_pages);
  assert_false (empty->balloon_small_pages); /* a start is worth more than 10 MiB */
}

static void
test_name_from_file_stem (void **state)
{
  g_autoptr (MvmGuestConfig) path = parse_ok ("/etc/microvmd/guests/db-1.guest", "[Guest]\n");
  g_autoptr (MvmGuestConfig) empty = parse_ok ("cache.guest", "[Guest]\nName=\n");
  g_autoptr (MvmGuestConfig) no_suffix = parse_ok ("/tmp/plain", "[Guest]\n");
  g_autoptr (MvmGuestConfig) named = parse_ok ("file.guest", "[Guest]\nName=given\n");

  assert_string_equal (path->name, "db-1");
  assert_string_equal (empty->name, "cache");
  assert_string_equal (no_suffix->name, "plain");
  assert_string_equal (named->name, "given");
}

static void
test_bad_file_stem (void **state)
{
  g_autofree char *msg = parse_error ("/etc/microvmd/guests/-x.guest", "[Guest]\nCPUs=1\n");

  assert_string_equal (msg, "/etc/microvmd/guests/-x.guest:1: [Guest] Name: no Name= given and "
                            "the file name '-x' is not a valid guest name; use letters, digits, "
                            "'_', '.' and '-', at most 63, starting with a letter or digit");
}

static void
test_new_from_file (void **state)
{
  g_autofree char *dir = g_dir_make_tmp ("test-guest-config-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "files.guest", NULL);
  g_autofree char *missing = g_build_filename (dir, "missing.guest", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (MvmGuestConfig) c = NULL;
  g_autoptr (MvmGuestConfig) none = NULL;

  assert_non_null (dir);
  assert_true (g_file_set_contents (path, "[Guest]\nCPUs=2\n", -1, NULL));
  c = mvm_guest_config_new_from_file (path, &error);
  assert_null (error);
  assert_non_null (c);
  assert_string_equal (c->name, "files");
  assert_string_equal (c->source_path, path);
  assert_int_equal (c->cpus, 2);

  none = mvm_guest_config_new_from_file (missing, &error);
  assert_null (none);
  assert_true (g_error_matches (error, G_FILE_ERROR, G_FILE_ERROR_NOENT));

  g_unlink (path);
  g_rmdir (dir);
}

static void
assert_error (const char *data, const char *expected)
{
  g_autofree char *msg = parse_error ("/etc/g/web.guest", data);

  assert_string_equal (msg, expected);
}

static void
test_errors_name_file_and_line (void **state)
{
  assert_error ("# comment\n[Guest]\nName=web\nCPUs=0\n",
                "/etc/g/web.guest:4: [Guest] CPUs: '0' is not a whole number from 1 to 255");
  assert_error ("[Guest]\n\n[Disk root]\nPath=/a\nFormat=vhd\n",
                "/etc/g/web.guest:5: [Disk root] Format: 'vhd' is not one of raw, qcow2");
  assert_error ("[Guest]\nMemory=100M\nCpus=2\n",
                "/etc/g/web.guest:3: [Guest] Cpus: unknown key; this group takes Name, OS, "
                "Transport, CPUs, Memory, Kernel, Initrd, CommandLine, Autostart, Restart, "
                "ShutdownTimeoutSec, Hostname, Command, StartFrom, TCGCacheSize");
  assert_error ("[Guest]\nStartFrom=../x\n",
                "/etc/g/web.guest:2: [Guest] StartFrom: '../x' is not a snapshot name (letters, "
                "digits, '_', '.', '-'; at most 63)");
  assert_error ("[Guest]\n[Share a]\nPath=/a\n[Share b]\nPath=/b\nTag=a\n",
                "/etc/g/web.guest:6: [Share b] Tag: tag 'a' is used by another share");
  assert_error ("[Guest]\n[Network n]\nMode=user\nBridge=br0\n",
                "/etc/g/web.guest:4: [Network n] Bridge: only applies to Mode=tap");
  /* without the key, the group header's line */
  assert_error ("[Guest]\n\n[Disk root]\nReadOnly=yes\n",
                "/etc/g/web.guest:3: [Disk root] Path: a disk needs Path=, an absolute path, or "
                "Image=, an imported image's name");
  /* the index refuses what GKeyFile merges or takes the last of */
  assert_error ("[Guest]\nCPUs=1\nCPUs=2\n",
                "/etc/g/web.guest:3: [Guest] CPUs: key given twice (first at line 2); keep one");
  assert_error ("[Guest]\n[Disk d]\nPath=/a\n[Disk d]\nPath=/b\n",
                "/etc/g/web.guest:4: [Disk d]: group given twice (first at line 2); labels must "
                "be unique");
  assert_error ("[Guest]\nCPUs 2\n", "/etc/g/web.guest:2: 'CPUs 2' is not a [Group], a Key=value "
                                     "line or a # comment");
  assert_error ("Name=x\n[Guest]\n", "/etc/g/web.guest:1: 'Name=x' comes before the first [Group]");
  assert_error ("[Disk root]\nPath=/a\n",
                "/etc/g/web.guest: no [Guest] group; every guest file needs one");
}

static void
test_error_values (void **state)
{
  g_autofree char *long_line = g_strdup_printf ("[Guest]\nCommandLine=%0*d\n", 2049, 0);

  assert_error ("[Guest]\nMemory=99999999999999999999G\n",
                "/etc/g/web.guest:2: [Guest] Memory: '99999999999999999999G' is out of range "
                "(16M to 4T)");
  assert_error ("[Guest]\nMemory=lots\n",
                "/etc/g/web.guest:2: [Guest] Memory: 'lots' is not a size; use a number with an "
                "optional K, M, G or T suffix, such as 256M");
  assert_error ("[Guest]\nMemory=20481K\n",
                "/etc/g/web.guest:2: [Guest] Memory: must be a whole number of megabytes (M)");
  assert_error (long_line, "/etc/g/web.guest:2: [Guest] CommandLine: 2049 bytes is too long; at "
                           "most 2048 bytes");
  assert_error ("[Guest]\n[Network n]\nMAC=ff:ff:ff:ff:ff:ff\n",
                "/etc/g/web.guest:3: [Network n] MAC: 'ff:ff:ff:ff:ff:ff' is not a unicast MAC "
                "address like 52:54:00:12:34:56");
  assert_error ("[Guest]\n[Network n]\nMAC=00:00:00:00:00:00\n",
                "/etc/g/web.guest:3: [Network n] MAC: '00:00:00:00:00:00' is not a unicast MAC "
                "address like 52:54:00:12:34:56");
  assert_error ("[Guest]\n[Vsock]\nCID=4294967295\n",
                "/etc/g/web.guest:3: [Vsock] CID: '4294967295' is neither auto nor a number from "
                "3 to 4294967294");
}

static void
test_command_line_limit (void **state)
{
  g_autofree char *data = g_strdup_printf ("[Guest]\nCommandLine=%0*d\n", 2048, 0);
  g_autoptr (MvmGuestConfig) c = parse_ok ("c.guest", data);

  assert_int_equal (strlen (c->command_line), 2048);
}

static void
test_network_limit (void **state)
{
  GString *data = g_string_new ("[Guest]\n");
  g_autoptr (MvmGuestConfig) six = NULL;
  g_autofree char *msg = NULL;

  for (int i = 0; i < 6; i++)
    g_string_append_printf (data, "[Network n%d]\n", i);
  six = parse_ok ("n.guest", data->str);
  assert_int_equal (six->networks->len, MVM_MAX_NETWORKS);
  g_string_append (data, "[Network n6]\n");
  msg = parse_error ("n.guest", data->str);
  assert_string_equal (msg, "n.guest:8: [Network n6] too many networks; at most 6");
  g_string_free (data, TRUE);
}

/* 16 disks and 16 shares, the 17th refused at its own line. */
static void
test_disk_and_share_limits (void **state)
{
  static const char *const kinds[] = { "Disk", "Share" };

  for (guint k = 0; k < G_N_ELEMENTS (kinds); k++)
    {
      g_autoptr (GString) data = g_string_new ("[Guest]\n");
      g_autoptr (MvmGuestConfig) full = NULL;
      g_autofree char *msg = NULL;
      g_autofree char *expected = NULL;

      for (int i = 0; i < 16; i++)
        g_string_append_printf (data, "[%s x%d]\nPath=/srv/x%d\n", kinds[k], i, i);
      full = parse_ok ("l.guest", data->str);
      g_string_append_printf (data, "[%s x16]\nPath=/srv/x16\n", kinds[k]);
      msg = parse_error ("l.guest", data->str);
      expected = g_strdup_printf ("l.guest:34: [%s x16] too many %ss; at most 16", kinds[k],
                                  k == 0 ? "disk" : "share");
      assert_string_equal (msg, expected);
    }
}

/* A file over 64 KiB is refused before parsing, and fast even when it is all groups. */
static void
test_file_size_limit (void **state)
{
  g_autoptr (GString) data = g_string_new ("[Guest]\n");
  g_autofree char *msg = NULL;
  gint64 start;

  while (data->len <= MVM_MAX_GUEST_FILE)
    g_string_append_printf (data, "[Share s%" G_GSIZE_FORMAT "]\nPath=/\n", data->len);
  start = g_get_monotonic_time ();
  msg = parse_error ("big.guest", data->str);
  assert_true (g_get_monotonic_time () - start < 100 * 1000);
  assert_non_null (strstr (msg, "big.guest: the guest file is "));
  assert_non_null (strstr (msg, " bytes; at most 65536 are allowed"));
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_defaults),
    cmocka_unit_test (test_every_guest_key),
    cmocka_unit_test (test_transport_auto),
    cmocka_unit_test (test_uuid_stable_per_name),
    cmocka_unit_test (test_derived_mac),
    cmocka_unit_test (test_network_fields),
    cmocka_unit_test (test_disk_fields),
    cmocka_unit_test (test_share_tag_defaults_to_label),
    cmocka_unit_test (test_vsock_and_balloon),
    cmocka_unit_test (test_name_from_file_stem),
    cmocka_unit_test (test_bad_file_stem),
    cmocka_unit_test (test_new_from_file),
    cmocka_unit_test (test_errors_name_file_and_line),
    cmocka_unit_test (test_error_values),
    cmocka_unit_test (test_command_line_limit),
    cmocka_unit_test (test_network_limit),
    cmocka_unit_test (test_disk_and_share_limits),
    cmocka_unit_test (test_file_size_limit),
  };

  return cmocka_run_group_tests_name ("guest-config", tests, NULL, NULL);
}
