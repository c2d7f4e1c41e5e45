/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "mvd-qemu.h"

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
#include "mvd-state-file.h"
#include "qmp-client.h"

#define LAUNCH_TIMEOUT_SEC 60
#define TERM_TO_KILL_SEC 5
#define POWER_BUTTON_REPEAT_SEC 2
#define OUTPUT_TAIL_BYTES 2048

struct _MvdQemu
{
  GObject parent_instance;
  char *name;
  char *runtime_dir;
  MvdSerial *serial;

  GSubprocess *process; /* our child; NULL when adopted */
  int pidfd;            /* adopted: pins the process and reports its exit */
  guint pidfd_watch;
  GPid pid;
  GStrv argv;
  MvdStateFile *state; /* mirrored to RUNTIME/NAME/state while the process lives */
  gint64 spawn_usec;   /* monotonic, for boot times */
  QmpClient *qmp;
  int ready_fd;
  guint ready_watch;
  gboolean ready_seen;

  GTask *launch_task;
  guint launch_timeout;
  GPtrArray *stop_tasks; /* GTask: finish when the process is gone */
  guint escalation;
  guint power_button;     /* presses the button again until the guest reacts */
  gboolean quit_expected; /* a SHUTDOWN event or our own stop: exit is clean */
  gboolean exited;
};

enum
{
  SIGNAL_STATUS_CHANGED,
  SIGNAL_READY,
  SIGNAL_RESET,
  SIGNAL_EXITED,
  N_SIGNALS,
};
static guint signals[N_SIGNALS];

G_DEFINE_TYPE (MvdQemu, mvd_qemu, G_TYPE_OBJECT)

/* --- sockets ------------------------------------------------------------------------ */

static int
unix_socket (const char *path, gboolean listen_on, GError **error)
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

static char *
socket_path (MvdQemu *self, const char *file)
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

/* The last lines QEMU wrote on stdout and stderr, which go to RUNTIME/NAME/qemu.out
 * rather than a pipe, so QEMU can outlive the daemon without writing into a broken pipe. */
static char *
output_tail (MvdQemu *self)
{
  g_autofree char *path = socket_path (self, "qemu.out");
  g_autofree char *data = NULL;
  gsize len = 0;
  char *text;

  if (!g_file_get_contents (path, &data, &len, NULL))
    return g_strdup ("");
  text = g_strstrip (data + (len > OUTPUT_TAIL_BYTES ? len - OUTPUT_TAIL_BYTES : 0));
  return text[0] ? g_strdup_printf (": %s", text) : g_strdup ("");
}

static void
save_state (MvdQemu *self)
{
  g_autofree char *path = socket_path (self, "state");
  g_autoptr (GError) error = NULL;

  if (self->state && !self->exited && !mvd_state_file_save (self->state, path, &error))
    g_warning ("guest %s: %s; a restarted daemon will not find this guest", self->name,
               error->message);
}

static void
fail_launch (MvdQemu *self, GError *error)
{
  g_autoptr (GTask) task = g_steal_pointer (&self->launch_task);

  g_clear_handle_id (&self->launch_timeout, g_source_remove);
  if (task)
    g_task_return_error (task, error);
  else
    g_error_free (error);
}

/* @status is a wait status, or -1 when the process was not our child (adopted). */
static void
process_exited (MvdQemu *self, int status)
{
  g_autoptr (MvdQemu) keep = g_object_ref (self); /* "exited" handlers may drop theirs */
  gboolean crashed = !self->quit_expected;

  self->exited = TRUE;
  g_clear_handle_id (&self->pidfd_watch, g_source_remove);
  g_clear_handle_id (&self->escalation, g_source_remove);
  g_clear_handle_id (&self->power_button, g_source_remove);
  g_clear_handle_id (&self->ready_watch, g_source_remove);
  if (self->ready_fd >= 0)
    close (self->ready_fd);
  self->ready_fd = -1;
  if (self->qmp)
    qmp_client_close (self->qmp);
  mvd_serial_detach (self->serial);
  if (self->launch_task)
    {
      g_autofree char *tail = output_tail (self);
      gboolean signaled = status >= 0 && WIFSIGNALED (status);
      fail_launch (self, g_error_new (MVM_ERROR, MVM_ERROR_QEMU_FAILED,
                                      "guest %s: QEMU exited during start (%s %d)%s", self->name,
                                      signaled ? "signal" : "status",
                                      signaled ? WTERMSIG (status) : WEXITSTATUS (status), tail));
    }
  mvm_paths_clean_runtime_dir (self->runtime_dir);
  /* the guest's state first, so a Shutdown that returns finds it stopped */
  g_signal_emit (self, signals[SIGNAL_EXITED], 0, crashed);
  complete_stop_tasks (self);
}

