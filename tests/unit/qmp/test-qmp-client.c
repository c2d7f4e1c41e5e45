/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* QmpClient against the scripted fake peer: handshake, ids, events, errors, timeouts,
 * fds passed with commands, and every way a hostile or dying QEMU can end the connection. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "qmp-client.h"
#include "qmp-commands.h"
#include "qmp-fake-peer.h"

/* Generous: valgrind slows everything tenfold. */
#define WAIT_TIMEOUT_MS 60000
#define STEP_TIMEOUT_MS 30000

typedef struct
{
  QmpFakePeer *peer;
  QmpClient *client;
  GPtrArray *events; /* QmpEvent */
  guint shutdown_details;
  guint disconnected;
  GError *disconnected_error;
  gboolean handshake_done;
  GError *handshake_error;
  guint completions;
} Fixture;

/* What one command came back with. */
typedef struct
{
  Fixture *fx;
  gboolean done;
  guint order;
  JsonNode *ret;
  gpointer value;
  GDestroyNotify free_value;
  gboolean ok;
  GError *error;
} Result;

static void
result_clear (Result *r)
{
  g_clear_pointer (&r->ret, json_node_unref);
  if (r->value != NULL && r->free_value != NULL)
    r->free_value (r->value);
  r->value = NULL;
  g_clear_error (&r->error);
}

static gboolean
on_deadline (gpointer data)
{
  gboolean *expired = data;

  *expired = TRUE;
  return G_SOURCE_REMOVE;
}

static void
run_until (const gboolean *flag)
{
  gboolean expired = FALSE;
  guint id = g_timeout_add (WAIT_TIMEOUT_MS, on_deadline, &expired);

  while (!*flag && !expired)
    g_main_context_iteration (NULL, TRUE);
  if (!expired)
    g_source_remove (id);
  assert_false (expired);
}

static gboolean
has_disconnected (Fixture *fx)
{
  return fx->disconnected > 0;
}

static void
run_until_disconnected (Fixture *fx)
{
  gboolean expired = FALSE;
  guint id = g_timeout_add (WAIT_TIMEOUT_MS, on_deadline, &expired);

  while (!has_disconnected (fx) && !expired)
    g_main_context_iteration (NULL, TRUE);
  if (!expired)
    g_source_remove (id);
  assert_false (expired);
}

static void
on_event (QmpClient *client, QmpEvent *event, gpointer data)
{
  Fixture *fx = data;

  g_ptr_array_add (fx->events, qmp_event_copy (event));
}

static void
on_shutdown (QmpClient *client, QmpEvent *event, gpointer data)
{
  Fixture *fx = data;

  assert_int_equal (event->type, QMP_EVENT_SHUTDOWN);
  fx->shutdown_details++;
}

static void
on_disconnected (QmpClient *client, GError *error, gpointer data)
{
  Fixture *fx = data;

  fx->disconnected++;
  g_clear_error (&fx->disconnected_error);
  fx->disconnected_error = g_error_copy (error);
}

static int
setup (void **state)
{
  Fixture *fx = g_new0 (Fixture, 1);

  fx->peer = qmp_fake_peer_new (STEP_TIMEOUT_MS);
  fx->client = qmp_client_new_for_fd (qmp_fake_peer_steal_client_fd (fx->peer));
  fx->events = g_ptr_array_new_with_free_func ((GDestroyNotify)qmp_event_free);
  g_signal_connect (fx->client, "event", G_CALLBACK (on_event), fx);
  g_signal_connect (fx->client, "event::SHUTDOWN", G_CALLBACK (on_shutdown), fx);
  g_signal_connect (fx->client, "disconnected", G_CALLBACK (on_disconnected), fx);
  *state = fx;
  return 0;
}

static int
teardown (void **state)
{
  Fixture *fx = *state;

  qmp_client_close (fx->client);
  g_object_unref (fx->client);
  qmp_fake_peer_free (fx->peer);
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_ptr_array_unref (fx->events);
  g_clear_error (&fx->disconnected_error);
  g_clear_error (&fx->handshake_error);
  g_free (fx);
  return 0;
}

static void
on_handshake (GObject *source, GAsyncResult *result, gpointer data)
{
  Fixture *fx = data;

  if (!qmp_client_handshake_finish (QMP_CLIENT (source), result, &fx->handshake_error))
    assert_non_null (fx->handshake_error);
  fx->handshake_done = TRUE;
}

/* Starts the script and the handshake, and waits for the handshake's outcome. */
static void
start (Fixture *fx)
{
  qmp_fake_peer_start (fx->peer);
  qmp_client_handshake_async (fx->client, NULL, on_handshake, fx);
  run_until (&fx->handshake_done);
}

static void
start_ok (Fixture *fx)
{
  start (fx);
  assert_null (fx->handshake_error);
  assert_true (qmp_client_is_ready (fx->client));
}

static void
assert_peer_ok (Fixture *fx)
{
  g_autoptr (GError) error = NULL;

  if (!qmp_fake_peer_wait (fx->peer, &error))
    fail_msg ("%s", error->message);
}

static void
assert_error (const GError *error, GQuark domain, int code, const char *fragment)
{
  assert_non_null (error);
  if (error->domain != domain || error->code != code)
    fail_msg ("unexpected error %s/%d: %s", g_quark_to_string (error->domain), error->code,
              error->message);
  if (fragment != NULL && strstr (error->message, fragment) == NULL)
    fail_msg ("'%s' lacks '%s'", error->message, fragment);
}

static void
finish_result (Result *r)
{
  r->done = TRUE;
  r->order = ++r->fx->completions;
}

static void
on_executed (GObject *source, GAsyncResult *result, gpointer data)
{
  Result *r = data;

  r->ret = qmp_client_execute_finish (QMP_CLIENT (source), result, &r->error);
  finish_result (r);
}

static QmpEvent *
event_at (Fixture *fx, guint i)
{
  assert_true (i < fx->events->len);
  return g_ptr_array_index (fx->events, i);
}

/* ---- handshake ---- */

static void
test_handshake_bytewise (void **state)
{
  Fixture *fx = *state;

  qmp_fake_peer_send_bytewise (fx->peer, QMP_FAKE_GREETING);
  qmp_fake_peer_expect (fx->peer, "qmp_capabilities", NULL, QMP_FAKE_LAST);
  qmp_fake_peer_reply (fx->peer, QMP_FAKE_LAST, NULL);
  assert_null (qmp_client_get_version (fx->client));
  start_ok (fx);
  assert_peer_ok (fx);
  assert_string_equal (qmp_client_get_version (fx->client), "7.2.0");
  assert_int_equal (qmp_client_get_version_number (fx->client), 7002000);
  assert_string_equal (qmp_client_get_package (fx->client), "Debian 1:7.2+dfsg-7");
  assert_true (qmp_client_has_capability (fx->client, "oob"));
  assert_false (qmp_client_has_capability (fx->client, "exec-oob"));
  assert_int_equal (fx->disconnected, 0);
}

