/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "mvd-jobs.h"
#include "mvd-manager-private.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <string.h>

#include "config.h"
#include "mvd-authority.h"
#include "mvm-error.h"
#include "mvm-file.h"
#include "mvd-log.h"

#define AUTOSTART_PARALLEL 2

G_DEFINE_TYPE_WITH_CODE (MvdManager, mvd_manager, MVM_DBUS_TYPE_MANAGER_SKELETON,
                         G_IMPLEMENT_INTERFACE (MVM_DBUS_TYPE_MANAGER, mvd_manager_dbus_iface_init))

char *
mvd_manager_guest_path (const char *name)
{
  g_autofree char *escaped = g_dbus_escape_object_path (name);

  return g_strconcat (MVD_MANAGER_PATH "/guest/", escaped, NULL);
}

static gboolean
unref_later (gpointer guest)
{
  g_object_unref (guest);
  return G_SOURCE_REMOVE;
}

MvdGuest *
mvd_manager_lookup (MvdManager *self, const char *name)
{
  return g_hash_table_lookup (self->guests, name);
}

MvmGuestConfig *
mvd_manager_parse (MvdManager *self, const char *text, const char *file_name, GError **error)
{
  return mvm_guest_config_new_from_data (text, strlen (text), file_name, error);
}

static void
on_finished (MvdGuest *guest, MvdManager *self)
{
  mvd_manager_remove (self, guest);
}

static gboolean
undefine (gpointer guest, gpointer user_data, GError **error)
{
  MvdManager *self = user_data;
  g_autofree char *file = mvm_paths_guest_file (self->context.paths, mvd_guest_get_name (guest));

  if (!mvd_guest_is_transient (guest) && g_unlink (file) < 0 && errno != ENOENT)
    {
      g_set_error (error, MVM_ERROR, MVM_ERROR_FAILED, "guest %s: cannot remove %s: %s",
                   mvd_guest_get_name (guest), file, g_strerror (errno));
      return FALSE;
    }
  mvd_manager_remove (self, guest);
  return TRUE;
}

MvdGuest *
mvd_manager_add (MvdManager *self, MvmGuestConfig *config, const char *text, const char *file_path)
{
  g_autofree char *path = mvd_manager_guest_path (config->name);
  g_autoptr (MvmDbusObjectSkeleton) object = mvm_dbus_object_skeleton_new (path);
  MvdGuest *guest = mvd_guest_new (&self->context, config, text, file_path);
  const char *name = mvd_guest_get_name (guest);

  g_hash_table_insert (self->guests, g_strdup (name), guest);
  g_signal_connect (guest, "finished", G_CALLBACK (on_finished), self);
  mvm_dbus_object_skeleton_set_guest (object, MVM_DBUS_GUEST (guest));
  mvd_authority_guard (G_DBUS_INTERFACE_SKELETON (guest), &self->context);
  g_dbus_object_manager_server_export (self->object_manager, G_DBUS_OBJECT_SKELETON (object));
  mvm_dbus_manager_emit_guest_added (MVM_DBUS_MANAGER (self), name, path);
  mvd_manager_guests_changed (self);
  return guest;
}

void
mvd_manager_remove (MvdManager *self, MvdGuest *guest)
{
  g_autofree char *name = g_strdup (mvd_guest_get_name (guest));
  g_autofree char *path = mvd_manager_guest_path (name);
  g_autofree char *key = NULL; /* the table's copy of the name */

  g_autoptr (GError) error = NULL;

  /* every caller removes a stopped guest, defined no more: its overlays go with it */
  if (!mvm_paths_remove_guest_data (self->context.config->guest_data_dir, name, &error))
    mvd_guest_warning (name, "%s", error->message);
  g_signal_handlers_disconnect_by_data (guest, self);
  /* a transient guest goes as it stops: its last state must reach the bus before it does */
  g_dbus_interface_skeleton_flush (G_DBUS_INTERFACE_SKELETON (guest));
  g_dbus_object_manager_server_unexport (self->object_manager, path);
  /* often called from the guest's own signal handlers: let go of it once they returned */
  g_hash_table_steal_extended (self->guests, name, (gpointer *)&key, NULL);
  g_idle_add_full (G_PRIORITY_DEFAULT, (GSourceFunc)unref_later, guest, NULL);
  mvm_dbus_manager_emit_guest_removed (MVM_DBUS_MANAGER (self), name, path);
  mvd_manager_guests_changed (self);
}

