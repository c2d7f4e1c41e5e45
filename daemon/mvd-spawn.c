/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Starting QEMU: the daemon's default spawner (tests bring their own). */
#include "mvd-spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <unistd.h>

/* Runs in the child between fork and exec, so only async-signal-safe calls. The pid file
 * covers the moment between the fork and the state file: a daemon killed right then
 * leaves a QEMU that the next one can still find and undo. */
static void
child_setup (gpointer data)
{
  const char *pid_file = data;
  char digits[24];
  int len = 0, fd;

  /* its own session: a terminal's ^C to the daemon does not reach the guests */
  setsid ();
  for (pid_t pid = getpid (); pid > 0 && len < (int)sizeof digits; pid /= 10)
    digits[len++] = '0' + pid % 10;
  fd = open (pid_file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0)
    return;
  for (int i = len - 1; i >= 0; i--)
    if (write (fd, &digits[i], 1) != 1)
      break;
  close (fd);
}

GSubprocess *
mvd_spawn_qemu (const MvdSpawnRequest *request, gpointer data, GError **error)
{
  g_autoptr (GSubprocessLauncher) launcher
    = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDERR_MERGE);
  int output;

  for (guint i = 0; i < request->n_fds; i++)
    g_subprocess_launcher_take_fd (launcher, request->fds[i], request->targets[i]);
  /* snapshot=on overlays: in the guest's runtime folder, gone with it, never in /var/tmp */
  g_subprocess_launcher_setenv (launcher, "TMPDIR", request->tmp_dir, TRUE);
  g_subprocess_launcher_set_child_setup (launcher, child_setup, g_strdup (request->pid_file),
                                         g_free);
  /* stdout is a file rather than a pipe, so QEMU can outlive the daemon; O_APPEND, so the
   * daemon can cut it back (mvd-output-cap) and QEMU goes on at its new end */
  g_unlink (request->output_path);
  output = open (request->output_path,
                 O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (output < 0)
    {
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno), "cannot create %s: %s",
                   request->output_path, g_strerror (errno));
      return NULL;
    }
  g_subprocess_launcher_take_stdout_fd (launcher, output);
  return g_subprocess_launcher_spawnv (launcher, request->argv, error);
}
