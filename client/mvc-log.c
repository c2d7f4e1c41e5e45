/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* microvmctl log: the guest's serial log, read from the daemon's log folder. */
#include <errno.h>
#include <fcntl.h>
#include <glib-unix.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mvc-escape.h"
#include "mvc-tail.h"
#include "mvc-verbs.h"
#include "mvm-paths.h"
#include "mvm-value.h"

#define FOLLOW_INTERVAL_MSEC 200
/* LogKeepFiles= at most (microvmd.conf(5)) */
#define MAX_ROTATED 100

typedef struct
{
  char *path;
  int fd; /* NAME.log as it was when opened; -1 while there is none */
  dev_t dev;
  ino_t ino;
  goffset offset; /* how far it was printed */
  GMainLoop *loop;
  guint timer;
  GError *error;
  gboolean escape; /* stdout is a terminal and --raw was not given */
} Follow;

/* Guest bytes to standard output, made harmless for a terminal unless --raw. */
static gboolean
emit (const Follow *f, const char *data, gsize length, GError **error)
{
  g_autoptr (GString) safe = NULL;

  if (!f->escape)
    return mvc_write_all (STDOUT_FILENO, "standard output", data, length, error);
  safe = g_string_sized_new (length);
  mvc_escape_control (safe, data, length);
  return mvc_write_all (STDOUT_FILENO, "standard output", safe->str, safe->len, error);
}

static void
follow_clear (Follow *f)
{
  if (f->fd >= 0)
    close (f->fd);
  f->fd = -1;
  g_clear_pointer (&f->path, g_free);
  g_clear_pointer (&f->loop, g_main_loop_unref);
  g_clear_error (&f->error);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Follow, follow_clear)

static gboolean
open_log (Follow *f, GError **error)
{
  struct stat st;

  f->fd = open (f->path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (f->fd < 0 && errno == ENOENT)
    return TRUE;
  if (f->fd < 0 || fstat (f->fd, &st) < 0)
    {
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno), "cannot read %s: %s", f->path,
                   g_strerror (errno));
      return FALSE;
    }
  f->dev = st.st_dev;
  f->ino = st.st_ino;
  f->offset = 0;
  return TRUE;
}

/* Appends what @fd holds from its position to its end. */
static gboolean
read_rest (int fd, const char *path, GByteArray *out, GError **error)
{
  guint8 buf[65536];

  for (;;)
    {
      gssize n = read (fd, buf, sizeof buf);

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno), "cannot read %s: %s", path,
                       g_strerror (errno));
          return FALSE;
        }
      if (n == 0)
        return TRUE;
      g_byte_array_append (out, buf, n);
    }
}

/* Prints what was appended to the open log since last time. */
static gboolean
print_new (Follow *f, GError **error)
{
  g_autoptr (GByteArray) data = g_byte_array_new ();

  if (f->fd < 0)
    return TRUE;
  if (!read_rest (f->fd, f->path, data, error))
    return FALSE;
  f->offset += data->len;
  return emit (f, (const char *)data->data, data->len, error);
}

/* @pieces are newest first, spans oldest first. */
static MvcSpan *
spans_of (GPtrArray *pieces)
{
  MvcSpan *spans = g_new (MvcSpan, pieces->len);

  for (guint i = 0; i < pieces->len; i++)
    {
      GByteArray *piece = pieces->pdata[pieces->len - 1 - i];
      spans[i] = (MvcSpan){ (const char *)piece->data, piece->len };
    }
  return spans;
}

/* NAME.log.1 ... NAME.log.K, newest first, until @n_lines are there (-1: all of them). A file
 * that is the open NAME.log itself (rotated while we looked) ends the search. */
