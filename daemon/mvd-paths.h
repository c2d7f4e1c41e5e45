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
  char *runtime_dir;
  char *log_dir;
} MvdPaths;

MvdPaths *mvd_paths_new (gboolean session);
void mvd_paths_free (MvdPaths *paths);
/* Creates the folders that must exist (guests, runtime, logs). */
gboolean mvd_paths_ensure (const MvdPaths *paths, GError **error);

char *mvd_paths_guest_file (const MvdPaths *paths, const char *name);
char *mvd_paths_guest_runtime (const MvdPaths *paths, const char *name);
/* Removes what a QEMU left in its runtime folder, and the folder. */
void mvd_paths_clean_runtime_dir (const char *dir);
void mvd_paths_clean_guest_runtime (const MvdPaths *paths, const char *name);
char *mvd_paths_guest_log (const MvdPaths *paths, const char *name);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MvdPaths, mvd_paths_free)

G_END_DECLS
