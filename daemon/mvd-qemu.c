/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "mvd-qemu-private.h"

#include <errno.h>
#include <glib-unix.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include "mvm-error.h"
#include "mvm-paths.h"
#include "mvd-cgroup.h"
#include "mvd-output-cap.h"
#include "mvd-state-file.h"
#include "qmp-client.h"
#include "mvd-log.h"
#include "mvd-tap-filter.h"

enum
{
  SIGNAL_RUN_STATE_CHANGED,
  SIGNAL_READY,
  SIGNAL_RESET,
  SIGNAL_EXITED,
  SIGNAL_EXIT_STATUS,
  N_SIGNALS,
};
static guint signals[N_SIGNALS];

G_DEFINE_TYPE (MvdQemu, mvd_qemu, G_TYPE_OBJECT)

/* --- sockets ------------------------------------------------------------------------ */

int
mvd_qemu_unix_socket (const char *path, gboolean listen_on, GError **error)
{
  struct sockaddr_un addr = { .sun_family = AF_UNIX };
  int fd;

  if (strlen (path) >= sizeof addr.sun_path)
    {
      g_set_error (error, MVM_ERROR, MVM_ERROR_FAILED,
                   "socket path %s is too long for a unix socket; use a shorter runtime folder",
                   path);
      return -1;
    }
  strcpy (addr.sun_path, path);
  fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd >= 0 && listen_on)
    {
      g_unlink (path);
      if (bind (fd, (struct sockaddr *)&addr, sizeof addr) == 0 && listen (fd, 4) == 0)
        return fd;
    }
  else if (fd >= 0 && connect (fd, (struct sockaddr *)&addr, sizeof addr) == 0)
    return fd;
  g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno), "socket %s: %s", path,
               g_strerror (errno));
  if (fd >= 0)
    close (fd);
  return -1;
}

char *
mvd_qemu_path (MvdQemu *self, const char *file)
{
  return g_build_filename (self->runtime_dir, file, NULL);
}

/* --- exit ------------------------------------------------------------------------------ */

static void
complete_stop_tasks (MvdQemu *self)
{
  g_autoptr (GPtrArray) tasks = g_steal_pointer (&self->stop_tasks);

  self->stop_tasks = g_ptr_array_new_with_free_func (g_object_unref);
  for (guint i = 0; i < tasks->len; i++)
    g_task_return_boolean (tasks->pdata[i], TRUE);
}

#define MARKED_LINES 3
#define STATE_SAVE_DELAY_MS 1000

static void
cut_after_lines (char *text, guint lines)
{
  for (char *p = text; (p = strchr (p, '\n')) != NULL; p++)
    if (--lines == 0)
      {
        *p = '\0';
        return;
      }
}

/* QEMU's last words: the last lines it wrote on stdout and stderr, which go to
 * RUNTIME/NAME/qemu.out rather than a pipe, so QEMU can outlive the daemon without writing
 * into a broken pipe. Where the file has @marker, the few lines from it on instead (a KVM
 * internal error is followed by a register dump that says less than its first lines). */
static char *
last_words (MvdQemu *self, const char *marker)
{
  g_autofree char *path = mvd_qemu_path (self, "qemu.out");
  g_autofree char *data = NULL;
  const char *from;
  gsize len = 0;
  char *text;

  if (!g_file_get_contents (path, &data, &len, NULL))
    return g_strdup ("");
  from = marker ? g_strrstr (data, marker) : NULL;
  if (from == NULL)
    from = data + (len > OUTPUT_TAIL_BYTES ? len - OUTPUT_TAIL_BYTES : 0);
  else
    cut_after_lines ((char *)from, MARKED_LINES);
  text = g_strstrip ((char *)from);
  return text[0] ? g_strdup_printf (": %s", text) : g_strdup ("");
}

static gboolean
on_save_state (gpointer user_data)
{
  MvdQemu *self = user_data;

  self->save_soon = 0;
  mvd_qemu_save_state (self);
  return G_SOURCE_REMOVE;
}

/* Ready and boot time change with every reset: a guest in a reset loop costs one write a
 * second at most (the review's L1), and adoption after a crash meanwhile sees them late. */
