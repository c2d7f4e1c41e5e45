/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "qmp-fake-peer.h"

#include <errno.h>
#include <json-glib/json-glib.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

typedef enum
{
  STEP_SEND,
  STEP_SEND_BYTEWISE,
  STEP_SEND_TOLERANT,
  STEP_EXPECT,
  STEP_EXPECT_FD,
  STEP_REPLY,
  STEP_REPLY_ERROR,
  STEP_SLEEP,
  STEP_CLOSE,
  STEP_EXPECT_EOF,
  STEP_CALL,
} StepKind;

typedef struct
{
  StepKind kind;
  GBytes *bytes;
  char *command; /* expect: the command; reply_error: the class */
  char *text;    /* expect: arguments; reply: return value; reply_error: desc */
  int slot;
  guint ms;
  GFunc func; /* call: func (data, peer) */
  gpointer data;
} Step;

/* An fd the client sent, and the stream offset of the last byte the recvmsg() bringing it
 * read: the kernel ends that read with the bytes the fd was sent with. */
typedef struct
{
  int fd;
  guint64 offset;
} ReceivedFd;

struct _QmpFakePeer
{
  int fd;
  int client_fd;
  int listen_fd; /* new_for_listener: accepted on first, then closed */
  guint step_timeout_ms;
  GPtrArray *steps;
  GThread *thread;
  GError *failure;
  GByteArray *inbuf;
  guint64 consumed;   /* stream offset of inbuf's first byte */
  guint64 line_start; /* the last line read: stream offsets of its first byte */
  guint64 line_end;   /* and of its newline */
  GArray *received;   /* ReceivedFd not yet matched to a line */
  char *ids[QMP_FAKE_SLOTS];
  int fds[QMP_FAKE_SLOTS];
  char *last_id;
};

static void
step_free (Step *step)
{
  g_clear_pointer (&step->bytes, g_bytes_unref);
  g_free (step->command);
  g_free (step->text);
  g_free (step);
}

/* Closes an int fd, or a ReceivedFd's: its fd comes first. */
static void
close_fd (gpointer data)
{
  int *fd = data;

  if (*fd >= 0)
    close (*fd);
  *fd = -1;
}

static QmpFakePeer *
peer_new (int fd, int client_fd, int listen_fd, guint step_timeout_ms)
{
  QmpFakePeer *peer = g_new0 (QmpFakePeer, 1);

  peer->fd = fd;
  peer->client_fd = client_fd;
  peer->listen_fd = listen_fd;
  peer->step_timeout_ms = step_timeout_ms;
  peer->steps = g_ptr_array_new_with_free_func ((GDestroyNotify)step_free);
  peer->inbuf = g_byte_array_new ();
  peer->received = g_array_new (FALSE, FALSE, sizeof (ReceivedFd));
  g_array_set_clear_func (peer->received, close_fd);
  for (guint i = 0; i < QMP_FAKE_SLOTS; i++)
    peer->fds[i] = -1;
  return peer;
}

QmpFakePeer *
qmp_fake_peer_new (guint step_timeout_ms)
{
  int fds[2];

  g_assert_no_errno (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, fds));
  return peer_new (fds[0], fds[1], -1, step_timeout_ms);
}

QmpFakePeer *
qmp_fake_peer_new_for_listener (int listen_fd, guint step_timeout_ms)
{
  g_assert (listen_fd >= 0);
  return peer_new (-1, -1, listen_fd, step_timeout_ms);
}

int
qmp_fake_peer_steal_client_fd (QmpFakePeer *peer)
{
  int fd = peer->client_fd;

  g_assert (fd >= 0);
  peer->client_fd = -1;
  return fd;
}

static Step *
add_step (QmpFakePeer *peer, StepKind kind)
{
  Step *step = g_new0 (Step, 1);

  g_assert (peer->thread == NULL);
  step->kind = kind;
  step->slot = QMP_FAKE_LAST;
  g_ptr_array_add (peer->steps, step);
  return step;
}

void
qmp_fake_peer_send (QmpFakePeer *peer, const char *text)
{
  add_step (peer, STEP_SEND)->bytes = g_bytes_new (text, strlen (text));
}

void
qmp_fake_peer_send_bytewise (QmpFakePeer *peer, const char *text)
{
  add_step (peer, STEP_SEND_BYTEWISE)->bytes = g_bytes_new (text, strlen (text));
}

