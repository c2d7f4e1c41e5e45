/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* microvmctl image import NAME SOURCE: opens SOURCE with the caller's own rights and hands
 * the daemon a file descriptor (a folder as a tar stream), then follows the import job,
 * drawing its progress; ^C cancels it. */
#include <errno.h>
#include <fcntl.h>
#include <gio/gunixfdlist.h>
#include <gio/gunixinputstream.h>
#include <sys/stat.h>

#include "mvc-job.h"
#include "mvc-verbs.h"
#include "mvm-value.h"

/* What a folder's tar does while the import job runs */
typedef struct
{
  MvmDbusJob *job;
  GError *error;
} TarWatch;

static const MvcJobWords import_words = { "importing", "read", "import" };

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
  TarWatch *watch;

  if (g_subprocess_wait_check_finish (G_SUBPROCESS (source), result, &error))
    return;
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      g_error_free (error); /* follow() has returned: @data is gone */
      return;
    }
  watch = data;
  g_prefix_error (&error, "tar of the folder: ");
  watch->error = error;
  mvm_dbus_job_call_cancel (watch->job, NULL, NULL, NULL);
}

/* Until the job ends, the folder's tar watched meanwhile: a tar that fails cancels the job.
 * TRUE when the job ended done; @tar_error says how the tar failed. */
static gboolean
follow (MvmDbusJob *job, GSubprocess *tar, GError **tar_error, GError **error)
{
  g_autoptr (GCancellable) tar_wait = g_cancellable_new ();
  TarWatch watch = { .job = job };
  gboolean done;

  if (tar)
    g_subprocess_wait_check_async (tar, tar_wait, on_tar_ended, &watch);
  done = mvc_job_follow (job, &import_words, error);
  g_cancellable_cancel (tar_wait);
  *tar_error = watch.error;
  return done;
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
  return mvc_job_proxy (ctx, path, error);
}

int
mvc_image_import (MvcContext *ctx, int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GError) tar_error = NULL;
  g_autoptr (GSubprocess) tar = NULL;
  g_autoptr (MvmDbusJob) job = NULL;
  g_autofree char *size_text = NULL;
  gboolean done;
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
  done = follow (job, tar, &tar_error, &error);
  if (tar)
    end_tar (tar);
  if (tar_error)
    {
      /* done before the cancel arrived: the image holds what tar managed, so it goes */
      if (done)
        mvc_remove_image (ctx, argv[1], NULL);
      return mvc_fail (tar_error);
    }
  if (!done)
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_prefix_error (&error, "image %s: ", argv[1]);
      return mvc_fail (error);
    }
  g_print ("image %s: imported\n", argv[1]);
  return MVC_EXIT_OK;
}
