/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Spawning QEMU with its sockets already listening, then running the guest. */
#include "mvd-qemu-private.h"

#include <errno.h>
#include <net/if.h>
#include <fcntl.h>
#include <grp.h>
#include <sys/stat.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "mvm-error.h"
#include "mvm-paths.h"
#include "mvd-cgroup.h"
#include "mvd-forward-check.h"
#include "mvd-passt.h"
#include "mvd-virtiofs.h"
#include "mvd-virtiofs-unit.h"
#include "mvd-state-file.h"
#include "mvd-tap.h"
#include "mvd-tap-filter.h"
#include "qmp-commands.h"
#include "mvd-log.h"

/* --- launch ------------------------------------------------------------------------------- */

#define MS(from, to) (((to) - (from)) / 1000.0)

/* Where the start's time went, from the ask to running; microvmd(8) names the steps */
static void
log_start_times (MvdQemu *self)
{
  gint64 now = g_get_monotonic_time ();

  mvd_guest_debug (self->name,
                   "started in %.1f ms: plan and files %.1f, sockets and helpers %.1f, spawn "
                   "%.1f, QMP greeting and capabilities %.1f, cont %.1f, query-status %.1f",
                   MS (self->begin_usec, now), MS (self->begin_usec, self->launch_begin_usec),
                   MS (self->launch_begin_usec, self->prepared_usec),
                   MS (self->prepared_usec, self->spawn_usec),
                   MS (self->spawn_usec, self->handshake_usec),
                   MS (self->handshake_usec, self->cont_usec), MS (self->cont_usec, now));
}

/* The host's clock, for a restored guest whose clock stood still since its snapshot: the
 * shipped init sets it from this line (non-blocking: a guest that does not read it only
 * leaves it in the socket) */
static void
send_time (MvdQemu *self)
{
  struct timespec now;
  char line[64];
  int n;

  clock_gettime (CLOCK_REALTIME, &now);
  n = g_snprintf (line, sizeof line, "TIME=%" G_GINT64_FORMAT ".%09ld\n", (gint64)now.tv_sec,
                  now.tv_nsec);
  if (self->ready_fd >= 0 && write (self->ready_fd, line, n) != n)
    mvd_guest_debug (self->name, "cannot tell the restored guest the time: %s", g_strerror (errno));
}

static void
launch_succeeded (MvdQemu *self)
{
  g_autoptr (GTask) task = g_steal_pointer (&self->launch_task);

  log_start_times (self);
  if (self->restoring)
    {
      /* it was ready when it was saved, and is again the moment it runs */
      send_time (self);
      mvd_qemu_mark_ready (self);
    }
  g_clear_handle_id (&self->launch_timeout, g_source_remove);
  qmp_client_set_timeout (self->qmp, QMP_CLIENT_DEFAULT_TIMEOUT_MS);
  self->state->running = TRUE;
  mvd_qemu_save_state (self);
  if (task)
    g_task_return_boolean (task, TRUE);
}

static void
launch_failed_kill (MvdQemu *self, GError *error)
{
  /* QEMU hung up, or its sockets refuse (we bound them, so only its exit closes them): it is
   * exiting, and its exit status and last words say more */
  if ((g_error_matches (error, QMP_ERROR, QMP_ERROR_DISCONNECTED)
       || g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED))
      && !self->exited)
    {
      g_error_free (error);
      return;
    }
  g_autofree char *tail = mvd_qemu_output_tail (self);
  char *message = g_strdup_printf ("%s%s", error->message, tail);
  GError *failed = g_error_new (error->domain, error->code, "guest %s: %s", self->name, message);

  g_error_free (error);
  /* the exit that follows reports this start's failure, not a stop that was asked for */
  mvd_qemu_set_end_reason (self, MVM_STATE_REASON_START_FAILED, message);
  mvd_qemu_fail_launch (self, failed);
  self->quit_expected = TRUE;
  mvd_qemu_send_signal (self, SIGKILL);
}

/* A restore polls until QEMU has loaded the snapshot */
#define LOAD_POLL_MS 5

static void on_status_queried (GObject *source, GAsyncResult *result, gpointer user_data);
static void on_cont (GObject *source, GAsyncResult *result, gpointer user_data);