static void
test_eof_before_greeting (void **state)
{
  Fixture *fx = *state;

  qmp_fake_peer_close (fx->peer);
  start (fx);
  assert_error (fx->handshake_error, QMP_ERROR, QMP_ERROR_DISCONNECTED, "before its greeting");
  assert_int_equal (fx->disconnected, 1);
  assert_error (fx->disconnected_error, QMP_ERROR, QMP_ERROR_DISCONNECTED, "before its greeting");
  assert_true (qmp_client_is_closed (fx->client));
  assert_peer_ok (fx);
}

static void
test_eof_mid_greeting (void **state)
{
  Fixture *fx = *state;

  qmp_fake_peer_send (fx->peer, "{\"QMP\": {\"vers");
  qmp_fake_peer_close (fx->peer);
  start (fx);
  assert_error (fx->handshake_error, QMP_ERROR, QMP_ERROR_DISCONNECTED,
                "in the middle of a line (14 bytes: '{\\\"QMP\\\": {\\\"vers')");
  assert_int_equal (fx->disconnected, 1);
  assert_peer_ok (fx);
}

static void
test_garbage_greeting (void **state)
{
  Fixture *fx = *state;

  qmp_fake_peer_send (fx->peer, "SSH-2.0-OpenSSH_9.2p1\r\n");
  qmp_fake_peer_expect_eof (fx->peer);
  start (fx);
  assert_error (fx->handshake_error, QMP_ERROR, QMP_ERROR_PROTOCOL, "'SSH-2.0-OpenSSH_9.2p1'");
  assert_true (g_str_has_prefix (fx->handshake_error->message, "bad QMP greeting: "));
  assert_int_equal (fx->disconnected, 1);
  assert_peer_ok (fx);
}

static void
test_reply_instead_of_greeting (void **state)
{
  Fixture *fx = *state;

  qmp_fake_peer_send (fx->peer, "{\"return\": {}}\r\n");
  qmp_fake_peer_expect_eof (fx->peer);
  start (fx);
  assert_error (fx->handshake_error, QMP_ERROR, QMP_ERROR_PROTOCOL,
                "expected the QMP greeting, got {\"return\":{}}");
  assert_peer_ok (fx);
}

static void
test_capabilities_refused (void **state)
{
  Fixture *fx = *state;

  qmp_fake_peer_greet (fx->peer);
  qmp_fake_peer_expect (fx->peer, "qmp_capabilities", NULL, QMP_FAKE_LAST);
  qmp_fake_peer_reply_error (fx->peer, QMP_FAKE_LAST, "CommandNotFound", "no such thing");
  qmp_fake_peer_expect_eof (fx->peer);
  start (fx);
  assert_error (fx->handshake_error, QMP_ERROR, QMP_ERROR_COMMAND_NOT_FOUND,
                "QMP capabilities negotiation failed");
  assert_string_equal (qmp_error_get_class (fx->handshake_error), "CommandNotFound");
  assert_int_equal (fx->disconnected, 1);
  assert_peer_ok (fx);
}

static void
test_handshake_timeout (void **state)
{
  Fixture *fx = *state;

  qmp_client_set_timeout (fx->client, 100);
  qmp_fake_peer_expect_eof (fx->peer);
  start (fx);
  assert_error (fx->handshake_error, QMP_ERROR, QMP_ERROR_TIMEOUT, "no QMP greeting within 100 ms");
  assert_int_equal (fx->disconnected, 1);
  assert_peer_ok (fx);
}

/* QEMU greeted but is too starved to answer qmp_capabilities in time (60 guests booting on
 * two cores): the client gives up once, cleanly, and closes its end. */
static void
test_capabilities_timeout (void **state)
{
  Fixture *fx = *state;

  qmp_client_set_timeout (fx->client, 100);
  qmp_fake_peer_greet (fx->peer);
  qmp_fake_peer_expect (fx->peer, "qmp_capabilities", NULL, QMP_FAKE_LAST);
  qmp_fake_peer_expect_eof (fx->peer);
  start (fx);
  assert_error (fx->handshake_error, QMP_ERROR, QMP_ERROR_TIMEOUT,
                "QMP capabilities negotiation took over 100 ms");
  assert_int_equal (fx->disconnected, 1);
  assert_peer_ok (fx);
}

static void
test_commands_held_until_ready (void **state)
{
  Fixture *fx = *state;
  Result r = { .fx = fx };

  qmp_fake_peer_handshake (fx->peer);
  qmp_fake_peer_expect (fx->peer, "query-status", NULL, 0);
  qmp_fake_peer_reply (fx->peer, 0, "{\"running\": true, \"status\": \"running\"}");
  qmp_fake_peer_start (fx->peer);
  qmp_client_handshake_async (fx->client, NULL, on_handshake, fx);
  qmp_client_execute_async (fx->client, "query-status", NULL, NULL, on_executed, &r);
  run_until (&r.done);
  assert_true (fx->handshake_done);
  assert_null (r.error);
  assert_true (JSON_NODE_HOLDS_OBJECT (r.ret));
  assert_peer_ok (fx);
  result_clear (&r);
}

/* ---- commands, replies, events ---- */

static void
on_status (GObject *source, GAsyncResult *result, gpointer data)
{
  Result *r = data;

  r->value = qmp_query_status_finish (QMP_CLIENT (source), result, &r->error);
  r->free_value = (GDestroyNotify)qmp_status_free;
  finish_result (r);
}

static void
on_balloon_query (GObject *source, GAsyncResult *result, gpointer data)
{
  Result *r = data;
  guint64 *actual = g_new0 (guint64, 1);

  r->ok = qmp_query_balloon_finish (QMP_CLIENT (source), result, actual, &r->error);
  r->value = actual;
  r->free_value = g_free;
  finish_result (r);
}

