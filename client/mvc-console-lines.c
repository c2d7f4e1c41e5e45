/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "mvc-console-lines.h"

#include <errno.h>
#include <glib-unix.h>
#include <unistd.h>

#include "mvc-common.h"

#define LINE_MAX_BYTES (1024 * 1024)

struct _MvcConsoleLines
{
  int fd;
  guint watch;
  GString *partial;
  MvcConsoleLineFunc func;
  gpointer user_data;
};

static void
pass_line (MvcConsoleLines *self)
{
  if (self->partial->len && self->partial->str[self->partial->len - 1] == '\r')
    g_string_truncate (self->partial, self->partial->len - 1);
  self->func (self->partial->str, self->user_data);
  g_string_truncate (self->partial, 0);
}

static void
take_bytes (MvcConsoleLines *self, const char *buf, gssize n)
{
  for (gssize i = 0; i < n; i++)
    {
      if (buf[i] == '\n' || self->partial->len >= LINE_MAX_BYTES)
        pass_line (self);
      if (buf[i] != '\n')
        g_string_append_c (self->partial, buf[i]);
    }
}

typedef enum
{
  READ_SOME,
  READ_NOTHING_YET,
  READ_DONE, /* the socket ended or failed */
} ReadResult;

static ReadResult
read_once (MvcConsoleLines *self)
{
  char buf[4096];
  gssize n = read (self->fd, buf, sizeof buf);

  if (n > 0)
    {
      take_bytes (self, buf, n);
      return READ_SOME;
    }
  if (n < 0 && (errno == EAGAIN || errno == EINTR))
    return READ_NOTHING_YET;
  return READ_DONE;
}

static gboolean
on_readable (int fd, GIOCondition condition, gpointer data)
{
  MvcConsoleLines *self = data;

  if (read_once (self) != READ_DONE)
    return G_SOURCE_CONTINUE;
  self->watch = 0;
  return G_SOURCE_REMOVE;
}

MvcConsoleLines *
mvc_console_lines_open (MvmDbusGuest *guest, MvcConsoleLineFunc func, gpointer user_data,
                        GError **error)
{
  MvcConsoleLines *self;
  int fd = mvc_open_console (guest, FALSE, TRUE, error);

  if (fd < 0)
    return NULL;
  self = g_new0 (MvcConsoleLines, 1);
  self->fd = fd;
  self->partial = g_string_new (NULL);
  self->func = func;
  self->user_data = user_data;
  self->watch = g_unix_fd_add (fd, G_IO_IN | G_IO_HUP, on_readable, self);
  return self;
}

void
mvc_console_lines_drain (MvcConsoleLines *self)
{
  while (self->watch && read_once (self) == READ_SOME)
    ;
}

void
mvc_console_lines_close (MvcConsoleLines *self)
{
  if (self == NULL)
    return;
  g_clear_handle_id (&self->watch, g_source_remove);
  close (self->fd);
  g_string_free (self->partial, TRUE);
  g_free (self);
}
