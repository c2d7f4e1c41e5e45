/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* A scripted QMP peer on a socketpair, standing in for QEMU in tests.
 *
 * Build the script first (send these bytes, expect this request, reply to it, close),
 * hand the client end to the code under test, start the peer, drive the main loop,
 * then qmp_fake_peer_wait() says whether every step happened as scripted. The script
 * runs on its own thread with blocking I/O, each wait bounded by a timeout, so the
 * main loop under test is never touched by the peer. */

#include <glib.h>

G_BEGIN_DECLS

/* What QEMU 7.2 says first, with the line terminator QEMU uses. */
#define QMP_FAKE_GREETING                                                                          \
  "{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 0, \"minor\": 2, \"major\": 7}, "                \
  "\"package\": \"Debian 1:7.2+dfsg-7\"}, \"capabilities\": [\"oob\"]}}\r\n"

/* Slot -1 in expect/reply means "the most recent request". */
#define QMP_FAKE_LAST (-1)
#define QMP_FAKE_SLOTS 16

typedef struct _QmpFakePeer QmpFakePeer;

/* A peer and its socketpair; each step waits at most @step_timeout_ms. */
QmpFakePeer *qmp_fake_peer_new (guint step_timeout_ms);
/* A peer that accept()s its client on @listen_fd (taken) before the first step, as QEMU
 * does on the QMP socket the daemon binds. */
QmpFakePeer *qmp_fake_peer_new_for_listener (int listen_fd, guint step_timeout_ms);
/* The client's end of the socketpair, once; the caller owns it. */
int qmp_fake_peer_steal_client_fd (QmpFakePeer *peer);

/* Sends @text as is, in one write. */
void qmp_fake_peer_send (QmpFakePeer *peer, const char *text);
/* Sends @text one byte per write, pausing between writes so the reader sees each alone. */
void qmp_fake_peer_send_bytewise (QmpFakePeer *peer, const char *text);
/* Sends arbitrary bytes (invalid UTF-8, huge lines); a hang-up midway is not a failure. */
void qmp_fake_peer_send_bytes (QmpFakePeer *peer, GBytes *bytes);
/* Sends QMP_FAKE_GREETING. */
void qmp_fake_peer_greet (QmpFakePeer *peer);
/* Greeting, then expects qmp_capabilities and answers it. */
void qmp_fake_peer_handshake (QmpFakePeer *peer);
/* Sends an event with @data_json (NULL: no data) and a fixed timestamp. */
void qmp_fake_peer_event (QmpFakePeer *peer, const char *name, const char *data_json);

/* Reads one request line; fails the script unless it executes @command, carries an id and,
 * when @arguments_json is not NULL, exactly these arguments. Keeps the id in @slot. */
void qmp_fake_peer_expect (QmpFakePeer *peer, const char *command, const char *arguments_json,
                           int slot);
/* The same, and the request must come with exactly one fd (SCM_RIGHTS), kept in @slot (>= 0).
 * A request read by qmp_fake_peer_expect() that carries an fd fails the script. */
void qmp_fake_peer_expect_with_fd (QmpFakePeer *peer, const char *command,
                                   const char *arguments_json, int slot);
/* The fd that came with the request kept in @slot, once the script ended; -1 if none. The
 * caller owns it. */
int qmp_fake_peer_steal_fd (QmpFakePeer *peer, int slot);
/* Answers the request kept in @slot with {"return": @return_json} (NULL: {}). */
void qmp_fake_peer_reply (QmpFakePeer *peer, int slot, const char *return_json);
/* Answers the request kept in @slot with a QMP error. */
void qmp_fake_peer_reply_error (QmpFakePeer *peer, int slot, const char *klass, const char *desc);

/* Does nothing for @ms. */
void qmp_fake_peer_sleep (QmpFakePeer *peer, guint ms);
/* Closes the peer's end: the client sees EOF. */
void qmp_fake_peer_close (QmpFakePeer *peer);
/* Reads and discards until the client closes its end. */
void qmp_fake_peer_expect_eof (QmpFakePeer *peer);

/* Runs @func (@data, peer) on the peer's thread: what QEMU does besides QMP (exit, say). */
void qmp_fake_peer_call (QmpFakePeer *peer, GFunc func, gpointer data);

/* Runs the script on a thread. */
void qmp_fake_peer_start (QmpFakePeer *peer);
/* Waits for the script to end; FALSE with the first failed step in @error. */
gboolean qmp_fake_peer_wait (QmpFakePeer *peer, GError **error);
/* Waits for the script if it was started, then frees the peer and closes its fds. */
void qmp_fake_peer_free (QmpFakePeer *peer);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (QmpFakePeer, qmp_fake_peer_free)

G_END_DECLS