static void
test_events_interleaved (void **state)
{
  Fixture *fx = *state;
  Result r = { .fx = fx };
  QmpStatus *status;
  QmpEvent *ev;

  qmp_fake_peer_handshake (fx->peer);
  qmp_fake_peer_event (fx->peer, "STOP", NULL);
  qmp_fake_peer_expect (fx->peer, "query-status", NULL, 0);
  qmp_fake_peer_event (fx->peer, "RESUME", "{}");
  qmp_fake_peer_event (fx->peer, "SHUTDOWN", "{\"guest\": true, \"reason\": \"guest-shutdown\"}");
  qmp_fake_peer_reply (fx->peer, 0,
                       "{\"running\": false, \"singlestep\": false, "
                       "\"status\": \"paused\"}");
  qmp_fake_peer_event (fx->peer, "BALLOON_CHANGE", "{\"actual\": 268435456}");
  qmp_fake_peer_event (fx->peer, "GUEST_PANICKED", "{\"action\": \"pause\"}");
  qmp_fake_peer_event (fx->peer, "DEVICE_DELETED",
                       "{\"device\": \"net0\", \"path\": \"/machine/peripheral/net0\"}");
  qmp_fake_peer_event (fx->peer, "POWERDOWN", NULL);
  qmp_fake_peer_event (fx->peer, "RESET",
                       "{\"guest\": false, \"reason\": \"host-qmp-system-reset\"}");
  qmp_fake_peer_event (fx->peer, "VSERPORT_CHANGE", "{\"id\": \"ready\", \"open\": true}");
  qmp_fake_peer_event (fx->peer, "BLOCK_IO_ERROR",
                       "{\"device\": \"disk1\", \"node-name\": \"#block123\", "
                       "\"operation\": \"write\", \"action\": \"stop\", \"nospace\": true, "
                       "\"reason\": \"No space left on device\"}");
  qmp_fake_peer_close (fx->peer);
  start_ok (fx);
  qmp_query_status_async (fx->client, NULL, on_status, &r);
  run_until_disconnected (fx);
  assert_peer_ok (fx);

  assert_true (r.done);
  assert_null (r.error);
  status = r.value;
  assert_false (status->running);
  assert_string_equal (status->status, "paused");
  assert_int_equal (status->run_state, QMP_RUN_STATE_PAUSED);

  assert_int_equal (fx->events->len, 10);
  ev = event_at (fx, 0);
  assert_int_equal (ev->type, QMP_EVENT_STOP);
  assert_string_equal (ev->name, "STOP");
  assert_int_equal (ev->seconds, 1700000000);
  assert_int_equal (ev->microseconds, 123456);
  assert_int_equal (json_object_get_size (ev->data), 0);
  assert_int_equal (event_at (fx, 1)->type, QMP_EVENT_RESUME);
  ev = event_at (fx, 2);
  assert_int_equal (ev->type, QMP_EVENT_SHUTDOWN);
  assert_true (ev->u.shutdown.guest);
  assert_string_equal (ev->u.shutdown.reason, "guest-shutdown");
  ev = event_at (fx, 3);
  assert_int_equal (ev->type, QMP_EVENT_BALLOON_CHANGE);
  assert_int_equal (ev->u.balloon_change.actual, 268435456);
  ev = event_at (fx, 4);
  assert_int_equal (ev->type, QMP_EVENT_GUEST_PANICKED);
  assert_string_equal (ev->u.guest_panicked.action, "pause");
  ev = event_at (fx, 5);
  assert_int_equal (ev->type, QMP_EVENT_DEVICE_DELETED);
  assert_string_equal (ev->u.device_deleted.device, "net0");
  assert_string_equal (ev->u.device_deleted.path, "/machine/peripheral/net0");
  assert_int_equal (event_at (fx, 6)->type, QMP_EVENT_POWERDOWN);
  ev = event_at (fx, 7);
  assert_int_equal (ev->type, QMP_EVENT_RESET);
  assert_false (ev->u.reset.guest);
  assert_string_equal (ev->u.reset.reason, "host-qmp-system-reset");
  ev = event_at (fx, 8);
  assert_int_equal (ev->type, QMP_EVENT_OTHER);
  assert_string_equal (ev->name, "VSERPORT_CHANGE");
  assert_string_equal (json_object_get_string_member (ev->data, "id"), "ready");
  ev = event_at (fx, 9);
  assert_int_equal (ev->type, QMP_EVENT_BLOCK_IO_ERROR);
  assert_string_equal (ev->u.block_io_error.device, "disk1");
  assert_string_equal (ev->u.block_io_error.node_name, "#block123");
  assert_string_equal (ev->u.block_io_error.operation, "write");
  assert_string_equal (ev->u.block_io_error.action, "stop");
  assert_true (ev->u.block_io_error.nospace);
  assert_string_equal (ev->u.block_io_error.reason, "No space left on device");
  assert_int_equal (fx->shutdown_details, 1);
  assert_int_equal (fx->disconnected, 1);
  assert_error (fx->disconnected_error, QMP_ERROR, QMP_ERROR_DISCONNECTED, "closed");
  result_clear (&r);
}

/* Every run state QEMU 7.2 names reads as its own value and back; others as OTHER. */
static void
test_run_state_names (void **state)
{
  static const char *const names[]
    = { "debug",    "finish-migrate", "guest-panicked", "inmigrate",  "internal-error", "io-error",
        "paused",   "postmigrate",    "prelaunch",      "restore-vm", "running",        "save-vm",
        "shutdown", "suspended",      "watchdog",       "colo" };

  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      QmpRunState run_state = qmp_run_state_from_string (names[i]);
      assert_int_not_equal (run_state, QMP_RUN_STATE_OTHER);
      assert_string_equal (qmp_run_state_to_string (run_state), names[i]);
    }
  assert_int_equal (qmp_run_state_from_string ("internal-error"), QMP_RUN_STATE_INTERNAL_ERROR);
  assert_int_equal (qmp_run_state_from_string ("io-error"), QMP_RUN_STATE_IO_ERROR);
  assert_int_equal (qmp_run_state_from_string ("guest-panicked"), QMP_RUN_STATE_GUEST_PANICKED);
  assert_int_equal (qmp_run_state_from_string ("no-such-state"), QMP_RUN_STATE_OTHER);
  assert_int_equal (qmp_run_state_from_string (NULL), QMP_RUN_STATE_OTHER);
}

