/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A guest's life in the daemon core: MvdManager, MvdGuest and MvdQemu against the fake QMP
 * peer, with a stand-in process (sleep) where QEMU would run and timings in milliseconds. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/syscall.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <glib/gstdio.h>

#include "mvd-guest.h"
#include "mvd-manager-private.h"
#include "mvd-qemu-private.h"
#include "mvd-state-file.h"
#include "mvm-argv.h"
#include "qmp-fake-peer.h"

#define STEP_TIMEOUT_MS 5000
#define WAIT_TIMEOUT_MS 5000
#define SHUTDOWN_TIMEOUT_MS 1000 /* ShutdownTimeoutSec=1, the least a guest file allows */

static const MvdTimings test_timings = {
  .launch_timeout_ms = 3000,
  .term_to_kill_ms = 150,
  .power_button_repeat_ms = 100,
  .restart_delay_ms = 10,
  .restart_burst = 3,
  .restart_interval_ms = 10000,
};

typedef struct _Fixture Fixture;

/* One spawn: the stand-in process and the peer that answers for it. */
typedef struct
{
  GPid pid;
  GStrv argv;
  gboolean small_pages; /* asked to run without transparent huge pages */
  QmpFakePeer *peer;
  gint64 presses[8]; /* monotonic time of each system_powerdown seen (escalation test) */
  guint n_presses;
  int channels[2]; /* an adopted QEMU's console and ready sockets (-1: none) */
} Launch;

typedef void (*ScriptFunc) (Fixture *f, Launch *launch);

struct _Fixture
{
  char *dir;
  char *kernel;
  char *disk;
  MvdManager *manager;
  MvdGuest *guest;
  GQueue scripts;      /* ScriptFunc: one per expected spawn, in order */
  GPtrArray *launches; /* Launch */
  GPtrArray *history;  /* "state/reason" as the properties changed */
  const char *const *stand_in;
  gboolean reap_in_spawn; /* the stand-in is gone and reaped before the spawner returns */
  gboolean started;
  GError *start_error;
};

static const char *const sleeper[] = { "sleep", "3600", NULL };
static const char *const failer[] = { "false", NULL };
/* a QEMU that ignores SIGTERM and writes down that it got one */
static const char *const term_ignorer[]
  = { "sh", "-c", "trap 'echo TERM >> \"$0\"' TERM; while :; do sleep 0.02; done", NULL, NULL };

/* --- the test spawner ------------------------------------------------------------------- */

static GSubprocess *
test_spawn (const MvdSpawnRequest *request, gpointer data, GError **error)
{
  Fixture *f = data;
  ScriptFunc script = (ScriptFunc)g_queue_pop_head (&f->scripts);
  g_autoptr (GSubprocessLauncher) launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_NONE);
  GSubprocess *process;
  const char *identifier;
  Launch *launch;
  int qmp = -1;

  for (guint i = 0; i < request->n_fds; i++)
    {
      if (request->targets[i] == MVM_FD_QMP)
        qmp = fcntl (request->fds[i], F_DUPFD_CLOEXEC, 10);
      g_subprocess_launcher_take_fd (launcher, request->fds[i], request->targets[i]);
    }
  if (script == NULL || qmp < 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "test: no script for spawn %u",
                   f->launches->len + 1);
      if (qmp >= 0)
        close (qmp);
      return NULL;
    }
  process = g_subprocess_launcher_spawnv (launcher, f->stand_in, error);
  if (process == NULL)
    {
      close (qmp);
      return NULL;
    }
  launch = g_new0 (Launch, 1);
  identifier = g_subprocess_get_identifier (process); /* NULL if "false" is reaped already */
  launch->pid = identifier ? atoi (identifier) : 0;
  if (f->reap_in_spawn)
    g_subprocess_wait (process, NULL, NULL);
  launch->argv = g_strdupv ((char **)request->argv);
  launch->small_pages = request->small_pages;
  launch->peer = qmp_fake_peer_new_for_listener (qmp, STEP_TIMEOUT_MS);
  g_ptr_array_add (f->launches, launch);
  script (f, launch);
  qmp_fake_peer_start (launch->peer);
  return process;
}

static void
launch_free (Launch *launch)
{
  if (launch->pid > 0)
    kill (launch->pid, SIGKILL); /* gone already, unless a test failed */
  if (launch->peer)
    qmp_fake_peer_free (launch->peer);
  for (guint i = 0; i < G_N_ELEMENTS (launch->channels); i++)
    if (launch->channels[i] > 0)
      close (launch->channels[i]);
  g_strfreev (launch->argv);
  g_free (launch);
}

/* --- QEMU's side, as scripts ----------------------------------------------------------- */

/* never kill (0, ...): a stand-in GLib reaped before its pid was read has pid 0, and
 * kill (0) would take this whole process group down */
static void
kill_stand_in (gpointer data, gpointer peer)
{
  Launch *launch = data;

  if (launch->pid > 0)
    kill (launch->pid, SIGKILL);
}

static void
note_press (gpointer data, gpointer peer)
{
  Launch *launch = data;

  if (launch->n_presses < G_N_ELEMENTS (launch->presses))
    launch->presses[launch->n_presses++] = g_get_monotonic_time ();
}

