/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Modelled on e2fsprogs' misc/create_inode.c (mke2fs -d) and debugfs' kill_file, with
 * names from an untrusted archive: every path is walked component by component from the
 * image root with ext2fs_lookup, and a symlink is never followed. */
#include "mvm-ext4-writer.h"

#include <et/com_err.h>
#include <ext2fs/ext2_fs.h>
#include <ext2fs/ext2fs.h>
#include <string.h>

#include "mvm-error.h"
#include "mvm-image-path.h"

#define WHITEOUT_PREFIX ".wh."
#define WHITEOUT_OPAQUE ".wh..wh..opq"

struct _MvmExt4Writer
{
  ext2_filsys fs;
  GHashTable *layer_paths; /* paths the current layer wrote, which its whiteouts spare */
};

typedef struct
{
  char *name;
  ext2_ino_t ino;
} Child;

static gboolean
fs_failed (errcode_t err, const char *name, const char *what, GError **error)
{
  if (err == EXT2_ET_BLOCK_ALLOC_FAIL || err == EXT2_ET_INODE_ALLOC_FAIL
      || err == EXT2_ET_DIR_NO_SPACE)
    g_set_error (error, MVM_ERROR, MVM_ERROR_LIMIT_EXCEEDED,
                 "entry '%s': the image is full (%s while %s): give it a larger size", name,
                 error_message (err), what);
  else
    g_set_error (error, MVM_ERROR, MVM_ERROR_FAILED, "entry '%s': %s failed: %s", name, what,
                 error_message (err));
  return FALSE;
}

static int
dirent_type (guint16 mode)
{
  switch (mode & LINUX_S_IFMT)
    {
      case LINUX_S_IFREG:
        return EXT2_FT_REG_FILE;
      case LINUX_S_IFDIR:
        return EXT2_FT_DIR;
      case LINUX_S_IFLNK:
        return EXT2_FT_SYMLINK;
      case LINUX_S_IFCHR:
        return EXT2_FT_CHRDEV;
      case LINUX_S_IFBLK:
        return EXT2_FT_BLKDEV;
      case LINUX_S_IFIFO:
        return EXT2_FT_FIFO;
      case LINUX_S_IFSOCK:
        return EXT2_FT_SOCK;
      default:
        return EXT2_FT_UNKNOWN;
    }
}

static gboolean
read_inode (MvmExt4Writer *self, ext2_ino_t ino, struct ext2_inode *inode, const char *name,
            GError **error)
{
  errcode_t err = ext2fs_read_inode (self->fs, ino, inode);

  return err == 0 || fs_failed (err, name, "reading an inode", error);
}

static gboolean
write_inode (MvmExt4Writer *self, ext2_ino_t ino, struct ext2_inode *inode, const char *name,
             GError **error)
{
  errcode_t err = ext2fs_write_inode (self->fs, ino, inode);

  return err == 0 || fs_failed (err, name, "writing an inode", error);
}

/* The inode of @component in @dir, or 0 in *@ino when there is none. */
static gboolean
lookup (MvmExt4Writer *self, ext2_ino_t dir, const char *component, ext2_ino_t *ino,
        const char *name, GError **error)
{
  errcode_t err = ext2fs_lookup (self->fs, dir, component, (int)strlen (component), NULL, ino);

  if (err == EXT2_ET_FILE_NOT_FOUND)
    {
      *ino = 0;
      return TRUE;
    }
  return err == 0 || fs_failed (err, name, "looking up a folder", error);
}

static gboolean
is_dir (MvmExt4Writer *self, ext2_ino_t ino, gboolean *result, const char *name, GError **error)
{
  struct ext2_inode inode;

  if (!read_inode (self, ino, &inode, name, error))
    return FALSE;
  *result = LINUX_S_ISDIR (inode.i_mode);
  return TRUE;
}

static gboolean
link_name (MvmExt4Writer *self, ext2_ino_t dir, const char *component, ext2_ino_t ino, int type,
           const char *name, GError **error)
{
  errcode_t err = ext2fs_link (self->fs, dir, component, ino, type);

  if (err == EXT2_ET_DIR_NO_SPACE)
    {
      err = ext2fs_expand_dir (self->fs, dir);
      if (err == 0)
        err = ext2fs_link (self->fs, dir, component, ino, type);
    }
  return err == 0 || fs_failed (err, name, "adding a folder entry", error);
}