static void
test_replies_out_of_order (void **state)
{
  Fixture *fx = *state;
  Result status_r = { .fx = fx };
  Result balloon_r = { .fx = fx };
  QmpStatus *status;

  qmp_fake_peer_handshake (fx->peer);
  qmp_fake_peer_expect (fx->peer, "query-status", NULL, 0);
  qmp_fake_peer_expect (fx->peer, "query-balloon", NULL, 1);
  qmp_fake_peer_reply (fx->peer, 1, "{\"actual\": 1073741824}");
  qmp_fake_peer_reply (fx->peer, 0, "{\"running\": true, \"status\": \"running\"}");
  start_ok (fx);
  qmp_query_status_async (fx->client, NULL, on_status, &status_r);
  qmp_query_balloon_async (fx->client, NULL, on_balloon_query, &balloon_r);
  run_until (&status_r.done);
  run_until (&balloon_r.done);
  assert_peer_ok (fx);

  assert_null (balloon_r.error);
  assert_true (balloon_r.ok);
  assert_int_equal (*(guint64 *)balloon_r.value, 1073741824);
  assert_int_equal (balloon_r.order, 1);
  assert_null (status_r.error);
  status = status_r.value;
  assert_true (status->running);
  assert_string_equal (status->status, "running");
  assert_int_equal (status_r.order, 2);
  assert_int_equal (fx->disconnected, 0);
  result_clear (&status_r);
  result_clear (&balloon_r);
}

static void
on_cont (GObject *source, GAsyncResult *result, gpointer data)
{
  Result *r = data;

  r->ok = qmp_cont_finish (QMP_CLIENT (source), result, &r->error);
  finish_result (r);
}

static void
test_error_reply (void **state)
{
  Fixture *fx = *state;
  Result cont_r = { .fx = fx };
  Result balloon_r = { .fx = fx };

  qmp_fake_peer_handshake (fx->peer);
  qmp_fake_peer_expect (fx->peer, "cont", NULL, 0);
  qmp_fake_peer_reply_error (fx->peer, 0, "GenericError",
                             "Resetting the Virtual Machine is required");
  qmp_fake_peer_expect (fx->peer, "query-balloon", NULL, 1);
  qmp_fake_peer_reply_error (fx->peer, 1, "DeviceNotActive",
                             "No balloon device has been activated");
  start_ok (fx);
  qmp_cont_async (fx->client, NULL, on_cont, &cont_r);
  run_until (&cont_r.done);
  qmp_query_balloon_async (fx->client, NULL, on_balloon_query, &balloon_r);
  run_until (&balloon_r.done);
  assert_peer_ok (fx);

  assert_false (cont_r.ok);
  assert_error (cont_r.error, QMP_ERROR, QMP_ERROR_GENERIC,
                "QMP command 'cont' failed: Resetting the Virtual Machine is required");
  assert_string_equal (qmp_error_get_class (cont_r.error), "GenericError");
  assert_string_equal (qmp_error_get_desc (cont_r.error),
                       "Resetting the Virtual Machine is required");
  assert_false (balloon_r.ok);
  assert_error (balloon_r.error, QMP_ERROR, QMP_ERROR_DEVICE_NOT_ACTIVE, "query-balloon");
  assert_string_equal (qmp_error_get_class (balloon_r.error), "DeviceNotActive");
  assert_true (qmp_client_is_ready (fx->client));
  result_clear (&cont_r);
  result_clear (&balloon_r);
}

static void
on_stop (GObject *source, GAsyncResult *result, gpointer data)
{
  Result *r = data;

  r->ok = qmp_stop_finish (QMP_CLIENT (source), result, &r->error);
  finish_result (r);
}

static void
test_timeout_then_success (void **state)
{
  Fixture *fx = *state;
  Result slow = { .fx = fx };
  Result fast = { .fx = fx };

  qmp_fake_peer_handshake (fx->peer);
  qmp_fake_peer_expect (fx->peer, "query-status", NULL, 0);
  qmp_fake_peer_expect (fx->peer, "stop", NULL, 1);
  /* The late reply to the timed-out command is dropped as unknown. */
  qmp_fake_peer_reply (fx->peer, 0, "{\"running\": true, \"status\": \"running\"}");
  qmp_fake_peer_reply (fx->peer, 1, NULL);
  start_ok (fx);
  qmp_client_set_timeout (fx->client, 200);
  qmp_query_status_async (fx->client, NULL, on_status, &slow);
  run_until (&slow.done);
  assert_error (slow.error, QMP_ERROR, QMP_ERROR_TIMEOUT,
                "QMP command 'query-status' got no reply within 200 ms");
  assert_true (qmp_client_is_ready (fx->client));
  qmp_client_set_timeout (fx->client, QMP_CLIENT_DEFAULT_TIMEOUT_MS);
  qmp_stop_async (fx->client, NULL, on_stop, &fast);
  run_until (&fast.done);
  assert_null (fast.error);
  assert_true (fast.ok);
  assert_peer_ok (fx);
  assert_int_equal (fx->disconnected, 0);
  result_clear (&slow);
  result_clear (&fast);
}

/* Timeout 0 is none, for the handshake and commands alike: the daemon bounds a launch with
 * its own timer. A greeting and a reply that come late still arrive. */
static void
test_no_timeout (void **state)
{
  Fixture *fx = *state;
  Result r = { .fx = fx };

  qmp_client_set_timeout (fx->client, 0);
  qmp_fake_peer_sleep (fx->peer, 150);
  qmp_fake_peer_handshake (fx->peer);
  qmp_fake_peer_expect (fx->peer, "stop", NULL, 0);
  qmp_fake_peer_sleep (fx->peer, 150);
  qmp_fake_peer_reply (fx->peer, 0, NULL);
  start_ok (fx);
  qmp_stop_async (fx->client, NULL, on_stop, &r);
  run_until (&r.done);
  assert_null (r.error);
  assert_true (r.ok);
  assert_peer_ok (fx);
  result_clear (&r);
}

static void
test_unknown_id_dropped (void **state)
{
  Fixture *fx = *state;
  Result r = { .fx = fx };

  qmp_fake_peer_handshake (fx->peer);
  qmp_fake_peer_expect (fx->peer, "query-status", NULL, 0);
  qmp_fake_peer_send (fx->peer, "{\"return\": {}, \"id\": \"bogus-7\"}\r\n");
  qmp_fake_peer_send (fx->peer, "{\"return\": {}}\r\n");
  qmp_fake_peer_send (fx->peer, "{\"return\": {}, \"id\": 42}\r\n");
  qmp_fake_peer_reply (fx->peer, 0, "{\"running\": true, \"status\": \"running\"}");
  start_ok (fx);
  qmp_query_status_async (fx->client, NULL, on_status, &r);
  run_until (&r.done);
  assert_null (r.error);
  assert_string_equal (((QmpStatus *)r.value)->status, "running");
  assert_peer_ok (fx);
  assert_int_equal (fx->disconnected, 0);
  result_clear (&r);
}

