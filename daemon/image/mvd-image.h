/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gio/gio.h>

#include "mvm-image-meta.h"
#include "mvm-dbus.h"

G_BEGIN_DECLS

/* One image of the images folder as /org/microvmd1/image/NAME, org.microvmd1.Image. What
 * Remove() does is its store's business: the image asks @remove. */
#define MVD_TYPE_IMAGE (mvd_image_get_type ())
G_DECLARE_FINAL_TYPE (MvdImage, mvd_image, MVD, IMAGE, MvmDbusImageSkeleton)

typedef gboolean (*MvdImageRemoveFunc) (MvdImage *image, gpointer data, GError **error);

/* Image @name, its file at @file, described by @meta. */
MvdImage *mvd_image_new (const char *name, const char *file, const MvmImageMeta *meta,
                         MvdImageRemoveFunc remove, gpointer remove_data);
const char *mvd_image_get_name (MvdImage *self);
/* /org/microvmd1/image/NAME, escaped */
char *mvd_image_object_path (const char *name);
/* The OCI config as a{sv}: Entrypoint, Cmd, Env (as), WorkingDir, User (s), what it has. */
GVariant *mvd_image_config_to_variant (const char *config_json);

G_END_DECLS
