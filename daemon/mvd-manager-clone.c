/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Guest.Clone: a new persistent guest like another one. Images are never written by a guest,
 * so a clone shares them and gets overlays of its own; what the source wrote is copied only
 * when asked (full), in a worker thread, while the source is stopped. */
#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <unistd.h>

#include "mvd-dbus-error.h"
#include "mvd-log.h"
#include "mvd-manager-private.h"
#include "mvm-error.h"
#include "mvm-file-copy.h"
#include "mvm-guest-clone.h"
#include "mvm-guest-files.h"
#include "mvm-host-file.h"

/* One file to copy: the source's disk, open, and where its copy goes */
typedef struct
{
  int fd;
  char *path;
} CloneCopy;

typedef struct
{
  MvdManager *manager;
  GDBusMethodInvocation *invocation; /* the Clone call, until it is answered */
  char *new_name;
  gboolean reserved;     /* new_name is in the manager's cloning set */
  char *text;            /* the clone's guest file */
  GPtrArray *copies;     /* CloneCopy */
  GHashTable *new_paths; /* label -> path of a copied Path= disk */
} Clone;

static void
clone_copy_free (gpointer p)
{
  CloneCopy *c = p;

  close (c->fd);
  g_free (c->path);
  g_free (c);
}

static void
clone_free (Clone *clone)
{
  if (clone->reserved)
    g_hash_table_remove (clone->manager->cloning, clone->new_name);
  g_object_unref (clone->manager);
  g_free (clone->new_name);
  g_free (clone->text);
  g_ptr_array_unref (clone->copies);
  g_hash_table_unref (clone->new_paths);
  g_free (clone);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Clone, clone_free)

static const char *
data_dir (Clone *clone)
{
  return clone->manager->context.config->guest_data_dir;
}

static void
add_copy (Clone *clone, int fd, const char *file)
{
  CloneCopy *c = g_new0 (CloneCopy, 1);

  c->fd = fd;
  c->path = g_build_filename (data_dir (clone), clone->new_name, file, NULL);
  g_ptr_array_add (clone->copies, c);
}

/* A Path= disk the source writes in place: copied into the clone's folder (full), else
 * refused, since the clone would see it change under it */
static gboolean
plan_path_copy (Clone *clone, const MvmGuestConfig *source, const MvmDisk *d, gboolean full,
                GError **error)
{
  const MvmDaemonConfig *config = clone->manager->context.config;
  g_autofree char *file = NULL;
  int fd;

  if (!full || mvm_host_file_listed ((const char *const *)config->allowed_devices, d->path))
    {
      g_set_error (error, MVM_ERROR, MVM_ERROR_INVALID_CONFIG,
                   "guest %s: [Disk %s] Path=%s is written in place, so a clone over it would "
                   "see it change: %s",
                   source->name, d->label, d->path,
                   full ? "a block device is not copied; make it ReadOnly=yes or Ephemeral=yes"
                        : "clone --full copies it, or make it ReadOnly=yes or Ephemeral=yes");
      return FALSE;
    }
  if ((fd = mvm_guest_files_open_disk (config, source, d, O_RDONLY, error)) < 0)
    {
      g_prefix_error (error, "guest %s: [Disk %s] Path: ", source->name, d->label);
      return FALSE;
    }
  file = g_strdup_printf ("copy-%s.%s", d->label,
                          d->format == MVM_DISK_FORMAT_QCOW2 ? "qcow2" : "raw");
  add_copy (clone, fd, file);
  g_hash_table_insert (
    clone->new_paths, g_strdup (d->label),
    g_strdup (((CloneCopy *)g_ptr_array_index (clone->copies, clone->copies->len - 1))->path));
  return TRUE;
}