static void
on_child_exited (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (MvdQemu) self = user_data;

  g_subprocess_wait_finish (G_SUBPROCESS (source), result, NULL);
  process_exited (self, g_subprocess_get_status (G_SUBPROCESS (source)));
}

static gboolean
on_pidfd_exited (int fd, GIOCondition condition, gpointer user_data)
{
  MvdQemu *self = user_data;

  self->pidfd_watch = 0;
  process_exited (self, -1);
  return G_SOURCE_REMOVE;
}

static void
send_signal (MvdQemu *self, int signum)
{
  if (self->exited)
    return;
  if (self->process)
    g_subprocess_send_signal (self->process, signum);
  else if (self->pidfd >= 0)
    syscall (SYS_pidfd_send_signal, self->pidfd, signum, NULL, 0);
}

/* --- output, ready channel, QMP events ------------------------------------------------- */

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
  if (!self->ready_seen && memchr (buf, '\n', n))
    {
      self->ready_seen = TRUE;
      g_signal_emit (self, signals[SIGNAL_READY], 0,
                     (guint64)(g_get_monotonic_time () - self->spawn_usec));
    }
  return G_SOURCE_CONTINUE;
}

static void
on_quit_sent (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (JsonNode) node = qmp_client_execute_finish (QMP_CLIENT (source), result, NULL);
}

static void
on_qmp_event (QmpClient *qmp, QmpEvent *event, gpointer user_data)
{
  MvdQemu *self = user_data;

  switch (event->type)
    {
      case QMP_EVENT_SHUTDOWN:
        /* -no-shutdown keeps QEMU alive after the guest powers off; end it cleanly */
        self->quit_expected = TRUE;
        qmp_client_execute_async (qmp, "quit", NULL, NULL, on_quit_sent, NULL);
        break;
      case QMP_EVENT_RESET:
        self->ready_seen = FALSE;
        self->spawn_usec = g_get_monotonic_time ();
        g_signal_emit (self, signals[SIGNAL_RESET], 0);
        break;
      case QMP_EVENT_STOP:
        g_signal_emit (self, signals[SIGNAL_STATUS_CHANGED], 0, "paused");
        break;
      case QMP_EVENT_RESUME:
        g_signal_emit (self, signals[SIGNAL_STATUS_CHANGED], 0, "running");
        break;
      default:
        break;
    }
}

static void
on_qmp_disconnected (QmpClient *qmp, GError *reason, gpointer user_data)
{
  MvdQemu *self = user_data;

  g_debug ("guest %s: QMP closed: %s", self->name, reason ? reason->message : "closed");
}

/* --- launch ------------------------------------------------------------------------------- */

static void
launch_succeeded (MvdQemu *self)
{
  g_autoptr (GTask) task = g_steal_pointer (&self->launch_task);

  g_clear_handle_id (&self->launch_timeout, g_source_remove);
  self->state->running = TRUE;
  save_state (self);
  if (task)
    g_task_return_boolean (task, TRUE);
}

static void
launch_failed_kill (MvdQemu *self, GError *error)
{
  if (g_error_matches (error, QMP_ERROR, QMP_ERROR_DISCONNECTED) && !self->exited)
    {
      /* QEMU hung up because it is exiting: its exit status and last words say more */
      g_error_free (error);
      return;
    }
  g_prefix_error (&error, "guest %s: ", self->name);
  fail_launch (self, error);
  self->quit_expected = TRUE;
  send_signal (self, SIGKILL);
}

static void
on_status_queried (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (MvdQemu) self = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) node = qmp_client_execute_finish (QMP_CLIENT (source), result, &error);
  const char *status;

  if (self->launch_task == NULL)
    return;
  if (node == NULL)
    return launch_failed_kill (self, g_steal_pointer (&error));
  status
    = JSON_NODE_HOLDS_OBJECT (node)
        ? json_object_get_string_member_with_default (json_node_get_object (node), "status", "")
        : "";
  if (!g_str_equal (status, "running"))
    return launch_failed_kill (self, g_error_new (MVM_ERROR, MVM_ERROR_QEMU_FAILED,
                                                  "QEMU reports status '%s' after cont", status));
  launch_succeeded (self);
}

static void
on_cont (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (MvdQemu) self = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) node = qmp_client_execute_finish (QMP_CLIENT (source), result, &error);

  if (self->launch_task == NULL)
    return;
  if (node == NULL)
    return launch_failed_kill (self, g_steal_pointer (&error));
  qmp_client_execute_async (self->qmp, "query-status", NULL, NULL, on_status_queried,
                            g_object_ref (self));
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
  qmp_client_execute_async (self->qmp, "cont", NULL, NULL, on_cont, g_object_ref (self));
}