void
qmp_fake_peer_send_bytes (QmpFakePeer *peer, GBytes *bytes)
{
  add_step (peer, STEP_SEND_TOLERANT)->bytes = g_bytes_ref (bytes);
}

void
qmp_fake_peer_greet (QmpFakePeer *peer)
{
  qmp_fake_peer_send (peer, QMP_FAKE_GREETING);
}

void
qmp_fake_peer_handshake (QmpFakePeer *peer)
{
  qmp_fake_peer_greet (peer);
  qmp_fake_peer_expect (peer, "qmp_capabilities", NULL, QMP_FAKE_LAST);
  qmp_fake_peer_reply (peer, QMP_FAKE_LAST, NULL);
}

void
qmp_fake_peer_event (QmpFakePeer *peer, const char *name, const char *data_json)
{
  g_autofree char *text = NULL;

  if (data_json != NULL)
    text = g_strdup_printf ("{\"event\": \"%s\", \"data\": %s, \"timestamp\": {\"seconds\": "
                            "1700000000, \"microseconds\": 123456}}\r\n",
                            name, data_json);
  else
    text = g_strdup_printf ("{\"event\": \"%s\", \"timestamp\": {\"seconds\": 1700000000, "
                            "\"microseconds\": 123456}}\r\n",
                            name);
  qmp_fake_peer_send (peer, text);
}

void
qmp_fake_peer_expect (QmpFakePeer *peer, const char *command, const char *arguments_json, int slot)
{
  Step *step = add_step (peer, STEP_EXPECT);

  g_assert (slot >= QMP_FAKE_LAST && slot < QMP_FAKE_SLOTS);
  step->command = g_strdup (command);
  step->text = g_strdup (arguments_json);
  step->slot = slot;
}

void
qmp_fake_peer_expect_with_fd (QmpFakePeer *peer, const char *command, const char *arguments_json,
                              int slot)
{
  g_assert (slot >= 0);
  qmp_fake_peer_expect (peer, command, arguments_json, slot);
  ((Step *)g_ptr_array_index (peer->steps, peer->steps->len - 1))->kind = STEP_EXPECT_FD;
}

int
qmp_fake_peer_steal_fd (QmpFakePeer *peer, int slot)
{
  int fd;

  g_assert (peer->thread == NULL);
  g_assert (slot >= 0 && slot < QMP_FAKE_SLOTS);
  fd = peer->fds[slot];
  peer->fds[slot] = -1;
  return fd;
}

void
qmp_fake_peer_reply (QmpFakePeer *peer, int slot, const char *return_json)
{
  Step *step = add_step (peer, STEP_REPLY);

  step->slot = slot;
  step->text = g_strdup (return_json != NULL ? return_json : "{}");
}

void
qmp_fake_peer_reply_error (QmpFakePeer *peer, int slot, const char *klass, const char *desc)
{
  Step *step = add_step (peer, STEP_REPLY_ERROR);

  step->slot = slot;
  step->command = g_strdup (klass);
  step->text = g_strdup (desc);
}

void
qmp_fake_peer_sleep (QmpFakePeer *peer, guint ms)
{
  add_step (peer, STEP_SLEEP)->ms = ms;
}

void
qmp_fake_peer_close (QmpFakePeer *peer)
{
  add_step (peer, STEP_CLOSE);
}

void
qmp_fake_peer_expect_eof (QmpFakePeer *peer)
{
  add_step (peer, STEP_EXPECT_EOF);
}

void
qmp_fake_peer_call (QmpFakePeer *peer, GFunc func, gpointer data)
{
  Step *step = add_step (peer, STEP_CALL);

  step->func = func;
  step->data = data;
}

/* ---- running the script ---- */

static gboolean fail (GError **error, const char *format, ...) G_GNUC_PRINTF (2, 3);

static gboolean
fail (GError **error, const char *format, ...)
{
  va_list args;

  va_start (args, format);
  *error = g_error_new_valist (G_IO_ERROR, G_IO_ERROR_FAILED, format, args);
  va_end (args);
  return FALSE;
}

static gboolean
wait_fd (QmpFakePeer *peer, int fd, short events, GError **error)
{
  struct pollfd pfd = { .fd = fd, .events = events };
  int r;

  do
    r = poll (&pfd, 1, peer->step_timeout_ms);
  while (r < 0 && errno == EINTR);
  if (r == 0)
    return fail (error, "fake peer: nothing happened within %u ms", peer->step_timeout_ms);
  return TRUE;
}

static gboolean
wait_for (QmpFakePeer *peer, short events, GError **error)
{
  return wait_fd (peer, peer->fd, events, error);
}

