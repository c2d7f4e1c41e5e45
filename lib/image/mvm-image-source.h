/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef enum
{
  MVM_IMAGE_KIND_OCI,
  MVM_IMAGE_KIND_DOCKER,
  MVM_IMAGE_KIND_TAR,
} MvmImageKind;

/* "oci", "docker", "tar". */
const char *mvm_image_kind_to_string (MvmImageKind kind);
/* FALSE for an unknown name. */
gboolean mvm_image_kind_from_string (const char *name, MvmImageKind *kind);

/* What an archive holds: its kind, its layers bottom first, and the image config. */
typedef struct
{
  MvmImageKind kind;
  /* Member names of the layer blobs; one NULL element for a plain tar (the whole archive). */
  GPtrArray *layers;
  /* The config object of the image (Entrypoint, Cmd, Env, WorkingDir, User) as JSON;
   * NULL for a plain tar. */
  char *config_json;
} MvmImageSource;

/* Reads the archive in @fd (seekable; read with pread, never closed) far enough to know
 * its kind, layers and config. */
MvmImageSource *mvm_image_source_new (int fd, GCancellable *cancellable, GError **error);

void mvm_image_source_free (MvmImageSource *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MvmImageSource, mvm_image_source_free)

G_END_DECLS
