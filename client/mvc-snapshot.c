/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* microvmctl snapshot save, list, remove: a running guest's memory and device state, kept to
 * start it from later (start --snapshot). */
#include <string.h>

#include "mvc-job.h"
#include "mvc-verbs.h"

#define DEFAULT_SNAPSHOT "default"

static const MvcJobWords save_words = { "saving", "written", "save" };

/* One (name, created, bytes) of the Snapshots property */
typedef struct
{
  const char *name;
  guint64 created;
  guint64 size;
} Snapshot;

static int
compare_snapshots (gconstpointer a, gconstpointer b)
{
  return strcmp (((const Snapshot *)a)->name, ((const Snapshot *)b)->name);
}

/* Snapshots as microvmd has it now, asked for: a cache may lack what a job's end changed.
 * Sorted by name; the names point into @value. */
static GArray *
get_snapshots (MvmDbusGuest *guest, const char *guest_name, GVariant **value, GError **error)
{
  GDBusProxy *proxy = G_DBUS_PROXY (guest);
  g_autoptr (GVariant) reply = NULL;
  g_autoptr (GArray) snapshots = g_array_new (FALSE, FALSE, sizeof (Snapshot));
  GVariantIter iter;
  Snapshot s;

  reply = g_dbus_connection_call_sync (
    g_dbus_proxy_get_connection (proxy), g_dbus_proxy_get_name (proxy),
    g_dbus_proxy_get_object_path (proxy), "org.freedesktop.DBus.Properties", "Get",
    g_variant_new ("(ss)", MVC_GUEST_IFACE, "Snapshots"), G_VARIANT_TYPE ("(v)"),
    G_DBUS_CALL_FLAGS_NONE, -1, NULL, error);
  if (reply == NULL)
    return NULL;
  g_variant_get (reply, "(v)", value);
  if (!g_variant_is_of_type (*value, G_VARIANT_TYPE ("a(stt)")))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   "microvmd gave guest %s's Snapshots as %s, not a(stt)", guest_name,
                   g_variant_get_type_string (*value));
      g_clear_pointer (value, g_variant_unref);
      return NULL;
    }
  g_variant_iter_init (&iter, *value);
  while (g_variant_iter_next (&iter, "(&stt)", &s.name, &s.created, &s.size))
    g_array_append_val (snapshots, s);
  g_array_sort (snapshots, compare_snapshots);
  return g_steal_pointer (&snapshots);
}

/* "1.2 GiB" (g_format_size puts a no-break space before the unit) */
static char *
format_size (guint64 bytes)
{
  return g_format_size_full (bytes, G_FORMAT_SIZE_IEC_UNITS);
}

/* printf's width for @text right-aligned in @columns: it counts bytes, not characters */
static int
width_of (const char *text, int columns)
{
  return columns + (int)(strlen (text) - g_utf8_strlen (text, -1));
}

/* "1.2 GiB", or NULL when the guest has no snapshot @name (removed since its save) */
static char *
snapshot_size (MvmDbusGuest *guest, const char *guest_name, const char *name)
{
  g_autoptr (GVariant) value = NULL;
  g_autoptr (GArray) snapshots = get_snapshots (guest, guest_name, &value, NULL);

  for (guint i = 0; snapshots && i < snapshots->len; i++)
    if (g_str_equal (g_array_index (snapshots, Snapshot, i).name, name))
      return format_size (g_array_index (snapshots, Snapshot, i).size);
  return NULL;
}

static int
snapshot_save (MvcContext *ctx, int argc, char **argv)
{
  g_autoptr (MvmDbusGuest) guest = NULL;
  g_autoptr (MvmDbusJob) job = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *path = NULL;
  g_autofree char *size = NULL;
  const char *name;
  int status;

  if (!mvc_parse_verb_range (ctx, NULL, "NAME [SNAPSHOT]",
                             "Saves running guest NAME's memory and device state as snapshot "
                             "SNAPSHOT (\"default\" when not given), to start it from later with "
                             "'microvmctl start NAME --snapshot SNAPSHOT'. The guest pauses while "
                             "its memory is written, then runs on. ^C cancels, leaving nothing.",
                             1, 2, &argc, &argv, &status))
    return status;
  name = argc > 2 ? argv[2] : DEFAULT_SNAPSHOT;
  guest = mvc_guest (ctx, argv[1], &error);
  if (guest == NULL || !mvm_dbus_guest_call_save_snapshot_sync (guest, name, &path, NULL, &error)
      || (job = mvc_job_proxy (ctx, path, &error)) == NULL)
    return mvc_fail (error);
  if (!mvc_job_follow (job, &save_words, &error))
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_prefix_error (&error, "guest %s: snapshot %s: ", argv[1], name);
      return mvc_fail (error);
    }
  size = snapshot_size (guest, argv[1], name);
  g_print ("guest %s: snapshot %s saved (%s)\n", argv[1], name, size ? size : "size unknown");
  return MVC_EXIT_OK;
}

