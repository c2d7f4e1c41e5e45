/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Opens @path for QEMU, which gets the fd, never the name: @path must lie beneath one of
 * @dirs, and every step below that folder must be a real folder or the file itself, never a
 * symlink, "..", or a /proc magic link (openat2 RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS |
 * RESOLVE_NO_MAGICLINKS), so nobody can swap the name once it is checked. The file must be a
 * regular file. Returns the fd (O_CLOEXEC added to @flags), or -1 with @error set. */
int mvm_host_file_open_beneath (const char *const *dirs, const char *path, int flags,
                                GError **error);

/* Opens @path, a block device that root's microvmd.conf lists by that very name. */
int mvm_host_file_open_device (const char *path, int flags, GError **error);

/* Opens a file that root's own configuration names (the default kernel and initrd). */
int mvm_host_file_open_trusted (const char *path, GError **error);

/* TRUE when @path equals an entry of @list. */
gboolean mvm_host_file_listed (const char *const *list, const char *path);

G_END_DECLS
