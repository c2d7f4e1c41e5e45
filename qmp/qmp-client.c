/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "qmp-client.h"

#include <errno.h>
#include <fcntl.h>
#include <gio/gunixsocketaddress.h>
#include <glib-unix.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "qmp-message.h"
#include "qmp-parser.h"

/* Bytes read per wakeup; a 16 MiB line takes many wakeups, never one long stall. */
#define READ_CHUNK 65536

typedef enum
{
  STATE_NEW,
  STATE_GREETING,
  STATE_CAPABILITIES,
  STATE_READY,
  STATE_CLOSED,
} QmpClientState;

typedef struct
{
  QmpClient *client; /* unowned: the task keeps the client alive */
  char *id;
  char *command;
  guint64 seq;
  guint timeout_ms;
  GTask *task;
  GSource *timeout;
  GSource *cancel;
} QmpPending;

/* One request line; @fd (or -1) is the client's copy of the fd that goes with its first byte. */
typedef struct
{
  GBytes *line;
  int fd;
} QmpWrite;

struct _QmpClient
{
  GObject parent_instance;

  int fd; /* -1 once closed */
  GMainContext *context;
  GSource *read_source;
  GSource *write_source;
  QmpParser *parser;
  GQueue write_queue; /* QmpWrite; the head may be partly sent */
  gsize write_offset;
  GQueue held; /* QmpWrite of commands issued before the handshake finished */

  GHashTable *pending; /* id -> QmpPending */
  guint64 next_seq;
  guint timeout_ms;

  QmpClientState state;
  GTask *handshake;
  GSource *handshake_timeout;
  GSource *handshake_cancel;
  QmpGreeting *greeting;
  char *version;
};

enum
{
  SIGNAL_EVENT,
  SIGNAL_DISCONNECTED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

G_DEFINE_TYPE (QmpClient, qmp_client, G_TYPE_OBJECT)

static void disconnect (QmpClient *self, GError *reason);

/* ---- pending commands ---- */

static void
destroy_source (GSource **source)
{
  if (*source == NULL)
    return;
  g_source_destroy (*source);
  g_clear_pointer (source, g_source_unref);
}

static void
pending_free (QmpPending *pending)
{
  destroy_source (&pending->timeout);
  destroy_source (&pending->cancel);
  g_clear_object (&pending->task);
  g_free (pending->id);
  g_free (pending->command);
  g_free (pending);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (QmpPending, pending_free)

/* Removes the command from the table; the caller completes its task. */
static QmpPending *
pending_take (QmpClient *self, const char *id)
{
  gpointer key = NULL;
  gpointer value = NULL;

  if (!g_hash_table_steal_extended (self->pending, id, &key, &value))
    return NULL;
  return value;
}

static gboolean
on_command_timeout (gpointer data)
{
  QmpPending *item = data;
  QmpClient *self = item->client;
  g_autoptr (QmpPending) pending = pending_take (self, item->id);

  if (pending == NULL)
    return G_SOURCE_REMOVE;
  g_task_return_new_error (pending->task, QMP_ERROR, QMP_ERROR_TIMEOUT,
                           "QMP command '%s' got no reply within %u ms", pending->command,
                           pending->timeout_ms);
  return G_SOURCE_REMOVE;
}

static gboolean
on_command_cancelled (GCancellable *cancellable, gpointer data)
{
  QmpPending *item = data;
  g_autoptr (QmpPending) pending = pending_take (item->client, item->id);

  if (pending == NULL)
    return G_SOURCE_REMOVE;
  g_task_return_new_error (pending->task, G_IO_ERROR, G_IO_ERROR_CANCELLED,
                           "QMP command '%s' was cancelled", pending->command);
  return G_SOURCE_REMOVE;
}

static GSource *
attach (QmpClient *self, GSource *source, GSourceFunc func, gpointer data)
{
  g_source_set_callback (source, func, data, NULL);
  g_source_attach (source, self->context);
  return source;
}

static gint
compare_seq (gconstpointer a, gconstpointer b)
{
  const QmpPending *pa = *(QmpPending *const *)a;
  const QmpPending *pb = *(QmpPending *const *)b;

  return pa->seq < pb->seq ? -1 : pa->seq > pb->seq;
}

/* Each pending command fails once, in the order they were issued. */
static void
fail_all_pending (QmpClient *self, const GError *reason)
{
  g_autoptr (GPtrArray) all = g_ptr_array_new_with_free_func ((GDestroyNotify)pending_free);
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, self->pending);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    g_ptr_array_add (all, value);
  g_hash_table_steal_all (self->pending);
  g_ptr_array_sort (all, compare_seq);
  for (guint i = 0; i < all->len; i++)
    {
      QmpPending *pending = g_ptr_array_index (all, i);

      destroy_source (&pending->timeout);
      destroy_source (&pending->cancel);
      g_task_return_new_error (pending->task, QMP_ERROR, QMP_ERROR_DISCONNECTED,
                               "QMP command '%s' failed: %s", pending->command, reason->message);
    }
}

/* ---- writing ---- */

static void
write_free (QmpWrite *entry)
{
  g_bytes_unref (entry->line);
  if (entry->fd >= 0)
    close (entry->fd);
  g_free (entry);
}

static gboolean on_writable (int fd, GIOCondition condition, gpointer data);

static void
watch_writable (QmpClient *self)
{
  if (self->write_source != NULL || self->state == STATE_CLOSED)
    return;
  self->write_source = g_unix_fd_source_new (self->fd, G_IO_OUT);
  g_source_set_callback (self->write_source, G_SOURCE_FUNC (on_writable), self, NULL);
  g_source_attach (self->write_source, self->context);
}

static void
queue_write (QmpClient *self, QmpWrite *entry)
{
  g_queue_push_tail (&self->write_queue, entry);
  watch_writable (self);
}

/* send (), with @fd as SCM_RIGHTS unless it is -1. */
static ssize_t
send_with_fd (int socket_fd, const guint8 *data, gsize size, int fd)
{
  union
  {
    char buf[CMSG_SPACE (sizeof (int))];
    struct cmsghdr align;
  } control = { 0 };
  struct iovec iov = { .iov_base = (void *)data, .iov_len = size };
  struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };

