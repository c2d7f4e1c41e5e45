/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "mvm-daemon-config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "mvm-error.h"
#include "mvm-key-parser.h"
#include "mvm-value.h"

#define DEFAULT_LOG_MAX_BYTES (1024 * 1024)
#define DEFAULT_LOG_KEEP_FILES 3
#define DEFAULT_MAX_GUESTS 1024
/* 0x7E000000 + 64K: above the blocks useradd hands out in /etc/subuid and outside every
 * range systemd documents (users, DynamicUser=, homed, nspawn containers); microvmd.conf(5) */
#define DEFAULT_GUEST_UID_FIRST 2113929216u
#define DEFAULT_GUEST_UID_LAST (DEFAULT_GUEST_UID_FIRST + 65535u)

static const char *const daemon_keys[] = {
  "QemuBinary",       "Accelerator",    "DefaultKernel",  "DefaultInitrd", "ImageDirectories",
  "LogMaxBytes",      "LogKeepFiles",   "ShutdownGuests", "MaxGuests",     "AllowedDevices",
  "ShareDirectories", "AllowedBridges", "GuestUIDs",      "UserNetwork",   NULL,
};
static const MvmEnumEntry accel_entries[] = {
  { "auto", MVM_ACCEL_AUTO },
  { "kvm", MVM_ACCEL_KVM },
  { "tcg", MVM_ACCEL_TCG },
  { NULL, 0 },
};
static const MvmEnumEntry user_network_entries[] = {
  { "auto", MVM_USER_NETWORK_AUTO },
  { "passt", MVM_USER_NETWORK_PASST },
  { "slirp", MVM_USER_NETWORK_SLIRP },
  { NULL, 0 },
};
static const MvmEnumEntry shutdown_entries[] = {
  { "keep", MVM_SHUTDOWN_GUESTS_KEEP },
  { "shutdown", MVM_SHUTDOWN_GUESTS_SHUTDOWN },
  { NULL, 0 },
};

MvmDaemonConfig *
mvm_daemon_config_new_default (void)
{
  MvmDaemonConfig *c = g_new0 (MvmDaemonConfig, 1);

  c->qemu_binary = g_strdup (MVM_QEMU_BINARY);
  c->accelerator = MVM_ACCEL_AUTO;
  c->image_dirs = g_new0 (char *, 1);
  c->allowed_devices = g_new0 (char *, 1);
  c->share_dirs = g_new0 (char *, 1);
  c->allowed_bridges = g_new0 (char *, 1);
  c->log_max_bytes = DEFAULT_LOG_MAX_BYTES;
  c->log_keep_files = DEFAULT_LOG_KEEP_FILES;
  c->shutdown_guests = MVM_SHUTDOWN_GUESTS_KEEP;
  c->max_guests = DEFAULT_MAX_GUESTS;
  c->guest_uid_first = DEFAULT_GUEST_UID_FIRST;
  c->guest_uid_last = DEFAULT_GUEST_UID_LAST;
  return c;
}

void
mvm_daemon_config_free (MvmDaemonConfig *config)
{
  if (config == NULL)
    return;
  g_free (config->source_path);
  g_free (config->qemu_binary);
  g_free (config->default_kernel);
  g_free (config->default_initrd);
  g_strfreev (config->image_dirs);
  g_free (config->images_dir);
  g_free (config->guest_data_dir);
  g_strfreev (config->allowed_devices);
  g_strfreev (config->share_dirs);
  g_strfreev (config->allowed_bridges);
  g_free (config);
}

/* A space-separated list: absolute paths (@paths), else interface names. */
static gboolean
parse_list (const MvmKeyParser *p, const char *key, gboolean paths, GStrv *list, GError **error)
{
  g_autofree char *value = NULL;
  g_auto (GStrv) words = NULL;
  g_autoptr (GStrvBuilder) items = g_strv_builder_new ();

  if (!mvm_key_parser_get_string (p, "Daemon", key, &value, error))
    return FALSE;
  if (value == NULL)
    return TRUE;
  words = g_strsplit_set (value, " \t", -1);
  for (guint i = 0; words[i]; i++)
    {
      if (words[i][0] == '\0')
        continue;
      if (paths && !g_path_is_absolute (words[i]))
        return mvm_key_parser_fail (p, "Daemon", key, error,
                                    "'%s' is a relative path; give absolute paths, separated by "
                                    "spaces",
                                    words[i]);
      if (!paths && (strlen (words[i]) > 15 || strpbrk (words[i], "/:") != NULL))
        return mvm_key_parser_fail (p, "Daemon", key, error,
                                    "'%s' is not an interface name (1 to 15 characters, no '/' "
                                    "or ':')",
                                    words[i]);
      g_strv_builder_add (items, words[i]);
    }
  g_strfreev (*list);
  *list = g_strv_builder_end (items);
  return TRUE;
}

