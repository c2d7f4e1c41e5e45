/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "mvc-progress.h"

#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "mvc-console-lines.h"

#define REDRAW_MSEC 100

struct _MvcProgress
{
  MvmDbusGuest *guest;
  gint64 started;
  MvcConsoleLines *console; /* NULL without the right to a console */
  guint timer;
  char *last; /* the last complete, non-empty console line */
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

/* The last non-empty line the guest wrote; what a carriage return overwrote is gone */
static void
take_line (char *line, gpointer data)
{
  MvcProgress *self = data;
  const char *after_cr = strrchr (line, '\r');
  g_autofree char *shown = printable (after_cr ? after_cr + 1 : line);

  if (shown[0])
    {
      g_free (self->last);
      self->last = g_steal_pointer (&shown);
    }
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
  self->console = mvc_console_lines_open (guest, take_line, self, NULL);
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
  mvc_console_lines_close (self->console);
  g_printerr ("\r\033[K");
  g_free (self->last);
  g_object_unref (self->guest);
  g_free (self);
}
