/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Snapshots on disk: one folder each, written under a hidden name and renamed when whole. */
#include "mvm-snapshot.h"

#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mvm-error.h"
#include "mvm-file.h"
#include "mvm-paths.h"
#include "mvm-value.h"

#define GROUP "Snapshot"
#define INFO_FILE "info"
#define MEMORY_FILE "memory"

void
mvm_snapshot_free (MvmSnapshot *snapshot)
{
  if (snapshot == NULL)
    return;
  g_free (snapshot->name);
  g_free (snapshot->qemu_binary);
  g_free (snapshot->qemu_version);
  g_strfreev (snapshot->argv);
  g_free (snapshot);
}

static char *
snapshots_dir (const char *guest_data_dir, const char *guest)
{
  return g_build_filename (guest_data_dir, guest, "snapshots", NULL);
}

char *
mvm_snapshot_dir (const char *guest_data_dir, const char *guest, const char *name)
{
  return g_build_filename (guest_data_dir, guest, "snapshots", name, NULL);
}

char *
mvm_snapshot_memory_path (const char *dir)
{
  return g_build_filename (dir, MEMORY_FILE, NULL);
}

static gboolean
set_errno_error (GError **error, const char *what, const char *path)
{
  int saved = errno;

  g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved), "cannot %s %s: %s", what, path,
               g_strerror (saved));
  return FALSE;
}

/* Bytes on disk of the files in @dir */
static guint64
dir_size (const char *dir)
{
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  const char *file;
  guint64 size = 0;
  struct stat st;

  while (d && (file = g_dir_read_name (d)))
    {
      g_autofree char *path = g_build_filename (dir, file, NULL);
      if (lstat (path, &st) == 0)
        size += (guint64)st.st_blocks * 512;
    }
  return size;
}

/* A snapshot folder holds files only, all the daemon's */
static gboolean
remove_folder (const char *dir, GError **error)
{
  return mvm_paths_remove_tree (dir, 0) || set_errno_error (error, "remove", dir);
}

MvmSnapshot *
mvm_snapshot_read (const char *guest_data_dir, const char *guest, const char *name, GError **error)
{
  g_autofree char *dir = mvm_snapshot_dir (guest_data_dir, guest, name);
  g_autofree char *path = g_build_filename (dir, INFO_FILE, NULL);
  g_autoptr (GKeyFile) kf = g_key_file_new ();
  g_autoptr (MvmSnapshot) s = g_new0 (MvmSnapshot, 1);
  g_autoptr (GError) local = NULL;

  if (!mvm_name_is_valid (name) || !g_key_file_load_from_file (kf, path, G_KEY_FILE_NONE, &local))
    {
      if (local == NULL || g_error_matches (local, G_FILE_ERROR, G_FILE_ERROR_NOENT))
        g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                     "guest %s has no snapshot %s (microvmctl snapshot list %s)", guest, name,
                     guest);
      else
        g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                     "guest %s: snapshot %s: cannot read %s: %s", guest, name, path,
                     local->message);
      return NULL;
    }
  s->name = g_strdup (name);
  s->created_usec = g_key_file_get_int64 (kf, GROUP, "Created", NULL);
  s->qemu_binary = g_key_file_get_string (kf, GROUP, "QemuBinary", NULL);
  s->qemu_version = g_key_file_get_string (kf, GROUP, "QemuVersion", NULL);
  s->argv = g_key_file_get_string_list (kf, GROUP, "CommandLine", NULL, NULL);
  s->size = dir_size (dir);
  if (s->qemu_version == NULL || s->argv == NULL || s->argv[0] == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   "guest %s: snapshot %s: %s lacks QemuVersion= or CommandLine=", guest, name,
                   path);
      return NULL;
    }
  return g_steal_pointer (&s);
}

static int
compare_names (gconstpointer a, gconstpointer b)
{
  const MvmSnapshot *x = *(const MvmSnapshot *const *)a;
  const MvmSnapshot *y = *(const MvmSnapshot *const *)b;

  return g_strcmp0 (x->name, y->name);
}

GPtrArray *
mvm_snapshot_list (const char *guest_data_dir, const char *guest)
{
  GPtrArray *list = g_ptr_array_new_with_free_func ((GDestroyNotify)mvm_snapshot_free);
  g_autofree char *dir = guest_data_dir ? snapshots_dir (guest_data_dir, guest) : NULL;
  g_autoptr (GDir) d = dir ? g_dir_open (dir, 0, NULL) : NULL;
  const char *name;

  while (d && (name = g_dir_read_name (d)))
    {
      MvmSnapshot *s
        = mvm_name_is_valid (name) ? mvm_snapshot_read (guest_data_dir, guest, name, NULL) : NULL;
      if (s)
        g_ptr_array_add (list, s);
    }
  g_ptr_array_sort (list, compare_names);
  return list;
}

static char *
partial_dir (const char *guest_data_dir, const char *guest, const char *name)
{
  g_autofree char *hidden = g_strdup_printf (".%s.partial", name);

  return g_build_filename (guest_data_dir, guest, "snapshots", hidden, NULL);
}

char *
mvm_snapshot_begin (const char *guest_data_dir, const char *guest, const char *name, GError **error)
{
  g_autofree char *partial = partial_dir (guest_data_dir, guest, name);
  g_autofree char *parent = snapshots_dir (guest_data_dir, guest);

  if (!mvm_name_is_valid (name))
    {
      g_set_error (error, MVM_ERROR, MVM_ERROR_INVALID_CONFIG,
                   "'%s' is not a snapshot name (letters, digits, '_', '.', '-'; at most 63)",
                   name);
      return NULL;
    }
  if (g_mkdir_with_parents (parent, 0700) < 0)
    {
      set_errno_error (error, "create", parent);
      return NULL;
    }
  if (!remove_folder (partial, error))
    return NULL;
  if (g_mkdir (partial, 0700) < 0)
    {
      set_errno_error (error, "create", partial);
      return NULL;
    }
  return g_steal_pointer (&partial);
}

