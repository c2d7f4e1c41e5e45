/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* microvmctl image: import, list, inspect, remove; import is in mvc-image-import.c. */
#include <string.h>

#include "mvc-verbs.h"
#include "mvm-value.h"

#define MVC_IMAGE_IFACE "org.microvmd1.Image"

static const char *
lookup_string (GVariant *props, const char *key)
{
  const char *value = NULL;

  return g_variant_lookup (props, key, "&s", &value) ? value : "";
}

static guint64
lookup_u64 (GVariant *props, const char *key)
{
  guint64 value = 0;

  g_variant_lookup (props, key, "t", &value);
  return value;
}

static int
compare_names (gconstpointer a, gconstpointer b)
{
  return g_strcmp0 (lookup_string (*(GVariant *const *)a, "Name"),
                    lookup_string (*(GVariant *const *)b, "Name"));
}

static char *
used_by (GVariant *props)
{
  g_autofree const char **users = NULL;

  if (!g_variant_lookup (props, "UsedBy", "^a&s", &users) || users[0] == NULL)
    return g_strdup ("-");
  return g_strjoinv (",", (char **)users);
}

/* The Image properties as one JSON object; the config as the image has it */
static void
add_json_image (JsonBuilder *b, GVariant *props)
{
  GVariantIter iter;
  const char *key;
  GVariant *value;

  json_builder_begin_object (b);
  g_variant_iter_init (&iter, props);
  while (g_variant_iter_next (&iter, "{&sv}", &key, &value))
    {
      g_autoptr (GVariant) owned = value;
      json_builder_set_member_name (b, key);
      json_builder_add_value (b, json_gvariant_serialize (value));
    }
  json_builder_end_object (b);
}

static void
print_table (GPtrArray *images)
{
  int width = 4;

  for (guint i = 0; i < images->len; i++)
    width = MAX (width, (int)strlen (lookup_string (images->pdata[i], "Name")));
  g_print ("%-*s %8s %-6s %-23s %s\n", width, "NAME", "SIZE", "SOURCE", "CREATED", "USED BY");
  for (guint i = 0; i < images->len; i++)
    {
      GVariant *props = images->pdata[i];
      g_autofree char *size = mvm_format_size (lookup_u64 (props, "Size"));
      g_autofree char *created = mvc_format_timestamp (lookup_u64 (props, "Created"));
      g_autofree char *users = used_by (props);
      g_print ("%-*s %8s %-6s %-23s %s\n", width, lookup_string (props, "Name"), size,
               lookup_string (props, "SourceKind"), created, users);
    }
}

static int
image_list (MvcContext *ctx, int argc, char **argv)
{
  g_autoptr (GPtrArray) images = NULL;
  g_autoptr (GError) error = NULL;
  int status;

  if (!mvc_parse_verb_json (ctx, NULL, "",
                            "Lists the images of the images folder: size, what they were imported "
                            "from (oci, docker, tar, or file: put there by hand), when, and the "
                            "guests whose disks name them.",
                            0, &argc, &argv, &status))
    return status;
  if ((images = mvc_managed_properties (ctx, MVC_IMAGE_IFACE, &error)) == NULL)
    return mvc_fail (error);
  g_ptr_array_sort (images, compare_names);
  if (ctx->json)
    {
      g_autoptr (JsonBuilder) b = json_builder_new ();
      json_builder_begin_array (b);
      for (guint i = 0; i < images->len; i++)
        add_json_image (b, images->pdata[i]);
      json_builder_end_array (b);
      mvc_print_json (json_builder_get_root (b));
    }
  else
    print_table (images);
  return MVC_EXIT_OK;
}

static GVariant *
find_image (GPtrArray *images, const char *name)
{
  for (guint i = 0; i < images->len; i++)
    if (g_str_equal (lookup_string (images->pdata[i], "Name"), name))
      return images->pdata[i];
  return NULL;
}

static int
image_inspect (MvcContext *ctx, int argc, char **argv)
{
  g_autoptr (GPtrArray) images = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonBuilder) b = json_builder_new ();
  GVariant *props;
  int status;

  if (!mvc_parse_verb (ctx, NULL, "NAME",
                       "Prints image NAME as JSON: its properties and the OCI config kept with "
                       "it (Entrypoint, Cmd, Env, WorkingDir, User).",
                       1, &argc, &argv, &status))
    return status;
  if ((images = mvc_managed_properties (ctx, MVC_IMAGE_IFACE, &error)) == NULL)
    return mvc_fail (error);
  if ((props = find_image (images, argv[1])) == NULL)
    return mvc_usage ("no image named '%s' (microvmctl image list)", argv[1]);
  add_json_image (b, props);
  mvc_print_json (json_builder_get_root (b));
  return MVC_EXIT_OK;
}

gboolean
mvc_remove_image (MvcContext *ctx, const char *name, GError **error)
{
  g_autofree char *escaped = g_dbus_escape_object_path (name);
  g_autofree char *path = g_strconcat (MVC_MANAGER_PATH "/image/", escaped, NULL);
  g_autoptr (MvmDbusImage) image = NULL;

  if (mvc_manager (ctx, error) == NULL)
    return FALSE;
  image = mvm_dbus_image_proxy_new_sync (ctx->bus, G_DBUS_PROXY_FLAGS_DO_NOT_LOAD_PROPERTIES,
                                         MVC_BUS_NAME, path, NULL, error);
  return image && mvm_dbus_image_call_remove_sync (image, NULL, error);
}

static int
image_remove (MvcContext *ctx, int argc, char **argv)
{
  g_autoptr (GPtrArray) images = NULL;
  g_autoptr (GError) error = NULL;
  int status;

  if (!mvc_parse_verb (ctx, NULL, "NAME",
                       "Deletes image NAME from the images folder; refused while a guest's disk "
                       "names it.",
                       1, &argc, &argv, &status))
    return status;
  if ((images = mvc_managed_properties (ctx, MVC_IMAGE_IFACE, &error)) == NULL)
    return mvc_fail (error);
  if (find_image (images, argv[1]) == NULL)
    return mvc_usage ("no image named '%s' (microvmctl image list)", argv[1]);
  if (!mvc_remove_image (ctx, argv[1], &error))
    return mvc_fail (error);
  return MVC_EXIT_OK;
}

int
mvc_image (MvcContext *ctx, int argc, char **argv)
{
  static const MvcSubverb subverbs[] = {
    { "import", "image import", mvc_image_import },
    { "list", "image list", image_list },
    { "inspect", "image inspect", image_inspect },
    { "remove", "image remove", image_remove },
  };

  return mvc_run_subverb (ctx, subverbs, G_N_ELEMENTS (subverbs),
                          "Usage: microvmctl image import NAME SOURCE [--size SIZE]\n"
                          "       microvmctl image list\n"
                          "       microvmctl image inspect NAME\n"
                          "       microvmctl image remove NAME\n",
                          argc, argv);
}
