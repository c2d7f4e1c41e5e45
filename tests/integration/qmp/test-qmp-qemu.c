/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libqmp against a real qemu-system-x86_64 -M microvm -S under TCG: handshake, run state
 * changes, quit, the SHUTDOWN event and EOF; and -M none saving itself into a file passed
 * with getfd. QEMU gets the QMP socket already listening (as the daemon will do it), every
 * wait is bounded, and QEMU is killed and reaped in the teardown whether the test passed or
 * not. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <string.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "config.h"
#include "qmp-client.h"
#include "qmp-commands.h"
#include "qmp-message.h"

#define WAIT_TIMEOUT_MS 30000

typedef struct
{
  char *dir;
  char *socket_path;
  GSubprocess *qemu;
  QmpClient *client;
  gboolean exited;
  gboolean shutdown_seen;
  char *shutdown_reason;
  gboolean disconnected;
  int snapshot_fd; /* -1 but in the snapshot test */
  /* the last async result */
  gboolean done;
  GAsyncResult *result;
} Fixture;

static gboolean
on_deadline (gpointer data)
{
  *(gboolean *)data = TRUE;
  return G_SOURCE_REMOVE;
}

static void
run_until (const gboolean *flag, const char *what)
{
  gboolean expired = FALSE;
  guint id = g_timeout_add (WAIT_TIMEOUT_MS, on_deadline, &expired);

  while (!*flag && !expired)
    g_main_context_iteration (NULL, TRUE);
  if (expired)
    fail_msg ("timed out after %d ms waiting for %s", WAIT_TIMEOUT_MS, what);
  g_source_remove (id);
}

static void
on_done (GObject *source, GAsyncResult *result, gpointer data)
{
  Fixture *fx = data;

  g_clear_object (&fx->result);
  fx->result = g_object_ref (result);
  fx->done = TRUE;
}

/* Waits for the async call just started and returns its result. */
static GAsyncResult *
wait_result (Fixture *fx, const char *what)
{
  run_until (&fx->done, what);
  fx->done = FALSE;
  return fx->result;
}

static int
listen_on (const char *path)
{
  struct sockaddr_un addr = { .sun_family = AF_UNIX };
  int fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

  assert_true (fd >= 0);
  assert_true (strlen (path) < sizeof addr.sun_path);
  strcpy (addr.sun_path, path);
  assert_int_equal (bind (fd, (struct sockaddr *)&addr, sizeof addr), 0);
  assert_int_equal (listen (fd, 1), 0);
  return fd;
}

static void
on_qemu_exited (GObject *source, GAsyncResult *result, gpointer data)
{
  Fixture *fx = data;

  g_subprocess_wait_finish (G_SUBPROCESS (source), result, NULL);
  fx->exited = TRUE;
}

/* Should this test crash before its teardown, the kernel still kills QEMU. */
static void
die_with_parent (gpointer data)
{
  prctl (PR_SET_PDEATHSIG, SIGKILL);
}

static int
spawn_qemu (void **state, const char *machine)
{
  Fixture *fx = g_new0 (Fixture, 1);
  g_autoptr (GSubprocessLauncher) launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_NONE);
  g_autoptr (GError) error = NULL;
  const char *qemu = g_getenv ("MICROVMD_QEMU");
  int listen_fd;

  *state = fx;
  fx->snapshot_fd = -1;
  fx->dir = g_dir_make_tmp ("qmp-qemu-XXXXXX", &error);
  assert_non_null (fx->dir);
  fx->socket_path = g_build_filename (fx->dir, "qmp.sock", NULL);
  listen_fd = listen_on (fx->socket_path);
  g_subprocess_launcher_take_fd (launcher, listen_fd, 3);
  g_subprocess_launcher_set_child_setup (launcher, die_with_parent, NULL, NULL);
  fx->qemu = g_subprocess_launcher_spawn (
    launcher, &error, qemu != NULL ? qemu : MVM_QEMU_BINARY, "-M", machine, "-accel", "tcg", "-S",
    "-m", "64", "-nodefaults", "-no-user-config", "-nographic", "-display", "none", "-chardev",
    "socket,id=qmp,fd=3,server=on,wait=off", "-mon", "chardev=qmp,mode=control", NULL);
  if (fx->qemu == NULL)
    fail_msg ("cannot start QEMU: %s", error->message);
  g_subprocess_wait_async (fx->qemu, NULL, on_qemu_exited, fx);
  return 0;
}

static int
setup (void **state)
{
  return spawn_qemu (state, "microvm,pit=on,pic=on");
}

/* No devices and no guest: the least there is to migrate. */
static int
setup_bare (void **state)
{
  return spawn_qemu (state, "none");
}

