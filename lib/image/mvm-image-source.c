/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* OCI image layout (image-spec image-layout.md) and `docker save` archives. The archive is
 * scanned once for its root files; every JSON it names is read by a further scan, which
 * for an uncompressed archive only reads the tar headers. */
#include "mvm-image-source.h"

#include <json-glib/json-glib.h>
#include <string.h>

#include "mvm-error.h"
#include "mvm-image-path.h"
#include "mvm-layer-reader.h"

#define JSON_MAX (16 * 1024 * 1024)
#define MEDIA_OCI_INDEX "application/vnd.oci.image.index.v1+json"
#define MEDIA_DOCKER_LIST "application/vnd.docker.distribution.manifest.list.v2+json"

static const char *const kind_names[] = {
  [MVM_IMAGE_KIND_OCI] = "oci",
  [MVM_IMAGE_KIND_DOCKER] = "docker",
  [MVM_IMAGE_KIND_TAR] = "tar",
};

const char *
mvm_image_kind_to_string (MvmImageKind kind)
{
  g_return_val_if_fail ((guint)kind < G_N_ELEMENTS (kind_names), NULL);
  return kind_names[kind];
}

gboolean
mvm_image_kind_from_string (const char *name, MvmImageKind *kind)
{
  for (guint i = 0; i < G_N_ELEMENTS (kind_names); i++)
    if (g_strcmp0 (name, kind_names[i]) == 0)
      {
        *kind = (MvmImageKind)i;
        return TRUE;
      }
  return FALSE;
}

/* json-glib 1.6 has no _with_default getters for objects and arrays. */
static JsonObject *
object_member (JsonObject *obj, const char *key, gpointer unused)
{
  JsonNode *node = json_object_get_member (obj, key);

  return node != NULL && JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
}

static JsonArray *
array_member (JsonObject *obj, const char *key, gpointer unused)
{
  JsonNode *node = json_object_get_member (obj, key);

  return node != NULL && JSON_NODE_HOLDS_ARRAY (node) ? json_node_get_array (node) : NULL;
}

static gboolean
invalid (GError **error, const char *file, const char *what)
{
  g_set_error (error, MVM_ERROR, MVM_ERROR_INVALID_CONFIG, "%s in the image archive %s", file,
               what);
  return FALSE;
}

/* Root members that decide the kind: oci-layout and index.json, or manifest.json. */
typedef struct
{
  gboolean oci_layout;
  GBytes *index;
  GBytes *manifest;
} RootFiles;

static void
root_files_clear (RootFiles *root)
{
  g_clear_pointer (&root->index, g_bytes_unref);
  g_clear_pointer (&root->manifest, g_bytes_unref);
}

static gboolean
scan_root_entry (MvmLayerReader *reader, const char *name, RootFiles *root, GError **error)
{
  g_auto (GStrv) parts = mvm_image_path_split (name, NULL);

  if (parts == NULL || g_strv_length (parts) != 1)
    return TRUE;
  if (strcmp (parts[0], "oci-layout") == 0)
    root->oci_layout = TRUE;
  else if (strcmp (parts[0], "index.json") == 0 && root->index == NULL)
    root->index = mvm_layer_reader_read_all (reader, JSON_MAX, error);
  else if (strcmp (parts[0], "manifest.json") == 0 && root->manifest == NULL)
    root->manifest = mvm_layer_reader_read_all (reader, JSON_MAX, error);
  return error == NULL || *error == NULL;
}

static gboolean
scan_root (int fd, RootFiles *root, GCancellable *cancellable, GError **error)
{
  g_autoptr (MvmLayerReader) reader = mvm_layer_reader_open (fd, NULL, error);
  struct archive_entry *entry;

  if (reader == NULL)
    return FALSE;
  for (;;)
    {
      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        return FALSE;
      if (!mvm_layer_reader_next (reader, &entry, error))
        return FALSE;
      if (entry == NULL)
        return TRUE;
      if (archive_entry_filetype (entry) == AE_IFREG && archive_entry_pathname (entry) != NULL
          && !scan_root_entry (reader, archive_entry_pathname (entry), root, error))
        return FALSE;
    }
}

static JsonNode *
parse_json (GBytes *bytes, const char *file, GError **error)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  gsize len;
  const char *data = g_bytes_get_data (bytes, &len);

  if (!json_parser_load_from_data (parser, data, (gssize)len, error))
    {
      g_prefix_error (error, "%s in the image archive is not JSON: ", file);
      return NULL;
    }
  return json_node_copy (json_parser_get_root (parser));
}