static gboolean
make_dir (MvmExt4Writer *self, ext2_ino_t parent, const char *component, ext2_ino_t *ino,
          const char *name, GError **error)
{
  errcode_t err = ext2fs_new_inode (self->fs, parent, LINUX_S_IFDIR | 0755, NULL, ino);

  if (err == 0)
    err = ext2fs_mkdir (self->fs, parent, *ino, component);
  if (err == EXT2_ET_DIR_NO_SPACE)
    {
      err = ext2fs_expand_dir (self->fs, parent);
      if (err == 0)
        err = ext2fs_mkdir (self->fs, parent, *ino, component);
    }
  return err == 0 || fs_failed (err, name, "making a folder", error);
}

static void
remember (MvmExt4Writer *self, const char *const *parts, guint n)
{
  g_hash_table_add (self->layer_paths, mvm_image_path_join (parts, n));
}

/* Walks the first @n components from the root without following symlinks; with @create,
 * missing folders are made (root-owned, 0755), otherwise *@ino is 0 when one is missing. */
static gboolean
walk (MvmExt4Writer *self, const char *const *parts, guint n, gboolean create, ext2_ino_t *ino,
      const char *name, GError **error)
{
  ext2_ino_t dir = EXT2_ROOT_INO;

  for (guint i = 0; i < n; i++)
    {
      ext2_ino_t next;
      gboolean dir_ok;

      if (!lookup (self, dir, parts[i], &next, name, error))
        return FALSE;
      if (next == 0 && !create)
        {
          *ino = 0;
          return TRUE;
        }
      if (next == 0)
        {
          if (!make_dir (self, dir, parts[i], &next, name, error))
            return FALSE;
          remember (self, parts, i + 1);
        }
      else if (!is_dir (self, next, &dir_ok, name, error))
        return FALSE;
      else if (!dir_ok)
        {
          if (!create)
            {
              *ino = 0;
              return TRUE;
            }
          g_set_error (error, MVM_ERROR, MVM_ERROR_ACCESS_DENIED,
                       "entry '%s': '%s' in its path is not a folder in the image (a symlink "
                       "or a file), and is not followed",
                       name, parts[i]);
          return FALSE;
        }
      dir = next;
    }
  *ino = dir;
  return TRUE;
}

static int
collect_child (ext2_ino_t dir, int entry, struct ext2_dir_entry *dirent, int offset, int blocksize,
               char *buf, void *user_data)
{
  GArray *children = user_data;
  int len = ext2fs_dirent_name_len (dirent);
  Child child;

  if ((len == 1 && dirent->name[0] == '.')
      || (len == 2 && dirent->name[0] == '.' && dirent->name[1] == '.'))
    return 0;
  child.name = g_strndup (dirent->name, (gsize)len);
  child.ino = dirent->inode;
  g_array_append_val (children, child);
  return 0;
}

static void
child_clear (gpointer data)
{
  g_free (((Child *)data)->name);
}

static GArray *
list_children (MvmExt4Writer *self, ext2_ino_t dir, const char *name, GError **error)
{
  g_autoptr (GArray) children = g_array_new (FALSE, FALSE, sizeof (Child));
  errcode_t err;

  g_array_set_clear_func (children, child_clear);
  err = ext2fs_dir_iterate2 (self->fs, dir, 0, NULL, collect_child, children);
  if (err != 0)
    {
      fs_failed (err, name, "reading a folder", error);
      return NULL;
    }
  return g_steal_pointer (&children);
}

static int
release_block (ext2_filsys fs, blk64_t *block, e2_blkcnt_t count, blk64_t ref_block, int ref_offset,
               void *user_data)
{
  ext2fs_block_alloc_stats2 (fs, *block, -1);
  return 0;
}

