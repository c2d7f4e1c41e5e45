/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The daemon's folders (DESIGN.md "Files on the host"): system or per-user, each one
 * overridden by systemd's *_DIRECTORY variable, which is also how tests relocate them. */
typedef struct
{
  gboolean session;
  char *config_file;
  char *guests_dir;
  char *state_dir;
  char *images_dir;     /* STATE/images: ImageDirectories= unless microvmd.conf says otherwise */
  char *guest_data_dir; /* STATE/guests: NAME/, a guest's overlays and copied disks */
  char *runtime_dir;
  char *log_dir;
} MvmPaths;

MvmPaths *mvm_paths_new (gboolean session);
void mvm_paths_free (MvmPaths *paths);
/* Creates the folders that must exist (guests, runtime, logs). */
gboolean mvm_paths_ensure (const MvmPaths *paths, GError **error);

char *mvm_paths_guest_file (const MvmPaths *paths, const char *name);
char *mvm_paths_guest_runtime (const MvmPaths *paths, const char *name);
/* Removes what a QEMU left in its runtime folder (ephemeral overlays too), and the folder. */
void mvm_paths_clean_runtime_dir (const char *dir);
/* RUNTIME/NAME/passt-netINDEX.out: the output of card INDEX's passt, in runtime folder @dir */
char *mvm_paths_passt_output (const char *dir, guint index);
/* IMAGES/NAME.ext4: imported image NAME in the images folder @images_dir */
char *mvm_paths_image_file (const char *images_dir, const char *name);
/* IMAGES/NAME.json: what is known of imported image NAME (source kind, time, OCI config) */
char *mvm_paths_image_meta (const char *images_dir, const char *name);
/* DATA/NAME: guest NAME's own disks (overlays, full clones' copies), in @guest_data_dir */
char *mvm_paths_guest_data (const char *guest_data_dir, const char *name);
/* DATA/NAME/LABEL.qcow2: the overlay of guest NAME's Image= disk LABEL */
char *mvm_paths_disk_overlay (const char *guest_data_dir, const char *name, const char *label);
/* RUNTIME/NAME/LABEL.ephemeral.qcow2: the overlay of Ephemeral=yes disk LABEL, in the guest's
 * runtime folder @dir, made afresh at each start and removed with the folder */
char *mvm_paths_ephemeral_overlay (const char *dir, const char *label);
/* Removes guest NAME's data folder and what the daemon made in it. */
/* Removes @dir, its files and its folders down to @depth levels (symlinks are not followed);
 * FALSE with errno set when something stays. */
gboolean mvm_paths_remove_tree (const char *dir, guint depth);
gboolean mvm_paths_remove_guest_data (const char *guest_data_dir, const char *name, GError **error);
/* RUNTIME/NAME/virtiofsd-fsINDEX.out: the output of share INDEX's virtiofsd */
char *mvm_paths_virtiofsd_output (const char *dir, guint index);
void mvm_paths_clean_guest_runtime (const MvmPaths *paths, const char *name);
char *mvm_paths_guest_log (const MvmPaths *paths, const char *name);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MvmPaths, mvm_paths_free)

G_END_DECLS
