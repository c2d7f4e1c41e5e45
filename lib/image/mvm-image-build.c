/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* mke2fs makes the empty filesystem: it is e2fsprogs' own, tested layout (flex_bg groups,
 * resize inode, journal, lost+found, checksums), which ext2fs_initialize would leave to us.
 * libext2fs then fills it, so nothing is mounted and no root is needed. */
#include "mvm-image-build.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "mvm-error.h"
#include "mvm-ext4-writer.h"
#include "mvm-image-size.h"
#include "mvm-layer-reader.h"

#define MIB (1024 * 1024)
#define PROGRESS_STEP (4 * MIB)

/* Every feature named, so the host's mke2fs.conf cannot add one that the Debian 12 kernel
 * (6.1) would refuse to mount. */
#define EXT4_FEATURES                                                                              \
  "none,has_journal,ext_attr,resize_inode,dir_index,filetype,extent,flex_bg,sparse_super,"         \
  "large_file,huge_file,dir_nlink,extra_isize,64bit,metadata_csum"

typedef struct
{
  int fd;
  MvmImageSource *source;
  MvmImageSize *size;
  guint64 total; /* bytes of all layers as stored */
  guint64 done;  /* bytes of the layers already applied */
  guint64 reported;
  guint64 entries; /* in all layers */
  MvmImageProgressFunc progress;
  gpointer user_data;
  GCancellable *cancellable;
} Build;

static const char *
layer_label (Build *b, guint i)
{
  const char *member = g_ptr_array_index (b->source->layers, i);

  return member != NULL ? member : "the archive";
}

/* An OCI layer is the blob its digest names (blobs/sha256/HEX): a damaged or swapped one is
 * refused before anything of it is applied */
static gboolean
check_digest (Build *b, guint i, GError **error)
{
  const char *member = g_ptr_array_index (b->source->layers, i);
  g_autofree char *sum = NULL;

  if (b->source->kind != MVM_IMAGE_KIND_OCI || !g_str_has_prefix (member, "blobs/sha256/"))
    return TRUE;
  if ((sum = mvm_layer_reader_sha256 (b->fd, member, b->cancellable, error)) == NULL)
    return FALSE;
  if (g_str_equal (sum, member + strlen ("blobs/sha256/")))
    return TRUE;
  g_set_error (error, MVM_ERROR, MVM_ERROR_INVALID_CONFIG,
               "layer %u (%s) does not match its digest: its content hashes to sha256:%s", i + 1,
               member, sum);
  return FALSE;
}

static gboolean
measure_layer (Build *b, guint i, GError **error)
{
  g_autoptr (MvmLayerReader) reader
    = mvm_layer_reader_open (b->fd, g_ptr_array_index (b->source->layers, i), error);
  struct archive_entry *entry;

  if (reader == NULL)
    return FALSE;
  b->total += mvm_layer_reader_size (reader);
  for (;;)
    {
      if (g_cancellable_set_error_if_cancelled (b->cancellable, error)
          || !mvm_layer_reader_next (reader, &entry, error))
        return FALSE;
      if (entry == NULL)
        return TRUE;
      b->entries++;
      mvm_image_size_add_entry (b->size, entry);
    }
}

/* Sizes the image; an archive without a single entry (zeros read as an empty tar, say) makes
 * no image: what was meant is not there */
static gboolean
measure (Build *b, GError **error)
{
  for (guint i = 0; i < b->source->layers->len; i++)
    if (!check_digest (b, i, error) || !measure_layer (b, i, error))
      return FALSE;
  if (b->entries > 0)
    return TRUE;
  g_set_error (error, MVM_ERROR, MVM_ERROR_INVALID_CONFIG,
               "the archive holds no files (an empty tar, or not an archive at all)");
  return FALSE;
}

static gboolean
choose_size (Build *b, guint64 requested, guint64 *size, GError **error)
{
  guint64 minimum = mvm_image_size_minimum (b->size);

  if (requested == 0)
    {
      *size = mvm_image_size_auto (b->size);
      return TRUE;
    }
  *size = requested / MVM_IMAGE_BLOCK_SIZE * MVM_IMAGE_BLOCK_SIZE;
  if (!mvm_image_size_fits (b->size, *size))
    {
      g_set_error (error, MVM_ERROR, MVM_ERROR_LIMIT_EXCEEDED,
                   "an image of %" G_GUINT64_FORMAT " bytes is too small for this archive: it "
                   "needs at least %" G_GUINT64_FORMAT " bytes (%" G_GUINT64_FORMAT " MiB)",
                   requested, minimum, minimum / MIB);
      return FALSE;
    }
  return TRUE;
}

static int
create_target (const char *path, guint64 size, GError **error)
{
  int fd = open (path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);

  if (fd < 0)
    {
      g_set_error (error, MVM_ERROR, errno == EEXIST ? MVM_ERROR_ALREADY_EXISTS : MVM_ERROR_FAILED,
                   "cannot create the image %s: %s", path, g_strerror (errno));
      return -1;
    }
  if (ftruncate (fd, (off_t)size) < 0)
    {
      g_set_error (error, MVM_ERROR, MVM_ERROR_FAILED, "cannot size the image %s: %s", path,
                   g_strerror (errno));
      close (fd);
      unlink (path);
      return -1;
    }
  return fd;
}

/* Debian puts mke2fs in /usr/sbin, which a user's PATH often lacks. */
static char *
find_mke2fs (void)
{
  char *found = g_find_program_in_path ("mke2fs");

  if (found != NULL)
    return found;
  if (g_file_test ("/usr/sbin/mke2fs", G_FILE_TEST_IS_EXECUTABLE))
    return g_strdup ("/usr/sbin/mke2fs");
  return g_strdup ("/sbin/mke2fs");
}

