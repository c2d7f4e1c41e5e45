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

#define DEFAULT_LOG_MAX_BYTES (1024 * 1024)
#define DEFAULT_LOG_KEEP_FILES 3

static const char *const daemon_keys[] = {
  "QemuBinary",    "Accelerator",      "DefaultKernel",
  "DefaultInitrd", "ImageDirectories", "LogMaxBytes",
  "LogKeepFiles",  "ShutdownGuests",   NULL,
};
static const MvmEnumEntry accel_entries[] = {
  { "auto", MVM_ACCEL_AUTO },
  { "kvm", MVM_ACCEL_KVM },
  { "tcg", MVM_ACCEL_TCG },
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
  c->log_max_bytes = DEFAULT_LOG_MAX_BYTES;
  c->log_keep_files = DEFAULT_LOG_KEEP_FILES;
  c->shutdown_guests = MVM_SHUTDOWN_GUESTS_KEEP;
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
  g_free (config);
}

static gboolean
parse_image_dirs (const MvmKeyParser *p, MvmDaemonConfig *c, GError **error)
{
  g_autofree char *value = NULL;
  g_auto (GStrv) words = NULL;
  g_autoptr (GStrvBuilder) dirs = g_strv_builder_new ();

  if (!mvm_key_parser_get_string (p, "Daemon", "ImageDirectories", &value, error))
    return FALSE;
  if (value == NULL)
    return TRUE;
  words = g_strsplit_set (value, " \t", -1);
  for (guint i = 0; words[i]; i++)
    {
      if (words[i][0] == '\0')
        continue;
      if (!g_path_is_absolute (words[i]))
        return mvm_key_parser_fail (p, "Daemon", "ImageDirectories", error,
                                    "'%s' is a relative path; give absolute paths, separated by "
                                    "spaces",
                                    words[i]);
      g_strv_builder_add (dirs, words[i]);
    }
  g_strfreev (c->image_dirs);
  c->image_dirs = g_strv_builder_end (dirs);
  return TRUE;
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
  int accel = c->accelerator, shutdown = c->shutdown_guests;
  guint64 keep = c->log_keep_files;

  if (!mvm_key_parser_check_keys (p, g, daemon_keys, error) || !parse_qemu_binary (p, c, error)
      || !mvm_key_parser_get_enum (p, g, "Accelerator", accel_entries, &accel, error)
      || !mvm_key_parser_get_path (p, g, "DefaultKernel", &c->default_kernel, error)
      || !mvm_key_parser_get_path (p, g, "DefaultInitrd", &c->default_initrd, error)
      || !parse_image_dirs (p, c, error)
      || !mvm_key_parser_get_size (p, g, "LogMaxBytes", 4096, G_MAXUINT32, &c->log_max_bytes, error)
      || !mvm_key_parser_get_uint (p, g, "LogKeepFiles", 0, 100, &keep, error)
      || !mvm_key_parser_get_enum (p, g, "ShutdownGuests", shutdown_entries, &shutdown, error))
    return FALSE;
  c->accelerator = accel;
  c->shutdown_guests = shutdown;
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
  if (!mvm_key_parser_init (&p, data, length, path, error))
    return NULL;
  ok = parse_groups (&p, c, error);
  mvm_key_parser_clear (&p);
  if (!ok)
    return NULL;
  c->source_path = g_strdup (path);
  return g_steal_pointer (&c);
}

/* realpath() of an existing file, so "/images/../etc/shadow" and symlinks cannot escape. */
static gboolean
path_is_under (const char *resolved, const char *dir)
{
  g_autofree char *real_dir = realpath (dir, NULL);
  gsize len;

  if (real_dir == NULL)
    return FALSE;
  len = strlen (real_dir);
  return strncmp (resolved, real_dir, len) == 0 && (resolved[len] == '/' || len == 1);
}

static gboolean
check_disk (const MvmDaemonConfig *config, const MvmGuestConfig *guest, MvmDisk *disk,
            GError **error)
{
  g_autofree char *resolved = realpath (disk->path, NULL);
  struct stat st;

  if (resolved == NULL || stat (resolved, &st) < 0)
    {
      g_set_error (error, MVM_ERROR, MVM_ERROR_INVALID_CONFIG,
                   "guest %s: [Disk %s] Path: cannot use '%s': %s", guest->name, disk->label,
                   disk->path, g_strerror (errno));
      return FALSE;
    }
  if (!S_ISREG (st.st_mode) && !S_ISBLK (st.st_mode))
    {
      g_set_error (error, MVM_ERROR, MVM_ERROR_INVALID_CONFIG,
                   "guest %s: [Disk %s] Path: '%s' is neither a file nor a block device",
                   guest->name, disk->label, disk->path);
      return FALSE;
    }
  if (config->image_dirs[0] == NULL)
    return TRUE;
  for (guint i = 0; config->image_dirs[i]; i++)
    if (path_is_under (resolved, config->image_dirs[i]))
      {
        /* QEMU opens the path that was checked: no symlink can be swapped in between */
        g_free (disk->path);
        disk->path = g_steal_pointer (&resolved);
        return TRUE;
      }
  {
    g_autofree char *dirs = g_strjoinv (" ", config->image_dirs);
    g_set_error (error, MVM_ERROR, MVM_ERROR_ACCESS_DENIED,
                 "guest %s: [Disk %s] Path: '%s' is outside the image directories (%s) allowed "
                 "by ImageDirectories= in microvmd.conf",
                 guest->name, disk->label, disk->path, dirs);
  }
  return FALSE;
}

static gboolean
check_share (const MvmGuestConfig *guest, const MvmShare *share, GError **error)
{
  if (g_file_test (share->path, G_FILE_TEST_IS_DIR))
    return TRUE;
  g_set_error (error, MVM_ERROR, MVM_ERROR_INVALID_CONFIG,
               "guest %s: [Share %s] Path: '%s' is not a folder", guest->name, share->label,
               share->path);
  return FALSE;
}

gboolean
mvm_daemon_config_check_guest (const MvmDaemonConfig *config, MvmGuestConfig *guest, GError **error)
{
  for (guint i = 0; i < guest->disks->len; i++)
    if (!check_disk (config, guest, guest->disks->pdata[i], error))
      return FALSE;
  for (guint i = 0; i < guest->shares->len; i++)
    if (!check_share (guest, guest->shares->pdata[i], error))
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
  char *path = g_build_filename (MVM_DATADIR, file, NULL);

  if (g_file_test (path, G_FILE_TEST_IS_REGULAR))
    return path;
  g_free (path);
  return NULL;
}

static void
default_boot (const MvmDaemonConfig *config, char **kernel, char **initrd)
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

  default_boot (config, &dk, &di);
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