  if (fd >= 0)
    {
      struct cmsghdr *cmsg;

      msg.msg_control = control.buf;
      msg.msg_controllen = sizeof control.buf;
      cmsg = CMSG_FIRSTHDR (&msg);
      cmsg->cmsg_level = SOL_SOCKET;
      cmsg->cmsg_type = SCM_RIGHTS;
      cmsg->cmsg_len = CMSG_LEN (sizeof (int));
      memcpy (CMSG_DATA (cmsg), &fd, sizeof (int));
    }
  return sendmsg (socket_fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
}

/* Sends what the socket takes; FALSE after a write error (the client is then closed). */
static gboolean
flush_writes (QmpClient *self)
{
  while (!g_queue_is_empty (&self->write_queue))
    {
      QmpWrite *head = g_queue_peek_head (&self->write_queue);
      gsize size = 0;
      const guint8 *data = g_bytes_get_data (head->line, &size);
      ssize_t n
        = send_with_fd (self->fd, data + self->write_offset, size - self->write_offset, head->fd);

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        return TRUE;
      if (n < 0)
        {
          int saved = errno;

          disconnect (self,
                      g_error_new (QMP_ERROR, QMP_ERROR_DISCONNECTED,
                                   "writing to the QMP socket failed: %s", g_strerror (saved)));
          return FALSE;
        }
      /* Any byte sent took the fd along: the rest of the line goes without it. */
      if (head->fd >= 0)
        {
          close (head->fd);
          head->fd = -1;
        }
      self->write_offset += n;
      if (self->write_offset == size)
        {
          write_free (g_queue_pop_head (&self->write_queue));
          self->write_offset = 0;
        }
    }
  return TRUE;
}

static gboolean
on_writable (int fd, GIOCondition condition, gpointer data)
{
  QmpClient *self = data;
  g_autoptr (QmpClient) keep = g_object_ref (self);

  if (!flush_writes (self) || !g_queue_is_empty (&self->write_queue))
    return G_SOURCE_CONTINUE; /* a closed client has already destroyed this source */
  g_clear_pointer (&self->write_source, g_source_unref);
  return G_SOURCE_REMOVE;
}

/* ---- sending commands ---- */

static GBytes *
build_request (const char *command, JsonObject *arguments, const char *id)
{
  g_autoptr (JsonObject) request = json_object_new ();
  g_autoptr (JsonNode) node = json_node_alloc ();
  g_autofree char *text = NULL;

  json_object_set_string_member (request, "execute", command);
  if (arguments != NULL)
    json_object_set_object_member (request, "arguments", json_object_ref (arguments));
  json_object_set_string_member (request, "id", id);
  json_node_init_object (node, request);
  text = json_to_string (node, FALSE);
  return g_bytes_new_take (g_strconcat (text, "\n", NULL), strlen (text) + 1);
}

/* Takes @task and @fd (a copy the client owns, or -1). */
static void
submit (QmpClient *self, const char *command, JsonObject *arguments, int fd, GTask *task,
        GCancellable *cancellable, gboolean bypass_handshake)
{
  QmpPending *pending = g_new0 (QmpPending, 1);
  QmpWrite *entry = g_new0 (QmpWrite, 1);

  pending->client = self;
  pending->seq = ++self->next_seq;
  pending->id = g_strdup_printf ("microvmd-%" G_GUINT64_FORMAT, pending->seq);
  pending->command = g_strdup (command);
  pending->task = task;
  pending->timeout_ms = self->timeout_ms;
  if (pending->timeout_ms > 0)
    pending->timeout
      = attach (self, g_timeout_source_new (pending->timeout_ms), on_command_timeout, pending);
  if (cancellable != NULL)
    pending->cancel = attach (self, g_cancellable_source_new (cancellable),
                              G_SOURCE_FUNC (on_command_cancelled), pending);
  g_hash_table_insert (self->pending, pending->id, pending);

  entry->line = build_request (command, arguments, pending->id);
  entry->fd = fd;
  if (self->state == STATE_READY || bypass_handshake)
    queue_write (self, entry);
  else
    g_queue_push_tail (&self->held, entry);
}

/* @fd: the caller's, copied here; -1 for none. */
static void
execute (QmpClient *self, const char *command, JsonObject *arguments, int fd,
         GCancellable *cancellable, GAsyncReadyCallback callback, gpointer user_data,
         gpointer source_tag)
{
  g_autoptr (GTask) task = g_task_new (self, cancellable, callback, user_data);
  int copy = -1;

  g_task_set_source_tag (task, source_tag);
  if (g_task_return_error_if_cancelled (task))
    return;
  if (self->state == STATE_CLOSED)
    {
      g_task_return_new_error (task, QMP_ERROR, QMP_ERROR_DISCONNECTED,
                               "QMP command '%s' not sent: the connection is closed", command);
      return;
    }
  if (fd >= 0 && (copy = fcntl (fd, F_DUPFD_CLOEXEC, 3)) < 0)
    {
      int saved = errno;

      g_task_return_new_error (task, G_IO_ERROR, g_io_error_from_errno (saved),
                               "QMP command '%s' not sent: cannot duplicate fd %d: %s", command, fd,
                               g_strerror (saved));
      return;
    }
  submit (self, command, arguments, copy, g_steal_pointer (&task), cancellable, FALSE);
}

void
qmp_client_execute_async (QmpClient *self, const char *command, JsonObject *arguments,
                          GCancellable *cancellable, GAsyncReadyCallback callback,
                          gpointer user_data)
{
  g_return_if_fail (QMP_IS_CLIENT (self));
  g_return_if_fail (command != NULL);

  execute (self, command, arguments, -1, cancellable, callback, user_data,
           qmp_client_execute_async);
}

void
qmp_client_execute_with_fd_async (QmpClient *self, const char *command, JsonObject *arguments,
                                  int fd, GCancellable *cancellable, GAsyncReadyCallback callback,
                                  gpointer user_data)
{
  g_return_if_fail (QMP_IS_CLIENT (self));
  g_return_if_fail (command != NULL);
  g_return_if_fail (fd >= 0);

  execute (self, command, arguments, fd, cancellable, callback, user_data,
           qmp_client_execute_with_fd_async);
}

JsonNode *
qmp_client_execute_finish (QmpClient *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

/* ---- handshake ---- */

static void
stop_handshake_watch (QmpClient *self)
{
  destroy_source (&self->handshake_timeout);
  destroy_source (&self->handshake_cancel);
}

static void
fail_handshake (QmpClient *self, const GError *reason)
{
  g_autoptr (GTask) task = g_steal_pointer (&self->handshake);

  stop_handshake_watch (self);
  if (task != NULL)
    g_task_return_error (task, g_error_copy (reason));
}

static void
on_capabilities_done (GObject *source, GAsyncResult *result, gpointer data)
{
  QmpClient *self = QMP_CLIENT (source);
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) ret = qmp_client_execute_finish (self, result, &error);
  g_autoptr (GTask) task = NULL;

  if (self->state == STATE_CLOSED)
    return; /* the disconnection already failed the handshake */
  if (ret == NULL)
    {
      g_prefix_error (&error, "QMP capabilities negotiation failed: ");
      disconnect (self, g_steal_pointer (&error));
      return;
    }
  self->state = STATE_READY;
  stop_handshake_watch (self);
  while (!g_queue_is_empty (&self->held))
    queue_write (self, g_queue_pop_head (&self->held));
  task = g_steal_pointer (&self->handshake);
  g_task_return_boolean (task, TRUE);
}

static gboolean
handle_greeting (QmpClient *self, JsonObject *message, GError **error)
{
  g_autoptr (QmpGreeting) greeting = qmp_greeting_new_from_message (message, error);
  GTask *task;

  if (greeting == NULL)
    return FALSE;
  self->version = g_strdup_printf ("%u.%u.%u", greeting->major, greeting->minor, greeting->micro);
  self->greeting = g_steal_pointer (&greeting);
  self->state = STATE_CAPABILITIES;
  task = g_task_new (self, NULL, on_capabilities_done, NULL);
  g_task_set_source_tag (task, qmp_client_execute_async);
  submit (self, "qmp_capabilities", NULL, -1, task, NULL, TRUE);
  return TRUE;
}

static gboolean
on_handshake_timeout (gpointer data)
{
  QmpClient *self = data;

  disconnect (self, g_error_new (QMP_ERROR, QMP_ERROR_TIMEOUT,
                                 self->state == STATE_GREETING
                                   ? "no QMP greeting within %u ms"
                                   : "QMP capabilities negotiation took over %u ms",
                                 self->timeout_ms));
  return G_SOURCE_REMOVE;
}

static gboolean
on_handshake_cancelled (GCancellable *cancellable, gpointer data)
{
  disconnect (data, g_error_new (G_IO_ERROR, G_IO_ERROR_CANCELLED, "QMP handshake cancelled"));
  return G_SOURCE_REMOVE;
}

/* ---- reading and dispatching ---- */

static char *
describe_message (JsonObject *message)
{
  g_autoptr (JsonNode) node = json_node_init_object (json_node_alloc (), message);
  g_autofree char *text = json_to_string (node, FALSE);

  if (strlen (text) > 64)
    return g_strdup_printf ("%.64s...", text);
  return g_steal_pointer (&text);
}

static gboolean
handle_event (QmpClient *self, JsonObject *message, GError **error)
{
  g_autoptr (QmpEvent) event = qmp_event_new_from_message (message, error);

  if (event == NULL)
    return FALSE;
  /* Only details someone connected to exist as quarks; a peer cannot grow the table. */
  g_signal_emit (self, signals[SIGNAL_EVENT], g_quark_try_string (event->name), event);
  return TRUE;
}

static gboolean
handle_reply (QmpClient *self, JsonObject *message, GError **error)
{
  const char *id = qmp_message_get_id (message);
  g_autoptr (QmpPending) pending = id != NULL ? pending_take (self, id) : NULL;
  g_autoptr (GError) command_error = NULL;
  JsonNode *ret;

  if (pending == NULL)
    {
      g_debug ("dropping QMP reply with unknown id %s", id != NULL ? id : "(none)");
      return TRUE;
    }
  destroy_source (&pending->timeout);
  destroy_source (&pending->cancel);
  ret = qmp_message_take_return (message, pending->command, &command_error);
  if (ret == NULL)
    g_task_return_error (pending->task, g_steal_pointer (&command_error));
  else
    g_task_return_pointer (pending->task, ret, (GDestroyNotify)json_node_unref);
  return TRUE;
}

static gboolean
dispatch_message (QmpClient *self, JsonObject *message, GError **error)
{
  QmpMessageKind kind;

  if (!qmp_message_classify (message, &kind, error))
    return FALSE;
  if (self->state == STATE_GREETING && kind != QMP_MESSAGE_GREETING)
    {
      g_autofree char *text = describe_message (message);

      g_set_error (error, QMP_ERROR, QMP_ERROR_PROTOCOL, "expected the QMP greeting, got %s", text);
      return FALSE;
    }
  switch (kind)
    {
      case QMP_MESSAGE_GREETING:
        if (self->state != STATE_GREETING)
          {
            g_set_error (error, QMP_ERROR, QMP_ERROR_PROTOCOL, "unexpected second QMP greeting");
            return FALSE;
          }
        return handle_greeting (self, message, error);
      case QMP_MESSAGE_EVENT:
        return handle_event (self, message, error);
      case QMP_MESSAGE_REPLY:
        return handle_reply (self, message, error);
      default:
        g_assert_not_reached ();
    }
}

static void
process_messages (QmpClient *self)
{
  /* Callbacks and signal handlers run from here may close the client at any message. */
  while (self->state != STATE_CLOSED)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (JsonObject) message = qmp_parser_pop (self->parser, &error);

      if (message != NULL && dispatch_message (self, message, &error))
        continue;
      if (error == NULL)
        return;
      if (self->state == STATE_GREETING)
        g_prefix_error (&error, "bad QMP greeting: ");
      disconnect (self, g_steal_pointer (&error));
    }
}

