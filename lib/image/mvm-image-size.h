/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <archive_entry.h>
#include <glib.h>

G_BEGIN_DECLS

#define MVM_IMAGE_BLOCK_SIZE 4096
#define MVM_IMAGE_INODE_SIZE 256
#define MVM_IMAGE_MIN_AUTO_BYTES (32 * 1024 * 1024)

/* What the entries of all layers need, summed before anything is written; overwritten and
 * whited-out files count in full, so the estimate errs on the large side. Folders count
 * once, whether an entry names them or only its path does. */
typedef struct
{
  guint64 data_bytes; /* file data and long symlinks, in whole blocks */
  guint64 dir_bytes;  /* one block per folder plus the size of every name */
  guint64 inodes;
  GHashTable *folders; /* paths of the folders counted */
} MvmImageSize;

MvmImageSize *mvm_image_size_new (void);
void mvm_image_size_free (MvmImageSize *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MvmImageSize, mvm_image_size_free)

/* Counts one archive entry. */
void mvm_image_size_add_entry (MvmImageSize *self, struct archive_entry *entry);

/* Bytes of data and folders the image holds. */
guint64 mvm_image_size_content (const MvmImageSize *self);

/* Inodes to give an image of @image_bytes: the usual 1 per 16 KiB, or the entries plus 20%. */
guint64 mvm_image_size_inodes_for (const MvmImageSize *self, guint64 image_bytes);

/* Whether an image of @image_bytes holds the content with its metadata and journal. */
gboolean mvm_image_size_fits (const MvmImageSize *self, guint64 image_bytes);

/* The smallest image that fits, in whole MiB. */
guint64 mvm_image_size_minimum (const MvmImageSize *self);

/* The size used when none is given: content plus 20%, at least 32 MiB. */
guint64 mvm_image_size_auto (const MvmImageSize *self);

G_END_DECLS
