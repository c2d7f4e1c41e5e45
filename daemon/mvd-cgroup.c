/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "mvd-cgroup.h"
#include "mvd-log.h"
#include "mvd-machined.h"

#include <errno.h>
#include <signal.h>
#include <glib/gstdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-login.h>
#include <unistd.h>

#define SCOPE_SLICE "machine.slice"

/* systemd (machined) answered once (TRUE), or was found missing (FALSE): asked at most
 * once */
static int systemd_seen = -1;
static int machined_seen = -1;
static gboolean warned;

static void
warn_once (const char *why)
{
  if (warned)
    return;
  warned = TRUE;
  g_warning ("guests share the daemon's cgroup, without memory or task limits of their own: %s",
             why);
}

/* --- with systemd: a scope, made by machined or by us ---------------------------------- */

/* The systemd unit the daemon runs in ("microvmd.service"), asked once; NULL outside one. */
static const char *
daemon_service (void)
{
  static gsize asked;
  static char *unit;

  if (g_once_init_enter (&asked))
    {
      if (sd_pid_get_unit (0, &unit) < 0 || !g_str_has_suffix (unit, ".service"))
        g_clear_pointer (&unit, free);
      g_once_init_leave (&asked, 1);
    }
  return unit;
}

/* What the guest's scope has whoever makes it: its limits, and its place in the order. */
static void
add_limits (GVariantBuilder *props, const MvdCgroupRequest *request)
{
  const char *daemon_unit = daemon_service ();

  g_variant_builder_add (props, "(sv)", "MemoryMax", g_variant_new_uint64 (request->memory_max));
  g_variant_builder_add (props, "(sv)", "TasksMax", g_variant_new_uint64 (request->tasks_max));
  /* At host shutdown systemd stops the daemon's unit first, so that ShutdownGuests=shutdown
   * can power the guests off before systemd ends their scopes with SIGTERM. */
  if (daemon_unit)
    g_variant_builder_add (props, "(sv)", "Before",
                           g_variant_new_strv ((const char *const[]){ daemon_unit }, 1));
}

static GVariant *
scope_properties (const MvdCgroupRequest *request)
{
  GVariantBuilder props;
  g_autofree char *description = g_strdup_printf ("microvm guest %s", request->name);

  g_variant_builder_init (&props, G_VARIANT_TYPE ("a(sv)"));
  g_variant_builder_add (&props, "(sv)", "Description", g_variant_new_string (description));
  g_variant_builder_add (&props, "(sv)", "Slice", g_variant_new_string (SCOPE_SLICE));
  g_variant_builder_add (&props, "(sv)", "PIDs",
                         g_variant_new_fixed_array (
                           G_VARIANT_TYPE_UINT32, &(guint32){ request->pid }, 1, sizeof (guint32)));
  g_variant_builder_add (&props, "(sv)", "CollectMode",
                         g_variant_new_string ("inactive-or-failed"));
  add_limits (&props, request);
  return g_variant_builder_end (&props);
}

static void
place_in_scope_async (GDBusConnection *bus, const MvdCgroupRequest *request,
                      GAsyncReadyCallback callback, gpointer user_data)
{
  g_autofree char *unit = g_strdup_printf ("microvm-%s.scope", request->name);

  g_dbus_connection_call (
    bus, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
    "org.freedesktop.systemd1.Manager", "StartTransientUnit",
    g_variant_new ("(ss@a(sv)a(sa(sv)))", unit, "fail", scope_properties (request), NULL),
    G_VARIANT_TYPE ("(o)"), G_DBUS_CALL_FLAGS_NO_AUTO_START, 10000, NULL, callback, user_data);
}

/* machined adds the slice, the description and the PID itself */
static void
place_in_machine_async (GDBusConnection *bus, const MvdCgroupRequest *request,
                        GAsyncReadyCallback callback, gpointer user_data)
{
  MvdMachine machine = { .name = request->name,
                         .uuid = request->uuid,
                         .leader = request->pid,
                         .ifindex = request->ifindex,
                         .n_ifindex = request->n_ifindex };
  GVariantBuilder props;

  g_variant_builder_init (&props, G_VARIANT_TYPE ("a(sv)"));
  add_limits (&props, request);
  mvd_machine_create_async (bus, &machine, g_variant_builder_end (&props), callback, user_data);
}

