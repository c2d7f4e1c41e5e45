/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "mvd-serial.h"

#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <glib-unix.h>
#include <glib/gstdio.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mvm-error.h"
#include "mvd-log.h"

#define READ_CHUNK 4096
/* typed input waiting for the guest; past this, clients are not read until it drains */
#define INPUT_QUEUE_MAX (64 * 1024)

typedef struct
{
  MvdSerial *serial;
  int fd;
  guint watch;        /* reading what the client types; 0 while paused or after its EOF */
  gboolean eof;       /* the client shut its sending side: it still gets output */
  gboolean read_only; /* output only: the daemon shut the socket's reading side */
} Client;

struct _MvdSerial
{
  GObject parent_instance;
  char *name;
  char *log_path;
  guint64 max_bytes;
  guint keep_files;
  int log_fd;
  guint64 log_size;
  gboolean log_failed; /* reported once, not per line */
  int qemu_fd;
  guint qemu_watch;
  guint qemu_out_watch;
  GByteArray *to_qemu;
  GPtrArray *clients;
  Client *writer; /* the one client whose typing reaches the guest, if any */
};

G_DEFINE_TYPE (MvdSerial, mvd_serial, G_TYPE_OBJECT)

static gboolean on_client_readable (int fd, GIOCondition condition, gpointer user_data);

static void
client_free (gpointer p)
{
  Client *c = p;

  if (c->serial->writer == c)
    c->serial->writer = NULL;
  g_clear_handle_id (&c->watch, g_source_remove);
  close (c->fd);
  g_free (c);
}

static gboolean on_client_hangup (int fd, GIOCondition condition, gpointer user_data);

static void
client_watch (Client *c)
{
  if (c->watch != 0)
    return;
  if (c->eof || c->read_only)
    c->watch = g_unix_fd_add (c->fd, G_IO_HUP | G_IO_ERR, on_client_hangup, c);
  else
    c->watch = g_unix_fd_add (c->fd, G_IO_IN | G_IO_HUP | G_IO_ERR, on_client_readable, c);
}

/* Output only from now on: what the client types fails (EPIPE) instead of piling up. */
static void
client_make_read_only (Client *c)
{
  c->read_only = TRUE;
  shutdown (c->fd, SHUT_RD);
  if (c->serial->writer == c)
    c->serial->writer = NULL;
  g_clear_handle_id (&c->watch, g_source_remove);
  client_watch (c);
}

/* --- the log ------------------------------------------------------------------------- */

static void
log_close (MvdSerial *self)
{
  if (self->log_fd >= 0)
    close (self->log_fd);
  self->log_fd = -1;
}

static void
log_report (MvdSerial *self, const char *what)
{
  if (!self->log_failed)
    mvd_guest_warning (self->name,
                       "cannot %s %s: %s; console output is not logged until it works again", what,
                       self->log_path, g_strerror (errno));
  self->log_failed = TRUE;
}

static gboolean
log_open (MvdSerial *self)
{
  struct stat st;

  if (self->log_fd >= 0)
    return TRUE;
  self->log_fd
    = open (self->log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0640);
  if (self->log_fd < 0)
    {
      log_report (self, "open");
      return FALSE;
    }
  self->log_size = fstat (self->log_fd, &st) == 0 ? st.st_size : 0;
  return TRUE;
}

/* NAME.log -> NAME.log.1 -> ... -> NAME.log.K; the oldest falls off. */
static void
log_rotate (MvdSerial *self)
{
  log_close (self);
  for (guint i = self->keep_files; i > 0; i--)
    {
      g_autofree char *from
        = i > 1 ? g_strdup_printf ("%s.%u", self->log_path, i - 1) : g_strdup (self->log_path);
      g_autofree char *to = g_strdup_printf ("%s.%u", self->log_path, i);
      g_rename (from, to);
    }
  if (self->keep_files == 0)
    g_unlink (self->log_path);
}

static void
log_write (MvdSerial *self, const char *data, gsize length)
{
  gssize n;

  if (self->log_size + length > self->max_bytes)
    log_rotate (self);
  if (!log_open (self))
    return;
  n = write (self->log_fd, data, length);
  if (n < 0)
    {
      log_report (self, "write");
      log_close (self);
      return;
    }
  if (self->log_failed)
    mvd_guest_message (self->name, "logging to %s works again", self->log_path);
  self->log_failed = FALSE;
  self->log_size += n;
}

