/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The few qcow2 header fields that name other files (QEMU's docs/interop/qcow2.txt). */
#include "mvm-qcow2.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "mvm-error.h"

#define QCOW2_MAGIC 0x514649fbu /* "QFI\xfb" */
#define HEADER_V2_SIZE 72
#define HEADER_V3_SIZE 104
#define INCOMPAT_DATA_FILE (1ull << 2)

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
