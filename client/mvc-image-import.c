/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* microvmctl image import NAME SOURCE: opens SOURCE with the caller's own rights and hands
 * the daemon a file descriptor (a folder as a tar stream), then follows the import job,
 * drawing its progress; ^C cancels it. */
#include <errno.h>
#include <fcntl.h>
#include <gio/gunixfdlist.h>
#include <gio/gunixinputstream.h>
#include <glib-unix.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mvc-verbs.h"
#include "mvm-value.h"

typedef struct
{
  MvmDbusJob *job;
  GSubprocess *tar; /* making a folder's stream, or NULL */
  GError *tar_error;
  GMainLoop *loop;
  gboolean tty;
  gint64 started;
  guint last_tenth; /* piped: a line at each tenth */
} Follow;

/* A folder reaches the daemon as a tar stream, owners and xattrs kept, made by tar under
 * the caller's rights; a file goes as it is. Returns the fd to send. */
static int
open_source (const char *source, GSubprocess **tar, GError **error)
{
  struct stat st;
  int fd;

  if (stat (source, &st) == 0 && S_ISDIR (st.st_mode))
    {
      GInputStream *out;
      *tar = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE, error, "tar", "-C", source,
                               "--numeric-owner", "--xattrs", "--xattrs-include=*", "-cf", "-", ".",
                               NULL);
      if (*tar == NULL)
        return -1;
      out = g_subprocess_get_stdout_pipe (*tar);
      return fcntl (g_unix_input_stream_get_fd (G_UNIX_INPUT_STREAM (out)), F_DUPFD_CLOEXEC, 3);
    }
  fd = open (source, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno), "cannot open %s: %s", source,
                 g_strerror (errno));
  return fd;
}

/* A tar that fails made an incomplete stream: the import must not keep it. */
static void
on_tar_ended (GObject *source, GAsyncResult *result, gpointer data)
{
  GError *error = NULL;
  Follow *f;

  if (g_subprocess_wait_check_finish (G_SUBPROCESS (source), result, &error))
    return;
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      g_error_free (error); /* follow() has returned: @data is gone */
      return;
    }
  f = data;
  g_prefix_error (&error, "tar of the folder: ");
  f->tar_error = error;
  mvm_dbus_job_call_cancel (f->job, NULL, NULL, NULL);
}

static void
draw (Follow *f)
{
  guint64 done = mvm_dbus_job_get_bytes_done (f->job);
  guint64 total = mvm_dbus_job_get_bytes_total (f->job);
  double seconds = (g_get_monotonic_time () - f->started) / 1e6;
  double rate = seconds > 0 ? done / seconds : 0;
  g_autofree char *done_s = g_format_size_full (done, G_FORMAT_SIZE_IEC_UNITS);
  g_autofree char *total_s = g_format_size_full (total, G_FORMAT_SIZE_IEC_UNITS);
  g_autofree char *rate_s = g_format_size_full ((guint64)rate, G_FORMAT_SIZE_IEC_UNITS);
  guint tenth = total ? (guint)(done * 10 / total) : 0;

  if (f->tty)
    {
      if (total && rate > 0)
        g_printerr ("\r\033[Kimporting %s: %s of %s (%u%%), %s/s, %.0f s left",
                    mvm_dbus_job_get_target (f->job), done_s, total_s, (guint)(done * 100 / total),
                    rate_s, (total - MIN (done, total)) / rate);
      else
        g_printerr ("\r\033[Kimporting %s: %s read", mvm_dbus_job_get_target (f->job), done_s);
    }
  else if (total && tenth > f->last_tenth)
    {
      f->last_tenth = tenth;
      g_printerr ("importing %s: %s of %s\n", mvm_dbus_job_get_target (f->job), done_s, total_s);
    }
}

static void
on_changed (GDBusProxy *proxy, GVariant *changed, GStrv invalidated, gpointer data)
{
  Follow *f = data;

  if (!g_str_equal (mvm_dbus_job_get_state (f->job), "running"))
    g_main_loop_quit (f->loop);
  else
    draw (f);
}

static gboolean
on_interrupt (gpointer data)
{
  Follow *f = data;

  g_printerr ("%scancelling the import\n", f->tty ? "\n" : "");
  mvm_dbus_job_call_cancel (f->job, NULL, NULL, NULL);
  return G_SOURCE_CONTINUE;
}