/* The source's overlay over an image (full): what it wrote on that image, if it ever ran */
static gboolean
plan_overlay_copy (Clone *clone, const MvmGuestConfig *source, const MvmDisk *d, GError **error)
{
  g_autofree char *path = mvm_paths_disk_overlay (data_dir (clone), source->name, d->label);
  g_autofree char *file = g_strconcat (d->label, ".qcow2", NULL);
  int fd = open (path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

  if (fd < 0 && errno == ENOENT)
    return TRUE;
  if (fd < 0)
    {
      g_set_error (error, MVM_ERROR, MVM_ERROR_FAILED, "guest %s: cannot open %s: %s", source->name,
                   path, g_strerror (errno));
      return FALSE;
    }
  add_copy (clone, fd, file);
  return TRUE;
}

static gboolean
plan_copies (Clone *clone, const MvmGuestConfig *source, gboolean full, GError **error)
{
  for (guint i = 0; i < source->disks->len; i++)
    {
      const MvmDisk *d = source->disks->pdata[i];
      if (d->read_only || d->ephemeral)
        continue; /* never written: shared */
      if (d->image == NULL && !plan_path_copy (clone, source, d, full, error))
        return FALSE;
      if (d->image && full && !plan_overlay_copy (clone, source, d, error))
        return FALSE;
    }
  return TRUE;
}

static void
copy_in_thread (GTask *task, gpointer object, gpointer task_data, GCancellable *cancellable)
{
  Clone *clone = task_data;
  GError *error = NULL;

  for (guint i = 0; i < clone->copies->len; i++)
    {
      const CloneCopy *c = clone->copies->pdata[i];
      if (!mvm_file_copy (c->fd, c->path, cancellable, &error))
        {
          g_task_return_error (task, error);
          return;
        }
    }
  g_task_return_boolean (task, TRUE);
}

static void
on_copied (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (Clone) clone = user_data;
  MvdManager *self = clone->manager;
  g_autofree char *file_name = g_strconcat (clone->new_name, ".guest", NULL);
  g_autofree char *path = mvd_manager_guest_path (clone->new_name);
  GError *error = NULL;
  MvdGuest *guest = NULL;

  if (g_task_propagate_boolean (G_TASK (result), &error))
    guest = mvd_manager_define (self, clone->text, file_name, &error);
  if (guest == NULL)
    {
      /* nothing of a failed clone stays */
      mvm_paths_remove_guest_data (data_dir (clone), clone->new_name, NULL);
      mvd_dbus_return_error (g_steal_pointer (&clone->invocation), error);
      return;
    }
  mvd_guest_message (clone->new_name, "defined as a clone%s",
                     clone->copies->len ? ", with copies of its source's disks" : "");
  g_dbus_method_invocation_return_value (g_steal_pointer (&clone->invocation),
                                         g_variant_new ("(o)", path));
}

static gboolean
check_new_name (MvdManager *self, const char *source, const char *new_name, GError **error)
{
  if (mvd_manager_lookup (self, new_name) || g_hash_table_contains (self->cloning, new_name))
    {
      g_set_error (error, MVM_ERROR, MVM_ERROR_ALREADY_EXISTS,
                   "guest %s: cannot clone it as %s: a guest by that name exists", source,
                   new_name);
      return FALSE;
    }
  return mvd_manager_check_room (self, new_name, error);
}

/* Everything is checked and planned before anything is written */
static Clone *
clone_plan (MvdManager *self, MvdGuest *source, const char *new_name, gboolean full, GError **error)
{
  const char *name = mvd_guest_get_name (source);
  const char *text = mvd_guest_get_guest_file (source);
  g_autoptr (MvmGuestConfig) config = NULL;
  g_autoptr (Clone) clone = g_new0 (Clone, 1);

  clone->manager = g_object_ref (self);
  clone->new_name = g_strdup (new_name);
  clone->copies = g_ptr_array_new_with_free_func (clone_copy_free);
  clone->new_paths = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  if (!check_new_name (self, name, new_name, error))
    return NULL;
  g_hash_table_add (self->cloning, g_strdup (new_name));
  clone->reserved = TRUE;
  if (!(config = mvd_manager_parse (self, text, NULL, error))
      || !plan_copies (clone, config, full, error))
    return NULL;
  if (clone->copies->len && !mvm_guest_state_is_down (mvd_guest_get_state (source)))
    {
      g_set_error (error, MVM_ERROR, MVM_ERROR_INVALID_STATE,
                   "guest %s is %s: stop it first, so that its disks are copied whole", name,
                   mvm_guest_state_to_string (mvd_guest_get_state (source)));
      return NULL;
    }
  clone->text = mvm_guest_clone_text (text, config, new_name, clone->new_paths, error);
  return clone->text ? g_steal_pointer (&clone) : NULL;
}

static gboolean
make_folder (Clone *clone, GError **error)
{
  g_autofree char *dir = NULL;

  if (clone->copies->len == 0)
    return TRUE;
  /* a leftover of a guest by this name that is gone is not the clone's */
  if (!mvm_paths_remove_guest_data (data_dir (clone), clone->new_name, error))
    return FALSE;
  dir = mvm_paths_guest_data (data_dir (clone), clone->new_name);
  if (g_mkdir_with_parents (dir, 0700) == 0)
    return TRUE;
  g_set_error (error, MVM_ERROR, MVM_ERROR_FAILED, "cannot create %s: %s", dir, g_strerror (errno));
  return FALSE;
}

void
mvd_manager_clone (gpointer guest, const char *new_name, gboolean full,
                   GDBusMethodInvocation *invocation, gpointer data)
{
  MvdManager *self = data;
  GError *error = NULL;
  Clone *clone = clone_plan (self, guest, new_name, full, &error);
  g_autoptr (GTask) task = NULL;

  if (clone == NULL || !make_folder (clone, &error))
    {
      g_clear_pointer (&clone, clone_free);
      mvd_dbus_return_error (invocation, error);
      return;
    }
  clone->invocation = invocation; /* completed, and so let go of, in on_copied */
  task = g_task_new (self, NULL, on_copied, clone);
  g_task_set_task_data (task, clone, NULL);
  g_task_run_in_thread (task, copy_in_thread);
}