static gboolean
parse_lists (const MvmKeyParser *p, MvmDaemonConfig *c, GError **error)
{
  return parse_list (p, "ImageDirectories", TRUE, &c->image_dirs, error)
         && parse_list (p, "AllowedDevices", TRUE, &c->allowed_devices, error)
         && parse_list (p, "ShareDirectories", TRUE, &c->share_dirs, error)
         && parse_list (p, "AllowedBridges", FALSE, &c->allowed_bridges, error);
}

/* "FIRST-LAST", FIRST above 65535 and LAST at least FIRST, or "no". */
static gboolean
parse_guest_uids (const MvmKeyParser *p, MvmDaemonConfig *c, GError **error)
{
  g_autofree char *value = NULL;
  g_auto (GStrv) ends = NULL;
  guint64 first = 0, last = 0;

  if (!mvm_key_parser_get_string (p, "Daemon", "GuestUIDs", &value, error))
    return FALSE;
  if (value == NULL || value[0] == '\0')
    return TRUE;
  if (g_str_equal (value, "no"))
    {
      c->guest_uid_first = c->guest_uid_last = 0;
      return TRUE;
    }
  ends = g_strsplit (value, "-", 3);
  if (g_strv_length (ends) != 2 || !mvm_parse_uint (ends[0], 65536, G_MAXINT32, &first)
      || !mvm_parse_uint (ends[1], first, G_MAXINT32, &last))
    return mvm_key_parser_fail (p, "Daemon", "GuestUIDs", error,
                                "'%s' is neither no nor a range FIRST-LAST of uids from 65536 to "
                                "2147483647",
                                value);
  c->guest_uid_first = first;
  c->guest_uid_last = last;
  return TRUE;
}

void
mvm_daemon_config_set_guest_data_dir (MvmDaemonConfig *config, const char *dir)
{
  g_free (config->guest_data_dir);
  config->guest_data_dir = g_strdup (dir);
}

void
mvm_daemon_config_set_default_image_dir (MvmDaemonConfig *config, const char *dir)
{
  g_free (config->images_dir);
  config->images_dir = g_strdup (dir);
  if (config->image_dirs[0] != NULL)
    return;
  g_strfreev (config->image_dirs);
  config->image_dirs = g_new0 (char *, 2);
  config->image_dirs[0] = g_strdup (dir);
}

static gboolean
parse_qemu_binary (const MvmKeyParser *p, MvmDaemonConfig *c, GError **error)
{
  g_autofree char *value = NULL;

  if (!mvm_key_parser_get_string (p, "Daemon", "QemuBinary", &value, error))
    return FALSE;
  if (value && value[0] != '\0') /* empty means the default, as for every other key */
    {
      g_free (c->qemu_binary);
      c->qemu_binary = g_steal_pointer (&value);
    }
  return TRUE;
}

static gboolean
parse_daemon_group (const MvmKeyParser *p, MvmDaemonConfig *c, GError **error)
{
  const char *g = "Daemon";
  int accel = c->accelerator, shutdown = c->shutdown_guests, user = c->user_network;
  guint64 keep = c->log_keep_files, max_guests = c->max_guests;

  if (!mvm_key_parser_check_keys (p, g, daemon_keys, error) || !parse_qemu_binary (p, c, error)
      || !mvm_key_parser_get_enum (p, g, "Accelerator", accel_entries, &accel, error)
      || !mvm_key_parser_get_path (p, g, "DefaultKernel", &c->default_kernel, error)
      || !mvm_key_parser_get_path (p, g, "DefaultInitrd", &c->default_initrd, error)
      || !parse_lists (p, c, error) || !parse_guest_uids (p, c, error)
      || !mvm_key_parser_get_size (p, g, "LogMaxBytes", 4096, G_MAXUINT32, &c->log_max_bytes, error)
      || !mvm_key_parser_get_uint (p, g, "LogKeepFiles", 0, 100, &keep, error)
      || !mvm_key_parser_get_enum (p, g, "ShutdownGuests", shutdown_entries, &shutdown, error)
      || !mvm_key_parser_get_enum (p, g, "UserNetwork", user_network_entries, &user, error)
      || !mvm_key_parser_get_uint (p, g, "MaxGuests", 1, 65536, &max_guests, error))
    return FALSE;
  c->max_guests = max_guests;
  c->accelerator = accel;
  c->shutdown_guests = shutdown;
  c->user_network = user;
  c->log_keep_files = keep;
  return TRUE;
}