/* The client connects to the listening socket, as the daemon connects to QEMU's. */
static gboolean
run_accept (QmpFakePeer *peer, GError **error)
{
  int fd;

  if (!wait_fd (peer, peer->listen_fd, POLLIN, error))
    return FALSE;
  do
    fd = accept4 (peer->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
  while (fd < 0 && errno == EINTR);
  if (fd < 0)
    return fail (error, "fake peer: accept failed: %s", g_strerror (errno));
  close (peer->listen_fd);
  peer->listen_fd = -1;
  peer->fd = fd;
  return TRUE;
}

/* Sends @len bytes; a client hang-up is reported through @hung_up, not as a failure. */
static gboolean
send_all (QmpFakePeer *peer, const guint8 *data, gsize len, gboolean *hung_up, GError **error)
{
  gsize done = 0;

  *hung_up = FALSE;
  while (done < len)
    {
      ssize_t n = send (peer->fd, data + done, len - done, MSG_NOSIGNAL);

      if (n < 0 && (errno == EAGAIN || errno == EINTR))
        {
          if (!wait_for (peer, POLLOUT, error))
            return FALSE;
          continue;
        }
      if (n < 0 && (errno == EPIPE || errno == ECONNRESET))
        {
          *hung_up = TRUE;
          return TRUE;
        }
      if (n < 0)
        return fail (error, "fake peer: send failed: %s", g_strerror (errno));
      done += n;
    }
  return TRUE;
}

static gboolean
run_send (QmpFakePeer *peer, Step *step, GError **error)
{
  gsize len = 0;
  const guint8 *data = g_bytes_get_data (step->bytes, &len);
  gboolean hung_up = FALSE;

  if (!send_all (peer, data, len, &hung_up, error))
    return FALSE;
  if (hung_up && step->kind != STEP_SEND_TOLERANT)
    return fail (error, "fake peer: the client hung up while we sent %.40s", (const char *)data);
  return TRUE;
}

static gboolean
run_send_bytewise (QmpFakePeer *peer, Step *step, GError **error)
{
  gsize len = 0;
  const guint8 *data = g_bytes_get_data (step->bytes, &len);
  gboolean hung_up = FALSE;

  for (gsize i = 0; i < len && !hung_up; i++)
    {
      if (!send_all (peer, data + i, 1, &hung_up, error))
        return FALSE;
      g_usleep (200);
    }
  return hung_up ? fail (error, "fake peer: the client hung up during a bytewise send") : TRUE;
}

/* recv (), keeping the fds that come along in peer->received. */
static ssize_t
receive (QmpFakePeer *peer, guint8 *buf, gsize size, GError **error)
{
  union
  {
    char buf[CMSG_SPACE (sizeof (int) * 8)];
    struct cmsghdr align;
  } control;
  struct iovec iov = { .iov_base = buf, .iov_len = size };
  struct msghdr msg = {
    .msg_iov = &iov,
    .msg_iovlen = 1,
    .msg_control = control.buf,
    .msg_controllen = sizeof control.buf,
  };
  ssize_t n = recvmsg (peer->fd, &msg, MSG_CMSG_CLOEXEC);

  if (n <= 0)
    return n;
  for (struct cmsghdr *c = CMSG_FIRSTHDR (&msg); c != NULL; c = CMSG_NXTHDR (&msg, c))
    {
      gsize count = (c->cmsg_len - CMSG_LEN (0)) / sizeof (int);

      if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
        continue;
      for (gsize i = 0; i < count; i++)
        {
          ReceivedFd in = { .offset = peer->consumed + peer->inbuf->len + n - 1 };

          memcpy (&in.fd, CMSG_DATA (c) + i * sizeof (int), sizeof (int));
          g_array_append_val (peer->received, in);
        }
    }
  if (msg.msg_flags & MSG_CTRUNC)
    {
      fail (error, "fake peer: more fds came at once than it has room for");
      errno = EPROTO;
      return -1;
    }
  return n;
}

/* One line from the client, without its newline; NULL on EOF (with @error unset). */
static char *
read_line (QmpFakePeer *peer, GError **error)
{
  for (;;)
    {
      /* an empty GByteArray may have no buffer at all: memchr (NULL, ...) is undefined */
      guint8 *nl = peer->inbuf->len ? memchr (peer->inbuf->data, '\n', peer->inbuf->len) : NULL;
      guint8 buf[4096];
      ssize_t n;

      if (nl != NULL)
        {
          gsize len = nl - peer->inbuf->data;
          char *line = g_strndup ((const char *)peer->inbuf->data, len);

          g_byte_array_remove_range (peer->inbuf, 0, len + 1);
          peer->line_start = peer->consumed;
          peer->line_end = peer->consumed + len;
          peer->consumed += len + 1;
          return line;
        }
      n = receive (peer, buf, sizeof buf, error);
      if (n < 0 && *error != NULL)
        return NULL;
      if (n < 0 && (errno == EAGAIN || errno == EINTR))
        {
          if (!wait_for (peer, POLLIN, error))
            return NULL;
          continue;
        }
      if (n < 0 && errno == ECONNRESET)
        return NULL;
      if (n < 0)
        {
          fail (error, "fake peer: recv failed: %s", g_strerror (errno));
          return NULL;
        }
      if (n == 0)
        return NULL;
      g_byte_array_append (peer->inbuf, buf, n);
    }
}

static gboolean
arguments_match (JsonObject *request, const char *expected_json)
{
  g_autoptr (JsonNode) expected = json_from_string (expected_json, NULL);
  JsonNode *actual = json_object_get_member (request, "arguments");

  g_assert (expected != NULL);
  return actual != NULL && json_node_equal (expected, actual);
}

/* Takes the fds that came with the last line read. */
static GArray *
take_line_fds (QmpFakePeer *peer)
{
  GArray *fds = g_array_new (FALSE, FALSE, sizeof (int));

  g_array_set_clear_func (fds, close_fd);
  for (guint i = 0; i < peer->received->len;)
    {
      ReceivedFd *in = &g_array_index (peer->received, ReceivedFd, i);

      if (in->offset < peer->line_start || in->offset > peer->line_end)
        {
          i++;
          continue;
        }
      g_array_append_val (fds, in->fd);
      in->fd = -1;
      g_array_remove_index (peer->received, i);
    }
  return fds;
}

static gboolean
run_expect (QmpFakePeer *peer, Step *step, GError **error)
{
  g_autofree char *line = read_line (peer, error);
  g_autoptr (GArray) fds = line != NULL ? take_line_fds (peer) : NULL;
  guint want_fds = step->kind == STEP_EXPECT_FD ? 1 : 0;
  g_autoptr (JsonNode) node = NULL;
  JsonObject *request;
  const char *execute;
  const char *id;

  if (line == NULL)
    return *error != NULL ? FALSE : fail (error, "fake peer: EOF, expected %s", step->command);
  node = json_from_string (line, NULL);
  request = node != NULL && JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
  if (request == NULL)
    return fail (error, "fake peer: expected %s, got non-object %s", step->command, line);
  execute = json_object_get_string_member_with_default (request, "execute", "");
  id = json_object_get_string_member_with_default (request, "id", NULL);
  if (g_strcmp0 (execute, step->command) != 0 || id == NULL)
    return fail (error, "fake peer: expected %s with an id, got %s", step->command, line);
  if (step->text != NULL && !arguments_match (request, step->text))
    return fail (error, "fake peer: expected %s with arguments %s, got %s", step->command,
                 step->text, line);
  if (fds->len != want_fds)
    return fail (error, "fake peer: expected %s with %u fd, got %u fds", step->command, want_fds,
                 fds->len);
  if (want_fds > 0)
    {
      close_fd (&peer->fds[step->slot]);
      peer->fds[step->slot] = g_array_index (fds, int, 0);
      g_array_index (fds, int, 0) = -1;
    }
  g_free (peer->last_id);
  peer->last_id = g_strdup (id);
  if (step->slot >= 0)
    {
      g_free (peer->ids[step->slot]);
      peer->ids[step->slot] = g_strdup (id);
    }
  return TRUE;
}

static const char *
slot_id (QmpFakePeer *peer, int slot)
{
  return slot >= 0 ? peer->ids[slot] : peer->last_id;
}

static gboolean
send_object (QmpFakePeer *peer, JsonObject *object, GError **error)
{
  g_autoptr (JsonNode) node = json_node_init_object (json_node_alloc (), object);
  g_autofree char *text = json_to_string (node, FALSE);
  g_autofree char *line = g_strconcat (text, "\r\n", NULL);
  gboolean hung_up = FALSE;

  if (!send_all (peer, (const guint8 *)line, strlen (line), &hung_up, error))
    return FALSE;
  return hung_up ? fail (error, "fake peer: the client hung up before a reply") : TRUE;
}

static gboolean
run_reply (QmpFakePeer *peer, Step *step, GError **error)
{
  g_autoptr (JsonObject) reply = json_object_new ();
  const char *id = slot_id (peer, step->slot);
  JsonNode *ret = json_from_string (step->text, NULL);

  g_assert (ret != NULL);
  if (id == NULL)
    return fail (error, "fake peer: no request in slot %d to reply to", step->slot);
  json_object_set_member (reply, "return", ret);
  json_object_set_string_member (reply, "id", id);
  return send_object (peer, reply, error);
}

static gboolean
run_reply_error (QmpFakePeer *peer, Step *step, GError **error)
{
  g_autoptr (JsonObject) reply = json_object_new ();
  JsonObject *err = json_object_new ();
  const char *id = slot_id (peer, step->slot);

  if (id == NULL)
    {
      json_object_unref (err);
      return fail (error, "fake peer: no request in slot %d to reply to", step->slot);
    }
  json_object_set_string_member (err, "class", step->command);
  json_object_set_string_member (err, "desc", step->text);
  json_object_set_object_member (reply, "error", err);
  json_object_set_string_member (reply, "id", id);
  return send_object (peer, reply, error);
}

static gboolean
run_expect_eof (QmpFakePeer *peer, GError **error)
{
  g_autofree char *line = NULL;

  while ((line = read_line (peer, error)) != NULL)
    g_clear_pointer (&line, g_free);
  return *error == NULL;
}

static gboolean
run_step (QmpFakePeer *peer, Step *step, GError **error)
{
  switch (step->kind)
    {
      case STEP_SEND:
      case STEP_SEND_TOLERANT:
        return run_send (peer, step, error);
      case STEP_SEND_BYTEWISE:
        return run_send_bytewise (peer, step, error);
      case STEP_EXPECT:
      case STEP_EXPECT_FD:
        return run_expect (peer, step, error);
      case STEP_REPLY:
        return run_reply (peer, step, error);
      case STEP_REPLY_ERROR:
        return run_reply_error (peer, step, error);
      case STEP_SLEEP:
        g_usleep (step->ms * G_TIME_SPAN_MILLISECOND);
        return TRUE;
      case STEP_CLOSE:
        close (peer->fd);
        peer->fd = -1;
        return TRUE;
      case STEP_EXPECT_EOF:
        return run_expect_eof (peer, error);
      case STEP_CALL:
        step->func (step->data, peer);
        return TRUE;
      default:
        g_assert_not_reached ();
    }
}

static gpointer
run_script (gpointer data)
{
  QmpFakePeer *peer = data;

  if (peer->listen_fd >= 0 && !run_accept (peer, &peer->failure))
    return NULL;
  for (guint i = 0; i < peer->steps->len; i++)
    {
      g_autoptr (GError) error = NULL;

      if (peer->fd < 0)
        {
          peer->failure = g_error_new (G_IO_ERROR, G_IO_ERROR_FAILED,
                                       "fake peer: step %u comes after the close", i);
          return NULL;
        }
      if (!run_step (peer, g_ptr_array_index (peer->steps, i), &error))
        {
          g_prefix_error (&error, "step %u: ", i);
          peer->failure = g_steal_pointer (&error);
          return NULL;
        }
    }
  return NULL;
}

void
qmp_fake_peer_start (QmpFakePeer *peer)
{
  g_assert (peer->thread == NULL);
  peer->thread = g_thread_new ("qmp-fake-peer", run_script, peer);
}

gboolean
qmp_fake_peer_wait (QmpFakePeer *peer, GError **error)
{
  if (peer->thread != NULL)
    g_thread_join (g_steal_pointer (&peer->thread));
  if (peer->failure != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&peer->failure));
      return FALSE;
    }
  return TRUE;
}

void
qmp_fake_peer_free (QmpFakePeer *peer)
{
  if (peer == NULL)
    return;
  qmp_fake_peer_wait (peer, NULL);
  if (peer->fd >= 0)
    close (peer->fd);
  if (peer->client_fd >= 0)
    close (peer->client_fd);
  if (peer->listen_fd >= 0)
    close (peer->listen_fd);
  g_ptr_array_unref (peer->steps);
  g_byte_array_unref (peer->inbuf);
  g_array_unref (peer->received);
  for (guint i = 0; i < QMP_FAKE_SLOTS; i++)
    {
      g_free (peer->ids[i]);
      close_fd (&peer->fds[i]);
    }
  g_free (peer->last_id);
  g_free (peer);
}
