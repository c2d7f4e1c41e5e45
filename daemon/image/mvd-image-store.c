/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "mvd-image-store.h"

#include <glib/gstdio.h>
#include <unistd.h>

#include "mvd-authority.h"
#include "mvd-image-import.h"
#include "mvd-image.h"
#include "mvd-jobs.h"
#include "mvm-error.h"
#include "mvm-value.h"

struct _MvdImageStore
{
  const MvdContext *context;
  GDBusObjectManagerServer *objects;
  MvdImageUsersFunc users;
  gpointer users_data;
  GHashTable *images;    /* name -> MvdImage */
  GHashTable *importing; /* names being imported */
};

static const char *
images_dir (MvdImageStore *self)
{
  return self->context->paths->images_dir;
}

static void
export_image (MvdImageStore *self, const char *path, MvdImage *image)
{
  g_autoptr (MvmDbusObjectSkeleton) object = mvm_dbus_object_skeleton_new (path);

  mvm_dbus_object_skeleton_set_image (object, MVM_DBUS_IMAGE (image));
  mvd_authority_guard (G_DBUS_INTERFACE_SKELETON (image), self->context);
  g_dbus_object_manager_server_export (self->objects, G_DBUS_OBJECT_SKELETON (object));
}

static void
set_users (MvdImageStore *self, MvdImage *image)
{
  g_auto (GStrv) users = self->users (mvd_image_get_name (image), self->users_data);

  mvm_dbus_image_set_used_by (MVM_DBUS_IMAGE (image), (const char *const *)users);
}

/* --- removal ---------------------------------------------------------------------------- */

static gboolean
remove_image (MvdImage *image, gpointer data, GError **error)
{
  MvdImageStore *self = data;
  const char *name = mvd_image_get_name (image);
  g_auto (GStrv) users = self->users (name, self->users_data);
  g_autofree char *file = mvm_paths_image_file (images_dir (self), name);
  g_autofree char *meta = mvm_paths_image_meta (images_dir (self), name);
  g_autofree char *path = mvd_image_object_path (name);

  if (users[0] != NULL)
    {
      g_autofree char *list = g_strjoinv (", ", users);
      g_set_error (error, MVM_ERROR, MVM_ERROR_INVALID_STATE,
                   "image %s is used by guest %s; remove their disks first", name, list);
      return FALSE;
    }
  if (g_unlink (file) < 0 && errno != ENOENT)
    {
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno), "cannot remove %s: %s", file,
                   g_strerror (errno));
      return FALSE;
    }
  g_unlink (meta);
  g_dbus_object_manager_server_unexport (self->objects, path);
  g_hash_table_remove (self->images, name);
  g_message ("image %s: removed", name);
  return TRUE;
}

/* --- the folder ------------------------------------------------------------------------- */

static void
add_image (MvdImageStore *self, const char *name)
{
  g_autofree char *file = mvm_paths_image_file (images_dir (self), name);
  g_autofree char *meta_path = mvm_paths_image_meta (images_dir (self), name);
  g_autofree char *path = mvd_image_object_path (name);
  g_autoptr (GError) error = NULL;
  g_autoptr (MvmImageMeta) meta = mvm_image_meta_read (meta_path, file, &error);
  MvdImage *image;

  if (meta == NULL)
    {
      g_warning ("image %s: %s; listed as a plain file", name, error->message);
      meta = mvm_image_meta_of_plain_file (file);
    }
  image = mvd_image_new (name, file, meta, remove_image, self);
  set_users (self, image);
  g_hash_table_replace (self->images, g_strdup (name), image);
  export_image (self, path, image);
}

/* What an import cut short leaves: a .NAME.ext4.partial, or a NAME.json without its image */
static gboolean
is_leftover (const char *dir, const char *file)
{
  g_autofree char *stem = NULL;
  g_autofree char *image = NULL;

  if (file[0] == '.' && g_str_has_suffix (file, ".ext4.partial"))
    return TRUE;
  if (!g_str_has_suffix (file, ".json"))
    return FALSE;
  stem = g_strndup (file, strlen (file) - strlen (".json"));
  image = mvm_paths_image_file (dir, stem);
  return !g_file_test (image, G_FILE_TEST_EXISTS);
}

