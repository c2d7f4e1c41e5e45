/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A layer blob is read as an archive nested in the outer one: the inner libarchive reader
 * pulls its bytes from archive_read_data_block on the outer, so a blob is never copied
 * and the outer may be compressed too. */
#include "mvm-layer-reader.h"

#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mvm-error.h"
#include "mvm-image-path.h"

#define READ_CHUNK (256 * 1024)

struct _MvmLayerReader
{
  int fd;
  guint64 pos;
  guint64 file_size;
  guint64 layer_size; /* compressed bytes of the layer: the member's or the file's size */
  guint8 *buf;
  struct archive *outer;
  struct archive *inner; /* NULL when the layer is the whole archive */
  char *member;
};

static la_ssize_t
fd_read_cb (struct archive *a, void *user_data, const void **out)
{
  MvmLayerReader *self = user_data;
  ssize_t n;

  do
    n = pread (self->fd, self->buf, READ_CHUNK, (off_t)self->pos);
  while (n < 0 && errno == EINTR);
  if (n < 0)
    {
      archive_set_error (a, errno, "cannot read the archive: %s", g_strerror (errno));
      return -1;
    }
  self->pos += (guint64)n;
  *out = self->buf;
  return n;
}

static la_int64_t
fd_skip_cb (struct archive *a, void *user_data, la_int64_t request)
{
  MvmLayerReader *self = user_data;
  guint64 left = self->file_size > self->pos ? self->file_size - self->pos : 0;
  guint64 n = MIN ((guint64)request, left);

  self->pos += n;
  return (la_int64_t)n;
}

static la_ssize_t
member_read_cb (struct archive *a, void *user_data, const void **out)
{
  MvmLayerReader *self = user_data;
  size_t size = 0;
  la_int64_t offset;
  int r = archive_read_data_block (self->outer, out, &size, &offset);

  if (r == ARCHIVE_EOF)
    return 0;
  if (r < ARCHIVE_WARN)
    {
      archive_set_error (a, archive_errno (self->outer), "%s", archive_error_string (self->outer));
      return -1;
    }
  return (la_ssize_t)size;
}

struct archive *
mvm_layer_reader_new_tar_reader (void)
{
  struct archive *a = archive_read_new ();

  archive_read_support_filter_all (a);
  archive_read_support_format_tar (a);
  archive_read_support_format_gnutar (a);
  archive_read_support_format_empty (a);
  return a;
}

static gboolean
archive_failed (struct archive *a, const char *what, GError **error)
{
  g_set_error (error, MVM_ERROR, MVM_ERROR_INVALID_CONFIG, "%s: %s", what,
               archive_error_string (a) ? archive_error_string (a) : "unknown libarchive error");
  return FALSE;
}

static gboolean
next_header (struct archive *a, struct archive_entry **entry, const char *what, GError **error)
{
  int r = archive_read_next_header (a, entry);

  if (r == ARCHIVE_EOF)
    {
      *entry = NULL;
      return TRUE;
    }
  if (r < ARCHIVE_WARN)
    return archive_failed (a, what, error);
  return TRUE;
}

static gboolean
member_matches (struct archive_entry *entry, const char *member)
{
  g_auto (GStrv) parts = NULL;
  g_autofree char *joined = NULL;
  const char *name = archive_entry_pathname (entry);

  if (name == NULL || archive_entry_filetype (entry) != AE_IFREG)
    return FALSE;
  parts = mvm_image_path_split (name, NULL);
  if (parts == NULL)
    return FALSE;
  joined = mvm_image_path_join ((const char *const *)parts, g_strv_length (parts));
  return g_strcmp0 (joined, member) == 0;
}

static gboolean
seek_member (MvmLayerReader *self, GError **error)
{
  struct archive_entry *entry;

  for (;;)
    {
      if (!next_header (self->outer, &entry, "the image archive is unreadable", error))
        return FALSE;
      if (entry == NULL)
        {
          g_set_error (error, MVM_ERROR, MVM_ERROR_INVALID_CONFIG,
                       "the image archive has no member '%s'", self->member);
          return FALSE;
        }
      if (member_matches (entry, self->member))
        {
          self->layer_size = (guint64)MAX (archive_entry_size (entry), 0);
          return TRUE;
        }
    }
}

static gboolean
open_outer (MvmLayerReader *self, GError **error)
{
  struct stat st;

  if (fstat (self->fd, &st) < 0)
    {
      g_set_error (error, MVM_ERROR, MVM_ERROR_FAILED, "cannot stat the archive: %s",
                   g_strerror (errno));
      return FALSE;
    }
  self->file_size = (guint64)st.st_size;
  self->layer_size = self->file_size;
  self->outer = mvm_layer_reader_new_tar_reader ();
  archive_read_set_callback_data (self->outer, self);
  archive_read_set_read_callback (self->outer, fd_read_cb);
  archive_read_set_skip_callback (self->outer, fd_skip_cb);
  if (archive_read_open1 (self->outer) != ARCHIVE_OK)
    return archive_failed (self->outer, "the archive is not a tar archive", error);
  return TRUE;
}