static GError *
eof_error (QmpClient *self)
{
  gsize pending = qmp_parser_get_pending (self->parser);
  g_autofree char *text = qmp_parser_describe_pending (self->parser);
  const char *when = self->state == STATE_GREETING ? " before its greeting" : "";

  if (pending == 0)
    return g_error_new (QMP_ERROR, QMP_ERROR_DISCONNECTED, "QEMU closed the QMP connection%s",
                        when);
  return g_error_new (QMP_ERROR, QMP_ERROR_DISCONNECTED,
                      "QEMU closed the QMP connection%s in the middle of a line (%" G_GSIZE_FORMAT
                      " bytes: %s)",
                      when, pending, text);
}

static gboolean
on_readable (int fd, GIOCondition condition, gpointer data)
{
  QmpClient *self = data;
  g_autoptr (QmpClient) keep = g_object_ref (self);
  guint8 buf[READ_CHUNK];
  ssize_t n = read (fd, buf, sizeof buf);

  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
    return G_SOURCE_CONTINUE;
  if (n < 0)
    {
      int saved = errno;

      disconnect (self, g_error_new (QMP_ERROR, QMP_ERROR_DISCONNECTED,
                                     "reading from the QMP socket failed: %s", g_strerror (saved)));
      return G_SOURCE_REMOVE;
    }
  if (n == 0)
    {
      disconnect (self, eof_error (self));
      return G_SOURCE_REMOVE;
    }
  qmp_parser_feed (self->parser, buf, n);
  process_messages (self);
  return self->state == STATE_CLOSED ? G_SOURCE_REMOVE : G_SOURCE_CONTINUE;
}