/* Frees an inode whose last name is gone: its xattr block, its blocks, then itself. */
static gboolean
release_inode (MvmExt4Writer *self, ext2_ino_t ino, const char *name, GError **error)
{
  struct ext2_inode_large large;
  struct ext2_inode inode;
  errcode_t err;

  err = ext2fs_read_inode_full (self->fs, ino, (struct ext2_inode *)&large, sizeof large);
  if (err == 0 && ext2fs_file_acl_block (self->fs, (struct ext2_inode *)&large) != 0)
    err = ext2fs_free_ext_attr (self->fs, ino, &large);
  if (err != 0)
    return fs_failed (err, name, "freeing extended attributes", error);
  if (!read_inode (self, ino, &inode, name, error))
    return FALSE;
  if (ext2fs_inode_has_valid_blocks2 (self->fs, &inode))
    {
      err = ext2fs_block_iterate3 (self->fs, ino, BLOCK_FLAG_READ_ONLY, NULL, release_block, NULL);
      if (err != 0)
        return fs_failed (err, name, "freeing blocks", error);
    }
  inode.i_links_count = 0;
  inode.i_dtime = (__u32)time (NULL);
  if (!write_inode (self, ino, &inode, name, error))
    return FALSE;
  ext2fs_inode_alloc_stats2 (self->fs, ino, -1, LINUX_S_ISDIR (inode.i_mode));
  return TRUE;
}

static gboolean remove_child (MvmExt4Writer *self, ext2_ino_t dir, const char *component,
                              ext2_ino_t ino, const char *name, GError **error);

static gboolean
empty_dir (MvmExt4Writer *self, ext2_ino_t dir, const char *name, GError **error)
{
  g_autoptr (GArray) children = list_children (self, dir, name, error);

  if (children == NULL)
    return FALSE;
  for (guint i = 0; i < children->len; i++)
    {
      Child *child = &g_array_index (children, Child, i);
      if (!remove_child (self, dir, child->name, child->ino, name, error))
        return FALSE;
    }
  return TRUE;
}

static gboolean
drop_parent_link (MvmExt4Writer *self, ext2_ino_t dir, const char *name, GError **error)
{
  struct ext2_inode inode;

  if (!read_inode (self, dir, &inode, name, error))
    return FALSE;
  /* With dir_nlink a count of 1 means "too many to count", and stays. */
  if (inode.i_links_count > 2)
    inode.i_links_count--;
  return write_inode (self, dir, &inode, name, error);
}

/* Removes @component (inode @ino) from @dir, a folder with everything in it. */
static gboolean
remove_child (MvmExt4Writer *self, ext2_ino_t dir, const char *component, ext2_ino_t ino,
              const char *name, GError **error)
{
  struct ext2_inode inode;
  errcode_t err;
  gboolean folder;

  if (!read_inode (self, ino, &inode, name, error))
    return FALSE;
  folder = LINUX_S_ISDIR (inode.i_mode);
  if (folder && (!empty_dir (self, ino, name, error) || !drop_parent_link (self, dir, name, error)))
    return FALSE;
  err = ext2fs_unlink (self->fs, dir, component, ino, 0);
  if (err != 0)
    return fs_failed (err, name, "removing a folder entry", error);
  if (!read_inode (self, ino, &inode, name, error))
    return FALSE;
  if (!folder && inode.i_links_count > 1)
    {
      inode.i_links_count--;
      return write_inode (self, ino, &inode, name, error);
    }
  return release_inode (self, ino, name, error);
}

static gboolean
set_owner_mode_time (struct ext2_inode *inode, guint16 type, struct archive_entry *entry,
                     const char *name, GError **error)
{
  la_int64_t uid = archive_entry_uid (entry);
  la_int64_t gid = archive_entry_gid (entry);
  gint64 mtime = (gint64)archive_entry_mtime (entry);

  if (uid < 0 || uid > G_MAXUINT32 || gid < 0 || gid > G_MAXUINT32)
    {
      g_set_error (error, MVM_ERROR, MVM_ERROR_INVALID_CONFIG,
                   "entry '%s': owner %" G_GINT64_FORMAT ":%" G_GINT64_FORMAT
                   " does not fit ext4's 32-bit ids",
                   name, (gint64)uid, (gint64)gid);
      return FALSE;
    }
  inode->i_mode = type | (archive_entry_perm (entry) & 07777);
  inode->i_uid = (guint16)(uid & 0xffff);
  ext2fs_set_i_uid_high (*inode, (guint16)(uid >> 16));
  inode->i_gid = (guint16)(gid & 0xffff);
  ext2fs_set_i_gid_high (*inode, (guint16)(gid >> 16));
  /* The low 32 bits; finish_inode adds the epoch bits and nanoseconds. */
  inode->i_atime = inode->i_ctime = inode->i_mtime = (__u32)mtime;
  return TRUE;
}