static gboolean
run_mke2fs (const char *path, guint64 inodes, GCancellable *cancellable, GError **error)
{
  g_autofree char *inode_arg = g_strdup_printf ("%" G_GUINT64_FORMAT, inodes);
  g_autofree char *mke2fs = find_mke2fs ();
  g_autoptr (GSubprocess) proc = NULL;
  g_autofree char *err_text = NULL;

  proc = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_SILENCE | G_SUBPROCESS_FLAGS_STDERR_PIPE,
                           error, mke2fs, "-q", "-F", "-t", "ext4", "-O", EXT4_FEATURES, "-b",
                           "4096", "-I", "256", "-m", "0", "-N", inode_arg, "-E",
                           "root_owner=0:0,lazy_itable_init=1", path, NULL);
  if (proc == NULL)
    {
      g_prefix_error (error, "cannot run mke2fs (e2fsprogs): ");
      return FALSE;
    }
  if (!g_subprocess_communicate_utf8 (proc, NULL, cancellable, NULL, &err_text, error))
    {
      g_subprocess_force_exit (proc);
      g_subprocess_wait (proc, NULL, NULL);
      return FALSE;
    }
  if (!g_subprocess_get_if_exited (proc) || g_subprocess_get_exit_status (proc) != 0)
    {
      g_set_error (error, MVM_ERROR, MVM_ERROR_FAILED, "mke2fs failed on %s: %s", path,
                   err_text != NULL ? g_strstrip (err_text) : "");
      return FALSE;
    }
  return TRUE;
}

static void
report (Build *b, guint64 consumed, gboolean force)
{
  if (b->progress == NULL || (!force && consumed < b->reported + PROGRESS_STEP))
    return;
  b->reported = consumed;
  b->progress (MIN (consumed, b->total), b->total, b->user_data);
}

static gboolean
apply_layer (Build *b, MvmExt4Writer *writer, guint i, GError **error)
{
  g_autoptr (MvmLayerReader) reader
    = mvm_layer_reader_open (b->fd, g_ptr_array_index (b->source->layers, i), error);
  struct archive_entry *entry;

  if (reader == NULL)
    return FALSE;
  mvm_ext4_writer_begin_layer (writer);
  for (;;)
    {
      if (!mvm_layer_reader_next (reader, &entry, error))
        return FALSE;
      if (entry == NULL)
        break;
      if (!mvm_ext4_writer_add (writer, entry, mvm_layer_reader_archive (reader), b->cancellable,
                                error))
        return FALSE;
      report (b, b->done + mvm_layer_reader_consumed (reader), FALSE);
    }
  b->done += mvm_layer_reader_size (reader);
  report (b, b->done, TRUE);
  return TRUE;
}

static gboolean
write_image (Build *b, const char *path, GError **error)
{
  g_autoptr (MvmExt4Writer) writer = mvm_ext4_writer_open (path, error);

  if (writer == NULL)
    return FALSE;
  for (guint i = 0; i < b->source->layers->len; i++)
    if (!apply_layer (b, writer, i, error))
      {
        g_prefix_error (error, "layer %u (%s): ", i + 1, layer_label (b, i));
        return FALSE;
      }
  if (g_cancellable_set_error_if_cancelled (b->cancellable, error))
    return FALSE;
  return mvm_ext4_writer_close (writer, error);
}

static gboolean
fill_target (Build *b, int target_fd, const char *path, guint64 size, GError **error)
{
  if (!run_mke2fs (path, mvm_image_size_inodes_for (b->size, size), b->cancellable, error)
      || !write_image (b, path, error))
    return FALSE;
  if (fsync (target_fd) < 0)
    {
      g_set_error (error, MVM_ERROR, MVM_ERROR_FAILED, "cannot write the image %s: %s", path,
                   g_strerror (errno));
      return FALSE;
    }
  return TRUE;
}

static MvmImageInfo *
make_info (Build *b, guint64 size)
{
  MvmImageInfo *info = g_new0 (MvmImageInfo, 1);

  info->kind = b->source->kind;
  info->config_json = g_strdup (b->source->config_json);
  info->n_layers = b->source->layers->len;
  info->content_bytes = mvm_image_size_content (b->size);
  info->image_bytes = size;
  return info;
}

gboolean
mvm_image_build (int archive_fd, const char *target_path, guint64 size_bytes,
                 MvmImageProgressFunc progress, gpointer user_data, GCancellable *cancellable,
                 MvmImageInfo **info_out, GError **error)
{
  g_autoptr (MvmImageSource) source = mvm_image_source_new (archive_fd, cancellable, error);
  g_autoptr (MvmImageSize) size_needed = mvm_image_size_new ();
  Build b = { .fd = archive_fd,
              .size = size_needed,
              .source = source,
              .progress = progress,
              .user_data = user_data,
              .cancellable = cancellable };
  guint64 size;
  int target_fd;
  gboolean ok;

  if (source == NULL || !measure (&b, error) || !choose_size (&b, size_bytes, &size, error))
    return FALSE;
  target_fd = create_target (target_path, size, error);
  if (target_fd < 0)
    return FALSE;
  ok = fill_target (&b, target_fd, target_path, size, error);
  close (target_fd);
  if (!ok)
    {
      unlink (target_path);
      return FALSE;
    }
  if (info_out != NULL)
    *info_out = make_info (&b, size);
  return TRUE;
}

void
mvm_image_info_free (MvmImageInfo *info)
{
  g_free (info->config_json);
  g_free (info);
}
