/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "mvm-image-meta.h"

#include <json-glib/json-glib.h>
#include <sys/stat.h>

#include "mvm-error.h"
#include "mvm-file.h"

void
mvm_image_meta_free (MvmImageMeta *meta)
{
  if (meta == NULL)
    return;
  g_free (meta->source_kind);
  g_free (meta->config_json);
  g_free (meta);
}

MvmImageMeta *
mvm_image_meta_of_plain_file (const char *image_path)
{
  MvmImageMeta *meta = g_new0 (MvmImageMeta, 1);
  struct stat st;

  meta->source_kind = g_strdup ("file");
  if (stat (image_path, &st) == 0)
    meta->created_usec = (gint64)st.st_mtim.tv_sec * G_USEC_PER_SEC + st.st_mtim.tv_nsec / 1000;
  return meta;
}

MvmImageMeta *
mvm_image_meta_read (const char *path, const char *image_path, GError **error)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (MvmImageMeta) meta = NULL;
  JsonObject *object;
  JsonNode *config;

  if (!g_file_test (path, G_FILE_TEST_EXISTS))
    return mvm_image_meta_of_plain_file (image_path);
  if (!json_parser_load_from_file (parser, path, error))
    return NULL;
  if (!JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    {
      g_set_error (error, MVM_ERROR, MVM_ERROR_FAILED, "%s: not a JSON object", path);
      return NULL;
    }
  object = json_node_get_object (json_parser_get_root (parser));
  meta = g_new0 (MvmImageMeta, 1);
  meta->source_kind
    = g_strdup (json_object_get_string_member_with_default (object, "source-kind", "file"));
  meta->created_usec = json_object_get_int_member_with_default (object, "created-usec", 0);
  config = json_object_get_member (object, "config");
  if (config && JSON_NODE_HOLDS_OBJECT (config))
    meta->config_json = json_to_string (config, FALSE);
  return g_steal_pointer (&meta);
}

gboolean
mvm_image_meta_write (const MvmImageMeta *meta, const char *path, GError **error)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  g_autoptr (JsonGenerator) generator = json_generator_new ();
  g_autoptr (JsonNode) root = NULL;
  g_autofree char *text = NULL;

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "source-kind");
  json_builder_add_string_value (builder, meta->source_kind);
  json_builder_set_member_name (builder, "created-usec");
  json_builder_add_int_value (builder, meta->created_usec);
  if (meta->config_json)
    {
      g_autoptr (JsonNode) config = json_from_string (meta->config_json, error);
      if (config == NULL)
        return FALSE;
      json_builder_set_member_name (builder, "config");
      json_builder_add_value (builder, g_steal_pointer (&config));
    }
  json_builder_end_object (builder);
  root = json_builder_get_root (builder);
  json_generator_set_root (generator, root);
  json_generator_set_pretty (generator, TRUE);
  text = json_generator_to_data (generator, NULL);
  return mvm_file_write_atomic (path, text, -1, 0644, error);
}