/* --- from the guest -------------------------------------------------------------------- */

/* Console clients that cannot keep up lose output rather than slow the guest down. */
static void
broadcast (MvdSerial *self, const char *data, gsize length)
{
  for (guint i = 0; i < self->clients->len;)
    {
      Client *c = self->clients->pdata[i];
      if (send (c->fd, data, length, MSG_DONTWAIT | MSG_NOSIGNAL) < 0 && errno != EAGAIN
          && errno != EWOULDBLOCK)
        {
          g_ptr_array_remove_index_fast (self->clients, i); /* gone for good */
          continue;
        }
      i++;
    }
}

/* Everything QEMU has written so far: FALSE at its EOF. */
static gboolean
read_from_qemu (MvdSerial *self)
{
  char buf[READ_CHUNK];

  for (;;)
    {
      gssize n = read (self->qemu_fd, buf, sizeof buf);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0 && errno == EAGAIN)
        return TRUE;
      if (n <= 0)
        return FALSE;
      log_write (self, buf, n);
      broadcast (self, buf, n);
      if (n < (gssize)sizeof buf)
        return TRUE;
    }
}

static gboolean
on_qemu_readable (int fd, GIOCondition condition, gpointer user_data)
{
  MvdSerial *self = user_data;

  if (read_from_qemu (self))
    return G_SOURCE_CONTINUE;
  self->qemu_watch = 0;
  mvd_serial_detach (self);
  return G_SOURCE_REMOVE;
}

/* --- to the guest ------------------------------------------------------------------------ */

static void
resume_clients (MvdSerial *self)
{
  for (guint i = 0; i < self->clients->len; i++)
    client_watch (self->clients->pdata[i]);
}

static gboolean
on_qemu_writable (int fd, GIOCondition condition, gpointer user_data)
{
  MvdSerial *self = user_data;
  gssize n = send (fd, self->to_qemu->data, self->to_qemu->len, MSG_DONTWAIT | MSG_NOSIGNAL);

  if (n < 0 && (errno == EAGAIN || errno == EINTR))
    return G_SOURCE_CONTINUE;
  if (n < 0)
    g_byte_array_set_size (self->to_qemu, 0); /* QEMU went away; the read side notices */
  else
    g_byte_array_remove_range (self->to_qemu, 0, n);
  if (self->to_qemu->len < INPUT_QUEUE_MAX)
    resume_clients (self);
  if (self->to_qemu->len > 0)
    return G_SOURCE_CONTINUE;
  self->qemu_out_watch = 0;
  return G_SOURCE_REMOVE;
}

static void
queue_input (MvdSerial *self, const guint8 *data, gsize length)
{
  if (self->qemu_fd < 0)
    return;
  g_byte_array_append (self->to_qemu, data, length);
  if (self->qemu_out_watch == 0)
    self->qemu_out_watch = g_unix_fd_add (self->qemu_fd, G_IO_OUT, on_qemu_writable, self);
}

static gboolean
on_client_hangup (int fd, GIOCondition condition, gpointer user_data)
{
  Client *c = user_data;

  c->watch = 0;
  g_ptr_array_remove_fast (c->serial->clients, c);
  return G_SOURCE_REMOVE;
}

static gboolean
on_client_readable (int fd, GIOCondition condition, gpointer user_data)
{
  Client *c = user_data;
  MvdSerial *self = c->serial;
  guint8 buf[READ_CHUNK];
  gssize n;

  if (self->to_qemu->len >= INPUT_QUEUE_MAX)
    {
      c->watch = 0; /* paused until the guest has taken what is queued */
      return G_SOURCE_REMOVE;
    }
  n = read (fd, buf, sizeof buf);
  if (n < 0 && (errno == EAGAIN || errno == EINTR))
    return G_SOURCE_CONTINUE;
  if (n < 0)
    {
      c->watch = 0;
      g_ptr_array_remove_fast (self->clients, c);
      return G_SOURCE_REMOVE;
    }
  if (n == 0 && (condition & G_IO_HUP))
    {
      c->watch = 0; /* closed both ways: gone */
      g_ptr_array_remove_fast (self->clients, c);
      return G_SOURCE_REMOVE;
    }
  if (n == 0)
    {
      /* nothing more to type, output still goes to it until it closes; another may type */
      c->eof = TRUE;
      if (self->writer == c)
        self->writer = NULL;
      c->watch = g_unix_fd_add (c->fd, G_IO_HUP | G_IO_ERR, on_client_hangup, c);
      return G_SOURCE_REMOVE;
    }
  queue_input (self, buf, n);
  return G_SOURCE_CONTINUE;
}

