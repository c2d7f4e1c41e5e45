/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <archive.h>
#include <archive_entry.h>
#include <gio/gio.h>

G_BEGIN_DECLS

/* Writes tar entries into an empty ext4 filesystem with libext2fs: no mount, no root, and no
 * host path ever resolved from an entry name. Layers are applied in order with OCI
 * whiteouts (.wh.NAME, .wh..wh..opq). */
typedef struct _MvmExt4Writer MvmExt4Writer;

/* Opens the ext4 filesystem in @path for writing. */
MvmExt4Writer *mvm_ext4_writer_open (const char *path, GError **error);

/* Starts a layer: whiteouts from now on hide only what earlier layers wrote. */
void mvm_ext4_writer_begin_layer (MvmExt4Writer *self);

/* Applies @entry, reading a regular file's data from @data (archive_read_data_block). */
gboolean mvm_ext4_writer_add (MvmExt4Writer *self, struct archive_entry *entry,
                              struct archive *data, GCancellable *cancellable, GError **error);

/* Writes bitmaps, group descriptors and superblock, and closes the filesystem. */
gboolean mvm_ext4_writer_close (MvmExt4Writer *self, GError **error);

/* Frees the writer; an unclosed filesystem is abandoned, not flushed. */
void mvm_ext4_writer_free (MvmExt4Writer *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MvmExt4Writer, mvm_ext4_writer_free)

G_END_DECLS