static gboolean
update_attrs (MvmExt4Writer *self, ext2_ino_t ino, struct archive_entry *entry, const char *name,
              GError **error)
{
  struct ext2_inode inode;

  return read_inode (self, ino, &inode, name, error)
         && set_owner_mode_time (&inode, inode.i_mode & LINUX_S_IFMT, entry, name, error)
         && write_inode (self, ino, &inode, name, error);
}

static gboolean
set_xattrs (MvmExt4Writer *self, ext2_ino_t ino, struct archive_entry *entry, const char *name,
            GError **error)
{
  struct ext2_xattr_handle *handle = NULL;
  const char *key;
  const void *value;
  size_t size;
  errcode_t err;

  if (archive_entry_xattr_reset (entry) == 0)
    return TRUE;
  err = ext2fs_xattrs_open (self->fs, ino, &handle);
  if (err == 0)
    err = ext2fs_xattrs_read (handle);
  while (err == 0 && archive_entry_xattr_next (entry, &key, &value, &size) == ARCHIVE_OK)
    {
      err = ext2fs_xattr_set (handle, key, value, size);
      if (err != 0)
        {
          ext2fs_xattrs_close (&handle);
          g_set_error (error, MVM_ERROR, MVM_ERROR_INVALID_CONFIG,
                       "entry '%s': extended attribute '%s' cannot be stored: %s", name, key,
                       error_message (err));
          return FALSE;
        }
    }
  if (handle != NULL)
    {
      errcode_t close_err = ext2fs_xattrs_close (&handle);
      err = err != 0 ? err : close_err;
    }
  return err == 0 || fs_failed (err, name, "writing extended attributes", error);
}

/* ext4's extra time field: nanoseconds, and the epoch bits that carry it past 2038. */
static __u32
time_extra (gint64 seconds, long nanoseconds)
{
  gint64 epoch = (seconds - (gint64)(gint32)seconds) >> 32;

  return ((__u32)nanoseconds << EXT4_EPOCH_BITS) | ((__u32)epoch & EXT4_EPOCH_MASK);
}

/* Times in full precision, which only a large inode holds. */
static gboolean
set_times (MvmExt4Writer *self, ext2_ino_t ino, struct archive_entry *entry, const char *name,
           GError **error)
{
  struct ext2_inode_large inode;
  gint64 mtime = (gint64)archive_entry_mtime (entry);
  errcode_t err;

  err = ext2fs_read_inode_full (self->fs, ino, (struct ext2_inode *)&inode, sizeof inode);
  if (err != 0)
    return fs_failed (err, name, "reading an inode", error);
  if (inode.i_extra_isize < offsetof (struct ext2_inode_large, i_crtime) - EXT2_GOOD_OLD_INODE_SIZE)
    return TRUE;
  inode.i_atime = inode.i_ctime = inode.i_mtime = (__u32)mtime;
  inode.i_atime_extra = inode.i_ctime_extra = inode.i_mtime_extra
    = time_extra (mtime, archive_entry_mtime_nsec (entry));
  err = ext2fs_write_inode_full (self->fs, ino, (struct ext2_inode *)&inode, sizeof inode);
  return err == 0 || fs_failed (err, name, "writing an inode", error);
}

/* What every entry gets once its inode is linked: xattrs and exact times. */
static gboolean
finish_inode (MvmExt4Writer *self, ext2_ino_t ino, struct archive_entry *entry, const char *name,
              GError **error)
{
  return set_xattrs (self, ino, entry, name, error) && set_times (self, ino, entry, name, error);
}

/* A new inode of @type linked as @component in @dir, with the entry's owner, mode, time. */
static gboolean
new_linked_inode (MvmExt4Writer *self, ext2_ino_t dir, const char *component, guint16 type,
                  struct archive_entry *entry, struct ext2_inode *inode, ext2_ino_t *ino,
                  const char *name, GError **error)
{
  errcode_t err = ext2fs_new_inode (self->fs, dir, type | 0600, NULL, ino);

  if (err != 0)
    return fs_failed (err, name, "allocating an inode", error);
  if (!link_name (self, dir, component, *ino, dirent_type (type), name, error))
    return FALSE;
  ext2fs_inode_alloc_stats2 (self->fs, *ino, +1, 0);
  memset (inode, 0, sizeof *inode);
  inode->i_links_count = 1;
  return set_owner_mode_time (inode, type, entry, name, error);
}

static gboolean
is_zero_block (const guint8 *p)
{
  static const guint8 zero[EXT2_MIN_BLOCK_SIZE * 4];

  return memcmp (p, zero, sizeof zero) == 0;
}