static void
save_state_soon (MvdQemu *self)
{
  if (self->save_soon == 0)
    self->save_soon = g_timeout_add (STATE_SAVE_DELAY_MS, on_save_state, self);
}

void
mvd_qemu_set_uid (MvdQemu *self, guint32 uid)
{
  self->uid = uid;
}

guint32
mvd_qemu_get_uid (MvdQemu *self)
{
  return self->exited ? 0 : self->uid;
}

void
mvd_qemu_cap_output (MvdQemu *self)
{
  g_autofree char *path = mvd_qemu_path (self, "qemu.out");

  g_clear_handle_id (&self->output_cap, g_source_remove);
  self->output_cap = mvd_output_cap_watch (path, self->context->config->log_max_bytes);
}

char *
mvd_qemu_output_tail (MvdQemu *self)
{
  return last_words (self, NULL);
}

void
mvd_qemu_save_state (MvdQemu *self)
{
  g_autofree char *path = mvd_qemu_path (self, "state");
  g_autoptr (GError) error = NULL;

  if (self->state && !self->exited && !mvd_state_file_save (self->state, path, &error))
    mvd_guest_warning (self->name, "%s; a restarted daemon will not find this guest",
                       error->message);
}

void
mvd_qemu_fail_launch (MvdQemu *self, GError *error)
{
  g_autoptr (GTask) task = g_steal_pointer (&self->launch_task);

  g_clear_handle_id (&self->launch_timeout, g_source_remove);
  if (task)
    g_task_return_error (task, error);
  else
    g_error_free (error);
}

void
mvd_qemu_set_end_reason (MvdQemu *self, MvmStateReason reason, char *message)
{
  self->end_reason = reason;
  g_free (self->end_message);
  self->end_message = message;
}

/* Why the process ended when nothing QEMU said before tells: the wait status (-1 when it
 * was not our child). A failure also quotes QEMU's last words. */
static gboolean
settle_end_reason (MvdQemu *self, int status)
{
  g_autofree char *tail = NULL;

  if (self->end_reason != MVM_STATE_REASON_NONE)
    return mvm_state_reason_is_failure (self->end_reason);
  if (status >= 0 && WIFSIGNALED (status))
    {
      mvd_qemu_set_end_reason (self, MVM_STATE_REASON_KILLED,
                               g_strdup_printf ("QEMU was killed by signal %d (SIG%s)",
                                                WTERMSIG (status),
                                                sigabbrev_np (WTERMSIG (status))));
      return !self->quit_expected;
    }
  if (self->quit_expected)
    {
      mvd_qemu_set_end_reason (self, MVM_STATE_REASON_REQUESTED, g_strdup ("QEMU quit as asked"));
      return FALSE;
    }
  tail = mvd_qemu_output_tail (self);
  if (status >= 0)
    mvd_qemu_set_end_reason (self, MVM_STATE_REASON_QEMU_EXITED,
                             g_strdup_printf ("QEMU exited with status %d without a shutdown%s",
                                              WEXITSTATUS (status), tail));
  else
    mvd_qemu_set_end_reason (
      self, MVM_STATE_REASON_QEMU_EXITED,
      g_strdup_printf ("QEMU pid %d ended without a shutdown%s", self->pid, tail));
  return TRUE;
}

static GError *
exit_error (MvdQemu *self, int status)
{
  g_autofree char *tail = NULL;
  gboolean signaled = status >= 0 && WIFSIGNALED (status);

  if (mvm_state_reason_is_failure (self->end_reason) && self->end_message)
    return g_error_new (MVM_ERROR, MVM_ERROR_QEMU_FAILED, "guest %s: %s", self->name,
                        self->end_message);
  if (status < 0)
    return g_error_new (MVM_ERROR, MVM_ERROR_QEMU_FAILED,
                        "guest %s: QEMU pid %d exited while being adopted", self->name, self->pid);
  tail = mvd_qemu_output_tail (self);
  return g_error_new (
    MVM_ERROR, MVM_ERROR_QEMU_FAILED, "guest %s: QEMU exited during start (%s %d)%s", self->name,
    signaled ? "signal" : "status", signaled ? WTERMSIG (status) : WEXITSTATUS (status), tail);
}

