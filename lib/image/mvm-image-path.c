/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Archive names are untrusted data: they are split here once and never handed to the host's
 * path resolution. */
#include "mvm-image-path.h"

#include <string.h>

#include "mvm-error.h"

#define MVM_IMAGE_NAME_MAX 255  /* EXT2_NAME_LEN */
#define MVM_IMAGE_PATH_MAX 4096 /* PATH_MAX: no longer name is usable in the guest */

static gboolean
check_component (const char *name, const char *part, GError **error)
{
  if (strcmp (part, "..") == 0)
    {
      g_set_error (error, MVM_ERROR, MVM_ERROR_ACCESS_DENIED,
                   "entry '%s' has a '..' component and would leave the image root", name);
      return FALSE;
    }
  if (strlen (part) > MVM_IMAGE_NAME_MAX)
    {
      g_set_error (error, MVM_ERROR, MVM_ERROR_INVALID_CONFIG,
                   "entry '%s' has a component longer than %d bytes, which ext4 cannot hold", name,
                   MVM_IMAGE_NAME_MAX);
      return FALSE;
    }
  return TRUE;
}

GStrv
mvm_image_path_split (const char *name, GError **error)
{
  g_auto (GStrv) parts = NULL;
  g_autoptr (GStrvBuilder) builder = g_strv_builder_new ();

  /* The bound on the length bounds the depth, and with it the writer's recursion when it
   * removes a tree. */
  if (strlen (name) > MVM_IMAGE_PATH_MAX)
    {
      g_set_error (error, MVM_ERROR, MVM_ERROR_INVALID_CONFIG,
                   "entry '%.64s...' has a name longer than %d bytes", name, MVM_IMAGE_PATH_MAX);
      return NULL;
    }
  parts = g_strsplit (name, "/", -1);

  for (guint i = 0; parts[i] != NULL; i++)
    {
      if (parts[i][0] == '\0' || strcmp (parts[i], ".") == 0)
        continue;
      if (!check_component (name, parts[i], error))
        return NULL;
      g_strv_builder_add (builder, parts[i]);
    }
  return g_strv_builder_end (builder);
}

char *
mvm_image_path_join (const char *const *components, guint n)
{
  GString *s = g_string_new (NULL);

  for (guint i = 0; i < n; i++)
    {
      if (i > 0)
        g_string_append_c (s, '/');
      g_string_append (s, components[i]);
    }
  return g_string_free (s, FALSE);
}