/* --- without systemd: a child of our own cgroup v2 ------------------------------------- */

/* Where cgroup2 is mounted (/sys/fs/cgroup, or /sys/fs/cgroup/unified on a hybrid host). */
static char *
cgroup2_mount (void)
{
  g_autofree char *text = NULL;
  g_auto (GStrv) lines = NULL;

  if (!g_file_get_contents ("/proc/self/mountinfo", &text, NULL, NULL))
    return NULL;
  lines = g_strsplit (text, "\n", -1);
  for (guint i = 0; lines[i]; i++)
    {
      g_auto (GStrv) fields = g_strsplit (lines[i], " ", -1);
      guint n = g_strv_length (fields);
      /* ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPER */
      for (guint f = 6; f + 1 < n; f++)
        if (g_str_equal (fields[f], "-") && g_str_equal (fields[f + 1], "cgroup2"))
          return g_strdup (fields[4]);
    }
  return NULL;
}

/* The "0::/path" line of /proc/PID/cgroup. */
static char *
cgroup2_path_of (GPid pid)
{
  g_autofree char *file = g_strdup_printf ("/proc/%d/cgroup", pid);
  g_autofree char *text = NULL;
  const char *line;

  if (!g_file_get_contents (file, &text, NULL, NULL))
    return NULL;
  line = g_str_has_prefix (text, "0::") ? text : strstr (text, "\n0::");
  if (line == NULL)
    return NULL;
  line = strstr (line, "::") + 2;
  return g_strndup (line, strcspn (line, "\n"));
}

static gboolean
write_file (const char *dir, const char *file, const char *text)
{
  g_autofree char *path = g_build_filename (dir, file, NULL);

  return g_file_set_contents_full (path, text, -1, G_FILE_SET_CONTENTS_NONE, 0644, NULL);
}

static void
write_limit (const char *dir, const char *file, guint64 value)
{
  g_autofree char *text = g_strdup_printf ("%" G_GUINT64_FORMAT "\n", value);
  g_autofree char *path = g_build_filename (dir, file, NULL);

  /* the controller may not be delegated to us: then the file is not there */
  if (g_file_test (path, G_FILE_TEST_EXISTS))
    write_file (dir, file, text);
}

static char *
place_in_child (const MvdCgroupRequest *request, GError **error)
{
  g_autofree char *mount = cgroup2_mount ();
  g_autofree char *own = cgroup2_path_of (getpid ());
  g_autofree char *leaf = NULL;
  g_autofree char *dir = NULL;
  g_autofree char *pid = g_strdup_printf ("%d\n", request->pid);

  if (mount == NULL || own == NULL)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                           "no cgroup v2 hierarchy and no systemd");
      return NULL;
    }
  leaf = g_strdup_printf ("microvm-%s@%d", request->name, getpid ());
  dir = g_build_filename (mount, own, leaf, NULL);
  if (g_mkdir (dir, 0755) < 0 && errno != EEXIST)
    {
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno), "cannot create %s: %s", dir,
                   g_strerror (errno));
      return NULL;
    }
  write_limit (dir, "memory.max", request->memory_max);
  write_limit (dir, "pids.max", request->tasks_max);
  if (!write_file (dir, "cgroup.procs", pid))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "cannot move QEMU into %s", dir);
      g_rmdir (dir);
      return NULL;
    }
  return g_steal_pointer (&dir);
}

/* A placement under way: what the fallbacks need once machined or systemd has answered. */
typedef struct
{
  GDBusConnection *bus;
  char *name;
  char *uuid;
  MvdCgroupRequest request; /* .name, .uuid and .ifindex point at the copies here */
  MvdCgroupPlaced done;
  gpointer user_data;
} Placement;

static void
placement_free (Placement *p)
{
  g_object_unref (p->bus);
  g_free (p->name);
  g_free (p->uuid);
  g_free ((int *)p->request.ifindex);
  g_free (p);
}

static gboolean
is_missing (const GError *error)
{
  return g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_SERVICE_UNKNOWN)
         || g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_NAME_HAS_NO_OWNER);
}