static int
teardown (void **state)
{
  Fixture *fx = *state;

  if (fx->client != NULL)
    {
      qmp_client_close (fx->client);
      g_clear_object (&fx->client);
    }
  if (fx->qemu != NULL && !fx->exited)
    {
      /* SIGKILL, then reap; the wait cannot outlast the kill. */
      g_subprocess_force_exit (fx->qemu);
      g_subprocess_wait (fx->qemu, NULL, NULL);
      while (!fx->exited)
        g_main_context_iteration (NULL, TRUE);
    }
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_clear_object (&fx->qemu);
  g_clear_object (&fx->result);
  if (fx->snapshot_fd >= 0)
    close (fx->snapshot_fd);
  g_unlink (fx->socket_path);
  g_rmdir (fx->dir);
  g_free (fx->socket_path);
  g_free (fx->dir);
  g_free (fx->shutdown_reason);
  g_free (fx);
  return 0;
}

static void
on_shutdown (QmpClient *client, QmpEvent *event, gpointer data)
{
  Fixture *fx = data;

  fx->shutdown_seen = TRUE;
  g_free (fx->shutdown_reason);
  fx->shutdown_reason = g_strdup (event->u.shutdown.reason);
}

static void
on_disconnected (QmpClient *client, GError *error, gpointer data)
{
  Fixture *fx = data;

  fx->disconnected = TRUE;
}

static void
assert_status (Fixture *fx, gboolean running, const char *expected)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (QmpStatus) status = NULL;

  qmp_query_status_async (fx->client, NULL, on_done, fx);
  status = qmp_query_status_finish (fx->client, wait_result (fx, "query-status"), &error);
  if (status == NULL)
    fail_msg ("query-status: %s", error->message);
  assert_int_equal (status->running, running);
  if (strstr (expected, status->status) == NULL)
    fail_msg ("status '%s' is not one of %s", status->status, expected);
}

static void
connect_client (Fixture *fx)
{
  g_autoptr (GError) error = NULL;

  qmp_client_connect_async (fx->socket_path, NULL, on_done, fx);
  fx->client = qmp_client_connect_finish (wait_result (fx, "the QMP handshake"), &error);
  if (fx->client == NULL)
    fail_msg ("handshake: %s", error->message);
  g_signal_connect (fx->client, "event::SHUTDOWN", G_CALLBACK (on_shutdown), fx);
  g_signal_connect (fx->client, "disconnected", G_CALLBACK (on_disconnected), fx);
}

static void
test_lifecycle (void **state)
{
  Fixture *fx = *state;
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) cpus = NULL;
  g_autoptr (GRegex) version = g_regex_new ("^[0-9]+\\.[0-9]+\\.[0-9]+$", 0, 0, NULL);

  connect_client (fx);
  assert_true (qmp_client_is_ready (fx->client));
  assert_true (g_regex_match (version, qmp_client_get_version (fx->client), 0, NULL));
  assert_true (qmp_client_get_version_number (fx->client) >= 7000000);

  /* -S: QEMU reports "prelaunch" before the first cont, "paused" after a stop. */
  assert_status (fx, FALSE, "prelaunch paused");
  qmp_cont_async (fx->client, NULL, on_done, fx);
  if (!qmp_cont_finish (fx->client, wait_result (fx, "cont"), &error))
    fail_msg ("cont: %s", error->message);
  assert_status (fx, TRUE, "running");
  qmp_stop_async (fx->client, NULL, on_done, fx);
  if (!qmp_stop_finish (fx->client, wait_result (fx, "stop"), &error))
    fail_msg ("stop: %s", error->message);
  assert_status (fx, FALSE, "paused");

  qmp_query_cpus_fast_async (fx->client, NULL, on_done, fx);
  cpus = qmp_query_cpus_fast_finish (fx->client, wait_result (fx, "query-cpus-fast"), &error);
  if (cpus == NULL)
    fail_msg ("query-cpus-fast: %s", error->message);
  assert_int_equal (cpus->len, 1);
  assert_true (((QmpCpu *)g_ptr_array_index (cpus, 0))->thread_id > 0);

  /* A command QEMU does not know fails alone; the connection stays usable. */
  qmp_client_execute_async (fx->client, "x-no-such-command", NULL, NULL, on_done, fx);
  assert_null (
    qmp_client_execute_finish (fx->client, wait_result (fx, "x-no-such-command"), &error));
  assert_non_null (error);
  assert_int_equal (error->code, QMP_ERROR_COMMAND_NOT_FOUND);
  assert_string_equal (qmp_error_get_class (error), "CommandNotFound");
  g_clear_error (&error);

  qmp_quit_async (fx->client, NULL, on_done, fx);
  if (!qmp_quit_finish (fx->client, wait_result (fx, "quit"), &error))
    fail_msg ("quit: %s", error->message);
  run_until (&fx->disconnected, "EOF after quit");
  assert_true (fx->shutdown_seen);
  assert_string_equal (fx->shutdown_reason, "host-qmp-quit");
  run_until (&fx->exited, "QEMU to exit");
  assert_true (g_subprocess_get_if_exited (fx->qemu));
  assert_int_equal (g_subprocess_get_exit_status (fx->qemu), 0);
}