static void
test_cancel (void **state)
{
  Fixture *fx = *state;
  Result cancelled = { .fx = fx };
  Result after = { .fx = fx };
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();

  qmp_fake_peer_handshake (fx->peer);
  qmp_fake_peer_expect (fx->peer, "query-status", NULL, 0);
  qmp_fake_peer_expect (fx->peer, "stop", NULL, 1);
  qmp_fake_peer_reply (fx->peer, 0, "{\"running\": true, \"status\": \"running\"}");
  qmp_fake_peer_reply (fx->peer, 1, NULL);
  start_ok (fx);
  qmp_query_status_async (fx->client, cancellable, on_status, &cancelled);
  g_cancellable_cancel (cancellable);
  run_until (&cancelled.done);
  assert_error (cancelled.error, G_IO_ERROR, G_IO_ERROR_CANCELLED, NULL);
  qmp_stop_async (fx->client, NULL, on_stop, &after);
  run_until (&after.done);
  assert_null (after.error);
  assert_peer_ok (fx);
  result_clear (&cancelled);
  result_clear (&after);
}

/* ---- the connection ends ---- */

static void
test_eof_mid_reply (void **state)
{
  Fixture *fx = *state;
  Result first = { .fx = fx };
  Result second = { .fx = fx };
  Result late = { .fx = fx };

  qmp_fake_peer_handshake (fx->peer);
  qmp_fake_peer_expect (fx->peer, "query-status", NULL, 0);
  qmp_fake_peer_expect (fx->peer, "stop", NULL, 1);
  qmp_fake_peer_send (fx->peer, "{\"return\": {\"running\": tr");
  qmp_fake_peer_close (fx->peer);
  start_ok (fx);
  qmp_query_status_async (fx->client, NULL, on_status, &first);
  qmp_stop_async (fx->client, NULL, on_stop, &second);
  run_until (&first.done);
  run_until (&second.done);
  assert_peer_ok (fx);
  assert_error (first.error, QMP_ERROR, QMP_ERROR_DISCONNECTED,
                "QMP command 'query-status' failed: QEMU closed the QMP connection in the middle "
                "of a line");
  assert_error (second.error, QMP_ERROR, QMP_ERROR_DISCONNECTED, "'stop' failed");
  assert_int_equal (first.order, 1);
  assert_int_equal (second.order, 2);
  assert_int_equal (fx->disconnected, 1);
  assert_error (fx->disconnected_error, QMP_ERROR, QMP_ERROR_DISCONNECTED,
                "(25 bytes: '{\\\"return\\\": {\\\"running\\\": tr')");
  /* Later commands fail at once; closing again changes nothing. */
  qmp_stop_async (fx->client, NULL, on_stop, &late);
  run_until (&late.done);
  assert_error (late.error, QMP_ERROR, QMP_ERROR_DISCONNECTED, "connection is closed");
  qmp_client_close (fx->client);
  assert_int_equal (fx->disconnected, 1);
  result_clear (&first);
  result_clear (&second);
  result_clear (&late);
}

/* A hostile line: the pending command and the connection fail with a protocol error. */
static void
check_protocol_violation (Fixture *fx, GBytes *line, const char *fragment)
{
  Result r = { .fx = fx };

  qmp_fake_peer_handshake (fx->peer);
  qmp_fake_peer_expect (fx->peer, "query-status", NULL, 0);
  qmp_fake_peer_send_bytes (fx->peer, line);
  qmp_fake_peer_expect_eof (fx->peer);
  start_ok (fx);
  qmp_query_status_async (fx->client, NULL, on_status, &r);
  run_until (&r.done);
  assert_peer_ok (fx);
  assert_error (r.error, QMP_ERROR, QMP_ERROR_DISCONNECTED, fragment);
  assert_int_equal (fx->disconnected, 1);
  assert_error (fx->disconnected_error, QMP_ERROR, QMP_ERROR_PROTOCOL, fragment);
  assert_true (qmp_client_is_closed (fx->client));
  result_clear (&r);
}

static void
test_huge_line (void **state)
{
  gsize size = 20 * 1024 * 1024;
  char *text = g_malloc (size);
  g_autoptr (GBytes) line = NULL;

  memset (text, 'a', size);
  memcpy (text, "{\"return\": \"", 12);
  text[size - 1] = '\n';
  line = g_bytes_new_take (text, size);
  check_protocol_violation (*state, line, "QMP line longer than 16 MiB");
}

static void
test_invalid_utf8 (void **state)
{
  static const char text[] = "{\"event\": \"STOP\xff\xfe\", \"data\": {}}\r\n";
  g_autoptr (GBytes) line = g_bytes_new_static (text, sizeof text - 1);

  check_protocol_violation (*state, line, "not valid UTF-8");
}

static void
test_non_object (void **state)
{
  static const char text[] = "[\"return\", {}]\r\n";
  g_autoptr (GBytes) line = g_bytes_new_static (text, sizeof text - 1);

  check_protocol_violation (*state, line, "not a JSON object");
}

static void
test_malformed_error_reply (void **state)
{
  static const char text[] = "{\"error\": \"oops\", \"id\": \"x\"}\r\n";
  g_autoptr (GBytes) line = g_bytes_new_static (text, sizeof text - 1);

  check_protocol_violation (*state, line, "neither 'return' nor an 'error' object");
}

static char *
nested_arrays (guint depth)
{
  g_autofree char *open = g_strnfill (depth, '[');
  g_autofree char *close = g_strnfill (depth, ']');

  return g_strconcat (open, "1", close, NULL);
}

static void
test_deep_nesting (void **state)
{
  Fixture *fx = *state;
  Result at_limit = { .fx = fx };
  Result over_limit = { .fx = fx };
  /* {"return": [...]} : the reply object is level 1. */
  g_autofree char *ok = nested_arrays (63);
  g_autofree char *bad = nested_arrays (64);

  qmp_fake_peer_handshake (fx->peer);
  qmp_fake_peer_expect (fx->peer, "x-deep", NULL, 0);
  qmp_fake_peer_reply (fx->peer, 0, ok);
  qmp_fake_peer_expect (fx->peer, "x-deeper", NULL, 1);
  qmp_fake_peer_reply (fx->peer, 1, bad);
  qmp_fake_peer_expect_eof (fx->peer);
  start_ok (fx);
  qmp_client_execute_async (fx->client, "x-deep", NULL, NULL, on_executed, &at_limit);
  run_until (&at_limit.done);
  assert_null (at_limit.error);
  assert_true (JSON_NODE_HOLDS_ARRAY (at_limit.ret));
  qmp_client_execute_async (fx->client, "x-deeper", NULL, NULL, on_executed, &over_limit);
  run_until (&over_limit.done);
  assert_peer_ok (fx);
  assert_error (over_limit.error, QMP_ERROR, QMP_ERROR_DISCONNECTED, "deeper than 64");
  assert_int_equal (fx->disconnected, 1);
  assert_error (fx->disconnected_error, QMP_ERROR, QMP_ERROR_PROTOCOL, "deeper than 64");
  result_clear (&at_limit);
  result_clear (&over_limit);
}

