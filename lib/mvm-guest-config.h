/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

#include "mvm-network-config.h"

G_BEGIN_DECLS

/* Limits that keep one caller's file from costing the daemon more than a guest is worth. */
#define MVM_MAX_GUEST_FILE (64 * 1024)
#define MVM_MAX_DISKS 16
#define MVM_MAX_SHARES 16
#define MVM_MAX_NETWORKS 6
#define MVM_MAX_CPUS 255
#define MVM_MIN_MEMORY (16 * 1024 * 1024ULL)
#define MVM_MAX_COMMAND_LINE 2048

typedef enum
{
  MVM_OS_LINUX,
  MVM_OS_NETBSD,
  MVM_OS_FREEBSD,
  MVM_OS_OPENBSD,
  MVM_OS_OTHER,
} MvmOs;

typedef enum
{
  MVM_TRANSPORT_AUTO,
  MVM_TRANSPORT_PCIE,
  MVM_TRANSPORT_MMIO,
} MvmTransport;

typedef enum
{
  MVM_RESTART_NO,
  MVM_RESTART_ON_FAILURE,
  MVM_RESTART_ALWAYS,
} MvmRestart;

typedef enum
{
  MVM_DISK_FORMAT_RAW,
  MVM_DISK_FORMAT_QCOW2,
} MvmDiskFormat;

typedef enum
{
  MVM_NET_MODE_NONE,
  MVM_NET_MODE_USER,
  MVM_NET_MODE_TAP,
  MVM_NET_MODE_PASST,
} MvmNetMode;

typedef struct
{
  char *label;
  char *path;  /* Path=, or NULL for an imported image */
  char *image; /* Image=: an imported image's name, or NULL */
  MvmDiskFormat format;
  gboolean read_only;
  gboolean ephemeral;
} MvmDisk;

/* A writable, lasting Image= disk: the image stays as imported, and the guest's writes go
 * to its own qcow2 overlay (STATE/guests/NAME/LABEL.qcow2), kept until it is undefined. */
gboolean mvm_disk_has_overlay (const MvmDisk *disk);
/* A writable Ephemeral=yes disk (Path= or Image=): the disk stays as it is, and the guest's
 * writes go to a qcow2 overlay made afresh at each start in its runtime folder
 * (RUNTIME/NAME/LABEL.ephemeral.qcow2), gone when the guest stops. */
gboolean mvm_disk_has_ephemeral_overlay (const MvmDisk *disk);

typedef struct
{
  char *label;
  MvmNetMode mode;
  char *bridge; /* tap only; NULL: the tap is left unenslaved */
  char *mac;    /* always set: given or derived from the UUID */
  MvmNetAddressing addressing;
  GPtrArray *forwards; /* MvmForward; user and passt modes only */
  int host_loopback;   /* HostLoopback=: 1, 0, or -1 when unset; user and passt modes only */
  MvmEgress egress;    /* tap mode only */
} MvmNetwork;

/* A card whose network is the user-mode kind: QEMU's own (slirp) or passt. */
#define mvm_network_is_user_mode(n)                                                                \
  ((n)->mode == MVM_NET_MODE_USER || (n)->mode == MVM_NET_MODE_PASST)

typedef enum
{
  MVM_SHARE_9P,       /* virtio-9p, served by QEMU itself */
  MVM_SHARE_VIRTIOFS, /* vhost-user-fs, served by a virtiofsd beside QEMU */
} MvmShareType;

typedef struct
{
  char *label;
  char *path;
  char *tag;
  MvmShareType type;
  gboolean read_only;
} MvmShare;

/* A parsed, validated guest file with every default filled in. */
typedef struct
{
  char *name;
  char *uuid;        /* name-based (SHA-1, RFC 4122 v5): stable for a name */
  char *source_path; /* file it came from, or NULL for data */
  MvmOs os;
  MvmTransport transport; /* never AUTO after parsing */
  guint cpus;
  guint64 memory;
  guint64 tcg_cache;  /* TCG's translation buffer in bytes; 0: QEMU's default */
  char *kernel;       /* NULL: the daemon's default */
  char *initrd;       /* NULL: the daemon's default */
  char *command_line; /* "" when unset */
  char *hostname;     /* NULL: the guest keeps its own */
  GStrv command;      /* Command=, split as a shell would; NULL: the image's own, if any */
  char *start_from;   /* StartFrom=: every start restores this snapshot; NULL: boots */
  gboolean autostart;
  MvmRestart restart;
  guint shutdown_timeout_sec;
  GPtrArray *disks;    /* MvmDisk */
  GPtrArray *networks; /* MvmNetwork */
  GPtrArray *shares;   /* MvmShare */
  gboolean vsock;
  guint32 vsock_cid; /* 0: auto */
  gboolean balloon_free_page_reporting;
  gboolean balloon_deflate_on_oom;
  gboolean balloon_small_pages; /* SmallPages=: under TCG, RAM in 4 KiB pages, reported finely */
} MvmGuestConfig;

/* Parses and validates @data; @file_name (may be NULL) is used for messages and as the
 * default name. */
MvmGuestConfig *mvm_guest_config_new_from_data (const char *data, gsize length,
                                                const char *file_name, GError **error);
MvmGuestConfig *mvm_guest_config_new_from_file (const char *path, GError **error);
void mvm_guest_config_free (MvmGuestConfig *config);

const char *mvm_os_to_string (MvmOs os);
const char *mvm_transport_to_string (MvmTransport transport);
const char *mvm_restart_to_string (MvmRestart restart);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MvmGuestConfig, mvm_guest_config_free)

G_END_DECLS