static void
test_qemu_killed (void **state)
{
  Fixture *fx = *state;
  g_autoptr (GError) error = NULL;
  g_autoptr (QmpStatus) status = NULL;

  connect_client (fx);
  /* QEMU dies under the client: a command in flight fails (or, when QEMU was quicker than
   * the kill, succeeds), and "disconnected" follows either way. */
  qmp_query_status_async (fx->client, NULL, on_done, fx);
  g_subprocess_force_exit (fx->qemu);
  run_until (&fx->disconnected, "EOF after SIGKILL");
  status = qmp_query_status_finish (fx->client, wait_result (fx, "query-status"), &error);
  assert_true ((status == NULL) != (error == NULL));
  run_until (&fx->exited, "QEMU to be reaped");
  assert_false (fx->shutdown_seen);
  g_clear_error (&error);
}

/* Polls query-migrate until the migration ends, and returns how it ended. */
static char *
wait_migration (Fixture *fx)
{
  gint64 deadline = g_get_monotonic_time () + WAIT_TIMEOUT_MS * G_TIME_SPAN_MILLISECOND;

  for (;;)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (JsonNode) ret = NULL;
      JsonObject *info;
      const char *status;
      gboolean tick = FALSE;

      qmp_client_execute_async (fx->client, "query-migrate", NULL, NULL, on_done, fx);
      ret = qmp_client_execute_finish (fx->client, wait_result (fx, "query-migrate"), &error);
      if (ret == NULL)
        fail_msg ("query-migrate: %s", error->message);
      info = JSON_NODE_HOLDS_OBJECT (ret) ? json_node_get_object (ret) : NULL;
      status = info != NULL ? qmp_json_get_string (info, "status") : NULL;
      if (g_strcmp0 (status, "failed") == 0)
        fail_msg ("migration failed: %s", qmp_json_get_string (info, "error-desc"));
      if (g_strcmp0 (status, "completed") == 0 || g_strcmp0 (status, "cancelled") == 0)
        return g_strdup (status);
      if (g_get_monotonic_time () > deadline)
        fail_msg ("migration still '%s' after %d ms", status, WAIT_TIMEOUT_MS);
      g_timeout_add (50, on_deadline, &tick);
      run_until (&tick, "the next query-migrate");
    }
}

/* How the daemon saves a snapshot when QEMU may open no paths and run no programs: it opens
 * the file, passes it with getfd and migrates into "fd:NAME". */
static void
test_migrate_to_passed_fd (void **state)
{
  Fixture *fx = *state;
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonObject) arguments = json_object_new ();
  g_autoptr (JsonNode) ret = NULL;
  g_autofree char *path = g_build_filename (fx->dir, "snapshot", NULL);
  g_autofree char *status = NULL;
  guint32 magic = 0;
  struct stat st;

  fx->snapshot_fd = open (path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  assert_true (fx->snapshot_fd >= 0);
  g_unlink (path); /* the fd keeps the file; the teardown has one thing less to remove */

  connect_client (fx);
  qmp_getfd_async (fx->client, "snap", fx->snapshot_fd, NULL, on_done, fx);
  if (!qmp_getfd_finish (fx->client, wait_result (fx, "getfd"), &error))
    fail_msg ("getfd: %s", error->message);
  json_object_set_string_member (arguments, "uri", "fd:snap");
  qmp_client_execute_async (fx->client, "migrate", arguments, NULL, on_done, fx);
  ret = qmp_client_execute_finish (fx->client, wait_result (fx, "migrate"), &error);
  if (ret == NULL)
    fail_msg ("migrate: %s", error->message);
  status = wait_migration (fx);
  assert_string_equal (status, "completed");

  /* QEMU wrote through its copy; ours still reads the file. */
  assert_int_equal (fstat (fx->snapshot_fd, &st), 0);
  assert_true (st.st_size > 0);
  assert_int_equal (pread (fx->snapshot_fd, &magic, sizeof magic, 0), sizeof magic);
  assert_int_equal (GUINT32_FROM_BE (magic), 0x5145564d); /* QEMU_VM_FILE_MAGIC, "QEVM" */
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown (test_lifecycle, setup, teardown),
    cmocka_unit_test_setup_teardown (test_qemu_killed, setup, teardown),
    cmocka_unit_test_setup_teardown (test_migrate_to_passed_fd, setup_bare, teardown),
  };

  return cmocka_run_group_tests_name ("qmp-qemu", tests, NULL, NULL);
}