static void
test_close_by_client (void **state)
{
  Fixture *fx = *state;
  Result r = { .fx = fx };

  qmp_fake_peer_handshake (fx->peer);
  qmp_fake_peer_expect_eof (fx->peer);
  start_ok (fx);
  qmp_query_status_async (fx->client, NULL, on_status, &r);
  qmp_client_close (fx->client);
  run_until (&r.done);
  assert_error (r.error, QMP_ERROR, QMP_ERROR_DISCONNECTED, "closed by the client");
  assert_int_equal (fx->disconnected, 1);
  assert_peer_ok (fx);
  result_clear (&r);
}

/* ---- passing fds ---- */

/* A file no other test has, holding @text. */
static int
file_with (const char *text)
{
  int fd = memfd_create ("test-qmp-client", MFD_CLOEXEC);

  assert_true (fd >= 0);
  assert_int_equal (write (fd, text, strlen (text)), strlen (text));
  return fd;
}

static void
assert_file_holds (int fd, const char *text)
{
  char buf[64] = { 0 };

  assert_int_equal (pread (fd, buf, sizeof buf - 1, 0), strlen (text));
  assert_string_equal (buf, text);
}

/* How many of this process's fds refer to the file @fd refers to, @fd included. */
static guint
count_fds_on (int fd)
{
  g_autoptr (GDir) dir = g_dir_open ("/proc/self/fd", 0, NULL);
  struct stat want;
  const char *name;
  guint count = 0;

  assert_non_null (dir);
  assert_int_equal (fstat (fd, &want), 0);
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      struct stat st;

      if (fstat (atoi (name), &st) == 0 && st.st_dev == want.st_dev && st.st_ino == want.st_ino)
        count++;
    }
  return count;
}

static void
on_getfd (GObject *source, GAsyncResult *result, gpointer data)
{
  Result *r = data;

  r->ok = qmp_getfd_finish (QMP_CLIENT (source), result, &r->error);
  finish_result (r);
}

static void
test_fd_sent_with_command (void **state)
{
  Fixture *fx = *state;
  Result getfd = { .fx = fx };
  Result status = { .fx = fx };
  int file = file_with ("caller");
  int received;
  struct stat mine;
  struct stat theirs;

  qmp_fake_peer_handshake (fx->peer);
  qmp_fake_peer_expect_with_fd (fx->peer, "getfd", "{\"fdname\": \"snap\"}", 0);
  qmp_fake_peer_reply (fx->peer, 0, NULL);
  /* The next command goes without it. */
  qmp_fake_peer_expect (fx->peer, "query-status", NULL, 1);
  qmp_fake_peer_reply (fx->peer, 1, "{\"running\": false, \"status\": \"paused\"}");
  start_ok (fx);
  qmp_getfd_async (fx->client, "snap", file, NULL, on_getfd, &getfd);
  qmp_query_status_async (fx->client, NULL, on_status, &status);
  run_until (&status.done);
  assert_peer_ok (fx);
  assert_true (getfd.done);
  assert_null (getfd.error);
  assert_true (getfd.ok);
  assert_null (status.error);

  received = qmp_fake_peer_steal_fd (fx->peer, 0);
  assert_true (received >= 0);
  assert_int_equal (fstat (file, &mine), 0);
  assert_int_equal (fstat (received, &theirs), 0);
  assert_int_equal (mine.st_dev, theirs.st_dev);
  assert_int_equal (mine.st_ino, theirs.st_ino);
  /* What QEMU writes lands in the caller's file. */
  assert_int_equal (pwrite (received, "QEVM", 4, 0), 4);
  assert_file_holds (file, "QEVMer");
  close (received);
  close (file);
  result_clear (&getfd);
  result_clear (&status);
}

static void
test_fd_held_until_ready (void **state)
{
  Fixture *fx = *state;
  g_autoptr (JsonObject) arguments = json_object_new ();
  Result r = { .fx = fx };
  int file = file_with ("held");
  int received;

  json_object_set_string_member (arguments, "fdname", "snap");
  qmp_fake_peer_handshake (fx->peer);
  qmp_fake_peer_expect_with_fd (fx->peer, "getfd", "{\"fdname\": \"snap\"}", 0);
  qmp_fake_peer_reply (fx->peer, 0, NULL);
  qmp_fake_peer_start (fx->peer);
  qmp_client_handshake_async (fx->client, NULL, on_handshake, fx);
  qmp_client_execute_with_fd_async (fx->client, "getfd", arguments, file, NULL, on_executed, &r);
  /* The client holds its own copy: the caller may close its fd at once. */
  assert_int_equal (count_fds_on (file), 2);
  close (file);
  run_until (&r.done);
  assert_true (fx->handshake_done);
  assert_null (r.error);
  assert_peer_ok (fx);
  received = qmp_fake_peer_steal_fd (fx->peer, 0);
  assert_true (received >= 0);
  assert_file_holds (received, "held");
  assert_int_equal (count_fds_on (received), 1);
  close (received);
  result_clear (&r);
}

static void
test_fd_copy_closed_once_sent (void **state)
{
  Fixture *fx = *state;
  Result r = { .fx = fx };
  int file = file_with ("caller");

  qmp_fake_peer_handshake (fx->peer);
  qmp_fake_peer_expect_with_fd (fx->peer, "getfd", NULL, 0);
  qmp_fake_peer_reply_error (fx->peer, 0, "GenericError", "fdname already in use");
  start_ok (fx);
  assert_int_equal (count_fds_on (file), 1);
  qmp_getfd_async (fx->client, "snap", file, NULL, on_getfd, &r);
  assert_int_equal (count_fds_on (file), 2);
  run_until (&r.done);
  assert_peer_ok (fx);
  assert_error (r.error, QMP_ERROR, QMP_ERROR_GENERIC, "fdname already in use");
  close (qmp_fake_peer_steal_fd (fx->peer, 0));
  /* Neither the client nor the peer keeps a copy; the caller's fd works as before. */
  assert_int_equal (count_fds_on (file), 1);
  assert_int_equal (pwrite (file, " still", 6, 6), 6);
  assert_file_holds (file, "caller still");
  close (file);
  result_clear (&r);
}