static gboolean
parse_groups (const MvmKeyParser *p, MvmDaemonConfig *c, GError **error)
{
  g_auto (GStrv) groups = g_key_file_get_groups (p->keyfile, NULL);

  for (guint i = 0; groups[i]; i++)
    if (!g_str_equal (groups[i], "Daemon"))
      return mvm_key_parser_fail (p, groups[i], NULL, error,
                                  "unknown group; microvmd.conf has only [Daemon]");
  return !g_key_file_has_group (p->keyfile, "Daemon") || parse_daemon_group (p, c, error);
}

MvmDaemonConfig *
mvm_daemon_config_load (const char *path, gboolean optional, GError **error)
{
  g_autoptr (MvmDaemonConfig) c = mvm_daemon_config_new_default ();
  g_autoptr (GError) local = NULL;
  g_autofree char *data = NULL;
  MvmKeyParser p = { 0 };
  gsize length = 0;
  gboolean ok;

  if (!g_file_get_contents (path, &data, &length, &local))
    {
      if (optional && g_error_matches (local, G_FILE_ERROR, G_FILE_ERROR_NOENT))
        return g_steal_pointer (&c);
      g_propagate_error (error, g_steal_pointer (&local));
      return NULL;
    }
  if (!mvm_key_parser_init (&p, data, length, path, NULL, error))
    return NULL;
  ok = parse_groups (&p, c, error);
  mvm_key_parser_clear (&p);
  if (!ok)
    return NULL;
  c->source_path = g_strdup (path);
  return g_steal_pointer (&c);
}

/* @resolved (a realpath()) is @dir or inside it: "/srv/../etc" and symlinks cannot escape. */
static gboolean
path_is_under (const char *resolved, const char *dir)
{
  g_autofree char *real_dir = realpath (dir, NULL);
  gsize len;

  if (real_dir == NULL)
    return FALSE;
  len = strlen (real_dir);
  return strncmp (resolved, real_dir, len) == 0
         && (resolved[len] == '/' || resolved[len] == '\0' || len == 1);
}

/* QEMU opens a share's folder itself (9p has no fd to hand over): it gets the real path that
 * was checked, which only someone who may write inside ShareDirectories= could swap. */
static gboolean
check_share (const MvmDaemonConfig *config, const MvmGuestConfig *guest, MvmShare *share,
             GError **error)
{
  g_autofree char *resolved = realpath (share->path, NULL);

  if (resolved == NULL || !g_file_test (resolved, G_FILE_TEST_IS_DIR))
    {
      g_set_error (error, MVM_ERROR, MVM_ERROR_INVALID_CONFIG,
                   "guest %s: [Share %s] Path: '%s' is not a folder", guest->name, share->label,
                   share->path);
      return FALSE;
    }
  for (guint i = 0; config->share_dirs[i]; i++)
    if (path_is_under (resolved, config->share_dirs[i]))
      {
        g_free (share->path);
        share->path = g_steal_pointer (&resolved);
        return TRUE;
      }
  g_set_error (error, MVM_ERROR, MVM_ERROR_ACCESS_DENIED,
               "guest %s: [Share %s] Path: '%s' is not a folder that ShareDirectories= in "
               "microvmd.conf allows, nor inside one%s",
               guest->name, share->label, share->path,
               config->share_dirs[0] ? "" : " (it allows none)");
  return FALSE;
}

static gboolean
check_bridge (const MvmDaemonConfig *config, const MvmGuestConfig *guest, const MvmNetwork *network,
              GError **error)
{
  if (network->bridge == NULL
      || g_strv_contains ((const char *const *)config->allowed_bridges, network->bridge))
    return TRUE;
  g_set_error (error, MVM_ERROR, MVM_ERROR_ACCESS_DENIED,
               "guest %s: [Network %s] Bridge: '%s' is not in AllowedBridges= in microvmd.conf",
               guest->name, network->label, network->bridge);
  return FALSE;
}