/* What every launch goes through: greeting, capabilities, cont, query-status. */
static void
script_launch (QmpFakePeer *peer)
{
  qmp_fake_peer_handshake (peer);
  qmp_fake_peer_expect (peer, "cont", NULL, QMP_FAKE_LAST);
  qmp_fake_peer_reply (peer, QMP_FAKE_LAST, NULL);
  qmp_fake_peer_expect (peer, "query-status", NULL, QMP_FAKE_LAST);
  qmp_fake_peer_reply (peer, QMP_FAKE_LAST, "{\"status\": \"running\", \"running\": true}");
}

/* Runs until the daemon closes QMP, which it does once the process is gone. */
static void
script_run (Fixture *f, Launch *launch)
{
  script_launch (launch->peer);
  qmp_fake_peer_expect_eof (launch->peer);
}

static void
script_stop_status (QmpFakePeer *peer, const char *status)
{
  g_autofree char *reply = g_strdup_printf ("{\"status\": \"%s\", \"running\": false}", status);

  qmp_fake_peer_event (peer, "STOP", NULL);
  qmp_fake_peer_expect (peer, "query-status", NULL, QMP_FAKE_LAST);
  qmp_fake_peer_reply (peer, QMP_FAKE_LAST, reply);
  qmp_fake_peer_expect_eof (peer);
}

/* running -> paused on a STOP whose query-status says paused, paused -> running on RESUME */
static void
script_pause_and_resume (Fixture *f, Launch *launch)
{
  script_launch (launch->peer);
  qmp_fake_peer_event (launch->peer, "STOP", NULL);
  qmp_fake_peer_expect (launch->peer, "query-status", NULL, QMP_FAKE_LAST);
  qmp_fake_peer_reply (launch->peer, QMP_FAKE_LAST, "{\"status\": \"paused\", \"running\": false}");
  qmp_fake_peer_sleep (launch->peer, 100); /* the test sees it paused meanwhile */
  qmp_fake_peer_event (launch->peer, "RESUME", NULL);
  qmp_fake_peer_expect_eof (launch->peer);
}

/* A QEMU whose monitor greets too late: the launch times out first. */
static void
script_greets_too_late (Fixture *f, Launch *launch)
{
  qmp_fake_peer_sleep (launch->peer, 400); /* the test's launch timeout is 200 ms */
  qmp_fake_peer_expect_eof (launch->peer);
}

/* QEMU never gets as far as its monitor. */
static void
script_nothing (Fixture *f, Launch *launch)
{
}

/* QEMU dies right after its greeting. */
static void
script_die_in_handshake (Fixture *f, Launch *launch)
{
  qmp_fake_peer_greet (launch->peer);
  qmp_fake_peer_expect (launch->peer, "qmp_capabilities", NULL, QMP_FAKE_LAST);
  qmp_fake_peer_call (launch->peer, kill_stand_in, launch);
  qmp_fake_peer_expect_eof (launch->peer);
}

/* KVM fails the guest as soon as its CPUs run: the launch's own query-status says so. */
static void
script_internal_error_at_start (Fixture *f, Launch *launch)
{
  qmp_fake_peer_handshake (launch->peer);
  qmp_fake_peer_expect (launch->peer, "cont", NULL, QMP_FAKE_LAST);
  qmp_fake_peer_reply (launch->peer, QMP_FAKE_LAST, NULL);
  qmp_fake_peer_event (launch->peer, "STOP", NULL);
  qmp_fake_peer_expect (launch->peer, "query-status", NULL, QMP_FAKE_LAST);
  qmp_fake_peer_reply (launch->peer, QMP_FAKE_LAST,
                       "{\"status\": \"internal-error\", \"running\": false}");
  qmp_fake_peer_expect_eof (launch->peer);
}

static void
script_internal_error (Fixture *f, Launch *launch)
{
  script_launch (launch->peer);
  script_stop_status (launch->peer, "internal-error");
}

static void
script_io_error (Fixture *f, Launch *launch)
{
  script_launch (launch->peer);
  qmp_fake_peer_event (launch->peer, "BLOCK_IO_ERROR",
                       "{\"device\": \"disk0\", \"node-name\": \"#block123\", \"operation\": "
                       "\"write\", \"action\": \"stop\", \"nospace\": true, \"reason\": \"No space "
                       "left on device\"}");
  script_stop_status (launch->peer, "io-error");
}

static void
script_panic (Fixture *f, Launch *launch)
{
  script_launch (launch->peer);
  qmp_fake_peer_event (launch->peer, "GUEST_PANICKED", "{\"action\": \"pause\"}");
  qmp_fake_peer_expect_eof (launch->peer);
}

/* The guest powers off; QEMU (-no-shutdown) waits for quit, then exits. */
static void
script_power_off (Fixture *f, Launch *launch)
{
  script_launch (launch->peer);
  qmp_fake_peer_event (launch->peer, "SHUTDOWN",
                       "{\"guest\": true, \"reason\": \"guest-shutdown\"}");
  qmp_fake_peer_expect (launch->peer, "quit", NULL, QMP_FAKE_LAST);
  qmp_fake_peer_reply (launch->peer, QMP_FAKE_LAST, NULL);
  qmp_fake_peer_call (launch->peer, kill_stand_in, launch);
  qmp_fake_peer_expect_eof (launch->peer);
}