static void
place_without_systemd (const MvdCgroupRequest *request, MvdCgroupPlaced done, gpointer user_data)
{
  g_autoptr (GError) error = NULL;
  char *dir = place_in_child (request, &error);

  if (dir == NULL)
    warn_once (error->message);
  done (dir, user_data);
}

static void
on_scope_started (GObject *source, GAsyncResult *result, gpointer data)
{
  Placement *p = data;
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) reply
    = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), result, &error);

  if (reply)
    {
      systemd_seen = 1;
      p->done (NULL, p->user_data);
    }
  else if (systemd_seen != 1 && is_missing (error))
    {
      systemd_seen = 0; /* no systemd on the bus: the cgroup v2 way from now on */
      place_without_systemd (&p->request, p->done, p->user_data);
    }
  else
    {
      mvd_guest_warning (p->name, "no scope of its own: %s", error->message);
      p->done (NULL, p->user_data);
    }
  placement_free (p);
}

static void
on_machine_created (GObject *source, GAsyncResult *result, gpointer data)
{
  Placement *p = data;
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) reply
    = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), result, &error);

  if (reply)
    {
      machined_seen = systemd_seen = 1;
      p->done (NULL, p->user_data);
      placement_free (p);
      return;
    }
  if (machined_seen != 1 && is_missing (error))
    machined_seen = 0; /* no machined: our own scopes from now on */
  else
    mvd_guest_warning (p->name, "not registered with systemd-machined (%s); in a scope of its own",
                       error->message);
  place_in_scope_async (p->bus, &p->request, on_scope_started, p);
}

void
mvd_cgroup_place_async (GDBusConnection *system_bus, const MvdCgroupRequest *request,
                        MvdCgroupPlaced done, gpointer user_data)
{
  Placement *p;

  if (system_bus == NULL || systemd_seen == 0)
    {
      place_without_systemd (request, done, user_data);
      return;
    }
  p = g_new0 (Placement, 1);
  p->bus = g_object_ref (system_bus);
  p->name = g_strdup (request->name);
  p->uuid = g_strdup (request->uuid);
  p->request = *request;
  p->request.name = p->name;
  p->request.uuid = p->uuid;
  p->request.ifindex = g_memdup2 (request->ifindex, request->n_ifindex * sizeof (int));
  p->done = done;
  p->user_data = user_data;
  if (machined_seen != 0)
    place_in_machine_async (system_bus, &p->request, on_machine_created, p);
  else
    place_in_scope_async (system_bus, &p->request, on_scope_started, p);
}

char *
mvd_cgroup_of_process (GPid pid)
{
  g_autofree char *mount = cgroup2_mount ();
  g_autofree char *path = cgroup2_path_of (pid);
  g_autofree char *base = path ? g_path_get_basename (path) : NULL;

  if (mount == NULL || base == NULL || !g_str_has_prefix (base, "microvm-")
      || strchr (base, '@') == NULL)
    return NULL;
  return g_build_filename (mount, path, NULL);
}

void
mvd_cgroup_remove (const char *path)
{
  if (path && g_rmdir (path) < 0 && errno != ENOENT)
    g_debug ("cannot remove %s: %s", path, g_strerror (errno));
}

/* "microvm-NAME@PID" with PID no longer running */
static gboolean
left_by_gone_daemon (const char *name)
{
  const char *at = strrchr (name, '@');
  guint64 pid;

  return g_str_has_prefix (name, "microvm-") && at
         && g_ascii_string_to_unsigned (at + 1, 10, 2, G_MAXINT, &pid, NULL)
         && (GPid)pid != getpid () && kill ((GPid)pid, 0) < 0 && errno == ESRCH;
}

void
mvd_cgroup_sweep (void)
{
  g_autofree char *mount = cgroup2_mount ();
  g_autofree char *own = cgroup2_path_of (getpid ());
  g_autofree char *parent = mount && own ? g_build_filename (mount, own, NULL) : NULL;
  g_autoptr (GDir) dir = parent ? g_dir_open (parent, 0, NULL) : NULL;
  const char *name;

  while (dir && (name = g_dir_read_name (dir)))
    if (left_by_gone_daemon (name))
      {
        g_autofree char *path = g_build_filename (parent, name, NULL);
        mvd_cgroup_remove (path); /* a QEMU still inside keeps it */
      }
}