static void
test_fd_sent_once_in_a_long_line (void **state)
{
  Fixture *fx = *state;
  g_autoptr (JsonObject) arguments = json_object_new ();
  g_autofree char *padding = g_strnfill (1024 * 1024, 'x');
  Result r = { .fx = fx };
  Result status = { .fx = fx };
  int file = file_with ("long");

  json_object_set_string_member (arguments, "padding", padding);
  qmp_fake_peer_handshake (fx->peer);
  /* The socket fills up before the peer reads: the line goes out in many sendmsg () calls. */
  qmp_fake_peer_sleep (fx->peer, 100);
  qmp_fake_peer_expect_with_fd (fx->peer, "x-long", NULL, 0);
  qmp_fake_peer_reply (fx->peer, 0, NULL);
  qmp_fake_peer_expect (fx->peer, "query-status", NULL, 1);
  qmp_fake_peer_reply (fx->peer, 1, "{\"running\": true, \"status\": \"running\"}");
  start_ok (fx);
  qmp_client_execute_with_fd_async (fx->client, "x-long", arguments, file, NULL, on_executed, &r);
  qmp_query_status_async (fx->client, NULL, on_status, &status);
  run_until (&status.done);
  assert_peer_ok (fx);
  assert_true (r.done);
  assert_null (r.error);
  assert_null (status.error);
  close (qmp_fake_peer_steal_fd (fx->peer, 0));
  assert_int_equal (count_fds_on (file), 1);
  close (file);
  result_clear (&r);
  result_clear (&status);
}

static void
test_fd_closed_when_client_closes (void **state)
{
  Fixture *fx = *state;
  Result r = { .fx = fx };
  Result late = { .fx = fx };
  int file = file_with ("caller");

  qmp_fake_peer_handshake (fx->peer);
  qmp_fake_peer_expect_eof (fx->peer);
  start_ok (fx);
  qmp_getfd_async (fx->client, "snap", file, NULL, on_getfd, &r);
  assert_int_equal (count_fds_on (file), 2);
  /* Queued, not sent yet: the main loop has not run. */
  qmp_client_close (fx->client);
  assert_int_equal (count_fds_on (file), 1);
  run_until (&r.done);
  assert_error (r.error, QMP_ERROR, QMP_ERROR_DISCONNECTED, "closed by the client");
  /* A closed client fails at once and makes no copy. */
  qmp_getfd_async (fx->client, "snap", file, NULL, on_getfd, &late);
  assert_int_equal (count_fds_on (file), 1);
  run_until (&late.done);
  assert_error (late.error, QMP_ERROR, QMP_ERROR_DISCONNECTED, "connection is closed");
  assert_peer_ok (fx);
  close (file);
  result_clear (&r);
  result_clear (&late);
}

static void
test_fd_closed_when_peer_hangs_up (void **state)
{
  Fixture *fx = *state;
  Result r = { .fx = fx };
  int file = file_with ("caller");

  qmp_fake_peer_close (fx->peer);
  qmp_fake_peer_start (fx->peer);
  qmp_client_handshake_async (fx->client, NULL, on_handshake, fx);
  qmp_getfd_async (fx->client, "snap", file, NULL, on_getfd, &r);
  assert_int_equal (count_fds_on (file), 2);
  run_until (&r.done);
  run_until (&fx->handshake_done);
  assert_error (fx->handshake_error, QMP_ERROR, QMP_ERROR_DISCONNECTED, "before its greeting");
  assert_error (r.error, QMP_ERROR, QMP_ERROR_DISCONNECTED, "'getfd' failed");
  assert_int_equal (count_fds_on (file), 1);
  assert_peer_ok (fx);
  close (file);
  result_clear (&r);
}

/* ---- typed helpers ---- */

typedef struct
{
  Fixture *fx;
  guint done;
  GPtrArray *cpus;
  GPtrArray *blocks;
  char *hmp;
  gboolean quit_ok;
} Helpers;

static void
on_simple (GObject *source, GAsyncResult *result, gpointer data)
{
  Helpers *h = data;
  g_autoptr (GError) error = NULL;
  gboolean ok = FALSE;
  gpointer tag = g_task_get_source_tag (G_TASK (result));

  if (tag == qmp_cont_async)
    ok = qmp_cont_finish (QMP_CLIENT (source), result, &error);
  else if (tag == qmp_stop_async)
    ok = qmp_stop_finish (QMP_CLIENT (source), result, &error);
  else if (tag == qmp_system_powerdown_async)
    ok = qmp_system_powerdown_finish (QMP_CLIENT (source), result, &error);
  else if (tag == qmp_system_reset_async)
    ok = qmp_system_reset_finish (QMP_CLIENT (source), result, &error);
  else if (tag == qmp_balloon_async)
    ok = qmp_balloon_finish (QMP_CLIENT (source), result, &error);
  assert_null (error);
  assert_true (ok);
  h->done++;
}

static void
on_cpus (GObject *source, GAsyncResult *result, gpointer data)
{
  Helpers *h = data;
  g_autoptr (GError) error = NULL;

  h->cpus = qmp_query_cpus_fast_finish (QMP_CLIENT (source), result, &error);
  assert_null (error);
  h->done++;
}

static void
on_blocks (GObject *source, GAsyncResult *result, gpointer data)
{
  Helpers *h = data;
  g_autoptr (GError) error = NULL;

  h->blocks = qmp_query_blockstats_finish (QMP_CLIENT (source), result, &error);
  assert_null (error);
  h->done++;
}

static void
on_hmp (GObject *source, GAsyncResult *result, gpointer data)
{
  Helpers *h = data;
  g_autoptr (GError) error = NULL;

  h->hmp = qmp_human_monitor_command_finish (QMP_CLIENT (source), result, &error);
  assert_null (error);
  h->done++;
}

static void
on_quit (GObject *source, GAsyncResult *result, gpointer data)
{
  Helpers *h = data;
  g_autoptr (GError) error = NULL;

  h->quit_ok = qmp_quit_finish (QMP_CLIENT (source), result, &error);
  assert_null (error);
  h->done++;
}

static gboolean
helpers_done (Helpers *h)
{
  return h->done == 9;
}