gboolean
mvd_manager_check_room (MvdManager *self, const char *name, GError **error)
{
  guint max = self->context.config->max_guests;

  if (mvd_manager_lookup (self, name) || g_hash_table_size (self->guests) < max)
    return TRUE;
  g_set_error (
    error, MVM_ERROR, MVM_ERROR_LIMIT_EXCEEDED,
    "guest %s: the daemon already has %u guests, the most MaxGuests= in %s allows", name, max,
    self->context.config->source_path ? self->context.config->source_path : "microvmd.conf");
  return FALSE;
}

MvdGuest *
mvd_manager_define (MvdManager *self, const char *text, const char *file_name, GError **error)
{
  g_autoptr (MvmGuestConfig) config = mvd_manager_parse (self, text, file_name, error);
  g_autofree char *file = NULL;
  MvdGuest *guest;

  if (config == NULL)
    return NULL;
  guest = mvd_manager_lookup (self, config->name);
  if (guest && mvd_guest_is_transient (guest))
    {
      g_set_error (error, MVM_ERROR, MVM_ERROR_ALREADY_EXISTS,
                   "guest %s exists as a transient guest; stop it before defining one by that "
                   "name",
                   config->name);
      return NULL;
    }
  if (!mvd_manager_check_room (self, config->name, error))
    return NULL;
  file = mvm_paths_guest_file (self->context.paths, config->name);
  if (!mvm_file_write_atomic (file, text, -1, 0644, error))
    return NULL;
  if (guest)
    {
      mvd_guest_redefine (guest, g_steal_pointer (&config), text);
      mvd_manager_guests_changed (self);
      return guest;
    }
  return mvd_manager_add (self, g_steal_pointer (&config), text, file);
}

/* A stored file must be named after its guest, so that DefineGuest overwrites it. */
static MvmGuestConfig *
load_file (const char *path, char **text, GError **error)
{
  g_autofree char *data = NULL;
  g_autofree char *base = g_path_get_basename (path);
  g_autoptr (MvmGuestConfig) config = NULL;
  gsize len;

  if (!g_file_get_contents (path, &data, &len, error))
    return NULL;
  config = mvm_guest_config_new_from_data (data, len, path, error);
  if (config == NULL)
    return NULL;
  base[strlen (base) - strlen (".guest")] = '\0';
  if (!g_str_equal (base, config->name))
    {
      g_set_error (error, MVM_ERROR, MVM_ERROR_INVALID_CONFIG,
                   "%s: [Guest] Name: '%s' differs from the file name; name the file %s.guest",
                   path, config->name, config->name);
      return NULL;
    }
  *text = g_steal_pointer (&data);
  return g_steal_pointer (&config);
}

static gboolean
reload_file (MvdManager *self, const char *path, GHashTable *seen, GError **error)
{
  g_autofree char *text = NULL;
  MvmGuestConfig *config = load_file (path, &text, error);
  MvdGuest *guest;

  if (config == NULL)
    return FALSE;
  g_hash_table_add (seen, g_strdup (config->name));
  guest = mvd_manager_lookup (self, config->name);
  if (guest == NULL && !mvd_manager_check_room (self, config->name, error))
    {
      mvm_guest_config_free (config);
      return FALSE;
    }
  if (guest == NULL)
    mvd_manager_add (self, config, text, path);
  else if (g_strcmp0 (mvd_guest_get_guest_file (guest), text) != 0)
    {
      mvd_guest_redefine (guest, config, text);
      mvd_manager_guests_changed (self);
    }
  else
    mvm_guest_config_free (config);
  return TRUE;
}

