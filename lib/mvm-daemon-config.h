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

typedef enum
{
  MVM_USER_NETWORK_AUTO, /* passt where it is installed, else QEMU's own (slirp) */
  MVM_USER_NETWORK_PASST,
  MVM_USER_NETWORK_SLIRP,
} MvmUserNetwork;

/* microvmd.conf, group [Daemon]; every field has its default when the file is absent. */
typedef struct
{
  char *source_path; /* NULL when no file was read */
  char *qemu_binary;
  MvmAccel accelerator;
  char *default_kernel; /* NULL: MVM_GUEST_KERNEL_DIR/vmlinux, then /boot */
  char *default_initrd;
  GStrv image_dirs;      /* disks, kernels, initrds beneath these (default STATE/images) */
  char *images_dir;      /* imported images, NAME.ext4, for [Disk] Image=NAME (STATE/images) */
  char *guest_data_dir;  /* STATE/guests: NAME/LABEL.qcow2, overlays over images */
  GStrv allowed_devices; /* block devices a disk may be, by name; default none */
  GStrv share_dirs;      /* shares beneath these; default none */
  GStrv allowed_bridges; /* bridges a tap may join; default none */
  guint64 log_max_bytes;
  guint log_keep_files;
  MvmShutdownGuests shutdown_guests;
  MvmUserNetwork user_network; /* what Mode=user cards get */
  guint max_guests;            /* defined and transient guests together */
  guint32 guest_uid_first;     /* each running QEMU gets a uid of its own from this range */
  guint32 guest_uid_last;      /* ... when the daemon runs as root; 0-0: QEMU runs as root */
} MvmDaemonConfig;

MvmDaemonConfig *mvm_daemon_config_new_default (void);
/* Applies UserNetwork= to @facts (slirp: passt is not used; passt: it must be installed). */
gboolean mvm_daemon_config_apply_user_network (const MvmDaemonConfig *config, MvmHostFacts *facts,
                                               GError **error);
/* A missing file at @path gives the defaults when @optional; any other problem is an error. */
MvmDaemonConfig *mvm_daemon_config_load (const char *path, gboolean optional, GError **error);
void mvm_daemon_config_free (MvmDaemonConfig *config);

/* The folder of imported images, @dir (STATE/images); also ImageDirectories= when
 * microvmd.conf does not set it. */
void mvm_daemon_config_set_default_image_dir (MvmDaemonConfig *config, const char *dir);

/* The guests' own disks: overlays over images, copies a full clone made (STATE/guests). */
void mvm_daemon_config_set_guest_data_dir (MvmDaemonConfig *config, const char *dir);

/* Checks the daemon's policy for @guest's shares and bridges; disks, kernel and initrd are
 * checked as they are opened (mvm-guest-files). Each share's path becomes its real path. */
gboolean mvm_daemon_config_check_guest (const MvmDaemonConfig *config, MvmGuestConfig *guest,
                                        GError **error);

/* The daemon's own kernel and initrd: DefaultKernel=, DefaultInitrd=, else the installed ones. */
void mvm_daemon_config_default_boot (const MvmDaemonConfig *config, char **kernel, char **initrd);

/* The kernel and initrd @guest boots: its own, else the configured or installed default. */
gboolean mvm_daemon_config_resolve_boot (const MvmDaemonConfig *config, const MvmGuestConfig *guest,
                                         char **kernel, char **initrd, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MvmDaemonConfig, mvm_daemon_config_free)

G_END_DECLS