static void
start_reading (QmpClient *self)
{
  self->read_source = g_unix_fd_source_new (self->fd, G_IO_IN | G_IO_HUP | G_IO_ERR);
  /* The read watch is what keeps a connected client alive. */
  g_source_set_callback (self->read_source, G_SOURCE_FUNC (on_readable), g_object_ref (self),
                         g_object_unref);
  g_source_attach (self->read_source, self->context);
}

void
qmp_client_handshake_async (QmpClient *self, GCancellable *cancellable,
                            GAsyncReadyCallback callback, gpointer user_data)
{
  g_autoptr (GTask) task = NULL;

  g_return_if_fail (QMP_IS_CLIENT (self));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, qmp_client_handshake_async);
  if (self->state != STATE_NEW)
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_PENDING,
                               "QMP handshake already started");
      return;
    }
  self->state = STATE_GREETING;
  self->handshake = g_steal_pointer (&task);
  if (self->timeout_ms > 0)
    self->handshake_timeout
      = attach (self, g_timeout_source_new (self->timeout_ms), on_handshake_timeout, self);
  if (cancellable != NULL)
    self->handshake_cancel = attach (self, g_cancellable_source_new (cancellable),
                                     G_SOURCE_FUNC (on_handshake_cancelled), self);
  start_reading (self);
}