/* Stored guests whose file is gone: dropped when stopped, left running otherwise. */
static void
drop_vanished (MvdManager *self, GHashTable *seen)
{
  g_autoptr (GPtrArray) gone = g_ptr_array_new ();
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, self->guests);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    if (!mvd_guest_is_transient (value) && !g_hash_table_contains (seen, mvd_guest_get_name (value))
        && (mvd_guest_get_state (value) == MVM_GUEST_STATE_STOPPED
            || mvd_guest_get_state (value) == MVM_GUEST_STATE_CRASHED))
      g_ptr_array_add (gone, value);
  for (guint i = 0; i < gone->len; i++)
    mvd_manager_remove (self, gone->pdata[i]);
}

gboolean
mvd_manager_reload (MvdManager *self, GError **error)
{
  g_autoptr (GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr (GString) problems = g_string_new (NULL);
  g_autoptr (GError) local = NULL;
  g_autoptr (GDir) dir = g_dir_open (self->context.paths->guests_dir, 0, &local);
  const char *name;

  if (dir == NULL)
    {
      g_propagate_prefixed_error (error, g_steal_pointer (&local),
                                  "cannot read the guest folder: ");
      return FALSE;
    }
  while ((name = g_dir_read_name (dir)))
    {
      g_autofree char *path = g_build_filename (self->context.paths->guests_dir, name, NULL);
      if (!g_str_has_suffix (name, ".guest"))
        continue;
      if (!reload_file (self, path, seen, &local))
        {
          g_warning ("skipping %s", local->message);
          g_string_append_printf (problems, "%s%s", problems->len ? "; " : "", local->message);
          g_clear_error (&local);
        }
    }
  drop_vanished (self, seen);
  if (problems->len == 0)
    return TRUE;
  g_set_error (error, MVM_ERROR, MVM_ERROR_INVALID_CONFIG, "skipped: %s", problems->str);
  return FALSE;
}

void
mvd_manager_load (MvdManager *self)
{
  mvd_manager_reload (self, NULL);
  mvd_image_store_load (self->images);
}

/* --- autostart ------------------------------------------------------------------------- */

static void autostart_next (MvdManager *self);

static void
on_autostarted (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (MvdManager) self = user_data;
  g_autoptr (GError) error = NULL;

  if (!mvd_guest_start_finish (MVD_GUEST (source), result, &error))
    g_warning ("autostart: %s", error->message);
  self->autostart_running--;
  autostart_next (self);
}

static void
autostart_next (MvdManager *self)
{
  while (self->autostart_running < AUTOSTART_PARALLEL && !g_queue_is_empty (&self->autostart_queue))
    {
      g_autoptr (MvdGuest) guest = g_queue_pop_head (&self->autostart_queue);
      if (mvd_guest_get_state (guest) != MVM_GUEST_STATE_STOPPED)
        continue;
      self->autostart_running++;
      mvd_guest_start_with_reason_async (guest, MVM_STATE_REASON_AUTOSTART, on_autostarted,
                                         g_object_ref (self));
    }
}

void
mvd_manager_autostart (MvdManager *self)
{
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, self->guests);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    if (mvm_dbus_guest_get_autostart (MVM_DBUS_GUEST (value)))
      g_queue_push_tail (&self->autostart_queue, g_object_ref (value));
  autostart_next (self);
}

/* --- stopping every guest (ShutdownGuests=shutdown) ------------------------------ */

static void
on_guest_down (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  g_autoptr (GError) error = NULL;
  guint *pending = g_task_get_task_data (task);

  if (!mvd_guest_stop_finish (MVD_GUEST (source), result, &error))
    g_warning ("%s", error->message);
  if (--*pending == 0)
    g_task_return_boolean (task, TRUE);
}