/* --- attaching ------------------------------------------------------------------------------ */

void
mvd_serial_attach (MvdSerial *self, int fd)
{
  mvd_serial_detach (self);
  g_unix_set_fd_nonblocking (fd, TRUE, NULL);
  self->qemu_fd = fd;
  self->qemu_watch = g_unix_fd_add (fd, G_IO_IN | G_IO_HUP | G_IO_ERR, on_qemu_readable, self);
}

void
mvd_serial_detach (MvdSerial *self)
{
  if (self->qemu_fd >= 0)
    read_from_qemu (self); /* the last lines a stopping guest wrote */
  g_clear_handle_id (&self->qemu_watch, g_source_remove);
  g_clear_handle_id (&self->qemu_out_watch, g_source_remove);
  g_byte_array_set_size (self->to_qemu, 0);
  if (self->qemu_fd >= 0)
    close (self->qemu_fd);
  self->qemu_fd = -1;
}

static const char taken_over[]
  = "\r\n[microvmd: another console client took over typing; this one only shows output]\r\n";

/* Who may open one more console, as @mode asks; a forced take-over demotes the writer. */
static gboolean
admit (MvdSerial *self, MvdConsoleMode mode, GError **error)
{
  if (self->clients->len >= MVD_SERIAL_MAX_CLIENTS)
    {
      g_set_error (error, MVM_ERROR, MVM_ERROR_LIMIT_EXCEEDED,
                   "guest %s: %u console clients are connected, the most allowed", self->name,
                   self->clients->len);
      return FALSE;
    }
  if (mode != MVD_CONSOLE_WRITE || self->writer == NULL)
    return TRUE;
  g_set_error (error, MVM_ERROR, MVM_ERROR_BUSY,
               "guest %s: another client is typing on the console; take it over with force "
               "(microvmctl console --force), or watch with read-only",
               self->name);
  return FALSE;
}

int
mvd_serial_open_console (MvdSerial *self, MvdConsoleMode mode, GError **error)
{
  int pair[2];
  Client *c;

  if (!admit (self, mode, error))
    return -1;
  if (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) < 0)
    {
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno),
                   "guest %s: cannot create a console socket: %s", self->name, g_strerror (errno));
      return -1;
    }
  g_unix_set_fd_nonblocking (pair[0], TRUE, NULL);
  c = g_new0 (Client, 1);
  c->serial = self;
  c->fd = pair[0];
  if (mode == MVD_CONSOLE_READ_ONLY)
    {
      c->read_only = TRUE;
      shutdown (c->fd, SHUT_RD);
    }
  else
    {
      if (self->writer)
        {
          (void)!write (self->writer->fd, taken_over, sizeof taken_over - 1);
          client_make_read_only (self->writer);
        }
      self->writer = c;
    }
  client_watch (c);
  g_ptr_array_add (self->clients, c);
  return pair[1];
}

void
mvd_serial_close_consoles (MvdSerial *self)
{
  g_ptr_array_set_size (self->clients, 0);
}

static void
mvd_serial_finalize (GObject *object)
{
  MvdSerial *self = MVD_SERIAL (object);

  mvd_serial_detach (self);
  g_ptr_array_unref (self->clients);
  g_byte_array_unref (self->to_qemu);
  log_close (self);
  g_free (self->name);
  g_free (self->log_path);
  G_OBJECT_CLASS (mvd_serial_parent_class)->finalize (object);
}

static void
mvd_serial_class_init (MvdSerialClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = mvd_serial_finalize;
}

static void
mvd_serial_init (MvdSerial *self)
{
  self->log_fd = -1;
  self->qemu_fd = -1;
  self->to_qemu = g_byte_array_new ();
  self->clients = g_ptr_array_new_with_free_func (client_free);
}

MvdSerial *
mvd_serial_new (const char *name, const char *log_path, guint64 max_bytes, guint keep_files)
{
  MvdSerial *self = g_object_new (MVD_TYPE_SERIAL, NULL);

  self->name = g_strdup (name);
  self->log_path = g_strdup (log_path);
  self->max_bytes = max_bytes;
  self->keep_files = keep_files;
  return self;
}
