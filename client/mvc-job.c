/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Following an org.microvmd1.Job (image import, snapshot save) to its end. */
#include "mvc-job.h"

#include <glib-unix.h>
#include <unistd.h>

typedef struct
{
  MvmDbusJob *job;
  const MvcJobWords *words;
  GMainLoop *loop;
  gboolean tty;
  gint64 started;
  guint last_tenth; /* piped: a line at each tenth */
} Follow;

MvmDbusJob *
mvc_job_proxy (MvcContext *ctx, const char *path, GError **error)
{
  return mvm_dbus_job_proxy_new_sync (ctx->bus, G_DBUS_PROXY_FLAGS_NONE, MVC_BUS_NAME, path, NULL,
                                      error);
}

static void
draw (Follow *f)
{
  guint64 done = mvm_dbus_job_get_bytes_done (f->job);
  guint64 total = mvm_dbus_job_get_bytes_total (f->job);
  const char *target = mvm_dbus_job_get_target (f->job);
  double seconds = (g_get_monotonic_time () - f->started) / 1e6;
  double rate = seconds > 0 ? done / seconds : 0;
  g_autofree char *done_s = g_format_size_full (done, G_FORMAT_SIZE_IEC_UNITS);
  g_autofree char *total_s = g_format_size_full (total, G_FORMAT_SIZE_IEC_UNITS);
  g_autofree char *rate_s = g_format_size_full ((guint64)rate, G_FORMAT_SIZE_IEC_UNITS);
  guint tenth = total ? (guint)(done * 10 / total) : 0;

  if (f->tty)
    {
      if (total && rate > 0)
        g_printerr ("\r\033[K%s %s: %s of %s (%u%%), %s/s, %.0f s left", f->words->doing, target,
                    done_s, total_s, (guint)(done * 100 / total), rate_s,
                    (total - MIN (done, total)) / rate);
      else
        g_printerr ("\r\033[K%s %s: %s %s", f->words->doing, target, done_s, f->words->moved);
    }
  else if (total && tenth > f->last_tenth)
    {
      f->last_tenth = tenth;
      g_printerr ("%s %s: %s of %s\n", f->words->doing, target, done_s, total_s);
    }
}

static void
on_changed (GDBusProxy *proxy, GVariant *changed, GStrv invalidated, gpointer data)
{
  Follow *f = data;

  /* no State at all: microvmd left the bus, and the proxy dropped what it knew */
  if (g_strcmp0 (mvm_dbus_job_get_state (f->job), "running") != 0)
    g_main_loop_quit (f->loop);
  else
    draw (f);
}

static gboolean
on_interrupt (gpointer data)
{
  Follow *f = data;

  g_printerr ("%scancelling the %s\n", f->tty ? "\n" : "", f->words->what);
  mvm_dbus_job_call_cancel (f->job, NULL, NULL, NULL);
  return G_SOURCE_CONTINUE;
}

/* The error of a job that ended in @state, which is not "done" */
static void
set_job_error (MvmDbusJob *job, const char *state, const MvcJobWords *words, GError **error)
{
  const char *message = mvm_dbus_job_get_error (job);

  if (state == NULL)
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                 "microvmd left the bus during the %s; see its log", words->what);
  else if (g_str_equal (state, "cancelled"))
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED, "%s cancelled; nothing was kept",
                 words->what);
  else if (message && message[0])
    g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_FAILED, message);
  else
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "the %s ended %s", words->what, state);
}

gboolean
mvc_job_follow (MvmDbusJob *job, const MvcJobWords *words, GError **error)
{
  Follow f = { .job = job,
               .words = words,
               .loop = g_main_loop_new (NULL, FALSE),
               .tty = isatty (STDERR_FILENO),
               .started = g_get_monotonic_time () };
  guint sigint = g_unix_signal_add (SIGINT, on_interrupt, &f);
  guint sigterm = g_unix_signal_add (SIGTERM, on_interrupt, &f);
  gulong handler = g_signal_connect (job, "g-properties-changed", G_CALLBACK (on_changed), &f);
  const char *state;

  if (g_strcmp0 (mvm_dbus_job_get_state (job), "running") == 0)
    g_main_loop_run (f.loop);
  g_signal_handler_disconnect (job, handler);
  g_source_remove (sigint);
  g_source_remove (sigterm);
  g_main_loop_unref (f.loop);
  if (f.tty)
    g_printerr ("\r\033[K");
  state = mvm_dbus_job_get_state (job);
  if (g_strcmp0 (state, "done") == 0)
    return TRUE;
  set_job_error (job, state, words, error);
  return FALSE;
}
