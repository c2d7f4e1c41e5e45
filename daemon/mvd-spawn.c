/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Starting QEMU: the daemon's default spawner (tests bring their own). */
#include "mvd-spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <grp.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <unistd.h>

typedef struct
{
  char *pid_file;
  char *read_only_tree;
  guint32 uid;
  gint64 kvm_gid;
  gboolean small_pages;
} ChildSetup;

static void
child_setup_free (gpointer data)
{
  ChildSetup *setup = data;

  g_free (setup->pid_file);
  g_free (setup->read_only_tree);
  g_free (setup);
}

/* async-signal-safe: the pid in decimal to @path */
static void
write_pid (const char *path)
{
  char digits[24];
  int len = 0, fd;

  if (path == NULL)
    return;
  for (pid_t pid = getpid (); pid > 0 && len < (int)sizeof digits; pid /= 10)
    digits[len++] = '0' + pid % 10;
  fd = open (path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0)
    return;
  for (int i = len - 1; i >= 0; i--)
    if (write (fd, &digits[i], 1) != 1)
      break;
  close (fd);
}

/* QEMU under its own uid and gid, with no capability left and no way to gain one. A QEMU that
 * cannot be confined never runs: it exits with 126 and says why in qemu.out. */
static void
drop_privileges (const ChildSetup *setup)
{
  static const char failed[] = "microvmd: cannot switch QEMU to its own uid; not starting it\n";
  gid_t groups[1] = { (gid_t)setup->kvm_gid };

  if (setgroups (setup->kvm_gid >= 0 ? 1 : 0, groups) < 0
      || setresgid (setup->uid, setup->uid, setup->uid) < 0
      || setresuid (setup->uid, setup->uid, setup->uid) < 0
      || prctl (PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || geteuid () != setup->uid)
    {
      (void)!write (STDERR_FILENO, failed, sizeof failed - 1);
      _exit (126);
    }
}

/* @path and every mount below it read-only for this process and its children alone: a mount
 * namespace of its own, no propagation back to the host, a recursive bind made read-only.
 * Fails closed: a child that cannot have it never runs (exit 126, the reason in its output). */
static void
make_read_only (const char *path)
{
  static const char failed[] = "microvmd: cannot make the shared folder read-only; not starting\n";
  struct mount_attr attr = { .attr_set = MOUNT_ATTR_RDONLY };

  if (unshare (CLONE_NEWNS) < 0 || mount (NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) < 0
      || mount (path, path, NULL, MS_BIND | MS_REC, NULL) < 0
      || mount_setattr (AT_FDCWD, path, AT_RECURSIVE, &attr, sizeof attr) < 0)
    {
      (void)!write (STDERR_FILENO, failed, sizeof failed - 1);
      _exit (126);
    }
}

/* Runs in the child between fork and exec, so only async-signal-safe calls. The pid file
 * covers the moment between the fork and the state file: a daemon killed right then
 * leaves a QEMU that the next one can still find and undo. */
static void
child_setup (gpointer data)
{
  const ChildSetup *setup = data;

  /* its own session: a terminal's ^C to the daemon does not reach the guests */
  setsid ();
  write_pid (setup->pid_file);
  if (setup->read_only_tree)
    make_read_only (setup->read_only_tree);
  /* QEMU asks for huge pages for the guest's RAM (MADV_HUGEPAGE); this flag of the process
   * outranks that. A memory saving only: a kernel without it starts QEMU all the same. */
  if (setup->small_pages)
    (void)prctl (PR_SET_THP_DISABLE, 1, 0, 0, 0);
  if (setup->uid != 0)
    drop_privileges (setup);
}

GSubprocess *
mvd_spawn_qemu (const MvdSpawnRequest *request, gpointer data, GError **error)
{
  g_autoptr (GSubprocessLauncher) launcher
    = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDERR_MERGE);
  ChildSetup *setup;
  int output;

  for (guint i = 0; i < request->n_fds; i++)
    g_subprocess_launcher_take_fd (launcher, request->fds[i], request->targets[i]);
  /* QEMU's temporary files: in the guest's runtime folder, gone with it, never in /var/tmp */
  if (request->tmp_dir)
    g_subprocess_launcher_setenv (launcher, "TMPDIR", request->tmp_dir, TRUE);
  setup = g_new0 (ChildSetup, 1);
  setup->pid_file = g_strdup (request->pid_file);
  setup->uid = request->uid;
  setup->kvm_gid = request->kvm_gid;
  setup->read_only_tree = g_strdup (request->read_only_tree);
  setup->small_pages = request->small_pages;
  g_subprocess_launcher_set_child_setup (launcher, child_setup, setup, child_setup_free);
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
