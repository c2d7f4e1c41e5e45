/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "mvd-guest-stats.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

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
add_block_stats (GVariantDict *dict, JsonNode *node)
{
  static const char *const keys[] = { "rd_bytes", "wr_bytes", "rd_operations", "wr_operations" };
  JsonArray *devices = JSON_NODE_HOLDS_ARRAY (node) ? json_node_get_array (node) : NULL;

  for (guint i = 0; devices && i < json_array_get_length (devices); i++)
    {
      JsonObject *dev = json_array_get_object_element (devices, i);
      const char *name = json_object_get_string_member_with_default (dev, "device", "");
      JsonObject *stats = json_object_get_object_member (dev, "stats");

      if (name[0] == '\0')
        name = json_object_get_string_member_with_default (dev, "qdev", "?");
      for (gsize k = 0; stats && k < G_N_ELEMENTS (keys); k++)
        {
          g_autofree char *key = g_strdup_printf ("block.%s.%s", name, keys[k]);
          g_strdelimit (key, "_", '-');
          g_variant_dict_insert (
            dict, key, "t", (guint64)json_object_get_int_member_with_default (stats, keys[k], 0));
        }
    }
}

static void
on_blockstats (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  Stats *s = g_task_get_task_data (task);
  g_autoptr (JsonNode) node = mvd_qemu_execute_finish (MVD_QEMU (source), result, NULL);

  if (node)
    add_block_stats (&s->dict, node);
  g_task_return_pointer (task, g_variant_ref_sink (g_variant_dict_end (&s->dict)),
                         (GDestroyNotify)g_variant_unref);
}

static void
on_balloon (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  Stats *s = g_task_get_task_data (task);
  g_autoptr (JsonNode) node = mvd_qemu_execute_finish (MVD_QEMU (source), result, NULL);

  if (node && JSON_NODE_HOLDS_OBJECT (node))
    g_variant_dict_insert (
      &s->dict, "balloon-actual-bytes", "t",
      (guint64)json_object_get_int_member_with_default (json_node_get_object (node), "actual", 0));
  mvd_qemu_execute_async (s->qemu, "query-blockstats", NULL, on_blockstats,
                          g_steal_pointer (&task));
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
  mvd_qemu_execute_async (qemu, "query-balloon", NULL, on_balloon, task);
}

GVariant *
mvd_guest_stats_finish (GAsyncResult *result, GError **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}