static gboolean
on_launch_timeout (gpointer user_data)
{
  MvdQemu *self = user_data;

  self->launch_timeout = 0;
  launch_failed_kill (self, g_error_new (MVM_ERROR, MVM_ERROR_TIMEOUT,
                                         "QEMU did not start within %d s", LAUNCH_TIMEOUT_SEC));
  return G_SOURCE_REMOVE;
}

/* The daemon's channels connect before the CPUs run (-S), so no console output is lost. */
static gboolean
connect_channels (MvdQemu *self, GError **error)
{
  g_autofree char *qmp_path = socket_path (self, "qmp.sock");
  g_autofree char *serial_path = socket_path (self, "console.sock");
  g_autofree char *ready_path = socket_path (self, "ready.sock");
  int qmp_fd, serial_fd;

  if ((qmp_fd = unix_socket (qmp_path, FALSE, error)) < 0)
    return FALSE;
  self->qmp = qmp_client_new_for_fd (qmp_fd);
  g_signal_connect_object (self->qmp, "event", G_CALLBACK (on_qmp_event), self, 0);
  g_signal_connect_object (self->qmp, "disconnected", G_CALLBACK (on_qmp_disconnected), self, 0);
  if ((serial_fd = unix_socket (serial_path, FALSE, error)) < 0)
    return FALSE;
  mvd_serial_attach (self->serial, serial_fd);
  if ((self->ready_fd = unix_socket (ready_path, FALSE, error)) < 0)
    return FALSE;
  g_unix_set_fd_nonblocking (self->ready_fd, TRUE, NULL);
  self->ready_watch = g_unix_fd_add (self->ready_fd, G_IO_IN | G_IO_HUP, on_ready_readable, self);
  return TRUE;
}

static void
child_setup (gpointer data)
{
  /* its own session: a terminal's ^C to the daemon does not reach the guests */
  setsid ();
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
  if (!mvd_state_file_read_process (self->pid, &state->start_time, &state->binary))
    g_warning ("guest %s: cannot read /proc/%d", self->name, self->pid);
  self->state = state;
  save_state (self);
}

static gboolean
spawn (MvdQemu *self, int fds[3], GError **error)
{
  g_autoptr (GSubprocessLauncher) launcher
    = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDERR_MERGE);
  g_autofree char *output = socket_path (self, "qemu.out");

  g_subprocess_launcher_take_fd (launcher, fds[0], MVM_FD_QMP);
  g_subprocess_launcher_take_fd (launcher, fds[1], MVM_FD_SERIAL);
  g_subprocess_launcher_take_fd (launcher, fds[2], MVM_FD_READY);
  fds[0] = fds[1] = fds[2] = -1;
  g_subprocess_launcher_set_child_setup (launcher, child_setup, NULL, NULL);
  g_unlink (output);
  g_subprocess_launcher_set_stdout_file_path (launcher, output);
  self->process = g_subprocess_launcher_spawnv (launcher, (const char *const *)self->argv, error);
  if (self->process == NULL)
    return FALSE;
  self->spawn_usec = g_get_monotonic_time ();
  self->pid = atoi (g_subprocess_get_identifier (self->process));
  g_subprocess_wait_async (self->process, NULL, on_child_exited, g_object_ref (self));
  record_state (self);
  return TRUE;
}

static gboolean
bind_sockets (MvdQemu *self, int fds[3], GError **error)
{
  static const char *const files[] = { "qmp.sock", "console.sock", "ready.sock" };

  if (g_mkdir_with_parents (self->runtime_dir, 0700) < 0)
    {
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno), "cannot create %s: %s",
                   self->runtime_dir, g_strerror (errno));
      return FALSE;
    }
  for (int i = 0; i < 3; i++)
    {
      g_autofree char *path = socket_path (self, files[i]);
      if ((fds[i] = unix_socket (path, TRUE, error)) < 0)
        return FALSE;
    }
  return TRUE;
}

static gboolean
start_process (MvdQemu *self, const MvmGuestConfig *config, const MvmHostFacts *facts,
               const char *kernel, const char *initrd, GError **error)
{
  int fds[3] = { -1, -1, -1 };
  MvmLaunch launch;
  gboolean ok;

  mvm_launch_init_default (&launch, config, kernel, initrd);
  launch.paused = TRUE;
  self->argv = mvm_argv_build (config, facts, &launch, error);
  ok = self->argv && bind_sockets (self, fds, error) && spawn (self, fds, error);
  for (int i = 0; i < 3; i++)
    if (fds[i] >= 0)
      close (fds[i]);
  return ok;
}

