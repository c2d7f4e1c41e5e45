/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Where each group and key of a key file stands, so messages can name a line.
 * GKeyFile merges repeated groups and keeps the last of repeated keys; this
 * index refuses both, since a repeated [Disk root] is a mistake, not a merge,
 * except for the keys in @list_keys (NULL: none), which may be given on several
 * lines and whose values it keeps, in order. */
typedef struct _MvmKeyLines MvmKeyLines;

MvmKeyLines *mvm_key_lines_new (const char *data, gsize length, const char *file_name,
                                const char *const *list_keys, GError **error);
void mvm_key_lines_free (MvmKeyLines *lines);
/* 1-based line of the group header or of (the first line of) the key in it; 0 when absent. */
guint mvm_key_lines_lookup (const MvmKeyLines *lines, const char *group, const char *key);
typedef struct
{
  guint line;
  char *value; /* as written after '=', stripped */
} MvmKeyLineValue;

/* A list key's values (MvmKeyLineValue), one per line given; NULL when the key is absent. */
const GPtrArray *mvm_key_lines_values (const MvmKeyLines *lines, const char *group,
                                       const char *key);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MvmKeyLines, mvm_key_lines_free)

G_END_DECLS