static void
test_typed_helpers (void **state)
{
  Fixture *fx = *state;
  Helpers h = { .fx = fx };
  QmpCpu *cpu;
  QmpBlockStats *block;
  QmpFakePeer *peer = fx->peer;

  qmp_fake_peer_handshake (peer);
  qmp_fake_peer_expect (peer, "cont", NULL, 0);
  qmp_fake_peer_reply (peer, 0, NULL);
  qmp_fake_peer_expect (peer, "stop", NULL, 0);
  qmp_fake_peer_reply (peer, 0, NULL);
  qmp_fake_peer_expect (peer, "system_powerdown", NULL, 0);
  qmp_fake_peer_reply (peer, 0, NULL);
  qmp_fake_peer_expect (peer, "system_reset", NULL, 0);
  qmp_fake_peer_reply (peer, 0, NULL);
  qmp_fake_peer_expect (peer, "balloon", "{\"value\": 536870912}", 0);
  qmp_fake_peer_reply (peer, 0, NULL);
  qmp_fake_peer_expect (peer, "query-cpus-fast", NULL, 0);
  qmp_fake_peer_reply (peer, 0,
                       "[{\"cpu-index\": 0, \"qom-path\": \"/machine/unattached/device[0]\", "
                       "\"thread-id\": 4242, \"target\": \"x86_64\"}, {\"cpu-index\": 1, "
                       "\"qom-path\": \"/machine/unattached/device[1]\", \"thread-id\": 4243}]");
  qmp_fake_peer_expect (peer, "query-blockstats", NULL, 0);
  qmp_fake_peer_reply (peer, 0,
                       "[{\"device\": \"\", \"node-name\": \"disk0\", \"qdev\": "
                       "\"/machine/peripheral/vda/virtio-backend\", \"stats\": {\"rd_bytes\": "
                       "1024, \"wr_bytes\": 2048, \"rd_operations\": 3, \"wr_operations\": 4, "
                       "\"flush_operations\": 5}}]");
  qmp_fake_peer_expect (peer, "human-monitor-command", "{\"command-line\": \"info version\"}", 0);
  qmp_fake_peer_reply (peer, 0, "\"7.2.0Debian 1:7.2+dfsg-7\\r\\n\"");
  qmp_fake_peer_expect (peer, "quit", NULL, 0);
  qmp_fake_peer_event (peer, "SHUTDOWN", "{\"guest\": false, \"reason\": \"host-qmp-quit\"}");
  qmp_fake_peer_close (peer);
  start_ok (fx);

  qmp_cont_async (fx->client, NULL, on_simple, &h);
  qmp_stop_async (fx->client, NULL, on_simple, &h);
  qmp_system_powerdown_async (fx->client, NULL, on_simple, &h);
  qmp_system_reset_async (fx->client, NULL, on_simple, &h);
  qmp_balloon_async (fx->client, 512 * 1024 * 1024, NULL, on_simple, &h);
  qmp_query_cpus_fast_async (fx->client, NULL, on_cpus, &h);
  qmp_query_blockstats_async (fx->client, NULL, on_blocks, &h);
  qmp_human_monitor_command_async (fx->client, "info version", NULL, on_hmp, &h);
  qmp_quit_async (fx->client, NULL, on_quit, &h);
  while (!helpers_done (&h))
    g_main_context_iteration (NULL, TRUE);
  assert_peer_ok (fx);

  assert_int_equal (h.cpus->len, 2);
  cpu = g_ptr_array_index (h.cpus, 1);
  assert_int_equal (cpu->cpu_index, 1);
  assert_int_equal (cpu->thread_id, 4243);
  assert_string_equal (cpu->qom_path, "/machine/unattached/device[1]");
  assert_int_equal (h.blocks->len, 1);
  block = g_ptr_array_index (h.blocks, 0);
  assert_string_equal (block->device, "");
  assert_string_equal (block->node_name, "disk0");
  assert_int_equal (block->rd_bytes, 1024);
  assert_int_equal (block->wr_bytes, 2048);
  assert_int_equal (block->rd_operations, 3);
  assert_int_equal (block->wr_operations, 4);
  assert_int_equal (block->flush_operations, 5);
  assert_string_equal (h.hmp, "7.2.0Debian 1:7.2+dfsg-7\r\n");
  /* QEMU hung up instead of answering quit: that is success for quit. */
  assert_true (h.quit_ok);
  assert_int_equal (fx->shutdown_details, 1);
  g_ptr_array_unref (h.cpus);
  g_ptr_array_unref (h.blocks);
  g_free (h.hmp);
}

static void
on_status_invalid (GObject *source, GAsyncResult *result, gpointer data)
{
  Result *r = data;

  r->value = qmp_query_status_finish (QMP_CLIENT (source), result, &r->error);
  finish_result (r);
}

static void
test_typed_invalid_reply (void **state)
{
  Fixture *fx = *state;
  Result r = { .fx = fx };

  qmp_fake_peer_handshake (fx->peer);
  qmp_fake_peer_expect (fx->peer, "query-status", NULL, 0);
  qmp_fake_peer_reply (fx->peer, 0, "{\"running\": \"yes\", \"status\": 3}");
  start_ok (fx);
  qmp_query_status_async (fx->client, NULL, on_status_invalid, &r);
  run_until (&r.done);
  assert_null (r.value);
  assert_error (r.error, QMP_ERROR, QMP_ERROR_INVALID_REPLY, "query-status");
  assert_true (qmp_client_is_ready (fx->client));
  assert_peer_ok (fx);
  result_clear (&r);
}

#define T(name) cmocka_unit_test_setup_teardown (name, setup, teardown)

int
main (void)
{
  const struct CMUnitTest tests[] = {
    T (test_handshake_bytewise),
    T (test_eof_before_greeting),
    T (test_eof_mid_greeting),
    T (test_garbage_greeting),
    T (test_reply_instead_of_greeting),
    T (test_capabilities_refused),
    T (test_handshake_timeout),
    T (test_capabilities_timeout),
    T (test_no_timeout),
    T (test_commands_held_until_ready),
    T (test_events_interleaved),
    T (test_run_state_names),
    T (test_replies_out_of_order),
    T (test_error_reply),
    T (test_timeout_then_success),
    T (test_unknown_id_dropped),
    T (test_cancel),
    T (test_eof_mid_reply),
    T (test_huge_line),
    T (test_invalid_utf8),
    T (test_non_object),
    T (test_malformed_error_reply),
    T (test_deep_nesting),
    T (test_close_by_client),
    T (test_fd_sent_with_command),
    T (test_fd_held_until_ready),
    T (test_fd_copy_closed_once_sent),
    T (test_fd_sent_once_in_a_long_line),
    T (test_fd_closed_when_client_closes),
    T (test_fd_closed_when_peer_hangs_up),
    T (test_typed_helpers),
    T (test_typed_invalid_reply),
  };

  return cmocka_run_group_tests_name ("qmp-client", tests, NULL, NULL);
}
