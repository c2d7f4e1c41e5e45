/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "mvm-guest-config.h"
#include "mvm-host-facts.h"

G_BEGIN_DECLS

typedef enum
{
  MVM_SHUTDOWN_GUESTS_KEEP,
  MVM_SHUTDOWN_GUESTS_SHUTDOWN,
} MvmShutdownGuests;

/* microvmd.conf, group [Daemon]; every field has its default when the file is absent. */
typedef struct
{
  char *source_path; /* NULL when no file was read */
  char *qemu_binary;
  MvmAccel accelerator;
  char *default_kernel; /* NULL: <datadir>/microvmd/vmlinux, then /boot */
  char *default_initrd;
  GStrv image_dirs; /* disks must live under one of these; empty: anywhere */
  guint64 log_max_bytes;
  guint log_keep_files;
  MvmShutdownGuests shutdown_guests;
} MvmDaemonConfig;

MvmDaemonConfig *mvm_daemon_config_new_default (void);
/* A missing file at @path gives the defaults when @optional; any other problem is an error. */
MvmDaemonConfig *mvm_daemon_config_load (const char *path, gboolean optional, GError **error);
void mvm_daemon_config_free (MvmDaemonConfig *config);

/* Checks the daemon's policy for @guest (disk folders, files that must exist). Under
 * ImageDirectories= each disk's path is replaced by the resolved one that was checked. */
gboolean mvm_daemon_config_check_guest (const MvmDaemonConfig *config, MvmGuestConfig *guest,
                                        GError **error);

/* The kernel and initrd @guest boots: its own, else the configured or installed default. */
gboolean mvm_daemon_config_resolve_boot (const MvmDaemonConfig *config, const MvmGuestConfig *guest,
                                         char **kernel, char **initrd, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MvmDaemonConfig, mvm_daemon_config_free)

G_END_DECLS
