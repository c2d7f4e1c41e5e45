/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* QEMU's own output (RUNTIME/NAME/qemu.out, on the /run tmpfs) kept under a size. QEMU
 * writes it with O_APPEND, so a file cut back to its end is written on at its new end. */

/* When @path is over @max_bytes, keeps its last @keep_bytes after a line saying how much
 * went; QEMU's lines written in between may be lost. FALSE when the file was not cut. */
gboolean mvd_output_cap_check (const char *path, guint64 max_bytes, guint64 keep_bytes);

/* Checks @path every few seconds with @max_bytes, keeping a quarter; returns the source. */
guint mvd_output_cap_watch (const char *path, guint64 max_bytes);

G_END_DECLS