/* @status is a wait status, or -1 when the process was not our child (adopted). */
static void
process_exited (MvdQemu *self, int status)
{
  g_autoptr (MvdQemu) keep = g_object_ref (self); /* "exited" handlers may drop theirs */
  gboolean failed;

  self->exited = TRUE;
  g_clear_handle_id (&self->save_soon, g_source_remove);
  g_clear_handle_id (&self->pidfd_watch, g_source_remove);
  g_clear_handle_id (&self->output_cap, g_source_remove);
  g_clear_handle_id (&self->escalation, g_source_remove);
  g_clear_handle_id (&self->power_button, g_source_remove);
  g_clear_handle_id (&self->ready_watch, g_source_remove);
  if (self->ready_fd >= 0)
    close (self->ready_fd);
  self->ready_fd = -1;
  failed = settle_end_reason (self, status); /* reads qemu.out, so before the clean-up */
  /* before QMP closes: its pending replies would report the closing, not the exit */
  if (self->launch_task)
    mvd_qemu_fail_launch (self, exit_error (self, status));
  if (self->qmp)
    qmp_client_close (self->qmp);
  mvd_serial_detach (self->serial);         /* reads what is still buffered first */
  mvd_serial_close_consoles (self->serial); /* console sessions end with their QEMU */
  mvm_paths_clean_runtime_dir (self->runtime_dir);
  mvd_cgroup_remove (self->cgroup_dir);
  for (guint i = 0; self->tap_filters && i < self->tap_filters->len; i++)
    mvd_tap_filter_remove (self->tap_filters->pdata[i]);
  /* the guest's state first, so a Shutdown that returns finds it stopped */
  g_signal_emit (self, signals[SIGNAL_EXITED], 0, (guint)self->end_reason, self->end_message,
                 failed);
  complete_stop_tasks (self);
}

void
mvd_qemu_on_child_exited (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (MvdQemu) self = user_data;

  g_subprocess_wait_finish (G_SUBPROCESS (source), result, NULL);
  process_exited (self, g_subprocess_get_status (G_SUBPROCESS (source)));
}

gboolean
mvd_qemu_on_pidfd_exited (int fd, GIOCondition condition, gpointer user_data)
{
  MvdQemu *self = user_data;

  self->pidfd_watch = 0;
  process_exited (self, -1);
  return G_SOURCE_REMOVE;
}

void
mvd_qemu_send_signal (MvdQemu *self, int signum)
{
  if (self->exited)
    return;
  if (self->process)
    g_subprocess_send_signal (self->process, signum);
  else if (self->pidfd >= 0)
    syscall (SYS_pidfd_send_signal, self->pidfd, signum, NULL, 0);
}

/* --- output, ready channel, QMP events ------------------------------------------------- */

void
mvd_qemu_mark_ready (MvdQemu *self)
{
  guint64 boot_usec = g_get_monotonic_time () - self->spawn_usec;

  if (self->ready_seen)
    return;
  self->ready_seen = TRUE;
  if (self->state)
    {
      self->state->ready = TRUE;
      self->state->boot_usec = boot_usec;
      save_state_soon (self);
    }
  g_signal_emit (self, signals[SIGNAL_READY], 0, boot_usec);
}

/* One line from the guest's init: READY=1, or EXIT_STATUS=N when its command ended. Lines
 * from a guest are data: anything else is ignored. */
static void
take_ready_line (MvdQemu *self, const char *line)
{
  guint64 status;

  if (g_str_equal (line, "READY=1"))
    mvd_qemu_mark_ready (self);
  else if (g_str_has_prefix (line, "EXIT_STATUS=")
           && g_ascii_string_to_unsigned (line + 12, 10, 0, 255, &status, NULL))
    g_signal_emit (self, signals[SIGNAL_EXIT_STATUS], 0, (int)status);
}

#define READY_LINE_MAX 64