/* Writes @len bytes at @offset, leaving whole zero blocks as holes. */
static errcode_t
write_chunk (ext2_file_t file, const guint8 *buf, gsize len, guint64 offset, guint block_size)
{
  while (len > 0)
    {
      gsize piece = MIN (len, block_size - offset % block_size);
      unsigned int written;
      errcode_t err;

      if (piece != block_size || block_size != EXT2_MIN_BLOCK_SIZE * 4 || !is_zero_block (buf))
        {
          err = ext2fs_file_llseek (file, offset, EXT2_SEEK_SET, NULL);
          if (err == 0)
            err = ext2fs_file_write (file, buf, (unsigned int)piece, &written);
          if (err != 0)
            return err;
        }
      buf += piece;
      offset += piece;
      len -= piece;
    }
  return 0;
}

static gboolean
copy_data (MvmExt4Writer *self, ext2_file_t file, struct archive *data, const char *name,
           GCancellable *cancellable, GError **error)
{
  for (;;)
    {
      const void *buf;
      size_t len;
      la_int64_t offset;
      int r = archive_read_data_block (data, &buf, &len, &offset);
      errcode_t err;

      if (r == ARCHIVE_EOF)
        return TRUE;
      if (r < ARCHIVE_WARN)
        {
          g_set_error (error, MVM_ERROR, MVM_ERROR_INVALID_CONFIG, "entry '%s': %s", name,
                       archive_error_string (data));
          return FALSE;
        }
      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        return FALSE;
      err = write_chunk (file, buf, len, (guint64)offset, self->fs->blocksize);
      if (err != 0)
        return fs_failed (err, name, "writing file data", error);
    }
}

static gboolean
write_data (MvmExt4Writer *self, ext2_ino_t ino, struct archive_entry *entry, struct archive *data,
            const char *name, GCancellable *cancellable, GError **error)
{
  ext2_file_t file;
  errcode_t err = ext2fs_file_open (self->fs, ino, EXT2_FILE_WRITE, &file);
  gboolean ok;

  if (err != 0)
    return fs_failed (err, name, "opening a file", error);
  ok = copy_data (self, file, data, name, cancellable, error);
  err = ext2fs_file_set_size2 (file, (ext2_off64_t)archive_entry_size (entry));
  if (err == 0)
    err = ext2fs_file_close (file);
  else
    ext2fs_file_close (file);
  if (ok && err != 0)
    return fs_failed (err, name, "writing file data", error);
  return ok;
}

static gboolean
add_file (MvmExt4Writer *self, ext2_ino_t dir, const char *component, struct archive_entry *entry,
          struct archive *data, ext2_ino_t *ino, const char *name, GCancellable *cancellable,
          GError **error)
{
  struct ext2_inode inode;
  ext2_extent_handle_t handle;
  errcode_t err;

  if (!new_linked_inode (self, dir, component, LINUX_S_IFREG, entry, &inode, ino, name, error))
    return FALSE;
  /* An empty extent tree in i_block, as create_inode.c makes one. */
  err = ext2fs_extent_open2 (self->fs, *ino, &inode, &handle);
  if (err == 0)
    ext2fs_extent_free (handle);
  if (err == 0)
    err = ext2fs_write_new_inode (self->fs, *ino, &inode);
  if (err != 0)
    return fs_failed (err, name, "writing an inode", error);
  return write_data (self, *ino, entry, data, name, cancellable, error);
}

static gboolean
add_special (MvmExt4Writer *self, ext2_ino_t dir, const char *component, guint16 type,
             struct archive_entry *entry, ext2_ino_t *ino, const char *name, GError **error)
{
  struct ext2_inode inode;
  guint32 major = archive_entry_rdevmajor (entry);
  guint32 minor = archive_entry_rdevminor (entry);
  errcode_t err;

  if (!new_linked_inode (self, dir, component, type, entry, &inode, ino, name, error))
    return FALSE;
  if (type == LINUX_S_IFCHR || type == LINUX_S_IFBLK)
    {
      /* The old 8:8 encoding when it fits, as the kernel's ext4_write_inode does. */
      if (major < 256 && minor < 256)
        inode.i_block[0] = major * 256 + minor;
      else
        inode.i_block[1] = (minor & 0xff) | (major << 8) | ((minor & ~0xffu) << 12);
    }
  err = ext2fs_write_new_inode (self->fs, *ino, &inode);
  return err == 0 || fs_failed (err, name, "writing an inode", error);
}

