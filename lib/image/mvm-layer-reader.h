/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <archive.h>
#include <archive_entry.h>
#include <gio/gio.h>

G_BEGIN_DECLS

/* Reads the tar entries of one layer: either the whole archive behind a file descriptor
 * (a rootfs tarball, any compression) or one member of it opened as an archive of its own
 * (an OCI or Docker layer blob, itself any compression). The fd is read with pread and
 * never closed, so its offset does not matter and several readers may share it. */
typedef struct _MvmLayerReader MvmLayerReader;

/* Opens @member of the archive in @fd, or the whole archive when @member is NULL. */
MvmLayerReader *mvm_layer_reader_open (int fd, const char *member, GError **error);

/* The next entry, or NULL in *@entry at the end; the entry lives until the next call. */
gboolean mvm_layer_reader_next (MvmLayerReader *self, struct archive_entry **entry, GError **error);

/* The archive to read the current entry's data from (archive_read_data_block). */
struct archive *mvm_layer_reader_archive (MvmLayerReader *self);

/* Bytes of the layer (as stored, compressed) read so far, out of mvm_layer_reader_size. */
guint64 mvm_layer_reader_consumed (MvmLayerReader *self);
guint64 mvm_layer_reader_size (MvmLayerReader *self);

/* Reads the whole current entry, refusing one larger than @max_bytes. */
GBytes *mvm_layer_reader_read_all (MvmLayerReader *self, gsize max_bytes, GError **error);

void mvm_layer_reader_free (MvmLayerReader *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MvmLayerReader, mvm_layer_reader_free)

/* The SHA-256 of member @member of the archive in @fd, as stored, in hex. */
char *mvm_layer_reader_sha256 (int fd, const char *member, GCancellable *cancellable,
                               GError **error);
/* Reads the whole regular member @member of the archive in @fd (at most @max_bytes). */
GBytes *mvm_layer_reader_read_member (int fd, const char *member, gsize max_bytes, GError **error);

/* Opens a libarchive reader for tar in every compression libarchive knows. */
struct archive *mvm_layer_reader_new_tar_reader (void);

G_END_DECLS
