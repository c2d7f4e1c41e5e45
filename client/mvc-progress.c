/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "mvc-progress.h"

#include "mvc-common.h"

#include <errno.h>
#include <gio/gunixfdlist.h>
#include <glib-unix.h>
#include <sys/ioctl.h>
#include <unistd.h>

#define REDRAW_MSEC 100
#define LINE_MAX_BYTES 512

struct _MvcProgress
{
  MvmDbusGuest *guest;
  gint64 started;
  int console;
  guint console_watch;
  guint timer;
  GString *partial; /* the console line being written */
  char *last;       /* the last complete, non-empty console line */
};

/* What a terminal may show of a guest's line: printable ASCII, escape sequences dropped */
static char *
printable (const char *line)
{
  GString *out = g_string_new (NULL);

  for (const char *p = line; *p; p++)
    {
      if (*p == '\033')
        {
          /* ESC [ parameters final-byte */
          if (p[1] == '[')
            for (p += 2; *p && !(*p >= '@' && *p <= '~'); p++)
              ;
          if (*p == '\0')
            break;
          continue;
        }
      if (g_ascii_isprint (*p))
        g_string_append_c (out, *p);
    }
  return g_strstrip (g_string_free (out, FALSE));
}

static void
take_bytes (MvcProgress *self, const char *buf, gssize n)
{
  for (gssize i = 0; i < n; i++)
    {
      if (buf[i] != '\n' && buf[i] != '\r')
        {
          if (self->partial->len < LINE_MAX_BYTES)
            g_string_append_c (self->partial, buf[i]);
          continue;
        }
      g_autofree char *line = printable (self->partial->str);
      g_string_truncate (self->partial, 0);
      if (line[0])
        {
          g_free (self->last);
          self->last = g_steal_pointer (&line);
        }
    }
}

static gboolean
on_console (int fd, GIOCondition condition, gpointer data)
{
  MvcProgress *self = data;
  char buf[4096];
  gssize n = read (fd, buf, sizeof buf);

  if (n > 0)
    {
      take_bytes (self, buf, n);
      return G_SOURCE_CONTINUE;
    }
  if (n < 0 && (errno == EAGAIN || errno == EINTR))
    return G_SOURCE_CONTINUE;
  self->console_watch = 0;
  return G_SOURCE_REMOVE;
}

static guint
terminal_width (void)
{
  struct winsize ws;

  return ioctl (STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 20 ? ws.ws_col : 80;
}

static gboolean
draw (gpointer data)
{
  MvcProgress *self = data;
  double seconds = (g_get_monotonic_time () - self->started) / 1e6;
  g_autofree char *head
    = g_strdup_printf ("starting %s: %.1f s", mvm_dbus_guest_get_name (self->guest), seconds);
  guint room = terminal_width () - 1;
  g_autoptr (GString) line = g_string_new (head);

  if (self->last)
    g_string_append_printf (line, " | %s", self->last);
  if (line->len > room)
    g_string_truncate (line, room);
  g_printerr ("\r\033[K%s", line->str);
  return G_SOURCE_CONTINUE;
}

MvcProgress *
mvc_progress_begin (MvmDbusGuest *guest)
{
  MvcProgress *self;

  if (!isatty (STDERR_FILENO))
    return NULL;
  self = g_new0 (MvcProgress, 1);
  self->guest = g_object_ref (guest);
  self->started = g_get_monotonic_time ();
  self->partial = g_string_new (NULL);
  self->console = mvc_open_read_only_console (guest, NULL);
  if (self->console >= 0)
    self->console_watch = g_unix_fd_add (self->console, G_IO_IN | G_IO_HUP, on_console, self);
  self->timer = g_timeout_add (REDRAW_MSEC, draw, self);
  draw (self);
  return self;
}

void
mvc_progress_end (MvcProgress *self)
{
  if (self == NULL)
    return;
  g_clear_handle_id (&self->timer, g_source_remove);
  g_clear_handle_id (&self->console_watch, g_source_remove);
  if (self->console >= 0)
    close (self->console);
  g_printerr ("\r\033[K");
  g_string_free (self->partial, TRUE);
  g_free (self->last);
  g_object_unref (self->guest);
  g_free (self);
}