static gboolean
sync_path (const char *path, GError **error)
{
  int fd = open (path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  gboolean ok = fd >= 0 && fsync (fd) == 0;

  if (!ok)
    set_errno_error (error, "sync", path);
  if (fd >= 0)
    close (fd);
  return ok;
}

/* Every file the snapshot holds on disk (QEMU wrote the memory without a sync), then the
 * folder */
static gboolean
sync_folder (const char *dir, GError **error)
{
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  const char *file;

  while (d && (file = g_dir_read_name (d)))
    {
      g_autofree char *path = g_build_filename (dir, file, NULL);
      if (!sync_path (path, error))
        return FALSE;
    }
  return sync_path (dir, error);
}

gboolean
mvm_snapshot_commit (const char *partial, const MvmSnapshot *snapshot, GError **error)
{
  g_autofree char *parent = g_path_get_dirname (partial);
  g_autofree char *dir = g_build_filename (parent, snapshot->name, NULL);
  g_autofree char *info = g_build_filename (partial, INFO_FILE, NULL);
  g_autoptr (GKeyFile) kf = g_key_file_new ();
  g_autofree char *data = NULL;

  g_key_file_set_int64 (kf, GROUP, "Created", snapshot->created_usec);
  g_key_file_set_string (kf, GROUP, "QemuBinary", snapshot->qemu_binary);
  g_key_file_set_string (kf, GROUP, "QemuVersion", snapshot->qemu_version);
  g_key_file_set_string_list (kf, GROUP, "CommandLine", (const char *const *)snapshot->argv,
                              g_strv_length (snapshot->argv));
  data = g_key_file_to_data (kf, NULL, NULL);
  if (!mvm_file_write_atomic (info, data, -1, 0600, error) || !sync_folder (partial, error))
    return FALSE;
  /* an older snapshot of the name trades places with the new one, then goes */
  if (renameat2 (AT_FDCWD, partial, AT_FDCWD, dir, RENAME_EXCHANGE) == 0)
    return remove_folder (partial, error) && sync_path (parent, error);
  if (errno != ENOENT || g_rename (partial, dir) < 0)
    return set_errno_error (error, "name", dir);
  return sync_path (parent, error);
}

void
mvm_snapshot_abort (const char *partial)
{
  remove_folder (partial, NULL);
}

gboolean
mvm_snapshot_remove (const char *guest_data_dir, const char *guest, const char *name,
                     GError **error)
{
  g_autofree char *dir = NULL;

  if (!mvm_name_is_valid (name))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "guest %s has no snapshot %s", guest,
                   name);
      return FALSE;
    }
  dir = mvm_snapshot_dir (guest_data_dir, guest, name);
  if (!g_file_test (dir, G_FILE_TEST_IS_DIR))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                   "guest %s has no snapshot %s (microvmctl snapshot list %s)", guest, name, guest);
      return FALSE;
    }
  return remove_folder (dir, error);
}

GStrv
mvm_snapshot_argv_without_incoming (const char *const *argv)
{
  GStrvBuilder *b = g_strv_builder_new ();
  GStrv out;

  for (guint i = 0; argv[i]; i++)
    {
      if (g_str_equal (argv[i], "-incoming") && argv[i + 1])
        i++;
      else
        g_strv_builder_add (b, argv[i]);
    }
  out = g_strv_builder_end (b);
  g_strv_builder_unref (b);
  return out;
}

/* "-m 256M": an argument with the option it belongs to, for messages */
static char *
describe_argument (const char *const *argv, guint i)
{
  if (argv[i] == NULL)
    return g_strdup ("nothing");
  if (i > 0 && argv[i - 1][0] == '-' && argv[i][0] != '-')
    return g_strdup_printf ("'%s %s'", argv[i - 1], argv[i]);
  return g_strdup_printf ("'%s'", argv[i]);
}

gboolean
mvm_snapshot_check (const MvmSnapshot *snapshot, const char *guest, const char *const *argv,
                    const char *qemu_version, GError **error)
{
  g_auto (GStrv) now = mvm_snapshot_argv_without_incoming (argv);
  g_auto (GStrv) then = mvm_snapshot_argv_without_incoming ((const char *const *)snapshot->argv);
  g_autofree char *was = NULL;
  g_autofree char *is = NULL;
  guint i;

  if (g_strcmp0 (snapshot->qemu_version, qemu_version) != 0)
    {
      g_set_error (error, MVM_ERROR, MVM_ERROR_INVALID_STATE,
                   "guest %s: snapshot %s was saved by QEMU %s, which this host no longer runs "
                   "(it runs QEMU %s): start the guest without it and save it again",
                   guest, snapshot->name, snapshot->qemu_version, qemu_version);
      return FALSE;
    }
  for (i = 0; now[i] && then[i] && g_str_equal (now[i], then[i]); i++)
    ;
  if (now[i] == NULL && then[i] == NULL)
    return TRUE;
  was = describe_argument ((const char *const *)then, i);
  is = describe_argument ((const char *const *)now, i);
  g_set_error (error, MVM_ERROR, MVM_ERROR_INVALID_STATE,
               "guest %s: its definition changed since snapshot %s was saved: QEMU's command "
               "line now has %s where the snapshot's has %s; start it without the snapshot and "
               "save it again",
               guest, snapshot->name, is, was);
  return FALSE;
}
