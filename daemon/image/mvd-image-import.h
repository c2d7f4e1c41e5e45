/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gio/gio.h>

#include "mvd-job.h"

G_BEGIN_DECLS

/* Writes image @name into @images_dir from the archive in @source_fd (taken): in a worker
 * thread, reporting to @job on the main loop, stopped by the job's Cancel(). A stream (a
 * pipe) is first spooled into an unnamed file of the images folder, since an OCI archive is
 * read out of order. The image is built as IMAGES/.NAME.ext4.partial, its NAME.json written,
 * and only then renamed to NAME.ext4: a failed or cancelled import leaves nothing, and a
 * daemon killed meanwhile leaves only a .partial that the next one removes. @size_bytes: the
 * image's size, 0 for the content and some room. */
void mvd_image_import_async (const char *images_dir, const char *name, int source_fd,
                             guint64 size_bytes, MvdJob *job, GAsyncReadyCallback callback,
                             gpointer user_data);
gboolean mvd_image_import_finish (GAsyncResult *result, GError **error);

/* IMAGES/.NAME.ext4.partial */
char *mvd_image_import_partial_path (const char *images_dir, const char *name);

G_END_DECLS