static gboolean
add_symlink (MvmExt4Writer *self, ext2_ino_t dir, const char *component,
             struct archive_entry *entry, ext2_ino_t *ino, const char *name, GError **error)
{
  const char *target = archive_entry_symlink (entry);
  errcode_t err;

  if (target == NULL || target[0] == '\0' || strlen (target) >= self->fs->blocksize)
    {
      g_set_error (error, MVM_ERROR, MVM_ERROR_INVALID_CONFIG,
                   "entry '%s': a symlink target must have 1 to %u bytes", name,
                   self->fs->blocksize - 1);
      return FALSE;
    }
  err = ext2fs_new_inode (self->fs, dir, LINUX_S_IFLNK | 0777, NULL, ino);
  if (err == 0)
    err = ext2fs_symlink (self->fs, dir, *ino, component, target);
  if (err == EXT2_ET_DIR_NO_SPACE)
    {
      err = ext2fs_expand_dir (self->fs, dir);
      if (err == 0)
        err = ext2fs_symlink (self->fs, dir, *ino, component, target);
    }
  if (err != 0)
    return fs_failed (err, name, "making a symlink", error);
  return update_attrs (self, *ino, entry, name, error);
}

/* The inode at @parts without following symlinks, or 0 when there is none. */
static gboolean
resolve (MvmExt4Writer *self, const char *const *parts, guint n, ext2_ino_t *ino, const char *name,
         GError **error)
{
  ext2_ino_t dir;

  if (n == 0)
    {
      *ino = EXT2_ROOT_INO;
      return TRUE;
    }
  if (!walk (self, parts, n - 1, FALSE, &dir, name, error))
    return FALSE;
  if (dir == 0)
    {
      *ino = 0;
      return TRUE;
    }
  return lookup (self, dir, parts[n - 1], ino, name, error);
}

static gboolean
add_hardlink (MvmExt4Writer *self, ext2_ino_t dir, const char *component,
              struct archive_entry *entry, ext2_ino_t *ino, const char *name, GError **error)
{
  const char *target_name = archive_entry_hardlink (entry);
  g_auto (GStrv) target = mvm_image_path_split (target_name, error);
  struct ext2_inode inode;

  if (target == NULL)
    {
      g_prefix_error (error, "entry '%s' is a hard link whose target is refused: ", name);
      return FALSE;
    }
  if (!resolve (self, (const char *const *)target, g_strv_length (target), ino, name, error))
    return FALSE;
  if (*ino != 0 && !read_inode (self, *ino, &inode, name, error))
    return FALSE;
  if (*ino == 0 || LINUX_S_ISDIR (inode.i_mode))
    {
      g_set_error (error, MVM_ERROR, MVM_ERROR_INVALID_CONFIG,
                   "entry '%s': hard link target '%s' is not a file in the image", name,
                   target_name);
      return FALSE;
    }
  if (!link_name (self, dir, component, *ino, dirent_type (inode.i_mode), name, error))
    return FALSE;
  inode.i_links_count++;
  return write_inode (self, *ino, &inode, name, error);
}

static gboolean
add_dir (MvmExt4Writer *self, ext2_ino_t dir, const char *component, struct archive_entry *entry,
         ext2_ino_t *ino, const char *name, GError **error)
{
  return make_dir (self, dir, component, ino, name, error)
         && update_attrs (self, *ino, entry, name, error);
}

static guint16
entry_type (struct archive_entry *entry)
{
  if (archive_entry_hardlink (entry) != NULL)
    return 0;
  switch (archive_entry_filetype (entry))
    {
      case AE_IFREG:
        return LINUX_S_IFREG;
      case AE_IFDIR:
        return LINUX_S_IFDIR;
      case AE_IFLNK:
        return LINUX_S_IFLNK;
      case AE_IFCHR:
        return LINUX_S_IFCHR;
      case AE_IFBLK:
        return LINUX_S_IFBLK;
      case AE_IFIFO:
        return LINUX_S_IFIFO;
      case AE_IFSOCK:
        return LINUX_S_IFSOCK;
      default:
        return G_MAXUINT16;
    }
}