static void
load_rotated (const Follow *f, GPtrArray *pieces, gint64 n_lines)
{
  for (guint k = 1; k <= MAX_ROTATED; k++)
    {
      g_autofree char *path = g_strdup_printf ("%s.%u", f->path, k);
      g_autoptr (GByteArray) data = g_byte_array_new ();
      g_autoptr (GError) error = NULL;
      g_autofree MvcSpan *spans = NULL;
      struct stat st;
      guint span;
      gsize offset;
      int fd;

      if (n_lines >= 0)
        {
          spans = spans_of (pieces);
          if (mvc_tail_start (spans, pieces->len, n_lines, &span, &offset))
            return;
        }
      fd = open (path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
      if (fd < 0)
        return;
      if (fstat (fd, &st) < 0 || (st.st_dev == f->dev && st.st_ino == f->ino)
          || !read_rest (fd, path, data, &error))
        {
          close (fd);
          return;
        }
      close (fd);
      g_ptr_array_add (pieces, g_steal_pointer (&data));
    }
}

/* Prints the end of the log (@n_lines, or all when -1), older files first. */
static gboolean
print_start (Follow *f, gint64 n_lines, GError **error)
{
  g_autoptr (GPtrArray) pieces
    = g_ptr_array_new_with_free_func ((GDestroyNotify)g_byte_array_unref);
  g_autoptr (GByteArray) current = g_byte_array_new ();
  g_autofree MvcSpan *spans = NULL;
  guint span = 0;
  gsize offset = 0;

  if (f->fd < 0)
    return TRUE;
  if (!read_rest (f->fd, f->path, current, error))
    return FALSE;
  f->offset = current->len;
  g_ptr_array_add (pieces, g_byte_array_ref (current));
  load_rotated (f, pieces, n_lines);
  spans = spans_of (pieces);
  if (n_lines >= 0)
    mvc_tail_start (spans, pieces->len, n_lines, &span, &offset);
  for (guint i = span; i < pieces->len; i++)
    {
      gsize from = i == span ? offset : 0;
      if (!emit (f, spans[i].data + from, spans[i].length - from, error))
        return FALSE;
    }
  return TRUE;
}

/* After several rotations between two looks, the files between ours (now NAME.log.R) and the
 * new NAME.log were never seen: print NAME.log.R-1 ... NAME.log.1. When ours fell off the end,
 * every rotated file is newer than ours, and some may have fallen off too. */
static gboolean
print_skipped (const Follow *f, GError **error)
{
  guint ours = 0, n_rotated = 0;

  for (guint k = 1; k <= MAX_ROTATED && ours == 0; k++)
    {
      g_autofree char *path = g_strdup_printf ("%s.%u", f->path, k);
      struct stat st;

      if (stat (path, &st) < 0)
        break;
      n_rotated = k;
      if (st.st_dev == f->dev && st.st_ino == f->ino)
        ours = k;
    }
  if (ours == 0 && n_rotated > 0)
    g_printerr ("microvmctl: %s was rotated more than %u times in %u ms; some output may be "
                "missing\n",
                f->path, n_rotated, FOLLOW_INTERVAL_MSEC);
  for (guint k = ours ? ours : n_rotated + 1; k-- > 1;)
    {
      g_autofree char *path = g_strdup_printf ("%s.%u", f->path, k);
      g_autofree char *data = NULL;
      gsize length;

      /* gone already: rotated away while we looked */
      if (g_file_get_contents (path, &data, &length, NULL) && !emit (f, data, length, error))
        return FALSE;
    }
  return TRUE;
}

/* One look, like tail -F: print what was added; when NAME.log was renamed away or replaced,
 * finish the old file first, then print the new one from its start. */
static gboolean
follow_step (Follow *f, GError **error)
{
  struct stat st;

  if (!print_new (f, error))
    return FALSE;
  if (stat (f->path, &st) < 0)
    {
      if (errno == ENOENT)
        return TRUE;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno), "cannot read %s: %s", f->path,
                   g_strerror (errno));
      return FALSE;
    }
  if (f->fd < 0 || st.st_dev != f->dev || st.st_ino != f->ino)
    {
      if (f->fd >= 0 && !print_skipped (f, error))
        return FALSE;
      if (f->fd >= 0)
        close (f->fd);
      f->fd = -1;
      return open_log (f, error) && print_new (f, error);
    }
  if (fstat (f->fd, &st) == 0 && st.st_size < f->offset)
    {
      /* truncated in place: what is there now is new */
      if (lseek (f->fd, 0, SEEK_SET) < 0)
        {
          g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno), "cannot read %s: %s",
                       f->path, g_strerror (errno));
          return FALSE;
        }
      f->offset = 0;
      return print_new (f, error);
    }
  return TRUE;
}