gboolean
mvm_daemon_config_check_guest (const MvmDaemonConfig *config, MvmGuestConfig *guest, GError **error)
{
  for (guint i = 0; i < guest->shares->len; i++)
    if (!check_share (config, guest, guest->shares->pdata[i], error))
      return FALSE;
  for (guint i = 0; i < guest->networks->len; i++)
    if (!check_bridge (config, guest, guest->networks->pdata[i], error))
      return FALSE;
  return TRUE;
}

/* Newest by version order, as `ls -v` would list them. */
static char *
newest_boot_kernel (void)
{
  g_autoptr (GDir) dir = g_dir_open ("/boot", 0, NULL);
  g_autofree char *best = NULL;
  const char *name;

  while (dir && (name = g_dir_read_name (dir)))
    if (g_str_has_prefix (name, "vmlinuz-") && (best == NULL || strverscmp (name, best) > 0))
      {
        g_free (best);
        best = g_strdup (name);
      }
  return best ? g_build_filename ("/boot", best, NULL) : NULL;
}

static gboolean
check_readable (const char *guest, const char *what, const char *path, GError **error)
{
  if (g_file_test (path, G_FILE_TEST_IS_REGULAR) && access (path, R_OK) == 0)
    return TRUE;
  g_set_error (error, MVM_ERROR, MVM_ERROR_INVALID_CONFIG,
               "guest %s: %s '%s' is missing or unreadable", guest, what, path);
  return FALSE;
}

static char *
installed (const char *file)
{
  char *path = g_build_filename (MVM_GUEST_KERNEL_DIR, file, NULL);

  if (g_file_test (path, G_FILE_TEST_IS_REGULAR))
    return path;
  g_free (path);
  return NULL;
}

void
mvm_daemon_config_default_boot (const MvmDaemonConfig *config, char **kernel, char **initrd)
{
  *kernel = g_strdup (config->default_kernel);
  *initrd = g_strdup (config->default_initrd);
  if (*kernel == NULL)
    *kernel = installed ("vmlinux");
  if (*kernel == NULL)
    *kernel = newest_boot_kernel ();
  if (*initrd == NULL)
    *initrd = installed ("initrd.img");
}

gboolean
mvm_daemon_config_resolve_boot (const MvmDaemonConfig *config, const MvmGuestConfig *guest,
                                char **kernel, char **initrd, GError **error)
{
  g_autofree char *k = g_strdup (guest->kernel);
  g_autofree char *i = g_strdup (guest->initrd);
  g_autofree char *dk = NULL;
  g_autofree char *di = NULL;

  mvm_daemon_config_default_boot (config, &dk, &di);
  if (k == NULL)
    {
      k = g_steal_pointer (&dk);
      if (i == NULL)
        i = g_steal_pointer (&di); /* the default initrd goes with the default kernel */
    }
  if (k == NULL)
    {
      g_set_error (error, MVM_ERROR, MVM_ERROR_INVALID_CONFIG,
                   "guest %s: no kernel to boot; set Kernel= in the guest file or DefaultKernel= "
                   "in microvmd.conf",
                   guest->name);
      return FALSE;
    }
  if (!check_readable (guest->name, "kernel", k, error)
      || (i && !check_readable (guest->name, "initrd", i, error)))
    return FALSE;
  *kernel = g_steal_pointer (&k);
  *initrd = g_steal_pointer (&i);
  return TRUE;
}

gboolean
mvm_daemon_config_apply_user_network (const MvmDaemonConfig *config, MvmHostFacts *facts,
                                      GError **error)
{
  if (config->user_network == MVM_USER_NETWORK_SLIRP)
    g_clear_pointer (&facts->passt, g_free);
  else if (config->user_network == MVM_USER_NETWORK_PASST && facts->passt == NULL)
    {
      g_set_error (error, MVM_ERROR, MVM_ERROR_INVALID_CONFIG,
                   "%s: UserNetwork=passt, but passt is not installed",
                   config->source_path ? config->source_path : "microvmd.conf");
      return FALSE;
    }
  return TRUE;
}