static gboolean
create (MvmExt4Writer *self, ext2_ino_t dir, const char *component, struct archive_entry *entry,
        struct archive *data, const char *name, GCancellable *cancellable, GError **error)
{
  guint16 type = entry_type (entry);
  ext2_ino_t ino;

  switch (type)
    {
      case 0:
        return add_hardlink (self, dir, component, entry, &ino, name, error);
      case LINUX_S_IFREG:
        if (!add_file (self, dir, component, entry, data, &ino, name, cancellable, error))
          return FALSE;
        break;
      case LINUX_S_IFDIR:
        if (!add_dir (self, dir, component, entry, &ino, name, error))
          return FALSE;
        break;
      case LINUX_S_IFLNK:
        if (!add_symlink (self, dir, component, entry, &ino, name, error))
          return FALSE;
        break;
      case G_MAXUINT16:
        g_set_error (error, MVM_ERROR, MVM_ERROR_INVALID_CONFIG,
                     "entry '%s' has a file type ext4 cannot hold", name);
        return FALSE;
      default:
        if (!add_special (self, dir, component, type, entry, &ino, name, error))
          return FALSE;
    }
  return finish_inode (self, ino, entry, name, error);
}

/* An entry over an existing name: a folder over a folder keeps its content and takes the
 * new owner and mode; anything else replaces what was there. */
static gboolean
replace (MvmExt4Writer *self, ext2_ino_t dir, const char *component, ext2_ino_t old,
         struct archive_entry *entry, struct archive *data, const char *name,
         GCancellable *cancellable, GError **error)
{
  gboolean old_dir;

  if (!is_dir (self, old, &old_dir, name, error))
    return FALSE;
  if (archive_entry_hardlink (entry) != NULL)
    {
      g_auto (GStrv) target = mvm_image_path_split (archive_entry_hardlink (entry), NULL);
      ext2_ino_t ino = 0;
      /* A hard link to the name it replaces changes nothing. */
      if (target != NULL
          && !resolve (self, (const char *const *)target, g_strv_length (target), &ino, name,
                       error))
        return FALSE;
      if (ino == old)
        return TRUE;
    }
  if (old_dir && entry_type (entry) == LINUX_S_IFDIR)
    return update_attrs (self, old, entry, name, error)
           && finish_inode (self, old, entry, name, error);
  return remove_child (self, dir, component, old, name, error)
         && create (self, dir, component, entry, data, name, cancellable, error);
}

/* .wh.NAME: removes NAME as lower layers left it. */
static gboolean
whiteout (MvmExt4Writer *self, char **parts, guint n, const char *name, GError **error)
{
  const char *hidden = parts[n - 1] + strlen (WHITEOUT_PREFIX);
  g_autofree char *key = NULL;
  ext2_ino_t dir, ino;

  if (hidden[0] == '\0' || strcmp (hidden, ".") == 0 || strcmp (hidden, "..") == 0)
    {
      g_set_error (error, MVM_ERROR, MVM_ERROR_INVALID_CONFIG,
                   "entry '%s' is a whiteout of no valid name", name);
      return FALSE;
    }
  parts[n - 1] = (char *)hidden;
  key = mvm_image_path_join ((const char *const *)parts, n);
  parts[n - 1] = (char *)hidden - strlen (WHITEOUT_PREFIX);
  if (g_hash_table_contains (self->layer_paths, key))
    return TRUE;
  if (!walk (self, (const char *const *)parts, n - 1, FALSE, &dir, name, error))
    return FALSE;
  if (dir == 0)
    return TRUE;
  if (!lookup (self, dir, hidden, &ino, name, error))
    return FALSE;
  return ino == 0 || remove_child (self, dir, hidden, ino, name, error);
}

/* .wh..wh..opq: empties a folder of what lower layers put in it, at any depth. */
static gboolean
opaque_dir (MvmExt4Writer *self, ext2_ino_t dir, const char *path, const char *name, GError **error)
{
  g_autoptr (GArray) children = list_children (self, dir, name, error);

  if (children == NULL)
    return FALSE;
  for (guint i = 0; i < children->len; i++)
    {
      Child *child = &g_array_index (children, Child, i);
      g_autofree char *child_path
        = path[0] != '\0' ? g_strconcat (path, "/", child->name, NULL) : g_strdup (child->name);
      gboolean child_dir;

      if (!g_hash_table_contains (self->layer_paths, child_path))
        {
          if (!remove_child (self, dir, child->name, child->ino, name, error))
            return FALSE;
        }
      else if (!is_dir (self, child->ino, &child_dir, name, error)
               || (child_dir && !opaque_dir (self, child->ino, child_path, name, error)))
        return FALSE;
    }
  return TRUE;
}