static gboolean
on_load_poll (gpointer user_data)
{
  g_autoptr (MvdQemu) self = user_data;

  if (self->launch_task)
    qmp_query_status_async (self->qmp, NULL, on_status_queried, g_object_ref (self));
  return G_SOURCE_REMOVE;
}

static void
on_status_queried (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (MvdQemu) self = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (QmpStatus) status = qmp_query_status_finish (QMP_CLIENT (source), result, &error);

  if (self->launch_task == NULL)
    return;
  if (status == NULL)
    launch_failed_kill (self, g_steal_pointer (&error));
  else if (mvd_qemu_run_state_is_failure (status->run_state))
    mvd_qemu_fail_guest (self, status->run_state); /* the exit fails the launch, with why */
  else if (status->run_state == QMP_RUN_STATE_INMIGRATE)
    g_timeout_add (LOAD_POLL_MS, on_load_poll, g_object_ref (self)); /* a restore loading */
  else if (!status->running && self->restoring && self->cont_usec == 0)
    /* loaded, it stands as it was saved (paused), whatever -S or a cont said: cont now */
    qmp_cont_async (self->qmp, NULL, on_cont, g_object_ref (self));
  else if (!status->running)
    launch_failed_kill (self, g_error_new (MVM_ERROR, MVM_ERROR_QEMU_FAILED,
                                           "QEMU reports status '%s' after cont", status->status));
  else
    launch_succeeded (self);
}

static void
on_cont (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (MvdQemu) self = user_data;
  g_autoptr (GError) error = NULL;

  if (self->launch_task == NULL)
    return;
  if (!qmp_cont_finish (QMP_CLIENT (source), result, &error))
    launch_failed_kill (self, g_steal_pointer (&error));
  else
    {
      self->cont_usec = g_get_monotonic_time ();
      qmp_query_status_async (self->qmp, NULL, on_status_queried, g_object_ref (self));
    }
}

static void
on_handshake (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (MvdQemu) self = user_data;
  g_autoptr (GError) error = NULL;

  if (!qmp_client_handshake_finish (QMP_CLIENT (source), result, &error))
    {
      if (self->launch_task)
        launch_failed_kill (self, g_steal_pointer (&error));
      return;
    }
  self->handshake_usec = g_get_monotonic_time ();
  if (self->restoring) /* cont once loaded */
    qmp_query_status_async (self->qmp, NULL, on_status_queried, g_object_ref (self));
  else
    qmp_cont_async (self->qmp, NULL, on_cont, g_object_ref (self));
}

static gboolean
on_launch_timeout (gpointer user_data)
{
  MvdQemu *self = user_data;

  self->launch_timeout = 0;
  launch_failed_kill (self,
                      g_error_new (MVM_ERROR, MVM_ERROR_TIMEOUT, "QEMU did not start within %g s",
                                   self->context->timings.launch_timeout_ms / 1000.0));
  return G_SOURCE_REMOVE;
}

/* Written right after the spawn, before the CPUs run, so that a daemon killed in the
 * middle of a start still leaves a trace of the process it made. */
static void
record_state (MvdQemu *self)
{
  MvdStateFile *state = g_new0 (MvdStateFile, 1);

  state->pid = self->pid;
  state->start_timestamp = g_get_real_time ();
  state->argv = g_strdupv (self->argv);
  state->reason = self->start_reason;
  state->message = g_strdup (self->start_message);
  state->accelerator = g_strdup (self->accelerator);
  state->vsock_cid = self->vsock_cid;
  if (!mvd_state_file_read_process (self->pid, &state->start_time, &state->binary))
    mvd_guest_debug (self->name, "QEMU (pid %d) ended before /proc could name it", self->pid);
  self->state = state;
  mvd_qemu_save_state (self);
}

/* The fds QEMU inherits, each with the number its argv names. */
typedef struct
{
  int fd[3 + MVM_MAX_NETWORKS + MVM_MAX_SHARES + G_N_ELEMENTS (((MvmGuestFiles *)0)->fds)];
  int target[3 + MVM_MAX_NETWORKS + MVM_MAX_SHARES + G_N_ELEMENTS (((MvmGuestFiles *)0)->fds)];
  guint n;
} ChildFds;

static void
child_fds_add (ChildFds *fds, int fd, int target)
{
  fds->fd[fds->n] = fd;
  fds->target[fds->n++] = target;
}

static void
child_fds_clear (ChildFds *fds)
{
  for (guint i = 0; i < fds->n; i++)
    if (fds->fd[i] >= 0)
      close (fds->fd[i]);
  fds->n = 0;
}