void
mvd_qemu_launch_async (MvdQemu *self, const MvmGuestConfig *config, const MvmHostFacts *facts,
                       const char *kernel, const char *initrd, GAsyncReadyCallback callback,
                       gpointer user_data)
{
  g_autoptr (GTask) task = g_task_new (self, NULL, callback, user_data);
  GError *error = NULL;

  g_return_if_fail (self->process == NULL);
  if (!start_process (self, config, facts, kernel, initrd, &error))
    {
      g_prefix_error (&error, "guest %s: ", config->name);
      g_task_return_error (task, error);
      return;
    }
  self->launch_task = g_steal_pointer (&task);
  self->launch_timeout = g_timeout_add_seconds (LAUNCH_TIMEOUT_SEC, on_launch_timeout, self);
  if (!connect_channels (self, &error))
    return launch_failed_kill (self, error);
  qmp_client_handshake_async (self->qmp, NULL, on_handshake, g_object_ref (self));
}

gboolean
mvd_qemu_launch_finish (MvdQemu *self, GAsyncResult *result, GError **error)
{
  return g_task_propagate_boolean (G_TASK (result), error);
}

/* --- adoption --------------------------------------------------------------------- */

static void
on_adopt_status (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (MvdQemu) self = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) node = qmp_client_execute_finish (QMP_CLIENT (source), result, &error);
  g_autoptr (GTask) task = g_steal_pointer (&self->launch_task);
  const char *status = "running";

  g_clear_handle_id (&self->launch_timeout, g_source_remove);
  if (node && JSON_NODE_HOLDS_OBJECT (node))
    status = json_object_get_string_member_with_default (json_node_get_object (node), "status",
                                                         "running");
  else
    g_warning ("guest %s: adopted without a working QMP connection (%s); kill still works",
               self->name, error ? error->message : "no status");
  if (task)
    g_task_return_pointer (task, g_strdup (status), g_free);
}

static void
on_adopt_handshake (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (MvdQemu) self = user_data;
  g_autoptr (GError) error = NULL;

  if (!qmp_client_handshake_finish (QMP_CLIENT (source), result, &error))
    {
      g_autoptr (GTask) task = g_steal_pointer (&self->launch_task);
      g_clear_handle_id (&self->launch_timeout, g_source_remove);
      g_warning ("guest %s: adopted, but QMP does not answer: %s", self->name, error->message);
      if (task)
        g_task_return_pointer (task, g_strdup ("running"), g_free);
      return;
    }
  qmp_client_execute_async (self->qmp, "query-status", NULL, NULL, on_adopt_status,
                            g_object_ref (self));
}

static gboolean
open_pidfd (MvdQemu *self, GError **error)
{
  self->pidfd = syscall (SYS_pidfd_open, self->pid, 0);
  /* checked again once the pidfd pins the process: it cannot be reused from now on */
  if (self->pidfd < 0 || !mvd_state_file_matches_process (self->state))
    {
      g_set_error (error, MVM_ERROR, MVM_ERROR_FAILED,
                   "pid %d is no longer the QEMU that was started", self->pid);
      return FALSE;
    }
  self->pidfd_watch = g_unix_fd_add (self->pidfd, G_IO_IN, on_pidfd_exited, self);
  return TRUE;
}

void
mvd_qemu_adopt_async (MvdQemu *self, MvdStateFile *state, GAsyncReadyCallback callback,
                      gpointer user_data)
{
  g_autoptr (GTask) task = g_task_new (self, NULL, callback, user_data);
  GError *error = NULL;

  self->state = state;
  self->pid = state->pid;
  self->argv = g_strdupv (state->argv);
  self->ready_seen = state->ready;
  self->spawn_usec = g_get_monotonic_time () - (g_get_real_time () - state->start_timestamp);
  if (!open_pidfd (self, &error))
    {
      g_task_return_error (task, error);
      return;
    }
  self->launch_task = g_steal_pointer (&task);
  /* a hung QEMU: the handshake's own timeout lets go, the others are not held up */
  if (!connect_channels (self, &error))
    {
      g_autoptr (GTask) failed = g_steal_pointer (&self->launch_task);
      g_task_return_error (failed, error);
      return;
    }
  qmp_client_handshake_async (self->qmp, NULL, on_adopt_handshake, g_object_ref (self));
}

char *
mvd_qemu_adopt_finish (MvdQemu *self, GAsyncResult *result, GError **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}

const MvdStateFile *
mvd_qemu_get_state (MvdQemu *self)
{
  return self->state;
}