static gboolean
on_ready_readable (int fd, GIOCondition condition, gpointer user_data)
{
  MvdQemu *self = user_data;
  char buf[256];
  gssize n = read (fd, buf, sizeof buf);

  if (n < 0 && (errno == EAGAIN || errno == EINTR))
    return G_SOURCE_CONTINUE;
  if (n <= 0)
    {
      self->ready_watch = 0;
      return G_SOURCE_REMOVE;
    }
  for (gssize i = 0; i < n; i++)
    {
      if (buf[i] != '\n')
        {
          if (self->ready_line->len < READY_LINE_MAX)
            g_string_append_c (self->ready_line, buf[i]);
          continue;
        }
      take_ready_line (self, self->ready_line->str);
      g_string_truncate (self->ready_line, 0);
    }
  return G_SOURCE_CONTINUE;
}

static void
on_quit_sent (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (JsonNode) node = qmp_client_execute_finish (QMP_CLIENT (source), result, NULL);
}

gboolean
mvd_qemu_run_state_is_failure (QmpRunState state)
{
  return state == QMP_RUN_STATE_INTERNAL_ERROR || state == QMP_RUN_STATE_IO_ERROR
         || state == QMP_RUN_STATE_GUEST_PANICKED;
}

/* "[Disk root] /path" for QEMU's "disk0", as the guest file names it. */
static const char *
disk_name (MvdQemu *self, const char *drive)
{
  guint64 index;

  if (drive && g_str_has_prefix (drive, "disk") && self->disks
      && g_ascii_string_to_unsigned (drive + 4, 10, 0, G_MAXUINT, &index, NULL)
      && index < g_strv_length (self->disks))
    return self->disks[index];
  return drive ? drive : "an unknown drive";
}

void
mvd_qemu_set_disks (MvdQemu *self, const MvmGuestConfig *config)
{
  g_strfreev (self->disks);
  self->disks = g_new0 (char *, config->disks->len + 1);
  for (guint i = 0; i < config->disks->len; i++)
    {
      const MvmDisk *disk = config->disks->pdata[i];
      self->disks[i] = g_strdup_printf ("[Disk %s] %s", disk->label, disk->path);
    }
}

static char *
failure_message (MvdQemu *self, QmpRunState state)
{
  g_autofree char *tail = NULL;

  switch (state)
    {
      case QMP_RUN_STATE_INTERNAL_ERROR:
        tail = last_words (self, "KVM internal error");
        return g_strdup_printf ("QEMU stopped the guest with an internal error%s", tail);
      case QMP_RUN_STATE_IO_ERROR:
        return g_strdup_printf ("QEMU stopped the guest on an I/O error of %s: %s",
                                disk_name (self, self->io_error_drive),
                                self->io_error_text ? self->io_error_text : "no details");
      default:
        tail = mvd_qemu_output_tail (self);
        return g_strdup_printf ("the guest kernel panicked%s", tail);
    }
}

void
mvd_qemu_fail_helper (MvdQemu *self, MvmStateReason reason, char *message)
{
  if (self->exited || mvm_state_reason_is_failure (self->end_reason))
    {
      g_free (message);
      return;
    }
  mvd_qemu_set_end_reason (self, reason, message);
  mvd_guest_warning (self->name, "%s; killing QEMU", self->end_message);
  g_clear_handle_id (&self->power_button, g_source_remove);
  mvd_qemu_send_signal (self, SIGKILL);
}

void
mvd_qemu_fail_guest (MvdQemu *self, QmpRunState state)
{
  static const MvmStateReason reasons[] = {
    [QMP_RUN_STATE_INTERNAL_ERROR] = MVM_STATE_REASON_KVM_INTERNAL_ERROR,
    [QMP_RUN_STATE_IO_ERROR] = MVM_STATE_REASON_IO_ERROR,
    [QMP_RUN_STATE_GUEST_PANICKED] = MVM_STATE_REASON_GUEST_PANICKED,
  };

  g_return_if_fail (mvd_qemu_run_state_is_failure (state));
  if (self->exited || mvm_state_reason_is_failure (self->end_reason))
    return; /* told once */
  mvd_qemu_set_end_reason (self, reasons[state], failure_message (self, state));
  mvd_guest_debug (self->name, "%s; killing QEMU", self->end_message);
  g_clear_handle_id (&self->power_button, g_source_remove);
  mvd_qemu_send_signal (self, SIGKILL);
}