/* /dev/kvm's and the vhost devices' group, the one supplementary group QEMU keeps */
static gint64
kvm_gid (void)
{
  struct group *kvm = getgrnam ("kvm");

  return kvm ? (gint64)kvm->gr_gid : -1;
}

/* QEMU's own memory beside the guest's, and its threads (vCPUs, I/O, RCU, ...) */
#define QEMU_OVERHEAD_BYTES (256 * 1024 * 1024ULL)
#define QEMU_TASKS_MAX 1024

static void
on_cgroup_placed (char *dir, gpointer user_data)
{
  g_autoptr (MvdQemu) self = user_data;

  g_free (self->cgroup_dir);
  self->cgroup_dir = dir;
  if (self->exited) /* QEMU ended while systemd was asked */
    mvd_cgroup_remove (self->cgroup_dir);
}

static void
place_in_cgroup (MvdQemu *self)
{
  MvdCgroupRequest request = { .name = self->name,
                               .uuid = self->uuid,
                               .pid = self->pid,
                               .memory_max = self->memory + QEMU_OVERHEAD_BYTES,
                               .tasks_max = QEMU_TASKS_MAX,
                               .ifindex = (const int *)self->ifindex->data,
                               .n_ifindex = self->ifindex->len };

  mvd_cgroup_place_async (self->context->system_bus, &request, on_cgroup_placed,
                          g_object_ref (self));
}

static gboolean
spawn (MvdQemu *self, ChildFds *fds, gboolean small_pages, GError **error)
{
  g_autofree char *output = mvd_qemu_path (self, "qemu.out");
  g_autofree char *pid_file = mvd_qemu_path (self, "qemu.pid");
  g_autofree char *tmp_dir = mvd_qemu_path (self, "tmp");
  MvdSpawnRequest request = { .argv = (const char *const *)self->argv,
                              .fds = fds->fd,
                              .targets = fds->target,
                              .n_fds = fds->n,
                              .output_path = output,
                              .tmp_dir = tmp_dir,
                              .uid = self->uid,
                              .kvm_gid = kvm_gid (),
                              .pid_file = pid_file,
                              .small_pages = small_pages };
  const char *identifier;

  fds->n = 0; /* the spawner's now */
  self->process = self->context->spawn (&request, self->context->spawn_data, error);
  if (self->process == NULL)
    return FALSE;
  self->spawn_usec = g_get_monotonic_time ();
  /* NULL once GLib's worker thread has reaped a QEMU that failed at once: no pid is left
   * to record, and the exit watch below still reports how it ended */
  identifier = g_subprocess_get_identifier (self->process);
  self->pid = identifier ? atoi (identifier) : 0;
  g_subprocess_wait_async (self->process, NULL, mvd_qemu_on_child_exited, g_object_ref (self));
  mvd_qemu_cap_output (self);
  if (self->pid > 0)
    place_in_cgroup (self);
  record_state (self);
  return TRUE;
}

/* RUNTIME/NAME/tmp: QEMU's TMPDIR, its own to write in, so that no temporary file of QEMU's
 * lands in /var/tmp (ephemeral disks' overlays are the daemon's, in RUNTIME/NAME). A
 * confined QEMU may pass through RUNTIME/NAME (root's, mode 0710, its group) to reach it,
 * and no other guest's QEMU may. */
static gboolean
make_tmp_dir (MvdQemu *self, GError **error)
{
  g_autofree char *dir = mvd_qemu_path (self, "tmp");

  if ((self->uid != 0
       && (chown (self->runtime_dir, 0, self->uid) < 0 || chmod (self->runtime_dir, 0710) < 0))
      || (g_mkdir (dir, 0700) < 0 && errno != EEXIST)
      || (self->uid != 0 && chown (dir, self->uid, self->uid) < 0))
    {
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno), "cannot create %s: %s", dir,
                   g_strerror (errno));
      return FALSE;
    }
  return TRUE;
}