void
mvd_manager_shutdown_all_async (MvdManager *self, GAsyncReadyCallback callback, gpointer user_data)
{
  g_autoptr (GTask) task = g_task_new (self, NULL, callback, user_data);
  g_autoptr (GList) guests = g_hash_table_get_values (self->guests);
  guint *pending = g_new0 (guint, 1);

  g_task_set_task_data (task, pending, g_free);
  self->context.stopping = TRUE;
  *pending = 1; /* held until every guest was asked, so none finishes the task early */
  for (GList *l = guests; l; l = l->next)
    {
      MvmGuestState state = mvd_guest_get_state (l->data);
      if (state == MVM_GUEST_STATE_STOPPED || state == MVM_GUEST_STATE_CRASHED)
        continue;
      (*pending)++;
      mvd_guest_message (mvd_guest_get_name (l->data), "shutting down with the daemon");
      mvd_guest_shutdown_async (l->data, 0, on_guest_down, g_object_ref (task));
    }
  if (--*pending == 0)
    g_task_return_boolean (task, TRUE);
}

gboolean
mvd_manager_shutdown_all_finish (MvdManager *self, GAsyncResult *result, GError **error)
{
  return g_task_propagate_boolean (G_TASK (result), error);
}

/* --- bus and object ------------------------------------------------------------------ */

gboolean
mvd_manager_export (MvdManager *self, GDBusConnection *connection, GError **error)
{
  mvd_authority_guard (G_DBUS_INTERFACE_SKELETON (self), &self->context);
  if (!self->context.paths->session)
    self->context.system_bus = connection; /* it outlives every guest: no reference */
  if (!g_dbus_interface_skeleton_export (G_DBUS_INTERFACE_SKELETON (self), connection,
                                         MVD_MANAGER_PATH, error))
    return FALSE;
  g_dbus_object_manager_server_set_connection (self->object_manager, connection);
  return TRUE;
}

void
mvd_manager_unexport (MvdManager *self)
{
  g_dbus_object_manager_server_set_connection (self->object_manager, NULL);
  if (g_dbus_interface_skeleton_get_connection (G_DBUS_INTERFACE_SKELETON (self)))
    g_dbus_interface_skeleton_unexport (G_DBUS_INTERFACE_SKELETON (self));
}

const MvdContext *
mvd_manager_get_context (MvdManager *self)
{
  return &self->context;
}

static void
mvd_manager_dispose (GObject *object)
{
  MvdManager *self = MVD_MANAGER (object);

  g_queue_clear_full (&self->autostart_queue, g_object_unref);
  g_clear_pointer (&self->guests, g_hash_table_unref);
  g_clear_pointer (&self->images, mvd_image_store_free);
  g_clear_pointer (&self->context.jobs, mvd_jobs_free);
  g_clear_object (&self->object_manager);
  G_OBJECT_CLASS (mvd_manager_parent_class)->dispose (object);
}

static void
mvd_manager_finalize (GObject *object)
{
  MvdManager *self = MVD_MANAGER (object);

  mvm_daemon_config_free (self->context.config);
  mvm_host_facts_free (self->context.facts);
  mvm_paths_free (self->context.paths);
  g_hash_table_unref (self->cloning);
  G_OBJECT_CLASS (mvd_manager_parent_class)->finalize (object);
}

static void
mvd_manager_class_init (MvdManagerClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = mvd_manager_dispose;
  G_OBJECT_CLASS (klass)->finalize = mvd_manager_finalize;
}

static void
mvd_manager_init (MvdManager *self)
{
  self->guests = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_object_unref);
  self->object_manager = g_dbus_object_manager_server_new (MVD_MANAGER_PATH);
  self->cloning = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_queue_init (&self->autostart_queue);
}