static void
on_stop_status (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (MvdQemu) self = user_data;
  g_autoptr (QmpStatus) status = qmp_query_status_finish (QMP_CLIENT (source), result, NULL);

  if (status == NULL || self->exited)
    return;
  if (mvd_qemu_run_state_is_failure (status->run_state))
    mvd_qemu_fail_guest (self, status->run_state);
  else if (!status->running && status->run_state != QMP_RUN_STATE_SHUTDOWN
           && self->launch_task == NULL && !self->quit_expected && !self->saving)
    g_signal_emit (self, signals[SIGNAL_RUN_STATE_CHANGED], 0, (guint)QMP_RUN_STATE_PAUSED);
}

/* The reason QEMU gives in its SHUTDOWN event, as the reason the guest stops. */
static void
on_shutdown_event (MvdQemu *self, const QmpEvent *event)
{
  const char *why = event->u.shutdown.reason ? event->u.shutdown.reason : "";

  if (g_str_equal (why, "guest-shutdown"))
    mvd_qemu_set_end_reason (self, MVM_STATE_REASON_POWERED_OFF,
                             g_strdup ("the guest powered off"));
  else if (g_str_equal (why, "host-signal"))
    mvd_qemu_set_end_reason (self, MVM_STATE_REASON_KILLED,
                             g_strdup ("QEMU was ended by a signal from the host"));
  else if (g_str_equal (why, "guest-panic"))
    mvd_qemu_fail_guest (self, QMP_RUN_STATE_GUEST_PANICKED);
  else if (self->end_reason == MVM_STATE_REASON_NONE)
    mvd_qemu_set_end_reason (
      self, MVM_STATE_REASON_REQUESTED,
      g_strdup_printf ("QEMU shut down (%s)", why[0] ? why : "no reason given"));
  /* -no-shutdown keeps QEMU alive after the guest powers off; end it cleanly */
  g_clear_handle_id (&self->power_button, g_source_remove);
  if (!mvm_state_reason_is_failure (self->end_reason))
    mvd_qemu_end (self, self->end_reason, NULL);
}

static void
on_reset_event (MvdQemu *self)
{
  self->ready_seen = FALSE;
  g_string_truncate (self->ready_line, 0);
  self->spawn_usec = g_get_monotonic_time ();
  if (self->state)
    {
      self->state->ready = FALSE;
      save_state_soon (self);
    }
  g_signal_emit (self, signals[SIGNAL_RESET], 0);
}

static void
on_block_io_error (MvdQemu *self, const QmpEvent *event)
{
  const char *drive = event->u.block_io_error.device;

  g_free (self->io_error_drive);
  g_free (self->io_error_text);
  self->io_error_drive = g_strdup (drive && drive[0] ? drive : event->u.block_io_error.node_name);
  self->io_error_text = g_strdup_printf (
    "%s failed%s%s", event->u.block_io_error.operation ? event->u.block_io_error.operation : "I/O",
    event->u.block_io_error.reason ? ": " : "",
    event->u.block_io_error.reason ? event->u.block_io_error.reason : "");
}

static void
on_qmp_event (QmpClient *qmp, QmpEvent *event, gpointer user_data)
{
  MvdQemu *self = user_data;

  switch (event->type)
    {
      case QMP_EVENT_SHUTDOWN:
        on_shutdown_event (self, event);
        break;
      case QMP_EVENT_RESET:
        on_reset_event (self);
        break;
      case QMP_EVENT_GUEST_PANICKED:
        mvd_qemu_fail_guest (self, QMP_RUN_STATE_GUEST_PANICKED);
        break;
      case QMP_EVENT_BLOCK_IO_ERROR:
        on_block_io_error (self, event);
        break;
      case QMP_EVENT_STOP:
        /* paused, or stopped by a failure: only the run state tells */
        qmp_query_status_async (self->qmp, NULL, on_stop_status, g_object_ref (self));
        break;
      case QMP_EVENT_RESUME:
        if (self->launch_task == NULL && !self->saving)
          g_signal_emit (self, signals[SIGNAL_RUN_STATE_CHANGED], 0, (guint)QMP_RUN_STATE_RUNNING);
        break;
      default:
        break;
    }
}