static gboolean
bind_sockets (MvdQemu *self, ChildFds *fds, GError **error)
{
  static const char *const files[] = { "qmp.sock", "console.sock", "ready.sock" };
  static const int targets[] = { MVM_FD_QMP, MVM_FD_SERIAL, MVM_FD_READY };
  int fd;

  if (g_mkdir_with_parents (self->runtime_dir, 0700) < 0)
    {
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno), "cannot create %s: %s",
                   self->runtime_dir, g_strerror (errno));
      return FALSE;
    }
  if (!make_tmp_dir (self, error))
    return FALSE;
  for (int i = 0; i < 3; i++)
    {
      g_autofree char *path = mvd_qemu_path (self, files[i]);
      if ((fd = mvd_qemu_unix_socket (path, TRUE, error)) < 0)
        return FALSE;
      child_fds_add (fds, fd, targets[i]);
    }
  return TRUE;
}

/* A helper's last line (its reason, when it says one), or NULL */
static char *
helper_last_words (const char *path)
{
  g_autofree char *text = NULL;
  g_auto (GStrv) lines = NULL;
  guint n;

  if (!g_file_get_contents (path, &text, NULL, NULL))
    return NULL;
  lines = g_strsplit (g_strstrip (text), "\n", -1);
  n = g_strv_length (lines);
  return n > 0 && lines[n - 1][0] ? g_strdup (lines[n - 1]) : NULL;
}

/* A process beside QEMU that the guest needs: a card's passt, a share's virtiofsd. */
typedef struct
{
  MvdQemu *self;
  char *what; /* "passt of [Network net0]" */
  char *output;
  MvmStateReason reason;
} HelperWatch;

/* @what and @output are taken */
static HelperWatch *
helper_watch_new (MvdQemu *self, char *what, char *output, MvmStateReason reason)
{
  HelperWatch *w = g_new0 (HelperWatch, 1);

  w->self = g_object_ref (self);
  w->what = what;
  w->output = output;
  w->reason = reason;
  return w;
}

static void
helper_watch_free (gpointer data)
{
  HelperWatch *w = data;

  g_object_unref (w->self);
  g_free (w->what);
  g_free (w->output);
  g_free (w);
}

/* The helper ended @how ("was killed by signal 9") under a running QEMU: the guest fails,
 * with the helper's last words */
static void
helper_failed (HelperWatch *w, const char *how)
{
  g_autofree char *words = NULL;

  if (w->self->exited)
    return;
  words = helper_last_words (w->output);
  mvd_qemu_fail_helper (
    w->self, w->reason,
    g_strdup_printf ("%s %s%s%s", w->what, how, words ? ": " : "", words ? words : ""));
}

/* A helper quits with 0 when QEMU hangs up; anything else, or any end while QEMU runs, took
 * something from the guest under it */
static void
on_helper_exited (GObject *source, GAsyncResult *result, gpointer data)
{
  HelperWatch *w = data;
  GSubprocess *process = G_SUBPROCESS (source);

  g_subprocess_wait_finish (process, result, NULL);
  if (!g_subprocess_get_successful (process))
    {
      g_autofree char *how
        = g_subprocess_get_if_signaled (process)
            ? g_strdup_printf ("was killed by signal %d", g_subprocess_get_term_sig (process))
            : g_strdup_printf ("exited with status %d", g_subprocess_get_exit_status (process));
      helper_failed (w, how);
    }
  helper_watch_free (w);
}

/* Watches @process (taken) for the guest's life; @what and @output are taken */
static void
watch_helper (MvdQemu *self, GSubprocess *process, char *what, char *output, MvmStateReason reason)
{
  g_subprocess_wait_async (process, NULL, on_helper_exited,
                           helper_watch_new (self, what, output, reason));
  g_object_unref (process);
}

static gboolean
open_passt (MvdQemu *self, const MvmNetwork *net, guint index, int *qemu_end, GError **error)
{
  GSubprocess *passt = mvd_passt_spawn (self->context->facts->passt, net, index, self->runtime_dir,
                                        self->uid, qemu_end, error);

  if (passt == NULL)
    return FALSE;
  watch_helper (self, passt, g_strdup_printf ("passt of [Network %s]", net->label),
                mvm_paths_passt_output (self->runtime_dir, index), MVM_STATE_REASON_NETWORK_FAILED);
  return TRUE;
}

/* A tap card's tap, with its rules; its fd goes to QEMU (in @fds) even when the rules fail,
 * so that the tap goes away with the failed start. */
