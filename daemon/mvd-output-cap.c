/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "mvd-output-cap.h"

#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CHECK_INTERVAL_SEC 5

typedef struct
{
  char *path;
  guint64 max_bytes;
} Watch;

gboolean
mvd_output_cap_check (const char *path, guint64 max_bytes, guint64 keep_bytes)
{
  int fd = open (path, O_RDWR | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
  g_autofree char *tail = NULL;
  g_autofree char *note = NULL;
  struct stat st;
  gssize n = -1;

  if (fd < 0)
    return FALSE;
  if (fstat (fd, &st) == 0 && S_ISREG (st.st_mode) && (guint64)st.st_size > max_bytes)
    {
      tail = g_malloc (keep_bytes);
      n = pread (fd, tail, keep_bytes, st.st_size - keep_bytes);
    }
  if (n >= 0 && ftruncate (fd, 0) == 0)
    {
      note = g_strdup_printf ("[microvmd: %" G_GUINT64_FORMAT " bytes of QEMU's output dropped]\n",
                              (guint64)st.st_size - n);
      (void)!pwrite (fd, note, strlen (note), 0);
      (void)!pwrite (fd, tail, n, strlen (note));
    }
  close (fd);
  return n >= 0;
}

static gboolean
on_check (gpointer user_data)
{
  Watch *w = user_data;

  mvd_output_cap_check (w->path, w->max_bytes, w->max_bytes / 4);
  return G_SOURCE_CONTINUE;
}

static void
watch_free (gpointer data)
{
  Watch *w = data;

  g_free (w->path);
  g_free (w);
}

guint
mvd_output_cap_watch (const char *path, guint64 max_bytes)
{
  Watch *w = g_new0 (Watch, 1);

  w->path = g_strdup (path);
  w->max_bytes = max_bytes;
  return g_timeout_add_seconds_full (G_PRIORITY_LOW, CHECK_INTERVAL_SEC, on_check, w, watch_free);
}
