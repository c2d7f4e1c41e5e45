/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* What the daemon keeps beside an imported image, IMAGES/NAME.json: where it came from,
 * when, and the image's OCI config. An image put in the folder by hand has no such file. */
typedef struct
{
  char *source_kind;   /* oci, docker, tar; file for an image without this file */
  gint64 created_usec; /* since the epoch */
  char *config_json;   /* the OCI config object (Entrypoint, Cmd, ...), or NULL */
} MvmImageMeta;

/* Reads @path; an image without one (@path missing) gets kind "file" and @image_path's
 * modification time. */
MvmImageMeta *mvm_image_meta_read (const char *path, const char *image_path, GError **error);
/* What is known of an image without its metadata: kind "file", its modification time */
MvmImageMeta *mvm_image_meta_of_plain_file (const char *image_path);
/* Writes @meta to @path atomically (a temporary file renamed over it). */
gboolean mvm_image_meta_write (const MvmImageMeta *meta, const char *path, GError **error);
void mvm_image_meta_free (MvmImageMeta *meta);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MvmImageMeta, mvm_image_meta_free)

G_END_DECLS
