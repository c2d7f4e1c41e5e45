/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The few qcow2 header fields that name other files, and an empty overlay's header
 * (QEMU's docs/interop/qcow2.txt). */
#include "mvm-qcow2.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "mvm-error.h"

#define QCOW2_MAGIC 0x514649fbu /* "QFI\xfb" */
#define HEADER_V2_SIZE 72
#define HEADER_V3_SIZE 104
#define INCOMPAT_DATA_FILE (1ull << 2)

#define CLUSTER_BITS 16
#define CLUSTER_SIZE (1u << CLUSTER_BITS)
#define L2_COVERS ((guint64)CLUSTER_SIZE / 8 * CLUSTER_SIZE) /* 512 MiB a L2 table */
#define REFCOUNT_ORDER 4                                     /* 16-bit refcounts */
#define MAX_L1_CLUSTERS 32 /* 32 * 8192 L2 tables of 512 MiB: 128 TiB */

static guint64
be64_at (const guint8 *p)
{
  guint64 v;

  memcpy (&v, p, sizeof v);
  return GUINT64_FROM_BE (v);
}

static guint32
be32_at (const guint8 *p)
{
  guint32 v;

  memcpy (&v, p, sizeof v);
  return GUINT32_FROM_BE (v);
}

static gboolean
refuse (GError **error, const char *what)
{
  g_set_error (error, MVM_ERROR, MVM_ERROR_ACCESS_DENIED, "the qcow2 header %s", what);
  return FALSE;
}

gboolean
mvm_qcow2_check_standalone (int fd, GError **error)
{
  guint8 h[HEADER_V3_SIZE];
  ssize_t n = pread (fd, h, sizeof h, 0);
  guint32 version;

  if (n < 0)
    {
      g_set_error (error, MVM_ERROR, MVM_ERROR_INVALID_CONFIG, "cannot read the qcow2 header: %s",
                   g_strerror (errno));
      return FALSE;
    }
  if (n < HEADER_V2_SIZE || be32_at (h) != QCOW2_MAGIC)
    return refuse (error, "is missing: this is not a qcow2 image (Format=raw?)");
  version = be32_at (h + 4);
  if (be64_at (h + 8) != 0) /* backing_file_offset */
    return refuse (error, "names a backing file (backing_file_offset); microvmd boots "
                          "standalone images only: qemu-img convert it first");
  if (version >= 3 && n >= HEADER_V3_SIZE && (be64_at (h + 72) & INCOMPAT_DATA_FILE))
    return refuse (error, "names an external data file (incompatible_features bit 2, "
                          "data-file); microvmd boots standalone images only");
  return TRUE;
}

static void
put_be32 (guint8 *p, guint32 v)
{
  v = GUINT32_TO_BE (v);
  memcpy (p, &v, sizeof v);
}

static void
put_be64 (guint8 *p, guint64 v)
{
  v = GUINT64_TO_BE (v);
  memcpy (p, &v, sizeof v);
}

static gboolean
write_all_at (int fd, const guint8 *data, gsize length, off_t offset, GError **error)
{
  while (length > 0)
    {
      ssize_t n = pwrite (fd, data, length, offset);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          g_set_error (error, MVM_ERROR, MVM_ERROR_FAILED, "cannot write the qcow2 overlay: %s",
                       g_strerror (errno));
          return FALSE;
        }
      data += n, length -= n, offset += n;
    }
  return TRUE;
}

/* What qemu-img create -f qcow2 -o backing_file= writes, without the name: cluster 0 the
 * header, 1 the refcount table, 2 its one refcount block, 3.. the zeroed L1 table. */
gboolean
mvm_qcow2_write_overlay (int fd, guint64 size, GError **error)
{
  guint64 l1_entries = (size + L2_COVERS - 1) / L2_COVERS;
  guint32 l1_clusters = MAX (1, (l1_entries * 8 + CLUSTER_SIZE - 1) / CLUSTER_SIZE);
  guint32 clusters = 3 + l1_clusters;
  g_autofree guint8 *head = NULL;

  if (l1_clusters > MAX_L1_CLUSTERS)
    {
      g_set_error (error, MVM_ERROR, MVM_ERROR_INVALID_CONFIG,
                   "%" G_GUINT64_FORMAT " bytes is too large for a qcow2 overlay", size);
      return FALSE;
    }
  head = g_malloc0 ((gsize)3 * CLUSTER_SIZE);
  put_be32 (head, QCOW2_MAGIC);
  put_be32 (head + 4, 3); /* version */
  put_be32 (head + 20, CLUSTER_BITS);
  put_be64 (head + 24, size);
  put_be32 (head + 36, (guint32)l1_entries);
  put_be64 (head + 40, 3 * (guint64)CLUSTER_SIZE); /* l1_table_offset */
  put_be64 (head + 48, 1 * (guint64)CLUSTER_SIZE); /* refcount_table_offset */
  put_be32 (head + 56, 1);                         /* refcount_table_clusters */
  put_be32 (head + 96, REFCOUNT_ORDER);
  put_be32 (head + 100, HEADER_V3_SIZE); /* then the end-of-extensions zeros */
  put_be64 (head + CLUSTER_SIZE, 2 * (guint64)CLUSTER_SIZE);
  for (guint32 c = 0; c < clusters; c++)
    {
      guint8 one[2] = { 0, 1 };
      memcpy (head + 2 * CLUSTER_SIZE + 2 * c, one, sizeof one);
    }
  if (!write_all_at (fd, head, (gsize)3 * CLUSTER_SIZE, 0, error))
    return FALSE;
  if (ftruncate (fd, (off_t)clusters * CLUSTER_SIZE) < 0)
    {
      g_set_error (error, MVM_ERROR, MVM_ERROR_FAILED, "cannot size the qcow2 overlay: %s",
                   g_strerror (errno));
      return FALSE;
    }
  return TRUE;
}

gboolean
mvm_qcow2_virtual_size (int fd, guint64 *size, GError **error)
{
  guint8 h[HEADER_V2_SIZE];
  ssize_t n = pread (fd, h, sizeof h, 0);

  if (n < HEADER_V2_SIZE || be32_at (h) != QCOW2_MAGIC)
    {
      g_set_error (error, MVM_ERROR, MVM_ERROR_INVALID_CONFIG, "not a qcow2 image%s%s",
                   n < 0 ? ": " : "", n < 0 ? g_strerror (errno) : "");
      return FALSE;
    }
  *size = be64_at (h + 24);
  return TRUE;
}