void
mvd_image_store_load (MvdImageStore *self)
{
  g_autoptr (GDir) dir = g_dir_open (images_dir (self), 0, NULL);
  const char *file;

  while (dir && (file = g_dir_read_name (dir)))
    {
      g_autofree char *stem = NULL;
      if (is_leftover (images_dir (self), file))
        {
          g_autofree char *path = g_build_filename (images_dir (self), file, NULL);
          g_message ("images: removing %s, left by an import that did not finish", file);
          g_unlink (path);
          continue;
        }
      if (!g_str_has_suffix (file, ".ext4"))
        continue;
      stem = g_strndup (file, strlen (file) - strlen (".ext4"));
      if (mvm_name_is_valid (stem))
        add_image (self, stem);
    }
}

void
mvd_image_store_refresh_users (MvdImageStore *self)
{
  GHashTableIter iter;
  gpointer image;

  g_hash_table_iter_init (&iter, self->images);
  while (g_hash_table_iter_next (&iter, NULL, &image))
    set_users (self, image);
}

/* --- imports ---------------------------------------------------------------------------- */

typedef struct
{
  MvdImageStore *store;
  MvdJob *job;
  char *name;
} ImportCall;

static void
import_call_free (ImportCall *call)
{
  g_object_unref (call->job);
  g_free (call->name);
  g_free (call);
}

static void
on_imported (GObject *source, GAsyncResult *result, gpointer data)
{
  ImportCall *call = data;
  MvdImageStore *self = call->store;
  g_autoptr (GError) error = NULL;

  g_hash_table_remove (self->importing, call->name);
  if (mvd_image_import_finish (result, &error))
    {
      add_image (self, call->name);
      g_message ("image %s: imported", call->name);
    }
  else
    g_message ("image %s: import %s", call->name, error->message);
  mvd_jobs_end (self->context->jobs, call->job, error);
  import_call_free (call);
}

MvdJob *
mvd_image_store_import (MvdImageStore *self, int source_fd, const char *name, guint64 size_bytes,
                        GError **error)
{
  ImportCall *call;

  if (!mvm_name_is_valid (name))
    g_set_error (error, MVM_ERROR, MVM_ERROR_INVALID_CONFIG,
                 "'%s' is not an image name (letters, digits, '_', '.', '-'; at most 63)", name);
  else if (g_hash_table_contains (self->images, name))
    g_set_error (error, MVM_ERROR, MVM_ERROR_ALREADY_EXISTS,
                 "image %s exists; remove it first (microvmctl image remove %s)", name, name);
  else if (g_hash_table_contains (self->importing, name))
    g_set_error (error, MVM_ERROR, MVM_ERROR_BUSY, "image %s is being imported", name);
  else
    {
      call = g_new0 (ImportCall, 1);
      call->store = self;
      call->name = g_strdup (name);
      call->job = mvd_jobs_start (self->context->jobs, "import", name);
      g_hash_table_add (self->importing, g_strdup (name));
      g_message ("image %s: importing", name);
      mvd_image_import_async (images_dir (self), name, source_fd, size_bytes, call->job,
                              on_imported, call);
      return call->job;
    }
  close (source_fd);
  return NULL;
}

MvdImageStore *
mvd_image_store_new (const MvdContext *context, GDBusObjectManagerServer *objects,
                     MvdImageUsersFunc users, gpointer users_data)
{
  MvdImageStore *self = g_new0 (MvdImageStore, 1);

  self->context = context;
  self->objects = g_object_ref (objects);
  self->users = users;
  self->users_data = users_data;
  self->images = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_object_unref);
  self->importing = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  return self;
}

void
mvd_image_store_free (MvdImageStore *self)
{
  if (self == NULL)
    return;
  g_hash_table_unref (self->images);
  g_hash_table_unref (self->importing);
  g_object_unref (self->objects);
  g_free (self);
}