static gboolean
on_follow_timer (gpointer user_data)
{
  Follow *f = user_data;

  if (follow_step (f, &f->error))
    return G_SOURCE_CONTINUE;
  f->timer = 0;
  g_main_loop_quit (f->loop);
  return G_SOURCE_REMOVE;
}

static gboolean
on_quit_signal (gpointer user_data)
{
  Follow *f = user_data;

  g_main_loop_quit (f->loop);
  return G_SOURCE_CONTINUE;
}

static gboolean
follow (Follow *f, GError **error)
{
  guint sigint, sigterm;

  f->loop = g_main_loop_new (NULL, FALSE);
  f->timer = g_timeout_add (FOLLOW_INTERVAL_MSEC, on_follow_timer, f);
  sigint = g_unix_signal_add (SIGINT, on_quit_signal, f);
  sigterm = g_unix_signal_add (SIGTERM, on_quit_signal, f);
  g_main_loop_run (f->loop);
  g_clear_handle_id (&f->timer, g_source_remove);
  g_source_remove (sigint);
  g_source_remove (sigterm);
  if (f->error)
    {
      g_propagate_error (error, g_steal_pointer (&f->error));
      return FALSE;
    }
  return TRUE;
}

int
mvc_log (MvcContext *ctx, int argc, char **argv)
{
  g_auto (Follow) f = { .fd = -1 };
  g_autoptr (MvmPaths) paths = mvm_paths_new (ctx->bus_type == G_BUS_TYPE_SESSION);
  g_autoptr (MvmDbusGuest) guest = NULL;
  g_autoptr (GError) error = NULL;
  gboolean follow_on = FALSE;
  gboolean raw = FALSE;
  gint64 n_lines = -1;
  int status;
  const GOptionEntry entries[] = {
    { "follow", 'f', 0, G_OPTION_ARG_NONE, &follow_on,
      "Then print what the guest writes, across rotation, until interrupted", NULL },
    { "lines", 'n', 0, G_OPTION_ARG_INT64, &n_lines, "Print only the last N lines", "N" },
    { "raw", 0, 0, G_OPTION_ARG_NONE, &raw,
      "Print control characters as they are, even to a terminal", NULL },
    { NULL },
  };

  /* -H: the log is a file on the remote, read there */
  if (ctx->host)
    return mvc_remote_client (ctx, argc, argv);
  if (!mvc_parse_verb (ctx, entries, "NAME",
                       "Prints guest NAME's serial console log, also when it is stopped.", 1, &argc,
                       &argv, &status))
    return status;
  if (n_lines < -1)
    return mvc_usage ("log: --lines needs a number of lines, 0 or more");
  if (!mvm_name_is_valid (argv[1]))
    {
      g_printerr ("microvmctl: no guest named '%s'\n", argv[1]);
      return MVC_EXIT_NO_SUCH_GUEST;
    }
  f.path = mvm_paths_guest_log (paths, argv[1]);
  f.escape = !raw && isatty (STDOUT_FILENO);
  if (!open_log (&f, &error))
    return mvc_fail (error);
  /* an undefined guest leaves its log behind: print it without asking who it was */
  if (f.fd < 0)
    {
      guest = mvc_guest (ctx, argv[1], &error);
      if (guest == NULL)
        return mvc_fail (error);
    }
  if (!print_start (&f, n_lines, &error))
    return mvc_fail (error);
  if (follow_on && !follow (&f, &error))
    return mvc_fail (error);
  return MVC_EXIT_OK;
}