static gboolean
opaque (MvmExt4Writer *self, char **parts, guint n, const char *name, GError **error)
{
  g_autofree char *path = mvm_image_path_join ((const char *const *)parts, n - 1);
  ext2_ino_t dir;

  if (!walk (self, (const char *const *)parts, n - 1, FALSE, &dir, name, error))
    return FALSE;
  return dir == 0 || opaque_dir (self, dir, path, name, error);
}

static gboolean
add_at (MvmExt4Writer *self, char **parts, guint n, struct archive_entry *entry,
        struct archive *data, const char *name, GCancellable *cancellable, GError **error)
{
  ext2_ino_t dir, old;

  if (!walk (self, (const char *const *)parts, n - 1, TRUE, &dir, name, error)
      || !lookup (self, dir, parts[n - 1], &old, name, error))
    return FALSE;
  if (old != 0 && !replace (self, dir, parts[n - 1], old, entry, data, name, cancellable, error))
    return FALSE;
  if (old == 0 && !create (self, dir, parts[n - 1], entry, data, name, cancellable, error))
    return FALSE;
  remember (self, (const char *const *)parts, n);
  return TRUE;
}

gboolean
mvm_ext4_writer_add (MvmExt4Writer *self, struct archive_entry *entry, struct archive *data,
                     GCancellable *cancellable, GError **error)
{
  const char *name = archive_entry_pathname (entry);
  g_auto (GStrv) parts = NULL;
  guint n;

  if (name == NULL)
    {
      g_set_error_literal (error, MVM_ERROR, MVM_ERROR_INVALID_CONFIG,
                           "an entry has a name that cannot be read");
      return FALSE;
    }
  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return FALSE;
  parts = mvm_image_path_split (name, error);
  if (parts == NULL)
    return FALSE;
  n = g_strv_length (parts);
  if (n == 0)
    return entry_type (entry) != LINUX_S_IFDIR
           || (update_attrs (self, EXT2_ROOT_INO, entry, name, error)
               && finish_inode (self, EXT2_ROOT_INO, entry, name, error));
  if (strcmp (parts[n - 1], WHITEOUT_OPAQUE) == 0)
    return opaque (self, parts, n, name, error);
  if (g_str_has_prefix (parts[n - 1], WHITEOUT_PREFIX WHITEOUT_PREFIX))
    return TRUE; /* aufs' own bookkeeping (.wh..wh.plnk, .wh..wh.aufs) */
  if (g_str_has_prefix (parts[n - 1], WHITEOUT_PREFIX))
    return whiteout (self, parts, n, name, error);
  return add_at (self, parts, n, entry, data, name, cancellable, error);
}

void
mvm_ext4_writer_begin_layer (MvmExt4Writer *self)
{
  g_hash_table_remove_all (self->layer_paths);
}

MvmExt4Writer *
mvm_ext4_writer_open (const char *path, GError **error)
{
  g_autoptr (MvmExt4Writer) self = g_new0 (MvmExt4Writer, 1);
  errcode_t err;

  self->layer_paths = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  err
    = ext2fs_open2 (path, NULL, EXT2_FLAG_RW | EXT2_FLAG_64BITS, 0, 0, unix_io_manager, &self->fs);
  if (err == 0)
    err = ext2fs_read_bitmaps (self->fs);
  if (err != 0)
    {
      g_set_error (error, MVM_ERROR, MVM_ERROR_FAILED, "cannot open the new ext4 image %s: %s",
                   path, error_message (err));
      return NULL;
    }
  return g_steal_pointer (&self);
}

gboolean
mvm_ext4_writer_close (MvmExt4Writer *self, GError **error)
{
  errcode_t err = ext2fs_close_free (&self->fs);

  if (err != 0)
    {
      g_set_error (error, MVM_ERROR, MVM_ERROR_FAILED, "cannot write the ext4 metadata: %s",
                   error_message (err));
      return FALSE;
    }
  return TRUE;
}

void
mvm_ext4_writer_free (MvmExt4Writer *self)
{
  if (self->fs != NULL)
    ext2fs_free (self->fs);
  g_clear_pointer (&self->layer_paths, g_hash_table_unref);
  g_free (self);
}
