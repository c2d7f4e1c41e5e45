/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gio/gio.h>

#include "mvm-image-source.h"

G_BEGIN_DECLS

/* Called now and then from the building thread: archive bytes written into the image so
 * far, out of @total (the layers' bytes as stored, i.e. compressed). */
typedef void (*MvmImageProgressFunc) (guint64 consumed, guint64 total, gpointer user_data);

typedef struct
{
  MvmImageKind kind;
  char *config_json; /* the image's config object as JSON; NULL for a plain tar */
  guint n_layers;
  guint64 content_bytes; /* file data and folders, as estimated before writing */
  guint64 image_bytes;   /* size of the image file */
} MvmImageInfo;

/* Writes a new ext4 image at @target_path (which must not exist) from the OCI, Docker or
 * plain tar archive in the seekable @archive_fd, of @size_bytes or, with 0, of its content
 * plus 20% (at least 32 MiB). Blocks; run it in a worker thread. On failure or cancellation
 * nothing is left at @target_path. */
gboolean mvm_image_build (int archive_fd, const char *target_path, guint64 size_bytes,
                          MvmImageProgressFunc progress, gpointer user_data,
                          GCancellable *cancellable, MvmImageInfo **info_out, GError **error);

void mvm_image_info_free (MvmImageInfo *info);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MvmImageInfo, mvm_image_info_free)

G_END_DECLS
