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

#define READ_CHUNK 4096

typedef struct
{
  MvdSerial *serial;
  int fd;
  guint watch;
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
  GPtrArray *clients;
};

G_DEFINE_TYPE (MvdSerial, mvd_serial, G_TYPE_OBJECT)

static void
client_free (gpointer p)
{
  Client *c = p;

  g_clear_handle_id (&c->watch, g_source_remove);
  close (c->fd);
  g_free (c);
}

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
    g_warning ("guest %s: cannot %s %s: %s; console output is not logged until it works again",
               self->name, what, self->log_path, g_strerror (errno));
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
    g_message ("guest %s: logging to %s works again", self->name, self->log_path);
  self->log_failed = FALSE;
  self->log_size += n;
}

/* Console clients that cannot keep up lose output rather than slow the guest down. */
static void
broadcast (MvdSerial *self, const char *data, gsize length)
{
  for (guint i = 0; i < self->clients->len; i++)
    {
      Client *c = self->clients->pdata[i];
      if (send (c->fd, data, length, MSG_DONTWAIT | MSG_NOSIGNAL) < 0 && errno != EAGAIN)
        g_debug ("guest %s: console client write failed: %s", self->name, g_strerror (errno));
    }
}

static gboolean
on_qemu_readable (int fd, GIOCondition condition, gpointer user_data)
{
  MvdSerial *self = user_data;
  char buf[READ_CHUNK];
  gssize n = read (fd, buf, sizeof buf);

  if (n < 0 && (errno == EAGAIN || errno == EINTR))
    return G_SOURCE_CONTINUE;
  if (n <= 0)
    {
      self->qemu_watch = 0;
      mvd_serial_detach (self);
      return G_SOURCE_REMOVE;
    }
  log_write (self, buf, n);
  broadcast (self, buf, n);
  return G_SOURCE_CONTINUE;
}

static gboolean
on_client_readable (int fd, GIOCondition condition, gpointer user_data)
{
  Client *c = user_data;
  MvdSerial *self = c->serial;
  char buf[READ_CHUNK];
  gssize n = read (fd, buf, sizeof buf);

  if (n < 0 && (errno == EAGAIN || errno == EINTR))
    return G_SOURCE_CONTINUE;
  if (n <= 0)
    {
      c->watch = 0;
      g_ptr_array_remove_fast (self->clients, c);
      return G_SOURCE_REMOVE;
    }
  if (self->qemu_fd >= 0 && send (self->qemu_fd, buf, n, MSG_NOSIGNAL) < 0)
    g_debug ("guest %s: console input dropped: %s", self->name, g_strerror (errno));
  return G_SOURCE_CONTINUE;
}

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
  g_clear_handle_id (&self->qemu_watch, g_source_remove);
  if (self->qemu_fd >= 0)
    close (self->qemu_fd);
  self->qemu_fd = -1;
}

int
mvd_serial_open_console (MvdSerial *self, GError **error)
{
  int pair[2];
  Client *c;

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
  c->watch = g_unix_fd_add (c->fd, G_IO_IN | G_IO_HUP | G_IO_ERR, on_client_readable, c);
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