static void
print_json (GArray *snapshots)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();

  json_builder_begin_array (b);
  for (guint i = 0; i < snapshots->len; i++)
    {
      const Snapshot *s = &g_array_index (snapshots, Snapshot, i);
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "Name");
      json_builder_add_string_value (b, s->name);
      json_builder_set_member_name (b, "Created");
      json_builder_add_int_value (b, (gint64)s->created);
      json_builder_set_member_name (b, "Size");
      json_builder_add_int_value (b, (gint64)s->size);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  mvc_print_json (json_builder_get_root (b));
}

static void
print_table (GArray *snapshots)
{
  int width = 8;

  for (guint i = 0; i < snapshots->len; i++)
    width = MAX (width, (int)strlen (g_array_index (snapshots, Snapshot, i).name));
  g_print ("%-*s %-23s %10s\n", width, "SNAPSHOT", "CREATED", "SIZE");
  for (guint i = 0; i < snapshots->len; i++)
    {
      const Snapshot *s = &g_array_index (snapshots, Snapshot, i);
      g_autofree char *created = mvc_format_timestamp (s->created);
      g_autofree char *size = format_size (s->size);
      g_print ("%-*s %-23s %*s\n", width, s->name, created, width_of (size, 10), size);
    }
}

static int
snapshot_list (MvcContext *ctx, int argc, char **argv)
{
  g_autoptr (MvmDbusGuest) guest = NULL;
  g_autoptr (GVariant) value = NULL;
  g_autoptr (GArray) snapshots = NULL;
  g_autoptr (GError) error = NULL;
  int status;

  if (!mvc_parse_verb_json (ctx, NULL, "NAME",
                            "Lists guest NAME's snapshots, sorted by name: when each was saved, "
                            "and its size on disk.",
                            1, &argc, &argv, &status))
    return status;
  guest = mvc_guest (ctx, argv[1], &error);
  if (guest == NULL || (snapshots = get_snapshots (guest, argv[1], &value, &error)) == NULL)
    return mvc_fail (error);
  if (ctx->json)
    print_json (snapshots);
  else
    print_table (snapshots);
  return MVC_EXIT_OK;
}

static int
snapshot_remove (MvcContext *ctx, int argc, char **argv)
{
  g_autoptr (MvmDbusGuest) guest = NULL;
  g_autoptr (GError) error = NULL;
  int status;

  if (!mvc_parse_verb (ctx, NULL, "NAME SNAPSHOT", "Deletes snapshot SNAPSHOT of guest NAME.", 2,
                       &argc, &argv, &status))
    return status;
  guest = mvc_guest (ctx, argv[1], &error);
  if (guest == NULL || !mvm_dbus_guest_call_remove_snapshot_sync (guest, argv[2], NULL, &error))
    return mvc_fail (error);
  return MVC_EXIT_OK;
}

int
mvc_snapshot (MvcContext *ctx, int argc, char **argv)
{
  static const MvcSubverb subverbs[] = {
    { "save", "snapshot save", snapshot_save },
    { "list", "snapshot list", snapshot_list },
    { "remove", "snapshot remove", snapshot_remove },
  };

  return mvc_run_subverb (ctx, subverbs, G_N_ELEMENTS (subverbs),
                          "Usage: microvmctl snapshot save NAME [SNAPSHOT]\n"
                          "       microvmctl snapshot list NAME\n"
                          "       microvmctl snapshot remove NAME SNAPSHOT\n",
                          argc, argv);
}
