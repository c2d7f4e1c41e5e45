/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* Copies the open file @source_fd to @path (a new file, mode 0600): a reflink where the
 * filesystem shares blocks (FICLONE), else its data ranges by copy_file_range (or read and
 * write, from one filesystem to another), holes kept.
 * The copy gets its name only once whole and on disk; on failure or cancellation there is
 * none. */
gboolean mvm_file_copy (int source_fd, const char *path, GCancellable *cancellable, GError **error);
/* The same into the open, empty file @out_fd, which errors call @what. */
gboolean mvm_file_copy_into (int source_fd, int out_fd, const char *what, GCancellable *cancellable,
                             GError **error);

G_END_DECLS
