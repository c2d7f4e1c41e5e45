/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "mvm-guest-config.h"
#include "mvm-host-facts.h"

G_BEGIN_DECLS

/* The fd numbers the daemon hands QEMU; --check prints the same argv. */
#define MVM_FD_QMP 3
#define MVM_FD_SERIAL 4
#define MVM_FD_READY 5
#define MVM_FD_NET_FIRST 6
/* after the taps: the kernel, the initrd, then each disk's read-only and read-write fd */
#define MVM_FD_KERNEL (MVM_FD_NET_FIRST + MVM_MAX_NETWORKS)
#define MVM_FD_INITRD (MVM_FD_KERNEL + 1)
#define MVM_FD_DISK_FIRST (MVM_FD_INITRD + 1)
#define MVM_FD_VHOST_VSOCK (MVM_FD_DISK_FIRST + 2 * MVM_MAX_DISKS)
/* then each virtiofs share's socket to its virtiofsd, in file order */
#define MVM_FD_VIRTIOFS_FIRST (MVM_FD_VHOST_VSOCK + 1)
/* then the read-only and read-write fd of each overlay: a writable Image= disk's, or an
 * Ephemeral=yes disk's */
#define MVM_FD_OVERLAY_FIRST (MVM_FD_VIRTIOFS_FIRST + MVM_MAX_SHARES)
/* then a snapshot's memory file, read by -incoming */
#define MVM_FD_INCOMING (MVM_FD_OVERLAY_FIRST + 2 * MVM_MAX_DISKS)

/* A listening socket for QEMU: an inherited fd, or a path QEMU binds itself. */
typedef struct
{
  int fd;           /* >= 0: use this fd number */
  const char *path; /* used when fd < 0 */
} MvmSocket;

/* What one launch needs beyond the guest file: sockets, taps, resolved defaults. */
typedef struct
{
  const char *kernel; /* resolved kernel (the guest's or the daemon's default) */
  const char *initrd; /* resolved initrd, NULL for none */
  MvmSocket qmp;
  MvmSocket serial;
  MvmSocket ready;
  int net_fds[6];    /* per network, in file order: its tap, or its socket to passt; -1: none */
  guint32 vsock_cid; /* resolved CID when the guest has [Vsock] */
  /* QEMU opens no host file by name: these fd numbers in QEMU hold the files the daemon
   * opened (-1: none, then the path above is used) */
  int kernel_fd;
  int initrd_fd;
  int disk_fds[MVM_MAX_DISKS][2];    /* read-only, read-write (-1: read-only or overlaid) */
  int overlay_fds[MVM_MAX_DISKS][2]; /* a disk's overlay, read-only and read-write */
  const char *guest_data_dir;        /* overlays by name, when their fds are -1 (STATE/guests) */
  const char *runtime_dir;           /* ephemeral overlays by name, the same (RUNTIME/NAME) */
  int vhost_vsock_fd;                /* /dev/vhost-vsock, opened by the daemon ([Vsock]) */
  int share_fds[MVM_MAX_SHARES];     /* a virtiofs share's socket to its virtiofsd; -1: 9p */
  gboolean paused;                   /* -S: start with the CPUs stopped */
  gboolean incoming; /* -incoming fd:MVM_FD_INCOMING: memory and devices from a snapshot */
  const char *run;   /* microvmd.run=: the command's script in base64, or NULL */
} MvmLaunch;

/* The launch the daemon uses: fds 3, 4, 5, the cards (taps, passt) from 6, then kernel,
 * initrd and disks. */
void mvm_launch_init_default (MvmLaunch *launch, const MvmGuestConfig *config, const char *kernel,
                              const char *initrd);

/* Pure: (guest, host, launch) -> argv (NULL-terminated). Fails only on host mismatches. */
GStrv mvm_argv_build (const MvmGuestConfig *config, const MvmHostFacts *facts,
                      const MvmLaunch *launch, GError **error);

/* Whether card @n's network is passt: Mode=passt, or Mode=user where passt is installed. */
gboolean mvm_network_uses_passt (const MvmNetwork *n, const MvmHostFacts *facts);

/* Whether QEMU runs with transparent huge pages off (the spawner's prctl), so that free page
 * reporting can return the guest's memory in blocks smaller than a huge page: under TCG, with
 * FreePageReporting=yes and SmallPages=yes. Under KVM huge pages are worth more than the
 * memory; and by default a start is: loading the kernel in small pages costs 0.2 s here. */
gboolean mvm_argv_small_pages (const MvmGuestConfig *config, const MvmHostFacts *facts);

/* The generated kernel command line, with the guest's CommandLine= appended. */
char *mvm_argv_kernel_command_line (const MvmGuestConfig *config, const MvmHostFacts *facts);

/* Appends @value to @str with every ',' doubled, as QEMU's option parser wants. */
void mvm_argv_append_escaped (GString *str, const char *value);

G_END_DECLS
