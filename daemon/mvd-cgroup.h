/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* Each guest's QEMU in a cgroup of its own, so that its memory and tasks are counted and
 * capped apart from the daemon and the other guests. When systemd runs the system bus
 * (@system_bus, NULL with --session): through systemd-machined where it runs, a scope
 * machine-NAME.scope in machine.slice and a machine `machinectl` lists; else a transient
 * unit microvm-NAME.scope in machine.slice; without systemd, a child of the daemon's own
 * cgroup v2, microvm-NAME@DAEMONPID. Where none can be had, the QEMU stays in the daemon's
 * cgroup and one warning says why. */
typedef struct
{
  const char *name;   /* the guest's */
  const char *uuid;   /* the guest's, for machined */
  GPid pid;           /* its QEMU, just spawned, CPUs stopped */
  guint64 memory_max; /* bytes: the guest's memory and QEMU's own */
  guint64 tasks_max;
  const int *ifindex; /* its taps, for machined */
  guint n_ifindex;
} MvdCgroupRequest;

/* @dir: the cgroup v2 folder made (to remove with mvd_cgroup_remove once QEMU is gone), or
 * NULL (a scope, which systemd removes, or none); the callee owns it. */
typedef void (*MvdCgroupPlaced) (char *dir, gpointer user_data);

/* Places the QEMU, asking systemd without waiting for it; @done runs when it is placed (at
 * once without systemd). */
void mvd_cgroup_place_async (GDBusConnection *system_bus, const MvdCgroupRequest *request,
                             MvdCgroupPlaced done, gpointer user_data);

/* The cgroup v2 folder of @pid when it is one this daemon makes (microvm-*), else NULL: an
 * adopted QEMU's, to remove once it is gone. */
char *mvd_cgroup_of_process (GPid pid);

/* Removes an empty cgroup folder made by mvd_cgroup_place_async. */
void mvd_cgroup_remove (const char *path);

/* Removes the empty microvm-NAME@PID folders that a daemon PID, now gone, left below ours
 * (its guests ended while no daemon ran). */
void mvd_cgroup_sweep (void);

G_END_DECLS