static gboolean
open_tap (MvdQemu *self, const MvmGuestConfig *config, guint index, int target, ChildFds *fds,
          GError **error)
{
  const MvmNetwork *net = config->networks->pdata[index];
  g_autofree char *name = mvd_tap_name (config, index);
  int fd, ifindex;

  if ((fd = mvd_tap_open (name, net->bridge, error)) < 0)
    return FALSE;
  child_fds_add (fds, fd, target);
  if (!mvd_tap_filter_add (name, net, error))
    return FALSE;
  g_ptr_array_add (self->tap_filters, g_strdup (name));
  if ((ifindex = if_nametoindex (name)) > 0)
    g_array_append_val (self->ifindex, ifindex);
  return TRUE;
}

/* Each card's host side: its tap, or its passt; QEMU gets the fd. */
static gboolean
open_networks (MvdQemu *self, const MvmGuestConfig *config, const MvmLaunch *launch, ChildFds *fds,
               GError **error)
{
  for (guint i = 0; i < config->networks->len; i++)
    {
      const MvmNetwork *net = config->networks->pdata[i];
      gboolean ok = TRUE;
      int fd;

      if (mvm_network_uses_passt (net, self->context->facts))
        {
          ok = open_passt (self, net, i, &fd, error);
          if (ok)
            child_fds_add (fds, fd, launch->net_fds[i]);
        }
      else if (net->mode == MVM_NET_MODE_TAP)
        ok = open_tap (self, config, i, launch->net_fds[i], fds, error);
      if (!ok)
        {
          g_prefix_error (error, "[Network %s]: ", net->label);
          return FALSE;
        }
    }
  return TRUE;
}

/* systemd's virtiofsd ended: as a child's exit, a failure while QEMU runs fails the guest */
static void
on_virtiofs_unit_ended (const char *how, gpointer data)
{
  if (how)
    helper_failed (data, how);
}

/* A daemon without CAP_SYS_ADMIN (the hardened unit) asks systemd to run virtiofsd */
static gboolean
start_virtiofs_unit (MvdQemu *self, const MvmShare *share, guint index, int listen_fd,
                     GError **error)
{
  g_autofree char *output = mvm_paths_virtiofsd_output (self->runtime_dir, index);
  g_auto (GStrv) argv = mvd_virtiofs_argv (self->context->facts->virtiofsd, share, 0);
  MvdVirtiofsUnitRequest request = { self->name, share, index, argv, listen_fd, -1 };
  gboolean started;
  HelperWatch *w;

  if (self->context->system_bus == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED,
                   "Type=virtiofs: virtiofsd needs CAP_SYS_ADMIN to sandbox itself, which this "
                   "microvmd has not got, and no systemd to run it (a --session daemon of a "
                   "user, see microvmd(8)); use Type=9p");
      return FALSE;
    }
  request.output_fd = open (output, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0640);
  if (request.output_fd < 0)
    {
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno), "cannot create %s: %s", output,
                   g_strerror (errno));
      return FALSE;
    }
  w = helper_watch_new (self, g_strdup_printf ("virtiofsd of [Share %s]", share->label),
                        g_steal_pointer (&output), MVM_STATE_REASON_SHARE_FAILED);
  started = mvd_virtiofs_unit_start (self->context->system_bus, &request, on_virtiofs_unit_ended, w,
                                     helper_watch_free, error)
            != NULL;
  if (!started)
    helper_watch_free (w);
  close (request.output_fd);
  return started;
}

/* A virtiofs share's virtiofsd, listening on a socket whose file is gone as soon as QEMU's
 * end is connected to it */
static gboolean
open_virtiofs (MvdQemu *self, const MvmShare *share, guint index, int target, ChildFds *fds,
               GError **error)
{
  g_autofree char *file = g_strdup_printf ("virtiofsd-fs%u.sock", index);
  g_autofree char *path = mvd_qemu_path (self, file);
  GSubprocess *process;
  int listen_fd, qemu_end;
  gboolean ok;

  if ((listen_fd = mvd_qemu_unix_socket (path, TRUE, error)) < 0)
    return FALSE;
  qemu_end = mvd_qemu_unix_socket (path, FALSE, error);
  g_unlink (path);
  if (qemu_end < 0)
    {
      close (listen_fd);
      return FALSE;
    }
  child_fds_add (fds, qemu_end, target);
  if (!mvd_virtiofs_can_spawn ())
    {
      ok = start_virtiofs_unit (self, share, index, listen_fd, error);
      close (listen_fd);
      return ok;
    }
  process = mvd_virtiofs_spawn (self->context->facts->virtiofsd, share, index, self->runtime_dir,
                                listen_fd, error);
  if (process == NULL)
    return FALSE;
  watch_helper (self, process, g_strdup_printf ("virtiofsd of [Share %s]", share->label),
                mvm_paths_virtiofsd_output (self->runtime_dir, index),
                MVM_STATE_REASON_SHARE_FAILED);
  return TRUE;
}

