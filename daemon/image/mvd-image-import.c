/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "mvd-image-import.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "mvm-image-meta.h"
#include "mvm-image-build.h"
#include "mvm-paths.h"

#define SPOOL_CHUNK (1024 * 1024)
/* a stream has no end a caller must announce: the spool checks the folder's free space this
 * often, and stops while a twentieth of it (at least 256 MiB) is left */
#define SPOOL_SPACE_CHECK (64 * 1024 * 1024)
#define SPOOL_MIN_FREE (256 * 1024 * 1024ULL)
#define PROGRESS_INTERVAL_USEC (100 * 1000)

typedef struct
{
  char *images_dir;
  char *name;
  int source_fd;
  guint64 size_bytes;
  MvdJob *job; /* touched on the main loop only */
  GMainContext *context;
  gint64 last_report;
} Import;

static void
import_free (gpointer data)
{
  Import *import = data;

  if (import->source_fd >= 0)
    close (import->source_fd);
  g_free (import->images_dir);
  g_free (import->name);
  g_clear_object (&import->job);
  g_main_context_unref (import->context);
  g_free (import);
}

char *
mvd_image_import_partial_path (const char *images_dir, const char *name)
{
  g_autofree char *file = g_strdup_printf (".%s.ext4.partial", name);

  return g_build_filename (images_dir, file, NULL);
}

/* --- progress: from the worker to the job, on the main loop ---------------------------- */

typedef struct
{
  MvdJob *job;
  guint64 done, total;
} Progress;

static gboolean
deliver_progress (gpointer data)
{
  Progress *p = data;

  if (mvd_job_is_running (p->job))
    mvd_job_set_progress (p->job, p->done, p->total);
  g_object_unref (p->job);
  g_free (p);
  return G_SOURCE_REMOVE;
}

static void
report (Import *import, guint64 done, guint64 total, gboolean force)
{
  gint64 now = g_get_monotonic_time ();
  Progress *p;

  if (!force && now - import->last_report < PROGRESS_INTERVAL_USEC)
    return;
  import->last_report = now;
  p = g_new0 (Progress, 1);
  p->job = g_object_ref (import->job);
  p->done = done;
  p->total = total;
  g_main_context_invoke (import->context, deliver_progress, p);
}

static void
on_build_progress (guint64 done, guint64 total, gpointer data)
{
  report (data, done, total, FALSE);
}

/* --- in the worker ---------------------------------------------------------------------- */

/* Waits until @fd can be read or the import is cancelled: a stalled stream cannot hold a
 * cancelled import. */
static gboolean
wait_readable (int fd, GCancellable *cancellable, GError **error)
{
  GPollFD fds[2] = { { .fd = fd, .events = G_IO_IN | G_IO_HUP | G_IO_ERR } };
  gboolean cancellable_fd = g_cancellable_make_pollfd (cancellable, &fds[1]);

  while (g_poll (fds, cancellable_fd ? 2 : 1, -1) < 0 && errno == EINTR)
    ;
  if (cancellable_fd)
    g_cancellable_release_fd (cancellable);
  return !g_cancellable_set_error_if_cancelled (cancellable, error);
}

static gboolean
room_left (const char *dir, GError **error)
{
  struct statvfs st;
  guint64 free_bytes, floor;

  if (statvfs (dir, &st) < 0)
    return TRUE; /* cannot tell: the write itself will fail when the disk is full */
  free_bytes = (guint64)st.f_bavail * st.f_frsize;
  floor = MAX (SPOOL_MIN_FREE, (guint64)st.f_blocks * st.f_frsize / 20);
  if (free_bytes >= floor)
    return TRUE;
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_NO_SPACE,
               "the images folder %s is running out of space (%" G_GUINT64_FORMAT " MiB left); "
               "the stream was not kept",
               dir, free_bytes >> 20);
  return FALSE;
}

/* A stream, copied into an unnamed file of the images folder: seekable, and gone with its
 * last fd whatever happens. Returns the file, at its start. */
