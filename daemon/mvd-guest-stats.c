/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "mvd-guest-stats.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "qmp-commands.h"

typedef struct
{
  MvdQemu *qemu;
  GVariantDict dict;
} Stats;

static void
stats_free (gpointer p)
{
  Stats *s = p;

  g_object_unref (s->qemu);
  g_variant_dict_clear (&s->dict);
  g_free (s);
}

/* utime + stime (fields 14 and 15 of /proc/PID/stat, after the parenthesised name) and RSS. */
static void
add_proc_stats (GVariantDict *dict, GPid pid)
{
  g_autofree char *stat_path = g_strdup_printf ("/proc/%d/stat", pid);
  g_autofree char *statm_path = g_strdup_printf ("/proc/%d/statm", pid);
  g_autofree char *stat = NULL, *statm = NULL;
  const char *p;
  unsigned long long utime, stime, size, resident;
  long tick = sysconf (_SC_CLK_TCK);

  if (g_file_get_contents (stat_path, &stat, NULL, NULL) && (p = strrchr (stat, ')'))
      && sscanf (p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &utime, &stime)
           == 2
      && tick > 0)
    g_variant_dict_insert (dict, "cpu-time-usec", "t",
                           (guint64)((utime + stime) * (G_USEC_PER_SEC / tick)));
  if (g_file_get_contents (statm_path, &statm, NULL, NULL)
      && sscanf (statm, "%llu %llu", &size, &resident) == 2)
    g_variant_dict_insert (dict, "rss-bytes", "t", (guint64)(resident * sysconf (_SC_PAGESIZE)));
}

static void
insert_block_counter (GVariantDict *dict, const char *device, const char *counter, guint64 value)
{
  g_autofree char *key = g_strdup_printf ("block.%s.%s", device, counter);

  g_variant_dict_insert (dict, key, "t", value);
}

static void
add_block_stats (GVariantDict *dict, GPtrArray *devices)
{
  for (guint i = 0; i < devices->len; i++)
    {
      const QmpBlockStats *dev = devices->pdata[i];
      /* -drive disks by their drive id, -blockdev ones (an image's overlay) by their node */
      const char *name = dev->device && dev->device[0] ? dev->device
                         : dev->node_name              ? dev->node_name
                         : dev->qdev                   ? dev->qdev
                                                       : "?";
      insert_block_counter (dict, name, "rd-bytes", dev->rd_bytes);
      insert_block_counter (dict, name, "wr-bytes", dev->wr_bytes);
      insert_block_counter (dict, name, "rd-operations", dev->rd_operations);
      insert_block_counter (dict, name, "wr-operations", dev->wr_operations);
    }
}

static void
on_blockstats (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  Stats *s = g_task_get_task_data (task);
  g_autoptr (GPtrArray) devices = qmp_query_blockstats_finish (QMP_CLIENT (source), result, NULL);

  if (devices) /* a reply of the wrong shape is left out, never trusted */
    add_block_stats (&s->dict, devices);
  g_task_return_pointer (task, g_variant_ref_sink (g_variant_dict_end (&s->dict)),
                         (GDestroyNotify)g_variant_unref);
}

static void
on_balloon (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  Stats *s = g_task_get_task_data (task);
  guint64 actual;

  if (qmp_query_balloon_finish (QMP_CLIENT (source), result, &actual, NULL))
    g_variant_dict_insert (&s->dict, "balloon-actual-bytes", "t", actual);
  qmp_query_blockstats_async (QMP_CLIENT (source), NULL, on_blockstats, g_steal_pointer (&task));
}

void
mvd_guest_stats_async (MvdQemu *qemu, GAsyncReadyCallback callback, gpointer user_data)
{
  GTask *task = g_task_new (NULL, NULL, callback, user_data);
  Stats *s = g_new0 (Stats, 1);

  s->qemu = g_object_ref (qemu);
  g_variant_dict_init (&s->dict, NULL);
  g_task_set_task_data (task, s, stats_free);
  add_proc_stats (&s->dict, mvd_qemu_get_pid (qemu));
  if (mvd_qemu_get_qmp (qemu) == NULL) /* adopted without its channels: what /proc says */
    {
      g_task_return_pointer (task, g_variant_ref_sink (g_variant_dict_end (&s->dict)),
                             (GDestroyNotify)g_variant_unref);
      g_object_unref (task);
      return;
    }
  qmp_query_balloon_async (mvd_qemu_get_qmp (qemu), NULL, on_balloon, task);
}

GVariant *
mvd_guest_stats_finish (GAsyncResult *result, GError **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}