static void
on_qmp_disconnected (QmpClient *qmp, GError *reason, gpointer user_data)
{
  MvdQemu *self = user_data;

  mvd_guest_debug (self->name, "QMP closed: %s", reason ? reason->message : "closed");
}

/* The daemon's channels connect before the CPUs run (-S), so no console output is lost. */
gboolean
mvd_qemu_connect_channels (MvdQemu *self, GError **error)
{
  g_autofree char *qmp_path = mvd_qemu_path (self, "qmp.sock");
  g_autofree char *serial_path = mvd_qemu_path (self, "console.sock");
  g_autofree char *ready_path = mvd_qemu_path (self, "ready.sock");
  int qmp_fd, serial_fd;

  if ((qmp_fd = mvd_qemu_unix_socket (qmp_path, FALSE, error)) < 0)
    return FALSE;
  self->qmp = qmp_client_new_for_fd (qmp_fd);
  g_signal_connect_object (self->qmp, "event", G_CALLBACK (on_qmp_event), self, 0);
  g_signal_connect_object (self->qmp, "disconnected", G_CALLBACK (on_qmp_disconnected), self, 0);
  if ((serial_fd = mvd_qemu_unix_socket (serial_path, FALSE, error)) < 0)
    return FALSE;
  mvd_serial_attach (self->serial, serial_fd);
  if ((self->ready_fd = mvd_qemu_unix_socket (ready_path, FALSE, error)) < 0)
    return FALSE;
  g_unix_set_fd_nonblocking (self->ready_fd, TRUE, NULL);
  self->ready_watch = g_unix_fd_add (self->ready_fd, G_IO_IN | G_IO_HUP, on_ready_readable, self);
  return TRUE;
}

/* --- commands and accessors ------------------------------------------------------------ */

static void
on_executed (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  GError *error = NULL;
  JsonNode *node = qmp_client_execute_finish (QMP_CLIENT (source), result, &error);

  if (node == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, node, (GDestroyNotify)json_node_unref);
}

void
mvd_qemu_execute_async (MvdQemu *self, const char *command, JsonObject *arguments,
                        GAsyncReadyCallback callback, gpointer user_data)
{
  g_autoptr (GTask) task = g_task_new (self, NULL, callback, user_data);

  if (self->qmp == NULL || self->exited)
    {
      g_task_return_new_error (task, MVM_ERROR, MVM_ERROR_INVALID_STATE,
                               "guest %s: QEMU is not running", self->name);
      return;
    }
  qmp_client_execute_async (self->qmp, command, arguments, NULL, on_executed,
                            g_steal_pointer (&task));
}

JsonNode *
mvd_qemu_execute_finish (MvdQemu *self, GAsyncResult *result, GError **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}

void
mvd_qemu_end (MvdQemu *self, MvmStateReason reason, const char *message)
{
  if (self->end_reason == MVM_STATE_REASON_NONE)
    mvd_qemu_set_end_reason (self, reason, g_strdup (message));
  self->quit_expected = TRUE;
  if (self->qmp && qmp_client_is_ready (self->qmp))
    qmp_client_execute_async (self->qmp, "quit", NULL, NULL, on_quit_sent, NULL);
  else
    mvd_qemu_send_signal (self, SIGTERM);
}

void
mvd_qemu_set_start_info (MvdQemu *self, MvmStateReason reason, const char *message,
                         const char *accelerator, guint32 vsock_cid, gint64 begin_usec)
{
  self->begin_usec = begin_usec;
  self->start_reason = reason;
  g_free (self->start_message);
  self->start_message = g_strdup (message);
  g_free (self->accelerator);
  self->accelerator = g_strdup (accelerator);
  self->vsock_cid = vsock_cid;
}

MvmStateReason
mvd_qemu_get_end_reason (MvdQemu *self, const char **message)
{
  *message = self->end_message;
  return self->end_reason;
}

QmpClient *
mvd_qemu_get_qmp (MvdQemu *self)
{
  return self->qmp;
}