/* A guest deaf to the power button: two presses are answered, the rest go unheard. */
static void
script_deaf (Fixture *f, Launch *launch)
{
  script_launch (launch->peer);
  for (int i = 0; i < 2; i++)
    {
      qmp_fake_peer_expect (launch->peer, "system_powerdown", NULL, QMP_FAKE_LAST);
      qmp_fake_peer_call (launch->peer, note_press, launch);
      qmp_fake_peer_reply (launch->peer, QMP_FAKE_LAST, NULL);
    }
  qmp_fake_peer_expect_eof (launch->peer);
}

/* --- fixture --------------------------------------------------------------------------- */

static char *
put (const Fixture *f, const char *name, const char *contents)
{
  char *path = g_build_filename (f->dir, name, NULL);

  assert_true (g_file_set_contents (path, contents, -1, NULL));
  return path;
}

static void
on_state_notify (GObject *object, GParamSpec *pspec, gpointer user_data)
{
  Fixture *f = user_data;
  MvmDbusGuest *iface = MVM_DBUS_GUEST (object);
  g_autofree char *entry = g_strdup_printf ("%s/%s", mvm_dbus_guest_get_state (iface),
                                            mvm_dbus_guest_get_state_reason (iface));

  if (f->history->len == 0
      || !g_str_equal (g_ptr_array_index (f->history, f->history->len - 1), entry))
    g_ptr_array_add (f->history, g_steal_pointer (&entry));
}

/* A manager with hand-made host facts (KVM as @kvm says), the daemon's Accelerator=
 * @accel, and one guest "t" whose [Guest] group gets @guest_keys. */
static Fixture *
fixture_new (void **state, MvmAccel accel, gboolean kvm, const char *guest_keys,
             const char *extra_groups)
{
  Fixture *f = g_new0 (Fixture, 1);
  MvmPaths *paths = g_new0 (MvmPaths, 1);
  MvmDaemonConfig *config = mvm_daemon_config_new_default ();
  MvmHostFacts *facts = g_new0 (MvmHostFacts, 1);
  g_autoptr (GError) error = NULL;
  g_autoptr (MvmGuestConfig) guest = NULL;
  g_autofree char *text = NULL;
  g_autofree char *file = NULL;

  *state = f;
  f->dir = g_dir_make_tmp ("mvd-unit-XXXXXX", NULL);
  assert_non_null (f->dir);
  f->launches = g_ptr_array_new_with_free_func ((GDestroyNotify)launch_free);
  f->history = g_ptr_array_new_with_free_func (g_free);
  f->stand_in = sleeper;
  g_queue_init (&f->scripts);
  f->kernel = put (f, "vmlinux", "not a kernel");
  f->disk = put (f, "root.img", "");
  paths->config_file = g_build_filename (f->dir, "microvmd.conf", NULL);
  paths->guests_dir = g_build_filename (f->dir, "guests", NULL);
  paths->state_dir = g_build_filename (f->dir, "state", NULL);
  paths->images_dir = g_strdup (f->dir);
  paths->runtime_dir = g_build_filename (f->dir, "run", NULL);
  paths->log_dir = g_build_filename (f->dir, "log", NULL);
  assert_true (mvm_paths_ensure (paths, &error));
  config->accelerator = accel;
  g_free (config->default_kernel);
  config->default_kernel = g_strdup (f->kernel);
  mvm_daemon_config_set_default_image_dir (config, f->dir);
  facts->qemu_binary = g_strdup ("/bin/true");
  facts->qemu_version = g_strdup ("7.2.0");
  facts->kvm = kvm;
  f->manager = mvd_manager_new (paths, config, facts);
  mvd_manager_set_spawner (f->manager, test_spawn, f, &test_timings);

  text = g_strdup_printf ("[Guest]\nName=t\n%s\n%s", guest_keys ? guest_keys : "",
                          extra_groups ? extra_groups : "");
  if (strstr (text, "@DISK@"))
    {
      g_auto (GStrv) parts = g_strsplit (text, "@DISK@", -1);
      g_free (text);
      text = g_strjoinv (f->disk, parts);
    }
  guest = mvm_guest_config_new_from_data (text, strlen (text), NULL, &error);
  assert_null (error);
  file = g_build_filename (paths->guests_dir, "t.guest", NULL);
  f->guest
    = mvd_guest_new (mvd_manager_get_context (f->manager), g_steal_pointer (&guest), text, file);
  g_signal_connect (f->guest, "notify::state", G_CALLBACK (on_state_notify), f);
  g_signal_connect (f->guest, "notify::state-reason", G_CALLBACK (on_state_notify), f);
  return f;
}

static gboolean
guest_is_down (Fixture *f)
{
  const char *state = mvm_dbus_guest_get_state (MVM_DBUS_GUEST (f->guest));

  return g_str_equal (state, "stopped") || g_str_equal (state, "crashed");
}