static int
spool (Import *import, GCancellable *cancellable, GError **error)
{
  g_autofree char *buffer = g_malloc (SPOOL_CHUNK);
  int fd = open (import->images_dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  guint64 done = 0;
  ssize_t n;

  if (fd < 0)
    {
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno),
                   "cannot make a spool file in %s: %s", import->images_dir, g_strerror (errno));
      return -1;
    }
  while (wait_readable (import->source_fd, cancellable, error)
         && (n = read (import->source_fd, buffer, SPOOL_CHUNK)) != 0)
    {
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0 || write (fd, buffer, n) != n)
        {
          g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno),
                       "cannot spool the source: %s", g_strerror (errno));
          close (fd);
          return -1;
        }
      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        {
          close (fd);
          return -1;
        }
      done += n;
      report (import, done, 0, FALSE);
      if (done % SPOOL_SPACE_CHECK < (guint64)n && !room_left (import->images_dir, error))
        break;
    }
  if (error && *error)
    {
      close (fd);
      return -1;
    }
  if (lseek (fd, 0, SEEK_SET) < 0)
    {
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno), "cannot rewind the spool: %s",
                   g_strerror (errno));
      close (fd);
      return -1;
    }
  return fd;
}

/* The archive as a seekable fd: the source itself when it is a regular file. */
static int
seekable_source (Import *import, GCancellable *cancellable, GError **error)
{
  struct stat st;
  int fd;

  if (fstat (import->source_fd, &st) == 0 && S_ISREG (st.st_mode))
    return import->source_fd;
  fd = spool (import, cancellable, error);
  if (fd >= 0)
    {
      close (import->source_fd);
      import->source_fd = fd;
    }
  return fd;
}

static gboolean
publish (Import *import, const MvmImageInfo *info, const char *partial, GError **error)
{
  g_autofree char *meta_path = mvm_paths_image_meta (import->images_dir, import->name);
  g_autofree char *image_path = mvm_paths_image_file (import->images_dir, import->name);
  MvmImageMeta meta = { .source_kind = (char *)mvm_image_kind_to_string (info->kind),
                        .created_usec = g_get_real_time (),
                        .config_json = info->config_json };

  if (!mvm_image_meta_write (&meta, meta_path, error))
    return FALSE;
  if (rename (partial, image_path) < 0)
    {
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno), "cannot rename %s: %s",
                   partial, g_strerror (errno));
      g_unlink (meta_path);
      return FALSE;
    }
  return TRUE;
}

static void
import_thread (GTask *task, gpointer source_object, gpointer data, GCancellable *cancellable)
{
  Import *import = data;
  g_autofree char *partial = mvd_image_import_partial_path (import->images_dir, import->name);
  g_autoptr (MvmImageInfo) info = NULL;
  GError *error = NULL;
  int fd = seekable_source (import, cancellable, &error);

  g_unlink (partial); /* left by a daemon killed in an import of the same name */
  if (fd >= 0
      && mvm_image_build (fd, partial, import->size_bytes, on_build_progress, import, cancellable,
                          &info, &error)
      && publish (import, info, partial, &error))
    {
      g_task_return_boolean (task, TRUE);
      return;
    }
  g_unlink (partial);
  g_prefix_error (&error, "image %s: ", import->name);
  g_task_return_error (task, error);
}

void
mvd_image_import_async (const char *images_dir, const char *name, int source_fd, guint64 size_bytes,
                        MvdJob *job, GAsyncReadyCallback callback, gpointer user_data)
{
  g_autoptr (GTask) task = g_task_new (NULL, mvd_job_get_cancellable (job), callback, user_data);
  Import *import = g_new0 (Import, 1);

  import->images_dir = g_strdup (images_dir);
  import->name = g_strdup (name);
  import->source_fd = source_fd;
  import->size_bytes = size_bytes;
  import->job = g_object_ref (job);
  import->context = g_main_context_ref_thread_default ();
  g_task_set_task_data (task, import, import_free);
  g_task_set_return_on_cancel (task, FALSE);
  g_task_run_in_thread (task, import_thread);
}

gboolean
mvd_image_import_finish (GAsyncResult *result, GError **error)
{
  return g_task_propagate_boolean (G_TASK (result), error);
}
