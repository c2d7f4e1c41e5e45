/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* A saved guest, STATE/guests/GUEST/snapshots/NAME/: "memory" (QEMU's migration stream of
 * its RAM and devices), "info" (what it was saved from, below) and LABEL.qcow2, the overlay
 * of each ephemeral disk as it was. A snapshot being written is .NAME.partial beside it and
 * has no name until it is whole. */
typedef struct
{
  char *name;
  gint64 created_usec; /* wall clock */
  char *qemu_binary;
  char *qemu_version; /* "7.2.22 (Debian 1:7.2+dfsg-7+deb12u18)": version and package */
  GStrv argv;         /* the command line of the QEMU it was saved from, without -incoming */
  guint64 size;       /* bytes on disk, of the folder's files */
} MvmSnapshot;

void mvm_snapshot_free (MvmSnapshot *snapshot);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MvmSnapshot, mvm_snapshot_free)

/* STATE/guests/GUEST/snapshots/NAME */
char *mvm_snapshot_dir (const char *guest_data_dir, const char *guest, const char *name);
/* Its memory file */
char *mvm_snapshot_memory_path (const char *dir);

/* Snapshot @name of @guest, read; G_IO_ERROR_NOT_FOUND, naming it, when there is none. */
MvmSnapshot *mvm_snapshot_read (const char *guest_data_dir, const char *guest, const char *name,
                                GError **error);
/* Every whole snapshot of @guest (MvmSnapshot), by name; unreadable ones are left out. */
GPtrArray *mvm_snapshot_list (const char *guest_data_dir, const char *guest);

/* A new, empty .NAME.partial folder to write a snapshot in (an older one, left by a crash,
 * is removed first); returns its path. */
char *mvm_snapshot_begin (const char *guest_data_dir, const char *guest, const char *name,
                          GError **error);
/* Writes @snapshot's info into @partial, syncs every file in it and gives it its name, in
 * place of an older snapshot of that name. */
gboolean mvm_snapshot_commit (const char *partial, const MvmSnapshot *snapshot, GError **error);
/* Removes a folder that mvm_snapshot_begin made and that will not be committed. */
void mvm_snapshot_abort (const char *partial);
gboolean mvm_snapshot_remove (const char *guest_data_dir, const char *guest, const char *name,
                              GError **error);

/* May @snapshot of @guest start a QEMU of @qemu_version with @argv (the launch's, compared
 * without -incoming)? If not, says which of the two differs and how. */
gboolean mvm_snapshot_check (const MvmSnapshot *snapshot, const char *guest,
                             const char *const *argv, const char *qemu_version, GError **error);
/* @argv without "-incoming VALUE", as a snapshot's info keeps it */
GStrv mvm_snapshot_argv_without_incoming (const char *const *argv);

G_END_DECLS
