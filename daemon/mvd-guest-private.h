/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "mvd-guest.h"
#include "mvd-qemu.h"
#include "mvd-serial.h"

#include "mvd-job.h"

G_BEGIN_DECLS

/* Shared by mvd-guest.c (state, start, stop), mvd-guest-exit.c (what follows a QEMU's end),
 * mvd-guest-adopt.c (taking over a running QEMU) and mvd-guest-dbus.c (the bus methods). */
struct _MvdGuest
{
  MvmDbusGuestSkeleton parent_instance;
  const MvdContext *context;
  MvmGuestConfig *config;  /* the stored definition */
  MvmGuestConfig *running; /* what the running QEMU was started from, when it differs */
  char *file_path;         /* NULL: transient */
  char *guest_file;        /* the stored definition's text (GetGuestFile) */
  MvmGuestState state;
  MvmStateReason reason;
  MvdSerial *serial;
  MvdQemu *qemu;            /* set from spawn until the process is reaped */
  GPtrArray *start_waiters; /* GTask */
  GError *launch_error;
  MvmStateReason start_reason; /* of the start under way, for the state it reaches */
  char *start_message;         /* ... and its StateMessage ("..., from snapshot S") */
  gboolean stop_requested;     /* the exit was asked for: no restart */
  gboolean kill_requested;     /* ... by Kill rather than Shutdown */
  gboolean accel_kvm;          /* the running QEMU uses KVM */
  GArray *restart_times;       /* monotonic usec of recent automatic restarts */
  guint restart_source;
  guint32 vsock_cid;        /* the running QEMU's, 0 without vsock */
  char *start_snapshot;     /* the start asked for restores this snapshot (StartFromSnapshot) */
  gboolean saving_snapshot; /* a SaveSnapshot job runs */
};

/* Moves to @state for @reason; @message (NULL: none) says it for people. Logged once. */
void mvd_guest_set_state (MvdGuest *self, MvmGuestState state, MvmStateReason reason,
                          const char *message);
/* The definition the QEMU runs, or the stored one while stopped. */
const MvmGuestConfig *mvd_guest_get_active_config (MvdGuest *self);
/* CPUs, Memory, Transport and Accelerator on the bus, from the active definition. */
void mvd_guest_publish_config (MvdGuest *self);
void mvd_guest_complete_start_waiters (MvdGuest *self, const GError *error);
/* Spawns QEMU for the stored definition; the start waiters learn how it went. */
void mvd_guest_start_now (MvdGuest *self, MvmStateReason reason);
/* Connects the guest to @qemu's signals and keeps it (taken). */
void mvd_guest_watch_qemu (MvdGuest *self, MvdQemu *qemu);
/* Lets go of the QEMU object once its process is gone, or was never adopted. */
void mvd_guest_drop_qemu (MvdGuest *self);
void mvd_guest_on_qemu_exited (MvdQemu *qemu, guint reason, const char *message, gboolean failed,
                               gpointer user_data);
void mvd_guest_emit_finished (MvdGuest *self);
void mvd_guest_dbus_iface_init (MvmDbusGuestIface *iface);
/* STATE/guests, which holds the guest's snapshots; NULL, with @error naming the guest, in a
 * daemon that has none */
const char *mvd_guest_data_dir (MvdGuest *self, GError **error);
/* The Snapshots property, from the guest's snapshot folder */
void mvd_guest_publish_snapshots (MvdGuest *self);
/* Saves the running, ready guest as snapshot @name: the job that does it, or NULL and
 * @error when it cannot. */
MvdJob *mvd_guest_save_snapshot (MvdGuest *self, const char *name, GError **error);
gboolean mvd_guest_remove_snapshot (MvdGuest *self, const char *name, GError **error);

G_END_DECLS