/* "sha256:<hex>" → "blobs/sha256/<hex>"; anything else is refused. */
static char *
blob_member (const char *digest, const char *file, GError **error)
{
  const char *colon = digest != NULL ? strchr (digest, ':') : NULL;

  if (colon == NULL || strncmp (digest, "sha256:", 7) != 0 || strlen (colon + 1) != 64
      || strspn (colon + 1, "0123456789abcdef") != 64)
    {
      g_set_error (error, MVM_ERROR, MVM_ERROR_INVALID_CONFIG,
                   "%s in the image archive has a digest that is not sha256:<64 hex>: '%s'", file,
                   digest != NULL ? digest : "(none)");
      return NULL;
    }
  return g_strconcat ("blobs/sha256/", colon + 1, NULL);
}

static JsonNode *
read_blob_json (int fd, const char *digest, const char *file, GError **error)
{
  g_autofree char *member = blob_member (digest, file, error);
  g_autoptr (GBytes) bytes = NULL;
  g_autofree char *sum = NULL;

  if (member == NULL)
    return NULL;
  bytes = mvm_layer_reader_read_member (fd, member, JSON_MAX, error);
  if (bytes == NULL)
    return NULL;
  sum = g_compute_checksum_for_bytes (G_CHECKSUM_SHA256, bytes);
  if (strcmp (sum, digest + 7) != 0)
    {
      g_set_error (error, MVM_ERROR, MVM_ERROR_INVALID_CONFIG,
                   "%s in the image archive does not match its digest %s", member, digest);
      return NULL;
    }
  return parse_json (bytes, member, error);
}

static gboolean
platform_is (JsonObject *desc, const char *os, const char *arch)
{
  JsonObject *platform = object_member (desc, "platform", NULL);

  return platform != NULL
         && g_strcmp0 (json_object_get_string_member_with_default (platform, "os", ""), os) == 0
         && g_strcmp0 (json_object_get_string_member_with_default (platform, "architecture", ""),
                       arch)
              == 0;
}

/* The linux/amd64 manifest of an index; else its only one, or its first without a platform
 * (an index of tags rather than of platforms). */
static JsonObject *
pick_manifest (JsonNode *index, const char *file, GError **error)
{
  JsonObject *root = JSON_NODE_HOLDS_OBJECT (index) ? json_node_get_object (index) : NULL;
  JsonArray *manifests = root != NULL ? array_member (root, "manifests", NULL) : NULL;
  guint n = manifests != NULL ? json_array_get_length (manifests) : 0;
  JsonObject *fallback = NULL;

  for (guint i = 0; i < n; i++)
    {
      JsonObject *desc = json_array_get_object_element (manifests, i);
      if (desc == NULL)
        continue;
      if (platform_is (desc, "linux", "amd64"))
        return desc;
      if (fallback == NULL && (n == 1 || object_member (desc, "platform", NULL) == NULL))
        fallback = desc;
    }
  if (fallback == NULL)
    invalid (error, file, n == 0 ? "lists no manifests" : "has no linux/amd64 manifest");
  return fallback;
}

static gboolean
is_index_media (JsonObject *obj)
{
  const char *media = json_object_get_string_member_with_default (obj, "mediaType", "");

  return strcmp (media, MEDIA_OCI_INDEX) == 0 || strcmp (media, MEDIA_DOCKER_LIST) == 0;
}

/* Follows index.json, through nested indexes, to an image manifest. */
static JsonNode *
resolve_manifest (int fd, JsonNode *index, GError **error)
{
  g_autoptr (JsonNode) current = json_node_copy (index);
  g_autofree char *file = g_strdup ("index.json");

  for (guint depth = 0; depth < 4; depth++)
    {
      JsonObject *desc = pick_manifest (current, file, error);
      const char *digest;
      g_autoptr (JsonNode) next = NULL;

      if (desc == NULL)
        return NULL;
      digest = json_object_get_string_member_with_default (desc, "digest", NULL);
      next = read_blob_json (fd, digest, file, error);
      if (next == NULL)
        return NULL;
      g_free (file);
      file = g_strdup (digest);
      if (!JSON_NODE_HOLDS_OBJECT (next))
        {
          invalid (error, file, "is not a JSON object");
          return NULL;
        }
      if (!is_index_media (desc) && !is_index_media (json_node_get_object (next)))
        return g_steal_pointer (&next);
      g_clear_pointer (&current, json_node_unref);
      current = g_steal_pointer (&next);
    }
  invalid (error, "index.json", "nests indexes too deeply");
  return NULL;
}

/* The "config" object of an image config, serialised; "{}" when it has none. */
static char *
config_object_json (JsonNode *config)
{
  JsonObject *root = JSON_NODE_HOLDS_OBJECT (config) ? json_node_get_object (config) : NULL;
  JsonNode *inner = root != NULL ? json_object_get_member (root, "config") : NULL;

  if (inner == NULL || !JSON_NODE_HOLDS_OBJECT (inner))
    return g_strdup ("{}");
  return json_to_string (inner, FALSE);
}

