/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "mvm-argv.h"
#include "mvm-daemon-config.h"
#include "mvm-guest-files.h"
#include "mvm-vsock.h"

G_BEGIN_DECLS

/* One launch of a guest on this host, the same for a start, `microvmd --check` and
 * PreviewCommandLine: the daemon's policy checked, kernel and initrd resolved, the vsock
 * CID picked, the argv built with the CPUs stopped until the daemon has connected. */
typedef struct
{
  char *kernel;
  char *initrd;
  char *socket_paths[3]; /* QMP, console, ready: NULL when they are inherited fds */
  char *run;             /* the command the guest runs, for microvmd.run=, or NULL */
  MvmLaunch launch;      /* points into the strings above */
  MvmGuestFiles files;   /* kernel, initrd and disks, opened; closed with the plan */
  GStrv argv;
  gboolean small_pages; /* QEMU runs without transparent huge pages (mvm_argv_small_pages) */
} MvmLaunchPlan;

/* Where the plan's sockets go, and who else holds a vsock CID. */
typedef struct
{
  const char *socket_dir;     /* NULL: inherited fds as the daemon passes them; else sockets
                               * in this folder and files by name, to run by hand */
  MvmCidInUseFunc cid_in_use; /* NULL: no CID is taken */
  gpointer cid_in_use_data;
  gboolean create_overlays; /* a start: Image= disks' overlays are made when missing */
  /* a start: the guest's runtime folder, RUNTIME/NAME, which must exist: each ephemeral
   * disk's overlay is made there afresh. NULL: none is made (--check, PreviewCommandLine);
   * an argv by name puts it in socket_dir */
  const char *runtime_dir;
  /* a restore: each ephemeral disk's overlay is a copy of DIR/LABEL.qcow2 rather than empty */
  const char *ephemeral_source_dir;
  const char *snapshot_dir; /* a restore: the snapshot's folder (mvm-snapshot.h), whose memory
                             * QEMU reads with -incoming */
} MvmLaunchPlace;

/* Opens the guest's host files (plan->files) and checks every policy of microvmd.conf; each
 * share's path becomes the real path that was checked. */
MvmLaunchPlan *mvm_launch_plan_new (const MvmDaemonConfig *config, const MvmHostFacts *facts,
                                    MvmGuestConfig *guest, const MvmLaunchPlace *place,
                                    GError **error);
void mvm_launch_plan_free (MvmLaunchPlan *plan);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MvmLaunchPlan, mvm_launch_plan_free)

G_END_DECLS
