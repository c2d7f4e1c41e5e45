/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "mvd-image.h"

#include <json-glib/json-glib.h>
#include <sys/stat.h>

#include "mvd-dbus-error.h"

struct _MvdImage
{
  MvmDbusImageSkeleton parent_instance;
  char *name;
  MvdImageRemoveFunc remove;
  gpointer remove_data;
};

static void mvd_image_iface_init (MvmDbusImageIface *iface);

G_DEFINE_TYPE_WITH_CODE (MvdImage, mvd_image, MVM_DBUS_TYPE_IMAGE_SKELETON,
                         G_IMPLEMENT_INTERFACE (MVM_DBUS_TYPE_IMAGE, mvd_image_iface_init))

static gboolean
handle_remove (MvmDbusImage *iface, GDBusMethodInvocation *invocation)
{
  MvdImage *self = MVD_IMAGE (iface);
  GError *error = NULL;

  /* the store may drop its reference: the invocation is answered on our own */
  g_object_ref (self);
  if (self->remove (self, self->remove_data, &error))
    mvm_dbus_image_complete_remove (iface, invocation);
  else
    mvd_dbus_return_error (invocation, error);
  g_object_unref (self);
  return TRUE;
}

static void
mvd_image_iface_init (MvmDbusImageIface *iface)
{
  iface->handle_remove = handle_remove;
}

static void
mvd_image_finalize (GObject *object)
{
  g_free (MVD_IMAGE (object)->name);
  G_OBJECT_CLASS (mvd_image_parent_class)->finalize (object);
}

static void
mvd_image_class_init (MvdImageClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = mvd_image_finalize;
}

static void
mvd_image_init (MvdImage *self)
{
}

char *
mvd_image_object_path (const char *name)
{
  g_autofree char *escaped = g_dbus_escape_object_path (name);

  return g_strconcat ("/org/microvmd1/image/", escaped, NULL);
}

/* @member of @object as a string array, if it is one */
static void
add_strings (GVariantBuilder *builder, JsonObject *object, const char *member, const char *key)
{
  JsonArray *array = json_object_has_member (object, member)
                       ? json_object_get_array_member (object, member)
                       : NULL;
  g_autoptr (GStrvBuilder) strings = g_strv_builder_new ();
  g_auto (GStrv) strv = NULL;

  if (array == NULL)
    return;
  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      JsonNode *node = json_array_get_element (array, i);
      if (JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_STRING)
        g_strv_builder_add (strings, json_node_get_string (node));
    }
  strv = g_strv_builder_end (strings);
  g_variant_builder_add (builder, "{sv}", key, g_variant_new_strv ((const char *const *)strv, -1));
}

static void
add_string (GVariantBuilder *builder, JsonObject *object, const char *member, const char *key)
{
  JsonNode *node = json_object_get_member (object, member);

  if (node && JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_STRING)
    g_variant_builder_add (builder, "{sv}", key,
                           g_variant_new_string (json_node_get_string (node)));
}

GVariant *
mvd_image_config_to_variant (const char *config_json)
{
  g_autoptr (JsonNode) root = config_json ? json_from_string (config_json, NULL) : NULL;
  GVariantBuilder builder;

  g_variant_builder_init (&builder, G_VARIANT_TYPE_VARDICT);
  if (root && JSON_NODE_HOLDS_OBJECT (root))
    {
      JsonObject *object = json_node_get_object (root);
      add_strings (&builder, object, "Entrypoint", "Entrypoint");
      add_strings (&builder, object, "Cmd", "Cmd");
      add_strings (&builder, object, "Env", "Env");
      add_string (&builder, object, "WorkingDir", "WorkingDir");
      add_string (&builder, object, "User", "User");
    }
  return g_variant_builder_end (&builder);
}

MvdImage *
mvd_image_new (const char *name, const char *file, const MvmImageMeta *meta,
               MvdImageRemoveFunc remove, gpointer remove_data)
{
  MvdImage *self = g_object_new (MVD_TYPE_IMAGE, NULL);
  MvmDbusImage *iface = MVM_DBUS_IMAGE (self);
  const char *none[] = { NULL };
  struct stat st;

  self->name = g_strdup (name);
  self->remove = remove;
  self->remove_data = remove_data;
  mvm_dbus_image_set_name (iface, name);
  mvm_dbus_image_set_size (iface, stat (file, &st) == 0 ? (guint64)st.st_size : 0);
  mvm_dbus_image_set_source_kind (iface, meta->source_kind);
  mvm_dbus_image_set_created (iface, (guint64)MAX (meta->created_usec, 0));
  mvm_dbus_image_set_config (iface, mvd_image_config_to_variant (meta->config_json));
  mvm_dbus_image_set_used_by (iface, none);
  return self;
}

const char *
mvd_image_get_name (MvdImage *self)
{
  return self->name;
}