GPid
mvd_qemu_get_pid (MvdQemu *self)
{
  return self->exited ? 0 : self->pid;
}

const char *const *
mvd_qemu_get_argv (MvdQemu *self)
{
  return (const char *const *)self->argv;
}

gboolean
mvd_qemu_has_exited (MvdQemu *self)
{
  return self->exited;
}

/* --- object --------------------------------------------------------------------------- */

static void
mvd_qemu_dispose (GObject *object)
{
  MvdQemu *self = MVD_QEMU (object);

  g_clear_handle_id (&self->launch_timeout, g_source_remove);
  g_clear_handle_id (&self->escalation, g_source_remove);
  g_clear_handle_id (&self->power_button, g_source_remove);
  g_clear_handle_id (&self->ready_watch, g_source_remove);
  g_clear_handle_id (&self->pidfd_watch, g_source_remove);
  g_clear_handle_id (&self->output_cap, g_source_remove);
  g_clear_handle_id (&self->save_soon, g_source_remove);
  complete_stop_tasks (self); /* no waiter outlives the process object */
  if (self->qmp)
    {
      g_signal_handlers_disconnect_by_data (self->qmp, self);
      qmp_client_close (self->qmp);
    }
  g_clear_object (&self->qmp);
  G_OBJECT_CLASS (mvd_qemu_parent_class)->dispose (object);
}

static void
mvd_qemu_finalize (GObject *object)
{
  MvdQemu *self = MVD_QEMU (object);

  if (self->ready_fd >= 0)
    close (self->ready_fd);
  if (self->pidfd >= 0)
    close (self->pidfd);
  g_clear_object (&self->process);
  g_clear_object (&self->serial);
  g_ptr_array_unref (self->stop_tasks);
  mvd_state_file_free (self->state);
  g_strfreev (self->argv);
  g_free (self->end_message);
  g_string_free (self->ready_line, TRUE);
  g_free (self->io_error_drive);
  g_free (self->io_error_text);
  g_strfreev (self->disks);
  g_free (self->start_message);
  g_free (self->accelerator);
  g_free (self->cgroup_dir);
  g_free (self->uuid);
  if (self->ifindex)
    g_array_unref (self->ifindex);
  if (self->tap_filters)
    g_ptr_array_unref (self->tap_filters);
  g_free (self->name);
  g_free (self->runtime_dir);
  G_OBJECT_CLASS (mvd_qemu_parent_class)->finalize (object);
}

static void
mvd_qemu_class_init (MvdQemuClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = mvd_qemu_dispose;
  object_class->finalize = mvd_qemu_finalize;
  signals[SIGNAL_RUN_STATE_CHANGED]
    = g_signal_new ("run-state-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL,
                    NULL, NULL, G_TYPE_NONE, 1, G_TYPE_UINT);
  signals[SIGNAL_READY] = g_signal_new ("ready", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                                        NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_UINT64);
  signals[SIGNAL_RESET] = g_signal_new ("reset", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                                        NULL, NULL, NULL, G_TYPE_NONE, 0);
  signals[SIGNAL_EXITED]
    = g_signal_new ("exited", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                    G_TYPE_NONE, 3, G_TYPE_UINT, G_TYPE_STRING, G_TYPE_BOOLEAN);
  signals[SIGNAL_EXIT_STATUS]
    = g_signal_new ("exit-status", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                    NULL, G_TYPE_NONE, 1, G_TYPE_INT);
}

static void
mvd_qemu_init (MvdQemu *self)
{
  self->ready_fd = -1;
  self->ready_line = g_string_new (NULL);
  self->pidfd = -1;
  self->stop_tasks = g_ptr_array_new_with_free_func (g_object_unref);
}

MvdQemu *
mvd_qemu_new (const MvdContext *context, const char *name, const char *runtime_dir,
              MvdSerial *serial)
{
  MvdQemu *self = g_object_new (MVD_TYPE_QEMU, NULL);

  self->context = context;
  self->name = g_strdup (name);
  self->runtime_dir = g_strdup (runtime_dir);
  self->serial = g_object_ref (serial);
  return self;
}