static gboolean
open_shares (MvdQemu *self, const MvmGuestConfig *config, const MvmLaunch *launch, ChildFds *fds,
             GError **error)
{
  for (guint i = 0; i < config->shares->len; i++)
    {
      const MvmShare *share = config->shares->pdata[i];
      if (share->type == MVM_SHARE_VIRTIOFS
          && !open_virtiofs (self, share, i, launch->share_fds[i], fds, error))
        {
          g_prefix_error (error, "[Share %s]: ", share->label);
          return FALSE;
        }
    }
  return TRUE;
}

/* The plan keeps its own fds (a failed start closes them with the plan): QEMU gets copies. */
static gboolean
pass_files (const MvmGuestFiles *files, ChildFds *fds, GError **error)
{
  for (guint i = 0; i < files->n; i++)
    {
      int fd = fcntl (files->fds[i].fd, F_DUPFD_CLOEXEC, 3);
      if (fd < 0)
        {
          g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno), "cannot pass a file: %s",
                       g_strerror (errno));
          return FALSE;
        }
      child_fds_add (fds, fd, files->fds[i].target);
    }
  return TRUE;
}

static gboolean
mark_prepared (MvdQemu *self)
{
  self->prepared_usec = g_get_monotonic_time ();
  return TRUE;
}

static gboolean
start_process (MvdQemu *self, const MvmGuestConfig *config, const MvmLaunchPlan *plan,
               GError **error)
{
  ChildFds fds = { .n = 0 };
  gboolean ok;

  self->argv = g_strdupv (plan->argv);
  self->restoring = plan->launch.incoming;
  self->memory = config->memory;
  self->uuid = g_strdup (config->uuid);
  self->ifindex = g_array_new (FALSE, FALSE, sizeof (int));
  self->tap_filters = g_ptr_array_new_with_free_func (g_free);
  ok = mvd_forwards_check (config, self->uid, error) && bind_sockets (self, &fds, error)
       && open_networks (self, config, &plan->launch, &fds, error)
       && open_shares (self, config, &plan->launch, &fds, error)
       && pass_files (&plan->files, &fds, error) && mark_prepared (self)
       && spawn (self, &fds, plan->small_pages, error);
  child_fds_clear (&fds);
  if (!ok)
    g_prefix_error (error, "guest %s: ", config->name);
  return ok;
}

void
mvd_qemu_launch_async (MvdQemu *self, const MvmGuestConfig *config, const MvmLaunchPlan *plan,
                       GAsyncReadyCallback callback, gpointer user_data)
{
  g_autoptr (GTask) task = g_task_new (self, NULL, callback, user_data);
  GError *error = NULL;

  g_return_if_fail (self->process == NULL);
  self->launch_begin_usec = g_get_monotonic_time ();
  if (!start_process (self, config, plan, &error))
    {
      /* nothing was spawned: a stop asked for meanwhile has nothing to wait for */
      self->exited = TRUE;
      mvm_paths_clean_runtime_dir (self->runtime_dir);
      g_task_return_error (task, error);
      return;
    }
  self->launch_task = g_steal_pointer (&task);
  self->launch_timeout
    = g_timeout_add (self->context->timings.launch_timeout_ms, on_launch_timeout, self);
  if (!mvd_qemu_connect_channels (self, &error))
    {
      launch_failed_kill (self, error);
      return;
    }
  /* The launch timeout bounds the handshake, cont and the rest. QMP's own (10 s) would end
   * starts that are merely slow: with 60 guests booting on two cores a new QEMU took over
   * 10 s to answer qmp_capabilities. */
  qmp_client_set_timeout (self->qmp, 0);
  qmp_client_handshake_async (self->qmp, NULL, on_handshake, g_object_ref (self));
}

gboolean
mvd_qemu_launch_finish (MvdQemu *self, GAsyncResult *result, GError **error)
{
  return g_task_propagate_boolean (G_TASK (result), error);
}