/* Until the job ends; its state then, and in @tar_error how the folder's tar failed */
static const char *
follow (MvmDbusJob *job, GSubprocess *tar, GError **tar_error)
{
  g_autoptr (GCancellable) tar_wait = g_cancellable_new ();
  Follow f = { .job = job,
               .tar = tar,
               .loop = g_main_loop_new (NULL, FALSE),
               .tty = isatty (STDERR_FILENO),
               .started = g_get_monotonic_time () };
  guint sigint = g_unix_signal_add (SIGINT, on_interrupt, &f);
  guint sigterm = g_unix_signal_add (SIGTERM, on_interrupt, &f);
  gulong handler = g_signal_connect (job, "g-properties-changed", G_CALLBACK (on_changed), &f);

  if (tar)
    g_subprocess_wait_check_async (tar, tar_wait, on_tar_ended, &f);
  if (g_str_equal (mvm_dbus_job_get_state (job), "running"))
    g_main_loop_run (f.loop);
  g_cancellable_cancel (tar_wait);
  *tar_error = f.tar_error;
  g_signal_handler_disconnect (job, handler);
  g_source_remove (sigint);
  g_source_remove (sigterm);
  g_main_loop_unref (f.loop);
  if (f.tty)
    g_printerr ("\r\033[K");
  return mvm_dbus_job_get_state (job);
}

/* The import took what it wanted: a tar still writing (into a pipe nobody reads after a
 * failure) is ended, and reaped. */
static void
end_tar (GSubprocess *tar)
{
  g_input_stream_close (g_subprocess_get_stdout_pipe (tar), NULL, NULL);
  g_subprocess_force_exit (tar);
  g_subprocess_wait (tar, NULL, NULL);
}

static MvmDbusJob *
begin (MvcContext *ctx, const char *name, int fd, guint64 size, GError **error)
{
  g_autoptr (GUnixFDList) fds = g_unix_fd_list_new_from_array (&fd, 1);
  g_autofree char *path = NULL;
  GVariantBuilder options;

  g_variant_builder_init (&options, G_VARIANT_TYPE_VARDICT);
  if (size)
    g_variant_builder_add (&options, "{sv}", "size", g_variant_new_uint64 (size));
  if (mvc_manager (ctx, error) == NULL
      || !mvm_dbus_manager_call_import_image_sync (ctx->manager, g_variant_new_handle (0), name,
                                                   g_variant_builder_end (&options), fds, &path,
                                                   NULL, NULL, error))
    return NULL;
  return mvm_dbus_job_proxy_new_sync (ctx->bus, G_DBUS_PROXY_FLAGS_NONE, MVC_BUS_NAME, path, NULL,
                                      error);
}

int
mvc_image_import (MvcContext *ctx, int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GSubprocess) tar = NULL;
  g_autoptr (MvmDbusJob) job = NULL;
  g_autofree char *size_text = NULL;
  const char *state;
  guint64 size = 0;
  int status, fd;
  const GOptionEntry entries[] = {
    { "size", 0, 0, G_OPTION_ARG_STRING, &size_text,
      "The image's size (2G, 512M); default: the content and 20% more", "SIZE" },
    { NULL },
  };

  if (!mvc_parse_verb (ctx, entries, "NAME SOURCE",
                       "Writes image NAME (an ext4 file of the images folder) from SOURCE: an OCI "
                       "image archive or layout folder, a Docker archive (docker save), a root "
                       "file system tarball (plain, gzip, xz, zstd) or a folder. SOURCE is read "
                       "with your own rights. ^C cancels, leaving nothing.",
                       2, &argc, &argv, &status))
    return status;
  /* the daemon reads SOURCE from a file descriptor, which cannot cross ssh */
  if (ctx->host)
    return mvc_usage ("image import: -H cannot send SOURCE to %s; copy it there and run "
                      "'microvmctl image import' on %s",
                      ctx->host, ctx->host);
  if (size_text && !mvm_parse_size (size_text, &size))
    return mvc_usage ("--size: '%s' is not a size such as 2G or 512M", size_text);
  if ((fd = open_source (argv[2], &tar, &error)) < 0)
    return mvc_fail (error);
  job = begin (ctx, argv[1], fd, size, &error); /* the fd list took fd */
  if (job == NULL)
    return mvc_fail (error);
  state = follow (job, tar, &error);
  if (tar)
    end_tar (tar);
  if (error)
    {
      /* done before the cancel arrived: the image holds what tar managed, so it goes */
      if (g_str_equal (state, "done"))
        mvc_remove_image (ctx, argv[1], NULL);
      return mvc_fail (error);
    }
  if (g_str_equal (state, "done"))
    {
      g_print ("image %s: imported\n", argv[1]);
      return MVC_EXIT_OK;
    }
  if (g_str_equal (state, "cancelled"))
    g_printerr ("microvmctl: image %s: import cancelled; nothing was kept\n", argv[1]);
  else
    g_printerr ("microvmctl: %s\n", mvm_dbus_job_get_error (job));
  return MVC_EXIT_FAILURE;
}
