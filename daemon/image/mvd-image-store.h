/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gio/gio.h>

#include "mvd-context.h"
#include "mvd-job.h"

G_BEGIN_DECLS

/* The images folder on the bus: an org.microvmd1.Image object for each NAME.ext4 in it,
 * the import jobs, and what removing an image must respect (the guests that use it). */
typedef struct _MvdImageStore MvdImageStore;

/* The names of the guests whose disks name image @image (for UsedBy and Remove) */
typedef GStrv (*MvdImageUsersFunc) (const char *image, gpointer data);

/* Exports through @objects; @context's paths give the folder, its polkit guard the
 * authorization of Remove and Cancel. */
MvdImageStore *mvd_image_store_new (const MvdContext *context, GDBusObjectManagerServer *objects,
                                    MvdImageUsersFunc users, gpointer users_data);
void mvd_image_store_free (MvdImageStore *self);
/* Reads the folder: removes what an import cut short left behind, exports every image. */
void mvd_image_store_load (MvdImageStore *self);
/* Begins importing image @name from @source_fd (taken, success or not); returns the job
 * (owned by the store), or NULL when the name is bad or taken. */
MvdJob *mvd_image_store_import (MvdImageStore *self, int source_fd, const char *name,
                                guint64 size_bytes, GError **error);
/* The guests changed: recomputes every image's UsedBy. */
void mvd_image_store_refresh_users (MvdImageStore *self);

G_END_DECLS
