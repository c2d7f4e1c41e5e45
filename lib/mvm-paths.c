/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "mvm-paths.h"

#include <errno.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>

#include "config.h"
#include "mvm-guest-config.h"

#define EPHEMERAL_OVERLAY_SUFFIX ".ephemeral.qcow2"

/* systemd may pass several folders separated by ':'; the first is ours. */
static char *
from_env (const char *variable)
{
  const char *value = g_getenv (variable);

  if (value == NULL || value[0] == '\0')
    return NULL;
  return g_strndup (value, strcspn (value, ":"));
}

static char *
pick (const char *variable, const char *system_dir, const char *user_base)
{
  char *dir = from_env (variable);

  if (dir)
    return dir;
  return user_base ? g_build_filename (user_base, "microvmd", NULL) : g_strdup (system_dir);
}

MvmPaths *
mvm_paths_new (gboolean session)
{
  MvmPaths *p = g_new0 (MvmPaths, 1);
  g_autofree char *config_dir = NULL;
  g_autofree char *user_state
    = session ? g_build_filename (g_get_home_dir (), ".local", "state", NULL) : NULL;
  const char *xdg_state = g_getenv ("XDG_STATE_HOME");

  if (session && xdg_state && g_path_is_absolute (xdg_state))
    {
      g_free (user_state);
      user_state = g_strdup (xdg_state);
    }
  p->session = session;
  config_dir
    = pick ("CONFIGURATION_DIRECTORY", MVM_SYSCONFDIR, session ? g_get_user_config_dir () : NULL);
  p->config_file = g_build_filename (config_dir, "microvmd.conf", NULL);
  p->guests_dir = g_build_filename (config_dir, "guests", NULL);
  p->state_dir
    = pick ("STATE_DIRECTORY", "/var/lib/microvmd", session ? g_get_user_data_dir () : NULL);
  p->images_dir = g_build_filename (p->state_dir, "images", NULL);
  p->guest_data_dir = g_build_filename (p->state_dir, "guests", NULL);
  p->runtime_dir
    = pick ("RUNTIME_DIRECTORY", "/run/microvmd", session ? g_get_user_runtime_dir () : NULL);
  p->log_dir = pick ("LOGS_DIRECTORY", "/var/log/microvmd", user_state);
  return p;
}

void
mvm_paths_free (MvmPaths *paths)
{
  if (paths == NULL)
    return;
  g_free (paths->config_file);
  g_free (paths->guests_dir);
  g_free (paths->state_dir);
  g_free (paths->images_dir);
  g_free (paths->guest_data_dir);
  g_free (paths->runtime_dir);
  g_free (paths->log_dir);
  g_free (paths);
}

static gboolean
make_dir (const char *path, int mode, GError **error)
{
  if (g_mkdir_with_parents (path, mode) == 0)
    return TRUE;
  g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno), "cannot create %s: %s", path,
               g_strerror (errno));
  return FALSE;
}

gboolean
mvm_paths_ensure (const MvmPaths *paths, GError **error)
{
  return make_dir (paths->guests_dir, 0755, error) && make_dir (paths->images_dir, 0755, error)
         && make_dir (paths->runtime_dir, 0755, error) && make_dir (paths->log_dir, 0750, error);
}

char *
mvm_paths_guest_file (const MvmPaths *paths, const char *name)
{
  g_autofree char *file = g_strconcat (name, ".guest", NULL);

  return g_build_filename (paths->guests_dir, file, NULL);
}

char *
mvm_paths_guest_runtime (const MvmPaths *paths, const char *name)
{
  return g_build_filename (paths->runtime_dir, name, NULL);
}

char *
mvm_paths_guest_log (const MvmPaths *paths, const char *name)
{
  g_autofree char *file = g_strconcat (name, ".log", NULL);

  return g_build_filename (paths->log_dir, file, NULL);
}

char *
mvm_paths_passt_output (const char *dir, guint index)
{
  return g_strdup_printf ("%s/passt-net%u.out", dir, index);
}