gboolean
qmp_client_handshake_finish (QmpClient *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

/* ---- disconnection ---- */

static void
stop_io (QmpClient *self)
{
  destroy_source (&self->read_source);
  destroy_source (&self->write_source);
  if (self->fd >= 0)
    close (self->fd);
  self->fd = -1;
  /* Unsent lines close their fd copies with them. */
  g_queue_clear_full (&self->write_queue, (GDestroyNotify)write_free);
  g_queue_clear_full (&self->held, (GDestroyNotify)write_free);
  self->write_offset = 0;
}

/* The one way a connection ends; takes @reason. */
static void
disconnect (QmpClient *self, GError *reason)
{
  g_autoptr (GError) error = reason;
  g_autoptr (QmpClient) keep = g_object_ref (self);

  if (self->state == STATE_CLOSED)
    return;
  self->state = STATE_CLOSED;
  stop_io (self);
  fail_handshake (self, error);
  fail_all_pending (self, error);
  g_signal_emit (self, signals[SIGNAL_DISCONNECTED], 0, error);
}

void
qmp_client_close (QmpClient *self)
{
  g_return_if_fail (QMP_IS_CLIENT (self));
  disconnect (
    self, g_error_new (QMP_ERROR, QMP_ERROR_DISCONNECTED, "QMP connection closed by the client"));
}

/* ---- connecting by path ---- */

static void
on_connect_handshake_done (GObject *source, GAsyncResult *result, gpointer data)
{
  g_autoptr (GTask) task = data;
  g_autoptr (QmpClient) client = QMP_CLIENT (source);
  g_autoptr (GError) error = NULL;

  if (!qmp_client_handshake_finish (client, result, &error))
    {
      g_prefix_error (&error, "QMP socket %s: ", (const char *)g_task_get_task_data (task));
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  g_task_return_pointer (task, g_steal_pointer (&client), g_object_unref);
}

static void
on_socket_connected (GObject *source, GAsyncResult *result, gpointer data)
{
  g_autoptr (GTask) task = data;
  g_autoptr (GError) error = NULL;
  g_autoptr (GSocketConnection) connection
    = g_socket_client_connect_finish (G_SOCKET_CLIENT (source), result, &error);
  GCancellable *cancellable;
  int fd;

  if (connection == NULL)
    {
      g_prefix_error (
        &error, "cannot connect to QMP socket %s: ", (const char *)g_task_get_task_data (task));
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  /* The client owns a plain fd; the GSocket closes its own copy. */
  fd = fcntl (g_socket_get_fd (g_socket_connection_get_socket (connection)), F_DUPFD_CLOEXEC, 3);
  g_io_stream_close (G_IO_STREAM (connection), NULL, NULL);
  if (fd < 0)
    {
      int saved = errno;

      g_task_return_new_error (task, G_IO_ERROR, g_io_error_from_errno (saved),
                               "cannot duplicate the QMP socket: %s", g_strerror (saved));
      return;
    }
  cancellable = g_task_get_cancellable (task);
  qmp_client_handshake_async (qmp_client_new_for_fd (fd), cancellable, on_connect_handshake_done,
                              g_steal_pointer (&task));
}

void
qmp_client_connect_async (const char *path, GCancellable *cancellable, GAsyncReadyCallback callback,
                          gpointer user_data)
{
  g_autoptr (GTask) task = g_task_new (NULL, cancellable, callback, user_data);
  g_autoptr (GSocketClient) socket_client = g_socket_client_new ();
  g_autoptr (GSocketAddress) address = g_unix_socket_address_new (path);

  g_task_set_source_tag (task, qmp_client_connect_async);
  g_task_set_task_data (task, g_strdup (path), g_free);
  g_socket_client_set_enable_proxy (socket_client, FALSE);
  g_socket_client_connect_async (socket_client, G_SOCKET_CONNECTABLE (address), cancellable,
                                 on_socket_connected, g_steal_pointer (&task));
}

QmpClient *
qmp_client_connect_finish (GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

/* ---- accessors ---- */

void
qmp_client_set_timeout (QmpClient *self, guint timeout_ms)
{
  g_return_if_fail (QMP_IS_CLIENT (self));
  self->timeout_ms = timeout_ms;
}

guint
qmp_client_get_timeout (QmpClient *self)
{
  g_return_val_if_fail (QMP_IS_CLIENT (self), 0);
  return self->timeout_ms;
}

gboolean
qmp_client_is_ready (QmpClient *self)
{
  g_return_val_if_fail (QMP_IS_CLIENT (self), FALSE);
  return self->state == STATE_READY;
}

gboolean
qmp_client_is_closed (QmpClient *self)
{
  g_return_val_if_fail (QMP_IS_CLIENT (self), TRUE);
  return self->state == STATE_CLOSED;
}

const char *
qmp_client_get_version (QmpClient *self)
{
  g_return_val_if_fail (QMP_IS_CLIENT (self), NULL);
  return self->version;
}

guint
qmp_client_get_version_number (QmpClient *self)
{
  g_return_val_if_fail (QMP_IS_CLIENT (self), 0);
  if (self->greeting == NULL)
    return 0;
  return self->greeting->major * 1000000 + self->greeting->minor * 1000 + self->greeting->micro;
}

const char *
qmp_client_get_package (QmpClient *self)
{
  g_return_val_if_fail (QMP_IS_CLIENT (self), NULL);
  if (self->greeting == NULL)
    return NULL;
  return self->greeting->package != NULL ? self->greeting->package : "";
}

gboolean
qmp_client_has_capability (QmpClient *self, const char *capability)
{
  g_return_val_if_fail (QMP_IS_CLIENT (self), FALSE);
  return self->greeting != NULL
         && g_strv_contains ((const char *const *)self->greeting->capabilities, capability);
}

/* ---- GObject ---- */

QmpClient *
qmp_client_new_for_fd (int fd)
{
  QmpClient *self = g_object_new (QMP_TYPE_CLIENT, NULL);

  /* A bad fd shows up as a read error at the handshake, with the errno in the message. */
  (void)g_unix_set_fd_nonblocking (fd, TRUE, NULL);
  (void)fcntl (fd, F_SETFD, FD_CLOEXEC);
  self->fd = fd;
  return self;
}

static void
qmp_client_finalize (GObject *object)
{
  QmpClient *self = QMP_CLIENT (object);

  /* Connected clients hold a reference, so only never-started or closed ones get here. */
  stop_io (self);
  stop_handshake_watch (self);
  g_clear_object (&self->handshake);
  g_hash_table_unref (self->pending);
  qmp_parser_free (self->parser);
  qmp_greeting_free (self->greeting);
  g_free (self->version);
  g_main_context_unref (self->context);
  G_OBJECT_CLASS (qmp_client_parent_class)->finalize (object);
}

static void
qmp_client_class_init (QmpClientClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = qmp_client_finalize;

  signals[SIGNAL_EVENT]
    = g_signal_new ("event", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST | G_SIGNAL_DETAILED, 0,
                    NULL, NULL, NULL, G_TYPE_NONE, 1, QMP_TYPE_EVENT | G_SIGNAL_TYPE_STATIC_SCOPE);
  signals[SIGNAL_DISCONNECTED]
    = g_signal_new ("disconnected", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                    NULL, G_TYPE_NONE, 1, G_TYPE_ERROR | G_SIGNAL_TYPE_STATIC_SCOPE);
}

static void
qmp_client_init (QmpClient *self)
{
  self->fd = -1;
  self->context = g_main_context_ref_thread_default ();
  self->parser = qmp_parser_new ();
  self->pending
    = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, (GDestroyNotify)pending_free);
  self->timeout_ms = QMP_CLIENT_DEFAULT_TIMEOUT_MS;
  g_queue_init (&self->write_queue);
  g_queue_init (&self->held);
}