/* --- stop ---------------------------------------------------------------------------------- */

static gboolean
on_escalate_kill (gpointer user_data)
{
  MvdQemu *self = user_data;

  self->escalation = 0;
  g_message ("guest %s: still running %d s after SIGTERM; sending SIGKILL", self->name,
             TERM_TO_KILL_SEC);
  send_signal (self, SIGKILL);
  return G_SOURCE_REMOVE;
}

static void
terminate (MvdQemu *self)
{
  g_clear_handle_id (&self->escalation, g_source_remove);
  g_clear_handle_id (&self->power_button, g_source_remove);
  self->quit_expected = TRUE;
  send_signal (self, SIGTERM);
  self->escalation = g_timeout_add_seconds (TERM_TO_KILL_SEC, on_escalate_kill, self);
}

static gboolean
on_escalate_term (gpointer user_data)
{
  MvdQemu *self = user_data;

  self->escalation = 0;
  g_message ("guest %s: no power-off after the power button; sending SIGTERM", self->name);
  terminate (self);
  return G_SOURCE_REMOVE;
}

static void on_powerdown_sent (GObject *source, GAsyncResult *result, gpointer user_data);

/* A guest still booting has no one listening to the button yet; a press it missed is
 * repeated, so that a stop soon after a start does not always wait for the timeout. */
static gboolean
on_press_again (gpointer user_data)
{
  MvdQemu *self = user_data;

  if (self->qmp && qmp_client_is_ready (self->qmp))
    qmp_client_execute_async (self->qmp, "system_powerdown", NULL, NULL, on_powerdown_sent,
                              g_object_ref (self));
  return G_SOURCE_CONTINUE;
}

static void
on_powerdown_sent (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (MvdQemu) self = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) node = qmp_client_execute_finish (QMP_CLIENT (source), result, &error);

  if (node == NULL && !self->exited && self->power_button != 0)
    {
      g_message ("guest %s: system_powerdown failed (%s); sending SIGTERM", self->name,
                 error->message);
      terminate (self);
    }
}

static GTask *
add_stop_task (MvdQemu *self, GAsyncReadyCallback callback, gpointer user_data)
{
  GTask *task = g_task_new (self, NULL, callback, user_data);

  if (self->exited)
    {
      g_task_return_boolean (task, TRUE);
      g_object_unref (task);
      return NULL;
    }
  g_ptr_array_add (self->stop_tasks, task);
  return task;
}

void
mvd_qemu_shutdown_async (MvdQemu *self, guint timeout_sec, GAsyncReadyCallback callback,
                         gpointer user_data)
{
  if (add_stop_task (self, callback, user_data) == NULL || self->escalation != 0)
    return; /* already gone, or already on its way down */
  self->quit_expected = TRUE;
  self->escalation = g_timeout_add_seconds (timeout_sec, on_escalate_term, self);
  if (self->qmp && qmp_client_is_ready (self->qmp))
    {
      self->power_button = g_timeout_add_seconds (POWER_BUTTON_REPEAT_SEC, on_press_again, self);
      on_press_again (self);
    }
  else
    terminate (self);
}

void
mvd_qemu_kill_async (MvdQemu *self, GAsyncReadyCallback callback, gpointer user_data)
{
  if (add_stop_task (self, callback, user_data) == NULL)
    return;
  terminate (self);
}

gboolean
mvd_qemu_stop_finish (MvdQemu *self, GAsyncResult *result, GError **error)
{
  return g_task_propagate_boolean (G_TASK (result), error);
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
  signals[SIGNAL_STATUS_CHANGED]
    = g_signal_new ("status-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                    NULL, G_TYPE_NONE, 1, G_TYPE_STRING);
  signals[SIGNAL_READY] = g_signal_new ("ready", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                                        NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_UINT64);
  signals[SIGNAL_RESET] = g_signal_new ("reset", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                                        NULL, NULL, NULL, G_TYPE_NONE, 0);
  signals[SIGNAL_EXITED] = g_signal_new ("exited", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                                         NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_BOOLEAN);
}

static void
mvd_qemu_init (MvdQemu *self)
{
  self->ready_fd = -1;
  self->pidfd = -1;
  self->stop_tasks = g_ptr_array_new_with_free_func (g_object_unref);
}

MvdQemu *
mvd_qemu_new (const char *name, const char *runtime_dir, MvdSerial *serial)
{
  MvdQemu *self = g_object_new (MVD_TYPE_QEMU, NULL);

  self->name = g_strdup (name);
  self->runtime_dir = g_strdup (runtime_dir);
  self->serial = g_object_ref (serial);
  return self;
}