char *
mvm_paths_image_file (const char *images_dir, const char *name)
{
  g_autofree char *file = g_strconcat (name, ".ext4", NULL);

  return g_build_filename (images_dir, file, NULL);
}

char *
mvm_paths_image_meta (const char *images_dir, const char *name)
{
  g_autofree char *file = g_strconcat (name, ".json", NULL);

  return g_build_filename (images_dir, file, NULL);
}

char *
mvm_paths_virtiofsd_output (const char *dir, guint index)
{
  return g_strdup_printf ("%s/virtiofsd-fs%u.out", dir, index);
}

/* Every file in @dir whose name ends in @suffix ("": every file) */
static void
remove_files (const char *dir, const char *suffix)
{
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;

  while (d && (name = g_dir_read_name (d)))
    if (g_str_has_suffix (name, suffix))
      {
        g_autofree char *path = g_build_filename (dir, name, NULL);
        g_unlink (path);
      }
}

void
mvm_paths_clean_runtime_dir (const char *dir)
{
  static const char *const files[]
    = { "state",        "state.new",  "guest",    "guest.new", "qmp.sock",
        "console.sock", "ready.sock", "qemu.out", "qemu.pid" };

  g_autofree char *tmp = g_build_filename (dir, "tmp", NULL);

  for (gsize i = 0; i < G_N_ELEMENTS (files); i++)
    {
      g_autofree char *path = g_build_filename (dir, files[i], NULL);
      g_unlink (path);
    }
  for (guint i = 0; i < MVM_MAX_NETWORKS; i++)
    {
      g_autofree char *path = mvm_paths_passt_output (dir, i);
      g_unlink (path);
    }
  for (guint i = 0; i < MVM_MAX_SHARES; i++)
    {
      g_autofree char *path = mvm_paths_virtiofsd_output (dir, i);
      g_unlink (path);
    }
  /* by suffix: the guest file may have changed its disks' labels since the start */
  remove_files (dir, EPHEMERAL_OVERLAY_SUFFIX);
  /* what QEMU itself left in its TMPDIR when it was killed */
  remove_files (tmp, "");
  g_rmdir (tmp);
  g_rmdir (dir);
}

void
mvm_paths_clean_guest_runtime (const MvmPaths *paths, const char *name)
{
  g_autofree char *dir = mvm_paths_guest_runtime (paths, name);

  mvm_paths_clean_runtime_dir (dir);
}

char *
mvm_paths_guest_data (const char *guest_data_dir, const char *name)
{
  return g_build_filename (guest_data_dir, name, NULL);
}

char *
mvm_paths_disk_overlay (const char *guest_data_dir, const char *name, const char *label)
{
  g_autofree char *file = g_strconcat (label, ".qcow2", NULL);

  return g_build_filename (guest_data_dir, name, file, NULL);
}

char *
mvm_paths_ephemeral_overlay (const char *dir, const char *label)
{
  g_autofree char *file = g_strconcat (label, EPHEMERAL_OVERLAY_SUFFIX, NULL);

  return g_build_filename (dir, file, NULL);
}

gboolean
mvm_paths_remove_tree (const char *dir, guint depth)
{
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  const char *file;
  struct stat st;

  while (d && (file = g_dir_read_name (d)))
    {
      g_autofree char *path = g_build_filename (dir, file, NULL);
      if (depth > 0 && lstat (path, &st) == 0 && S_ISDIR (st.st_mode))
        mvm_paths_remove_tree (path, depth - 1);
      else if (g_unlink (path) < 0 && errno != ENOENT)
        return FALSE;
    }
  return g_rmdir (dir) == 0 || errno == ENOENT;
}

/* Only the daemon writes there: disk files, and snapshots/NAME/ folders of files */
gboolean
mvm_paths_remove_guest_data (const char *guest_data_dir, const char *name, GError **error)
{
  g_autofree char *dir = guest_data_dir ? mvm_paths_guest_data (guest_data_dir, name) : NULL;

  if (dir == NULL || mvm_paths_remove_tree (dir, 2))
    return TRUE;
  g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno), "cannot remove %s: %s", dir,
               g_strerror (errno));
  return FALSE;
}