static void
publish_accelerator (MvdManager *self)
{
  const MvmHostFacts *facts = self->context.facts;

  mvm_dbus_manager_set_accelerator (MVM_DBUS_MANAGER (self), mvm_host_facts_accelerator (facts));
  mvm_dbus_manager_set_accelerator_note (MVM_DBUS_MANAGER (self), facts->note ? facts->note : "");
}

/* A guest found that KVM cannot run it: every start from now on uses TCG. */
static void
kvm_failed (const char *why, gpointer user_data)
{
  MvdManager *self = user_data;
  MvmHostFacts *facts = self->context.facts;
  GHashTableIter iter;
  gpointer guest;

  if (!facts->kvm)
    return;
  g_warning ("%s", why);
  facts->kvm = FALSE;
  g_free (facts->note);
  facts->note = g_strdup (why);
  publish_accelerator (self);
  g_hash_table_iter_init (&iter, self->guests);
  while (g_hash_table_iter_next (&iter, NULL, &guest))
    mvd_guest_refresh_accelerator (guest);
}

/* Does a guest answer @value to @get (its running QEMU's vsock CID, uid)? */
static gboolean
any_guest_has (MvdManager *self, guint32 (*get) (MvdGuest *guest), guint32 value)
{
  GHashTableIter iter;
  gpointer guest;

  g_hash_table_iter_init (&iter, self->guests);
  while (g_hash_table_iter_next (&iter, NULL, &guest))
    if (get (guest) == value)
      return TRUE;
  return FALSE;
}

static gboolean
cid_in_use (guint32 cid, gpointer user_data)
{
  return any_guest_has (user_data, mvd_guest_get_vsock_cid, cid);
}

static gboolean
uid_in_use (guint32 uid, gpointer user_data)
{
  return any_guest_has (user_data, mvd_guest_get_uid, uid);
}

/* The guests whose disks name image @image */
static GStrv
image_users (const char *image, gpointer user_data)
{
  MvdManager *self = user_data;
  g_autoptr (GStrvBuilder) users = g_strv_builder_new ();
  GHashTableIter iter;
  gpointer name, guest;

  g_hash_table_iter_init (&iter, self->guests);
  while (g_hash_table_iter_next (&iter, &name, &guest))
    if (mvd_guest_uses_image (guest, image))
      g_strv_builder_add (users, name);
  return g_strv_builder_end (users);
}

void
mvd_manager_guests_changed (MvdManager *self)
{
  if (self->images)
    mvd_image_store_refresh_users (self->images);
}

MvdManager *
mvd_manager_new (MvmPaths *paths, MvmDaemonConfig *config, MvmHostFacts *facts)
{
  MvdManager *self = g_object_new (MVD_TYPE_MANAGER, NULL);

  self->context.paths = paths;
  self->context.config = config;
  self->context.cid_in_use = cid_in_use;
  self->context.cid_in_use_data = self;
  self->context.uid_in_use = uid_in_use;
  self->context.uid_in_use_data = self;
  self->context.kvm_failed = kvm_failed;
  self->context.kvm_failed_data = self;
  self->context.undefine = undefine;
  self->context.undefine_data = self;
  self->context.clone = mvd_manager_clone;
  self->context.clone_data = self;
  self->context.facts = facts;
  self->context.spawn = mvd_spawn_qemu;
  self->context.timings = MVD_TIMINGS_DEFAULT;
  mvm_dbus_manager_set_version (MVM_DBUS_MANAGER (self), MVM_VERSION);
  mvm_dbus_manager_set_qemu_version (MVM_DBUS_MANAGER (self), facts->qemu_version);
  publish_accelerator (self);
  self->context.jobs = mvd_jobs_new (&self->context, self->object_manager);
  self->images = mvd_image_store_new (&self->context, self->object_manager, image_users, self);
  return self;
}

void
mvd_manager_set_spawner (MvdManager *self, MvdSpawnFunc spawn, gpointer spawn_data,
                         const MvdTimings *timings)
{
  self->context.spawn = spawn;
  self->context.spawn_data = spawn_data;
  self->context.timings = *timings;
}
