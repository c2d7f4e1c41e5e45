/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "mvm-image-size.h"

#include <ext2fs/ext2fs.h>
#include <string.h>

#include "mvm-image-path.h"

#define MIB (1024 * 1024)
#define FAST_SYMLINK_MAX 59 /* bytes a symlink target may have to fit in i_block */
#define RESERVED_INODES 16  /* 1..11 are reserved, lost+found and some room */

static guint64
round_up (guint64 v, guint64 to)
{
  return (v + to - 1) / to * to;
}

static guint64
dirent_bytes (const char *component)
{
  return round_up (8 + strlen (component), 4);
}

MvmImageSize *
mvm_image_size_new (void)
{
  MvmImageSize *self = g_new0 (MvmImageSize, 1);

  self->folders = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  return self;
}

void
mvm_image_size_free (MvmImageSize *self)
{
  g_hash_table_unref (self->folders);
  g_free (self);
}

static void
add_folder (MvmImageSize *self, const char *const *parts, guint n)
{
  char *path = mvm_image_path_join (parts, n);

  if (!g_hash_table_add (self->folders, path))
    return;
  self->inodes++;
  self->dir_bytes += MVM_IMAGE_BLOCK_SIZE + dirent_bytes (parts[n - 1]);
}

static void
add_leaf (MvmImageSize *self, struct archive_entry *entry, const char *component)
{
  mode_t type = archive_entry_filetype (entry);
  const char *target = archive_entry_symlink (entry);

  self->inodes++;
  self->dir_bytes += dirent_bytes (component);
  if (type == AE_IFREG && archive_entry_hardlink (entry) == NULL && archive_entry_size (entry) > 0)
    self->data_bytes += round_up ((guint64)archive_entry_size (entry), MVM_IMAGE_BLOCK_SIZE);
  else if (type == AE_IFLNK && target != NULL && strlen (target) > FAST_SYMLINK_MAX)
    self->data_bytes += MVM_IMAGE_BLOCK_SIZE;
}

void
mvm_image_size_add_entry (MvmImageSize *self, struct archive_entry *entry)
{
  const char *name = archive_entry_pathname (entry);
  g_auto (GStrv) parts = name != NULL ? mvm_image_path_split (name, NULL) : NULL;
  guint n = parts != NULL ? g_strv_length (parts) : 0;

  /* Names the writer will refuse, and the root, need nothing. */
  if (n == 0 || g_str_has_prefix (parts[n - 1], ".wh."))
    return;
  for (guint i = 1; i < n; i++)
    add_folder (self, (const char *const *)parts, i);
  if (archive_entry_filetype (entry) == AE_IFDIR && archive_entry_hardlink (entry) == NULL)
    add_folder (self, (const char *const *)parts, n);
  else
    add_leaf (self, entry, parts[n - 1]);
}

guint64
mvm_image_size_content (const MvmImageSize *self)
{
  return self->data_bytes + round_up (self->dir_bytes, MVM_IMAGE_BLOCK_SIZE);
}

guint64
mvm_image_size_inodes_for (const MvmImageSize *self, guint64 image_bytes)
{
  guint64 needed = self->inodes + self->inodes / 5 + RESERVED_INODES;

  return MAX (needed, image_bytes / 16384);
}

/* Inode tables, journal, bitmaps and group descriptors (with resize room) of an image. */
static guint64
overhead (const MvmImageSize *self, guint64 image_bytes)
{
  int journal_blocks = ext2fs_default_journal_size (image_bytes / MVM_IMAGE_BLOCK_SIZE);

  return mvm_image_size_inodes_for (self, image_bytes) * MVM_IMAGE_INODE_SIZE
         + (guint64)MAX (journal_blocks, 0) * MVM_IMAGE_BLOCK_SIZE + image_bytes / 64 + MIB;
}

gboolean
mvm_image_size_fits (const MvmImageSize *self, guint64 image_bytes)
{
  return image_bytes >= mvm_image_size_content (self) + overhead (self, image_bytes);
}

static guint64
minimum_for (const MvmImageSize *self, guint64 content)
{
  guint64 bytes = round_up (content + MIB, MIB);

  /* The overhead grows with the image, slowly: a few rounds settle it. */
  for (guint i = 0; i < 8; i++)
    bytes = MAX (bytes, round_up (content + overhead (self, bytes), MIB));
  return bytes;
}

guint64
mvm_image_size_minimum (const MvmImageSize *self)
{
  return minimum_for (self, mvm_image_size_content (self));
}

guint64
mvm_image_size_auto (const MvmImageSize *self)
{
  guint64 content = mvm_image_size_content (self);

  return MAX ((guint64)MVM_IMAGE_MIN_AUTO_BYTES, minimum_for (self, content + content / 5));
}