static void
iterate_until (Fixture *f, gboolean (*done) (Fixture *f, gconstpointer data), gconstpointer data)
{
  gint64 deadline = g_get_monotonic_time () + WAIT_TIMEOUT_MS * G_TIME_SPAN_MILLISECOND;

  while (!done (f, data) && g_get_monotonic_time () < deadline)
    if (!g_main_context_iteration (NULL, FALSE))
      g_usleep (500);
}

static void
remove_tree (const char *path)
{
  g_autoptr (GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  while (dir && (name = g_dir_read_name (dir)))
    {
      g_autofree char *child = g_build_filename (path, name, NULL);
      if (g_file_test (child, G_FILE_TEST_IS_DIR) && !g_file_test (child, G_FILE_TEST_IS_SYMLINK))
        remove_tree (child);
      else
        g_unlink (child);
    }
  g_rmdir (path);
}

static gboolean
is_down (Fixture *f, gconstpointer data)
{
  return guest_is_down (f) && g_queue_is_empty (&f->scripts);
}

/* Pass or fail: no stand-in outlives its test, and every peer thread is joined. */
static int
teardown (void **state)
{
  Fixture *f = *state;

  if (f == NULL)
    return 0;
  f->stand_in = sleeper;
  g_queue_clear (&f->scripts);
  for (guint i = 0; i < f->launches->len; i++)
    kill_stand_in (g_ptr_array_index (f->launches, i), NULL);
  iterate_until (f, is_down, NULL);
  g_clear_object (&f->guest);
  g_clear_object (&f->manager);
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_ptr_array_unref (f->launches);
  g_ptr_array_unref (f->history);
  g_clear_error (&f->start_error);
  remove_tree (f->dir);
  g_free (f->dir);
  g_free (f->kernel);
  g_free (f->disk);
  g_free (f);
  return 0;
}

/* --- helpers --------------------------------------------------------------------------- */

static void
on_started (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Fixture *f = user_data;

  f->started = TRUE;
  mvd_guest_start_finish (MVD_GUEST (source), result, &f->start_error);
}

static void
on_stopped (GObject *source, GAsyncResult *result, gpointer user_data)
{
  gboolean *done = user_data;

  assert_true (mvd_guest_stop_finish (MVD_GUEST (source), result, NULL));
  *done = TRUE;
}

static gboolean
state_is (Fixture *f, gconstpointer data)
{
  const char *const *want = data;
  MvmDbusGuest *iface = MVM_DBUS_GUEST (f->guest);

  return g_str_equal (mvm_dbus_guest_get_state (iface), want[0])
         && g_str_equal (mvm_dbus_guest_get_state_reason (iface), want[1]);
}

static void
wait_state (Fixture *f, const char *state, const char *reason)
{
  const char *const want[] = { state, reason };
  MvmDbusGuest *iface = MVM_DBUS_GUEST (f->guest);

  iterate_until (f, state_is, want);
  if (!state_is (f, want))
    fail_msg ("guest t is %s/%s (%s), expected %s/%s", mvm_dbus_guest_get_state (iface),
              mvm_dbus_guest_get_state_reason (iface), mvm_dbus_guest_get_state_message (iface),
              state, reason);
}

static gboolean
started (Fixture *f, gconstpointer data)
{
  return f->started;
}

static void
start (Fixture *f)
{
  mvd_guest_start_async (f->guest, on_started, f);
  iterate_until (f, started, NULL);
  assert_true (f->started);
}

static Launch *
launch_nth (Fixture *f, guint n)
{
  assert_true (n < f->launches->len);
  return g_ptr_array_index (f->launches, n);
}

/* Every step of launch @n's script happened. */
static void
assert_script_done (Fixture *f, guint n)
{
  g_autoptr (GError) error = NULL;

  if (!qmp_fake_peer_wait (launch_nth (f, n)->peer, &error))
    fail_msg ("launch %u: %s", n, error->message);
}

static gboolean
history_has (Fixture *f, const char *entry)
{
  for (guint i = 0; i < f->history->len; i++)
    if (g_str_equal (g_ptr_array_index (f->history, i), entry))
      return TRUE;
  return FALSE;
}

static gboolean
argv_has_pair (const char *const *argv, const char *a, const char *b)
{
  for (guint i = 0; argv[i] && argv[i + 1]; i++)
    if (g_str_equal (argv[i], a) && g_str_equal (argv[i + 1], b))
      return TRUE;
  return FALSE;
}

static void
push_script (Fixture *f, ScriptFunc script)
{
  g_queue_push_tail (&f->scripts, (gpointer)script);
}

/* --- tests ----------------------------------------------------------------------------- */

static void
test_start_running (void **state)
{
  Fixture *f = fixture_new (state, MVM_ACCEL_AUTO, FALSE, NULL, NULL);
  gboolean stopped = FALSE;

  push_script (f, script_run);
  start (f);
  assert_null (f->start_error);
  wait_state (f, "running", "requested");
  assert_int_equal (f->launches->len, 1);
  assert_int_equal (mvm_dbus_guest_get_main_pid (MVM_DBUS_GUEST (f->guest)),
                    launch_nth (f, 0)->pid);
  assert_true (history_has (f, "starting/requested"));

  mvd_guest_kill_async (f->guest, on_stopped, &stopped);
  wait_state (f, "stopped", "killed");
  assert_true (stopped);
  assert_script_done (f, 0);
}

static void
test_killed_crashes (void **state)
{
  Fixture *f = fixture_new (state, MVM_ACCEL_AUTO, FALSE, NULL, NULL);

  push_script (f, script_run);
  start (f);
  wait_state (f, "running", "requested");
  kill (launch_nth (f, 0)->pid, SIGKILL);
  wait_state (f, "crashed", "killed");
  assert_non_null (
    strstr (mvm_dbus_guest_get_state_message (MVM_DBUS_GUEST (f->guest)), "SIGKILL"));
  assert_int_equal (f->launches->len, 1);
  assert_script_done (f, 0);
}

static void
test_killed_restarts (void **state)
{
  Fixture *f = fixture_new (state, MVM_ACCEL_AUTO, FALSE, "Restart=on-failure", NULL);

  push_script (f, script_run);
  push_script (f, script_run);
  start (f);
  wait_state (f, "running", "requested");
  kill (launch_nth (f, 0)->pid, SIGKILL);
  wait_state (f, "running", "restarted");
  assert_true (history_has (f, "crashed/killed"));
  assert_int_equal (f->launches->len, 2);
  assert_script_done (f, 0);
}

static void
test_kvm_internal_error_falls_back (void **state)
{
  Fixture *f = fixture_new (state, MVM_ACCEL_AUTO, TRUE, NULL, "[Balloon]\nSmallPages=yes\n");

  push_script (f, script_internal_error);
  push_script (f, script_run);
  start (f);
  wait_state (f, "running", "kvm-fallback");
  assert_int_equal (f->launches->len, 2);
  assert_true (argv_has_pair ((const char *const *)launch_nth (f, 0)->argv, "-accel", "kvm"));
  assert_true (argv_has_pair ((const char *const *)launch_nth (f, 1)->argv, "-accel", "tcg"));
  /* SmallPages=yes: huge pages under KVM; small ones under TCG, where free page reporting
   * returns more */
  assert_false (launch_nth (f, 0)->small_pages);
  assert_true (launch_nth (f, 1)->small_pages);
  assert_string_equal (mvm_dbus_manager_get_accelerator (MVM_DBUS_MANAGER (f->manager)), "tcg");
  assert_non_null (
    strstr (mvm_dbus_manager_get_accelerator_note (MVM_DBUS_MANAGER (f->manager)), "guest t"));
  assert_false (history_has (f, "crashed/kvm-internal-error"));
  assert_script_done (f, 0);
}

static void
test_kvm_internal_error_reported (void **state)
{
  Fixture *f = fixture_new (state, MVM_ACCEL_KVM, TRUE, NULL, NULL);

  push_script (f, script_internal_error);
  start (f);
  wait_state (f, "crashed", "kvm-internal-error");
  assert_int_equal (f->launches->len, 1);
  assert_string_equal (mvm_dbus_manager_get_accelerator (MVM_DBUS_MANAGER (f->manager)), "kvm");
  assert_script_done (f, 0);
}

static void
test_io_error_names_disk (void **state)
{
  Fixture *f = fixture_new (state, MVM_ACCEL_AUTO, FALSE, NULL, "[Disk root]\nPath=@DISK@\n");

  push_script (f, script_io_error);
  start (f);
  wait_state (f, "crashed", "io-error");
  assert_non_null (
    strstr (mvm_dbus_guest_get_state_message (MVM_DBUS_GUEST (f->guest)), "[Disk root]"));
  assert_non_null (strstr (mvm_dbus_guest_get_state_message (MVM_DBUS_GUEST (f->guest)),
                           "No space left on device"));
  assert_script_done (f, 0);
}

static void
test_guest_panicked (void **state)
{
  Fixture *f = fixture_new (state, MVM_ACCEL_AUTO, FALSE, NULL, NULL);

  push_script (f, script_panic);
  start (f);
  wait_state (f, "crashed", "guest-panicked");
  assert_script_done (f, 0);
}

static void
test_powered_off (void **state)
{
  Fixture *f = fixture_new (state, MVM_ACCEL_AUTO, FALSE, NULL, NULL);

  push_script (f, script_power_off);
  start (f);
  wait_state (f, "stopped", "powered-off");
  assert_false (history_has (f, "crashed/killed"));
  assert_script_done (f, 0);
}

static gboolean
flag_set (Fixture *f, gconstpointer data)
{
  return *(const gboolean *)data;
}

/* Power button, pressed again, then SIGTERM (ignored), then SIGKILL, each at its time. */
static void
test_stop_escalates (void **state)
{
  Fixture *f = fixture_new (state, MVM_ACCEL_AUTO, FALSE, "ShutdownTimeoutSec=1", NULL);
  g_autofree char *term_log = g_build_filename (f->dir, "term.log", NULL);
  const char *stand_in[G_N_ELEMENTS (term_ignorer)];
  g_autofree char *log = NULL;
  gboolean stopped = FALSE;
  gint64 asked, took_ms;
  Launch *launch;

  memcpy (stand_in, term_ignorer, sizeof stand_in);
  stand_in[3] = term_log; /* $0 of the script */
  f->stand_in = stand_in;
  push_script (f, script_deaf);
  start (f);
  wait_state (f, "running", "requested");
  asked = g_get_monotonic_time ();
  mvd_guest_shutdown_async (f->guest, 0, on_stopped, &stopped);
  iterate_until (f, flag_set, &stopped);
  assert_true (stopped);
  wait_state (f, "stopped", "requested");
  launch = launch_nth (f, 0);
  assert_script_done (f, 0);
  assert_int_equal (launch->n_presses, 2);
  assert_true (launch->presses[1] - launch->presses[0]
               >= (test_timings.power_button_repeat_ms - 20) * G_TIME_SPAN_MILLISECOND);
  assert_true (g_file_get_contents (term_log, &log, NULL, NULL));
  assert_non_null (strstr (log, "TERM"));
  took_ms = (g_get_monotonic_time () - asked) / G_TIME_SPAN_MILLISECOND;
  assert_in_range (took_ms, SHUTDOWN_TIMEOUT_MS + test_timings.term_to_kill_ms,
                   SHUTDOWN_TIMEOUT_MS + test_timings.term_to_kill_ms + 400);
}

static void
test_dies_in_handshake (void **state)
{
  Fixture *f = fixture_new (state, MVM_ACCEL_AUTO, FALSE, "Restart=on-failure", NULL);

  push_script (f, script_die_in_handshake);
  start (f);
  assert_non_null (f->start_error);
  assert_non_null (strstr (f->start_error->message, "guest t"));
  wait_state (f, "stopped", "start-failed");
  assert_int_equal (f->launches->len, 1); /* a start that failed is not restarted */
  assert_script_done (f, 0);
}

/* A QEMU that fails before the spawner returns (GLib has reaped it and forgotten its pid)
 * is a failed start, not a daemon crash, and the error is its exit, not the refused
 * connection to the sockets it took with it. */
static void
test_exits_before_spawn_returns (void **state)
{
  Fixture *f = fixture_new (state, MVM_ACCEL_AUTO, FALSE, NULL, NULL);

  f->stand_in = failer;
  f->reap_in_spawn = TRUE;
  push_script (f, script_nothing);
  start (f);
  assert_non_null (f->start_error);
  if (strstr (f->start_error->message, "QEMU exited") == NULL)
    fail_msg ("not QEMU's exit: %s", f->start_error->message);
  wait_state (f, "stopped", "start-failed");
  assert_int_equal (mvm_dbus_guest_get_main_pid (MVM_DBUS_GUEST (f->guest)), 0);
}

/* The start the user waits on completes, on TCG. */
static void
test_kvm_fails_at_start_falls_back (void **state)
{
  Fixture *f = fixture_new (state, MVM_ACCEL_AUTO, TRUE, NULL, NULL);

  push_script (f, script_internal_error_at_start);
  push_script (f, script_run);
  start (f);
  if (f->start_error)
    fail_msg ("start failed: %s", f->start_error->message);
  wait_state (f, "running", "kvm-fallback");
  assert_int_equal (f->launches->len, 2);
  assert_true (argv_has_pair ((const char *const *)launch_nth (f, 1)->argv, "-accel", "tcg"));
  assert_string_equal (mvm_dbus_manager_get_accelerator (MVM_DBUS_MANAGER (f->manager)), "tcg");
  assert_script_done (f, 0);
}

/* Diagram arrows running -> paused -> running, from QEMU's own events (a pause inside the
 * guest, or another monitor's stop and cont). */
static void
test_pause_and_resume_events (void **state)
{
  Fixture *f = fixture_new (state, MVM_ACCEL_AUTO, FALSE, NULL, NULL);
  gboolean stopped = FALSE;

  push_script (f, script_pause_and_resume);
  start (f);
  wait_state (f, "paused", "requested");
  wait_state (f, "running", "requested");
  assert_true (history_has (f, "paused/requested"));
  mvd_guest_kill_async (f->guest, on_stopped, &stopped);
  wait_state (f, "stopped", "killed");
  assert_script_done (f, 0);
}

/* starting -> stopped (start-failed): QEMU did not come up within the launch timeout; the
 * start says why, and the process is killed, not left behind. */
static void
test_launch_timeout (void **state)
{
  Fixture *f = fixture_new (state, MVM_ACCEL_AUTO, FALSE, NULL, NULL);
  MvdTimings quick = test_timings;

  quick.launch_timeout_ms = 200;
  mvd_manager_set_spawner (f->manager, test_spawn, f, &quick);
  push_script (f, script_greets_too_late);
  start (f);
  assert_non_null (f->start_error);
  assert_non_null (strstr (f->start_error->message, "did not start within 0.2 s"));
  wait_state (f, "stopped", "start-failed");
  assert_script_done (f, 0);
  assert_int_equal (kill (launch_nth (f, 0)->pid, 0), -1); /* killed and reaped */
}

/* starting -> stopped (killed): a Kill while the start is under way ends it, says so, and
 * the start fails. */
static void
test_kill_while_starting (void **state)
{
  Fixture *f = fixture_new (state, MVM_ACCEL_AUTO, FALSE, NULL, NULL);
  gboolean stopped = FALSE;

  push_script (f, script_greets_too_late);
  mvd_guest_start_async (f->guest, on_started, f);
  assert_string_equal (mvm_dbus_guest_get_state (MVM_DBUS_GUEST (f->guest)), "starting");
  mvd_guest_kill_async (f->guest, on_stopped, &stopped);
  iterate_until (f, started, NULL);
  assert_non_null (f->start_error);
  wait_state (f, "stopped", "killed");
  assert_string_equal (mvm_dbus_guest_get_state_message (MVM_DBUS_GUEST (f->guest)),
                       "killed by a caller while starting");
  assert_true (stopped);
  assert_script_done (f, 0);
}

/* --- adoption: a QEMU an earlier daemon left running ------------------------------------ */

static gboolean
have_pidfd (void)
{
  int fd = syscall (SYS_pidfd_open, getpid (), 0);

  if (fd < 0)
    return FALSE; /* valgrind 3.19 lacks it: then nothing is adopted */
  close (fd);
  return TRUE;
}

/* A stand-in left running with the sockets QEMU would listen on and the state file the
 * earlier daemon wrote; its peer answers query-status with @status (NULL: no QMP at all).
 * @other_process: the state file names another process that happens to have the pid. */
static Launch *
leave_running (Fixture *f, const char *status, gboolean other_process)
{
  g_autofree char *run = g_build_filename (f->dir, "run", "t", NULL);
  g_autofree char *state_path = g_build_filename (run, "state", NULL);
  g_autofree char *definition = g_build_filename (run, "guest", NULL);
  g_autoptr (GSubprocess) process = g_subprocess_newv (sleeper, G_SUBPROCESS_FLAGS_NONE, NULL);
  static const char *const channels[] = { "console.sock", "ready.sock" };
  g_autoptr (MvdStateFile) state = g_new0 (MvdStateFile, 1);
  g_autofree char *reply = NULL;
  g_autofree char *qmp = g_build_filename (run, "qmp.sock", NULL);
  Launch *launch = g_new0 (Launch, 1);

  assert_non_null (process);
  launch->pid = atoi (g_subprocess_get_identifier (process));
  g_ptr_array_add (f->launches, launch);
  assert_int_equal (g_mkdir_with_parents (run, 0700), 0);
  for (guint i = 0; i < G_N_ELEMENTS (channels); i++)
    {
      g_autofree char *path = g_build_filename (run, channels[i], NULL);
      launch->channels[i] = mvd_qemu_unix_socket (path, TRUE, NULL);
      assert_true (launch->channels[i] >= 0);
    }
  if (status && have_pidfd ()) /* without pidfd_open nothing is adopted, QMP never used */
    {
      launch->peer
        = qmp_fake_peer_new_for_listener (mvd_qemu_unix_socket (qmp, TRUE, NULL), STEP_TIMEOUT_MS);
      reply = g_strdup_printf ("{\"status\": \"%s\", \"running\": %s}", status,
                               g_str_equal (status, "running") ? "true" : "false");
      qmp_fake_peer_handshake (launch->peer);
      qmp_fake_peer_expect (launch->peer, "query-status", NULL, QMP_FAKE_LAST);
      qmp_fake_peer_reply (launch->peer, QMP_FAKE_LAST, reply);
      if (g_str_equal (status, "shutdown"))
        {
          /* powered off meanwhile (-no-shutdown kept QEMU): the daemon ends it */
          qmp_fake_peer_expect (launch->peer, "quit", NULL, QMP_FAKE_LAST);
          qmp_fake_peer_reply (launch->peer, QMP_FAKE_LAST, NULL);
          qmp_fake_peer_call (launch->peer, kill_stand_in, launch);
        }
      qmp_fake_peer_expect_eof (launch->peer);
      qmp_fake_peer_start (launch->peer);
    }
  state->pid = launch->pid;
  assert_true (mvd_state_file_read_process (state->pid, &state->start_time, &state->binary));
  state->start_time += other_process ? 1 : 0;
  state->start_timestamp = g_get_real_time ();
  state->running = TRUE;
  state->reason = MVM_STATE_REASON_REQUESTED;
  state->accelerator = g_strdup ("tcg");
  assert_true (mvd_state_file_save (state, state_path, NULL));
  assert_true (g_file_set_contents (definition, mvd_guest_get_guest_file (f->guest), -1, NULL));
  return launch;
}

/* The restarted daemon's view: it knows guest t only from what it adopted (no guest folder). */
static void
adopt_all (Fixture *f)
{
  mvd_manager_adopt_all (f->manager);
  g_clear_object (&f->guest);
  f->guest = mvd_manager_lookup (f->manager, "t");
  assert_non_null (f->guest);
  g_object_ref (f->guest);
}

/* Each run status an adopted QEMU reports, and what the guest becomes. */
static void
test_adoption_by_run_status (void **state)
{
  static const struct
  {
    const char *status;
    const char *state;
    const char *reason;
  } cases[] = {
    { "running", "running", "requested" },
    { "paused", "paused", "requested" },
    { "internal-error", "crashed", "kvm-internal-error" },
    { "io-error", "crashed", "io-error" },
    { "guest-panicked", "crashed", "guest-panicked" },
    { "shutdown", "stopped", "powered-off" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      Fixture *f = fixture_new (state, MVM_ACCEL_AUTO, FALSE, NULL, NULL);
      Launch *launch = leave_running (f, cases[i].status, FALSE);

      adopt_all (f);
      if (!have_pidfd ())
        wait_state (f, "stopped", "lost");
      else
        {
          wait_state (f, cases[i].state, cases[i].reason);
          if (!g_str_equal (cases[i].state, "running") && !g_str_equal (cases[i].state, "paused"))
            assert_script_done (f, 0); /* ended: QMP closed after the status */
          else
            assert_int_equal (mvm_dbus_guest_get_main_pid (MVM_DBUS_GUEST (f->guest)), launch->pid);
        }
      teardown (state);
    }
  *state = NULL;
}

/* A state file whose pid now belongs to another process: not adopted, never signalled, and
 * the runtime folder it named is cleaned up. */
static void
test_adoption_refuses_another_process (void **state)
{
  Fixture *f = fixture_new (state, MVM_ACCEL_AUTO, FALSE, NULL, NULL);
  Launch *launch = leave_running (f, NULL, TRUE);
  g_autofree char *run = g_build_filename (f->dir, "run", "t", NULL);

  mvd_manager_adopt_all (f->manager);
  while (g_main_context_iteration (NULL, FALSE))
    ;
  assert_false (g_file_test (run, G_FILE_TEST_EXISTS));
  assert_string_equal (mvm_dbus_guest_get_state (MVM_DBUS_GUEST (f->guest)), "stopped");
  assert_int_equal (mvm_dbus_guest_get_main_pid (MVM_DBUS_GUEST (f->guest)), 0);
  assert_int_equal (kill (launch->pid, 0), 0); /* the other process lives on */
}

/* Restart=on-failure gives up after restart_burst restarts within the interval. */
static void
test_restart_burst (void **state)
{
  Fixture *f = fixture_new (state, MVM_ACCEL_AUTO, FALSE, "Restart=on-failure", NULL);

  for (guint i = 0; i <= test_timings.restart_burst; i++)
    push_script (f, script_run);
  start (f);
  for (guint i = 0; i <= test_timings.restart_burst; i++)
    {
      wait_state (f, "running", i == 0 ? "requested" : "restarted");
      kill (launch_nth (f, i)->pid, SIGKILL);
      wait_state (f, "crashed", "killed");
    }
  for (int i = 0; i < 50; i++) /* restart_delay_ms, five times over */
    {
      g_main_context_iteration (NULL, FALSE);
      g_usleep (1000);
    }
  assert_string_equal (mvm_dbus_guest_get_state (MVM_DBUS_GUEST (f->guest)), "crashed");
  assert_int_equal (f->launches->len, test_timings.restart_burst + 1);
}

static GLogWriterOutput
log_to_stderr (GLogLevelFlags level, const GLogField *fields, gsize n_fields, gpointer user_data)
{
  g_autofree char *line = g_log_writer_format_fields (level, fields, n_fields, FALSE);

  g_printerr ("# %s\n", line);
  return G_LOG_WRITER_HANDLED;
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_teardown (test_start_running, teardown),
    cmocka_unit_test_teardown (test_killed_crashes, teardown),
    cmocka_unit_test_teardown (test_killed_restarts, teardown),
    cmocka_unit_test_teardown (test_kvm_internal_error_falls_back, teardown),
    cmocka_unit_test_teardown (test_kvm_internal_error_reported, teardown),
    cmocka_unit_test_teardown (test_io_error_names_disk, teardown),
    cmocka_unit_test_teardown (test_guest_panicked, teardown),
    cmocka_unit_test_teardown (test_powered_off, teardown),
    cmocka_unit_test_teardown (test_stop_escalates, teardown),
    cmocka_unit_test_teardown (test_dies_in_handshake, teardown),
    cmocka_unit_test_teardown (test_exits_before_spawn_returns, teardown),
    cmocka_unit_test_teardown (test_kvm_fails_at_start_falls_back, teardown),
    cmocka_unit_test_teardown (test_restart_burst, teardown),
    cmocka_unit_test_teardown (test_pause_and_resume_events, teardown),
    cmocka_unit_test_teardown (test_launch_timeout, teardown),
    cmocka_unit_test_teardown (test_kill_while_starting, teardown),
    cmocka_unit_test_teardown (test_adoption_by_run_status, teardown),
    cmocka_unit_test_teardown (test_adoption_refuses_another_process, teardown),
  };

  g_log_set_writer_func (log_to_stderr, NULL, NULL);
  return cmocka_run_group_tests_name ("daemon-guest", tests, NULL, NULL);
}
