/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Splits an archive member name into the components of a path below the image root.
 * "/", "." and empty components are dropped; "..", over-long components and names longer
 * than PATH_MAX are refused, so no name can leave the root. An empty vector means the root itself.
 */
GStrv mvm_image_path_split (const char *name, GError **error);

/* Joins the first @n components with "/": the key a path has in a layer's set. */
char *mvm_image_path_join (const char *const *components, guint n);

G_END_DECLS
