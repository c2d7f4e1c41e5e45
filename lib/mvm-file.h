/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Writes PATH.new, fsyncs it, renames it over @path and fsyncs the folder: a reader sees
 * the old file or the new one, never half of one. */
gboolean mvm_file_write_atomic (const char *path, const char *data, gssize length, int mode,
                                GError **error);

/* A new file in the folder @dir that has no name yet (O_TMPFILE, mode 0600), for a file that
 * must never be seen half-made; -1 with @error set. */
int mvm_file_open_unnamed (const char *dir, GError **error);
/* Writes the unnamed file @fd to disk and gives it the name @path, which must not exist
 * (G_IO_ERROR_EXISTS if it does). */
gboolean mvm_file_link_unnamed (int fd, const char *path, GError **error);

/* The same without fsync, for files in the runtime folder: they serve a daemon that restarts,
 * whose crash loses no written page, and are gone after a power loss anyway (/run). */
gboolean mvm_file_write_runtime (const char *path, const char *data, gssize length, int mode,
                                 GError **error);

G_END_DECLS