static gboolean
open_inner (MvmLayerReader *self, GError **error)
{
  g_autofree char *what = NULL;

  if (!seek_member (self, error))
    return FALSE;
  self->inner = mvm_layer_reader_new_tar_reader ();
  if (archive_read_open (self->inner, self, NULL, member_read_cb, NULL) != ARCHIVE_OK)
    {
      what = g_strdup_printf ("layer '%s' is not a tar archive", self->member);
      return archive_failed (self->inner, what, error);
    }
  return TRUE;
}

MvmLayerReader *
mvm_layer_reader_open (int fd, const char *member, GError **error)
{
  g_autoptr (MvmLayerReader) self = g_new0 (MvmLayerReader, 1);

  self->fd = fd;
  self->buf = g_malloc (READ_CHUNK);
  self->member = g_strdup (member);
  if (!open_outer (self, error))
    return NULL;
  if (member != NULL && !open_inner (self, error))
    return NULL;
  return g_steal_pointer (&self);
}

struct archive *
mvm_layer_reader_archive (MvmLayerReader *self)
{
  return self->inner != NULL ? self->inner : self->outer;
}

gboolean
mvm_layer_reader_next (MvmLayerReader *self, struct archive_entry **entry, GError **error)
{
  g_autofree char *what = NULL;

  if (self->member != NULL)
    what = g_strdup_printf ("layer '%s' is unreadable", self->member);
  return next_header (mvm_layer_reader_archive (self), entry,
                      what != NULL ? what : "the archive is unreadable", error);
}

guint64
mvm_layer_reader_consumed (MvmLayerReader *self)
{
  if (self->inner != NULL)
    return (guint64)MAX (archive_filter_bytes (self->inner, -1), 0);
  return self->pos;
}

guint64
mvm_layer_reader_size (MvmLayerReader *self)
{
  return self->layer_size;
}

GBytes *
mvm_layer_reader_read_all (MvmLayerReader *self, gsize max_bytes, GError **error)
{
  struct archive *a = mvm_layer_reader_archive (self);
  g_autoptr (GByteArray) data = g_byte_array_new ();
  guint8 chunk[16384];
  la_ssize_t n;

  while ((n = archive_read_data (a, chunk, sizeof chunk)) > 0)
    {
      if (data->len + (gsize)n > max_bytes)
        {
          g_set_error (error, MVM_ERROR, MVM_ERROR_LIMIT_EXCEEDED,
                       "an archive member is larger than %" G_GSIZE_FORMAT " bytes", max_bytes);
          return NULL;
        }
      g_byte_array_append (data, chunk, (guint)n);
    }
  if (n < 0)
    {
      archive_failed (a, "cannot read an archive member", error);
      return NULL;
    }
  return g_byte_array_free_to_bytes (g_steal_pointer (&data));
}

GBytes *
mvm_layer_reader_read_member (int fd, const char *member, gsize max_bytes, GError **error)
{
  g_autoptr (MvmLayerReader) self = g_new0 (MvmLayerReader, 1);

  self->fd = fd;
  self->buf = g_malloc (READ_CHUNK);
  self->member = g_strdup (member);
  if (!open_outer (self, error) || !seek_member (self, error))
    return NULL;
  return mvm_layer_reader_read_all (self, max_bytes, error);
}

char *
mvm_layer_reader_sha256 (int fd, const char *member, GCancellable *cancellable, GError **error)
{
  g_autoptr (MvmLayerReader) self = g_new0 (MvmLayerReader, 1);
  g_autoptr (GChecksum) sum = g_checksum_new (G_CHECKSUM_SHA256);
  const void *block;
  size_t size;
  la_int64_t offset;
  int r;

  self->fd = fd;
  self->buf = g_malloc (READ_CHUNK);
  self->member = g_strdup (member);
  if (!open_outer (self, error) || !seek_member (self, error))
    return NULL;
  while ((r = archive_read_data_block (self->outer, &block, &size, &offset)) == ARCHIVE_OK)
    {
      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        return NULL;
      g_checksum_update (sum, block, size);
    }
  if (r != ARCHIVE_EOF)
    {
      archive_failed (self->outer, "the image archive is unreadable", error);
      return NULL;
    }
  return g_strdup (g_checksum_get_string (sum));
}

void
mvm_layer_reader_free (MvmLayerReader *self)
{
  if (self->inner != NULL)
    archive_read_free (self->inner);
  if (self->outer != NULL)
    archive_read_free (self->outer);
  g_free (self->buf);
  g_free (self->member);
  g_free (self);
}
