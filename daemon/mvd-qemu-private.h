/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "mvd-qemu.h"
#include "qmp-client.h"
#include "qmp-commands.h"

G_BEGIN_DECLS

/* timings: MvdContext's timings */
#define OUTPUT_TAIL_BYTES 2048

/* Shared by mvd-qemu.c (channels, exit, commands), mvd-qemu-launch.c, mvd-qemu-adopt.c
 * and mvd-qemu-stop.c. */
struct _MvdQemu
{
  GObject parent_instance;
  const MvdContext *context; /* the spawner and the timings */
  char *name;
  char *runtime_dir;
  MvdSerial *serial;

  GSubprocess *process; /* our child; NULL when adopted */
  int pidfd;            /* adopted: pins the process and reports its exit */
  guint pidfd_watch;
  guint output_cap; /* keeps qemu.out under LogMaxBytes= */
  guint save_soon;  /* a state-file write waiting to coalesce resets */
  GPid pid;
  GStrv argv;
  MvdStateFile *state; /* mirrored to RUNTIME/NAME/state while the process lives */
  gint64 spawn_usec;   /* monotonic, for boot times */
  /* monotonic times of a start's steps, for its debug line: where a start's time goes */
  gint64 begin_usec;        /* the start was asked for (before its plan) */
  gint64 launch_begin_usec; /* plan made, definition saved: the launch begins */
  gint64 prepared_usec;     /* sockets bound, helpers started, files open */
  gint64 handshake_usec;    /* QMP greeting and qmp_capabilities done */
  gint64 cont_usec;         /* cont answered */
  QmpClient *qmp;
  int ready_fd;
  guint ready_watch;
  gboolean ready_seen;
  GString *ready_line; /* what the ready port sent since its last newline */

  GTask *launch_task;
  guint launch_timeout;
  GPtrArray *stop_tasks; /* GTask: finish when the process is gone */
  guint escalation;
  guint power_button;     /* presses the button again until the guest reacts */
  gboolean quit_expected; /* a SHUTDOWN event or our own stop: exit is clean */
  gboolean restoring;     /* launched with -incoming: cont once the snapshot is loaded */
  gboolean saving;        /* a snapshot save stopped the CPUs: no pause to report */
  gboolean exited;

  /* What ends it, once known: a failure QEMU reported (run state internal-error, io-error,
   * guest-panicked) or the reason of its SHUTDOWN event. NONE: read it off the exit. */
  MvmStateReason end_reason;
  char *end_message;
  char *io_error_drive; /* the drive id of the last BLOCK_IO_ERROR ("disk0") */
  char *io_error_text;  /* and what the host said */
  GStrv disks;          /* "[Disk LABEL] PATH" by drive index, for messages */
  /* for the state file: why this QEMU runs, and what it runs on */
  MvmStateReason start_reason;
  char *start_message;
  char *accelerator;
  guint32 vsock_cid;
  guint32 uid;      /* QEMU's own uid (GuestUIDs=); 0: it runs as root */
  guint64 memory;   /* the guest's Memory=, for its cgroup's limit */
  char *cgroup_dir; /* the cgroup v2 folder made for it, removed once it is gone */
  char *uuid;       /* the guest's, and its taps' interface indexes (int): for machined */
  GArray *ifindex;
  GPtrArray *tap_filters; /* names of the taps whose nftables rules go with this QEMU */
};

/* Keeps RUNTIME/NAME/qemu.out under LogMaxBytes= while the process lives. */
void mvd_qemu_cap_output (MvdQemu *self);

/* RUNTIME/NAME/FILE */
char *mvd_qemu_path (MvdQemu *self, const char *file);
/* A unix stream socket bound and listening at @path, or connected to it. */
int mvd_qemu_unix_socket (const char *path, gboolean listen_on, GError **error);
/* Connects QMP, the console and the ready port to QEMU's listening sockets. */
gboolean mvd_qemu_connect_channels (MvdQemu *self, GError **error);
void mvd_qemu_save_state (MvdQemu *self);
/* ": LAST LINES" of what QEMU wrote on stdout and stderr, or "". */
char *mvd_qemu_output_tail (MvdQemu *self);
/* Records why the process ends (@message taken), for the "exited" signal. */
void mvd_qemu_set_end_reason (MvdQemu *self, MvmStateReason reason, char *message);
void mvd_qemu_fail_launch (MvdQemu *self, GError *error);
/* The guest is ready (its READY=1, or a restore): Ready, boot time, the "ready" signal */
void mvd_qemu_mark_ready (MvdQemu *self);

void mvd_qemu_send_signal (MvdQemu *self, int signum);
void mvd_qemu_on_child_exited (GObject *source, GAsyncResult *result, gpointer user_data);
gboolean mvd_qemu_on_pidfd_exited (int fd, GIOCondition condition, gpointer user_data);

G_END_DECLS
