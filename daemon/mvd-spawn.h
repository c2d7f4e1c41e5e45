/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* What a QEMU process (or a passt beside it) is started with: its command line, the fds it
 * inherits, and the files it writes to. */
typedef struct
{
  const char *const *argv;
  const int *fds;     /* each becomes fd @targets[i] in the child; taken by the spawner */
  const int *targets; /* MVM_FD_QMP, MVM_FD_SERIAL, MVM_FD_READY, then the tap fds */
  guint n_fds;
  const char *output_path; /* stdout and stderr, truncated first (RUNTIME/NAME/qemu.out) */
  const char *pid_file; /* gets the child's pid before it execs (RUNTIME/NAME/qemu.pid), or NULL */
  const char *tmp_dir;  /* TMPDIR: where QEMU's temporary files go (RUNTIME/NAME/tmp) */
  guint32 uid;          /* QEMU's own uid and gid; 0: stays root (not confined) */
  gint64 kvm_gid;       /* its one supplementary group (/dev/kvm, vhost); -1: none */
  /* made read-only, submounts too, in a mount namespace of the child's own: what a read-only
   * share's virtiofsd serves; NULL: none */
  const char *read_only_tree;
  gboolean small_pages; /* no transparent huge pages (PR_SET_THP_DISABLE), QEMU's children too */
} MvdSpawnRequest;

/* Starts the process @request describes; closes every fd of @request, success or not. */
typedef GSubprocess *(*MvdSpawnFunc) (const MvdSpawnRequest *request, gpointer data,
                                      GError **error);

/* The daemon's spawner: QEMU in its own session, its output in a file. */
GSubprocess *mvd_spawn_qemu (const MvdSpawnRequest *request, gpointer data, GError **error);

G_END_DECLS
