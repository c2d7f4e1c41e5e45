/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "mvd-guest.h"
#include "mvd-qemu.h"
#include "mvd-serial.h"

G_BEGIN_DECLS

/* Shared by mvd-guest.c (life cycle) and mvd-guest-dbus.c (the bus methods). */
struct _MvdGuest
{
  MvmDbusGuestSkeleton parent_instance;
  const MvdContext *context;
  MvmGuestConfig *config; /* the stored definition */
  char *file_path;        /* NULL: transient */
  MvmGuestState state;
  MvdSerial *serial;
  MvdQemu *qemu;            /* set from spawn until the process is reaped */
  GPtrArray *start_waiters; /* GTask */
  GError *launch_error;
  gboolean stop_requested; /* the exit was asked for: no restart */
  GArray *restart_times;   /* monotonic usec of recent automatic restarts */
  guint restart_source;
  guint64 running_memory; /* Memory= of the running QEMU, for SetMemory */
  guint32 vsock_cid;      /* the running QEMU's, 0 without vsock */
};

void mvd_guest_set_state (MvdGuest *self, MvmGuestState state);
void mvd_guest_dbus_iface_init (MvmDbusGuestIface *iface);

G_END_DECLS
