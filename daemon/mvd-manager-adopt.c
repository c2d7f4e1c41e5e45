/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* At start, guests that a previous daemon left running are taken over (DESIGN.md "Process
 * model"): each runtime folder whose state file names a live process with the recorded
 * start time and binary is adopted; anything else is reported and its files removed. */
#include <glib/gstdio.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <string.h>

#include "mvd-manager-private.h"
#include "mvd-state-file.h"
#include "mvm-value.h"
#include "mvd-log.h"

/* The guest a runtime folder belongs to: the stored one, or a transient one from the
 * definition the folder keeps. */
static MvdGuest *
guest_for (MvdManager *self, const char *name, const char *dir, GError **error)
{
  g_autofree char *path = g_build_filename (dir, "guest", NULL);
  g_autofree char *text = NULL;
  g_autofree char *file_name = NULL;
  MvmGuestConfig *config;
  MvdGuest *guest = mvd_manager_lookup (self, name);

  if (guest)
    return guest;
  if (!g_file_get_contents (path, &text, NULL, error))
    return NULL;
  file_name = g_strconcat (name, ".guest", NULL); /* the text may rely on it for its name */
  config = mvd_manager_parse (self, text, file_name, error);
  if (config == NULL)
    return NULL;
  if (!g_str_equal (config->name, name))
    {
      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_INVAL, "%s names guest %s", path,
                   config->name);
      mvm_guest_config_free (config);
      return NULL;
    }
  return mvd_manager_add (self, config, text, NULL);
}

/* Is @pid a QEMU started for guest @name? Its argv says so: "-name guest=NAME,...". */
static gboolean
is_qemu_of (int pid, const char *name)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/cmdline", pid);
  g_autofree char *cmdline = NULL;
  g_autofree char *want = g_strdup_printf ("guest=%s,debug-threads=on", name);
  gsize len = 0;

  if (!g_file_get_contents (path, &cmdline, &len, NULL) || len == 0
      || strstr (cmdline, "qemu-system") == NULL)
    return FALSE;
  for (gsize i = 0; i < len; i += strlen (cmdline + i) + 1)
    if (g_str_equal (cmdline + i, want))
      return TRUE;
  return FALSE;
}

/* No usable state file, but a pid file: the previous daemon died between forking QEMU and
 * recording it (or the state file was damaged since). Such a QEMU cannot be adopted; end it
 * rather than leave it running unknown. */
static void
kill_interrupted_start (const char *name, const char *dir)
{
  g_autofree char *pid_path = g_build_filename (dir, "qemu.pid", NULL);
  g_autofree char *text = NULL;
  int pid, pidfd;

  if (!g_file_get_contents (pid_path, &text, NULL, NULL) || (pid = atoi (text)) <= 1)
    return;
  pidfd = syscall (SYS_pidfd_open, pid, 0);
  if (pidfd < 0)
    return;
  if (is_qemu_of (pid, name))
    {
      mvd_guest_message (name, "killing QEMU pid %d, whose start a previous daemon did not finish",
                         pid);
      syscall (SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
    }
  close (pidfd);
}

static void
adopt_one (MvdManager *self, const char *name)
{
  g_autofree char *dir = mvm_paths_guest_runtime (self->context.paths, name);
  g_autofree char *state_path = g_build_filename (dir, "state", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (MvdStateFile) state = NULL;
  g_autofree char *state_new = g_build_filename (dir, "state.new", NULL);
  g_autofree char *guest_new = g_build_filename (dir, "guest.new", NULL);
  MvdGuest *guest;

  /* half-written by a daemon that died in the middle of an atomic write */
  gboolean removed = g_unlink (state_new) == 0;

  if (g_unlink (guest_new) == 0 || removed)
    mvd_guest_message (name, "removed a half-written state file left by a previous daemon");
  if (!g_file_test (state_path, G_FILE_TEST_EXISTS))
    {
      kill_interrupted_start (name, dir);
      mvm_paths_clean_guest_runtime (self->context.paths, name);
      return;
    }
  state = mvd_state_file_load (state_path, &error);
  if (state == NULL)
    {
      mvd_guest_warning (name, "unreadable state file, not adopting: %s", error->message);
      /* a QEMU it described cannot be adopted blind; left alone it would hold the disk */
      kill_interrupted_start (name, dir);
      mvm_paths_clean_guest_runtime (self->context.paths, name);
      return;
    }
  if (!mvd_state_file_matches_process (state))
    {
      /* gone, or its pid now belongs to another process: never signal that one */
      mvd_guest_message (name, "pid %d is no longer its QEMU; cleaning up", state->pid);
      mvm_paths_clean_guest_runtime (self->context.paths, name);
      if ((guest = mvd_manager_lookup (self, name)))
        mvd_guest_lost (guest);
      return;
    }
  guest = guest_for (self, name, dir, &error);
  if (guest == NULL)
    {
      mvd_guest_warning (name,
                         "QEMU pid %d runs, but its definition is lost (%s); leaving it alone",
                         state->pid, error->message);
      return;
    }
  mvd_guest_adopt (guest, g_steal_pointer (&state));
}

void
mvd_manager_adopt_all (MvdManager *self)
{
  g_autoptr (GDir) dir = g_dir_open (self->context.paths->runtime_dir, 0, NULL);
  const char *name;

  while (dir && (name = g_dir_read_name (dir)))
    {
      g_autofree char *path = g_build_filename (self->context.paths->runtime_dir, name, NULL);
      if (mvm_name_is_valid (name) && g_file_test (path, G_FILE_TEST_IS_DIR))
        adopt_one (self, name);
    }
}