static gboolean
load_oci (MvmImageSource *self, int fd, GBytes *index_bytes, GError **error)
{
  g_autoptr (JsonNode) index = parse_json (index_bytes, "index.json", error);
  g_autoptr (JsonNode) manifest = NULL;
  g_autoptr (JsonNode) config = NULL;
  JsonObject *m, *config_desc;
  JsonArray *layers;

  if (index == NULL || (manifest = resolve_manifest (fd, index, error)) == NULL)
    return FALSE;
  m = json_node_get_object (manifest);
  config_desc = object_member (m, "config", NULL);
  layers = array_member (m, "layers", NULL);
  if (config_desc == NULL || layers == NULL)
    return invalid (error, "the image manifest", "has no config or no layers");
  config
    = read_blob_json (fd, json_object_get_string_member_with_default (config_desc, "digest", NULL),
                      "the image manifest", error);
  if (config == NULL)
    return FALSE;
  self->config_json = config_object_json (config);
  for (guint i = 0; i < json_array_get_length (layers); i++)
    {
      JsonObject *desc = json_array_get_object_element (layers, i);
      char *member = blob_member (
        desc != NULL ? json_object_get_string_member_with_default (desc, "digest", NULL) : NULL,
        "the image manifest", error);
      if (member == NULL)
        return FALSE;
      g_ptr_array_add (self->layers, member);
    }
  return TRUE;
}

static char *
docker_member (const char *name, GError **error)
{
  g_auto (GStrv) parts = NULL;

  if (name == NULL)
    {
      invalid (error, "manifest.json", "names a layer or config that is not a string");
      return NULL;
    }
  parts = mvm_image_path_split (name, error);
  if (parts == NULL)
    return NULL;
  return mvm_image_path_join ((const char *const *)parts, g_strv_length (parts));
}

static gboolean
load_docker_layers (MvmImageSource *self, JsonArray *layers, GError **error)
{
  for (guint i = 0; i < json_array_get_length (layers); i++)
    {
      JsonNode *node = json_array_get_element (layers, i);
      char *member
        = docker_member (JSON_NODE_HOLDS_VALUE (node) ? json_node_get_string (node) : NULL, error);
      if (member == NULL)
        return FALSE;
      g_ptr_array_add (self->layers, member);
    }
  return TRUE;
}

/* `docker save`: manifest.json is a list of images; the first one is imported. */
static gboolean
load_docker (MvmImageSource *self, int fd, GBytes *manifest_bytes, GError **error)
{
  g_autoptr (JsonNode) manifest = parse_json (manifest_bytes, "manifest.json", error);
  g_autoptr (JsonNode) config = NULL;
  g_autoptr (GBytes) config_bytes = NULL;
  g_autofree char *config_member = NULL;
  JsonArray *list;
  JsonObject *image;
  JsonArray *layers;

  if (manifest == NULL)
    return FALSE;
  list = JSON_NODE_HOLDS_ARRAY (manifest) ? json_node_get_array (manifest) : NULL;
  image = list != NULL && json_array_get_length (list) > 0 ? json_array_get_object_element (list, 0)
                                                           : NULL;
  layers = image != NULL ? array_member (image, "Layers", NULL) : NULL;
  if (layers == NULL)
    return invalid (error, "manifest.json", "lists no image with Layers");
  config_member
    = docker_member (json_object_get_string_member_with_default (image, "Config", NULL), error);
  if (config_member == NULL)
    return FALSE;
  config_bytes = mvm_layer_reader_read_member (fd, config_member, JSON_MAX, error);
  if (config_bytes == NULL || (config = parse_json (config_bytes, config_member, error)) == NULL)
    return FALSE;
  self->config_json = config_object_json (config);
  return load_docker_layers (self, layers, error);
}

MvmImageSource *
mvm_image_source_new (int fd, GCancellable *cancellable, GError **error)
{
  g_autoptr (MvmImageSource) self = g_new0 (MvmImageSource, 1);
  RootFiles root = { 0 };
  gboolean ok;

  self->layers = g_ptr_array_new_with_free_func (g_free);
  if (!scan_root (fd, &root, cancellable, error))
    {
      root_files_clear (&root);
      return NULL;
    }
  if (root.oci_layout && root.index != NULL)
    {
      self->kind = MVM_IMAGE_KIND_OCI;
      ok = load_oci (self, fd, root.index, error);
    }
  else if (root.manifest != NULL)
    {
      self->kind = MVM_IMAGE_KIND_DOCKER;
      ok = load_docker (self, fd, root.manifest, error);
    }
  else
    {
      self->kind = MVM_IMAGE_KIND_TAR;
      g_ptr_array_add (self->layers, NULL);
      ok = TRUE;
    }
  root_files_clear (&root);
  return ok ? g_steal_pointer (&self) : NULL;
}

void
mvm_image_source_free (MvmImageSource *self)
{
  g_clear_pointer (&self->layers, g_ptr_array_unref);
  g_free (self->config_json);
  g_free (self);
}
