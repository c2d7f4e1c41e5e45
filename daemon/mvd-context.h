/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "mvm-paths.h"
#include "mvm-daemon-config.h"
#include "mvm-host-facts.h"
#include "mvm-vsock.h"
#include "mvd-spawn.h"

G_BEGIN_DECLS

/* How long the daemon waits for QEMU and between restarts, in milliseconds; tests shorten
 * them. */
typedef struct
{
  guint launch_timeout_ms;      /* spawn to running, else the start fails */
  guint term_to_kill_ms;        /* SIGTERM, then SIGKILL after this */
  guint power_button_repeat_ms; /* a guest that did not react is pressed again */
  guint restart_delay_ms;       /* Restart=: from the end of a QEMU to the next start */
  guint restart_burst;          /* at most this many restarts ... */
  guint restart_interval_ms;    /* ... within this time, then the guest stays down */
} MvdTimings;

#define MVD_TIMINGS_DEFAULT                                                                        \
  ((MvdTimings){ .launch_timeout_ms = 60000,                                                       \
                 .term_to_kill_ms = 5000,                                                          \
                 .power_button_repeat_ms = 2000,                                                   \
                 .restart_delay_ms = 200,                                                          \
                 .restart_burst = 5,                                                               \
                 .restart_interval_ms = 10000 })

/* The daemon's jobs on the bus (mvd-jobs.h) */
typedef struct _MvdJobs MvdJobs;

/* What every guest needs from the daemon, owned by the manager, which outlives its guests. */
typedef struct
{
  MvmDaemonConfig *config;
  MvmHostFacts *facts;
  MvmPaths *paths;
  gboolean stopping;          /* the daemon is on its way out: no automatic restarts */
  MvmCidInUseFunc cid_in_use; /* is this vsock CID taken by a running guest? */
  gpointer cid_in_use_data;
  /* does a running guest's QEMU run under this uid (GuestUIDs=)? */
  gboolean (*uid_in_use) (guint32 uid, gpointer data);
  gpointer uid_in_use_data;
  /* KVM could not run a guest (@why): new starts use TCG from now on (Accelerator=auto) */
  void (*kvm_failed) (const char *why, gpointer data);
  gpointer kvm_failed_data;
  /* drop @guest (an MvdGuest, stopped) and its stored file; FALSE when the file stays */
  gboolean (*undefine) (gpointer guest, gpointer data, GError **error);
  gpointer undefine_data;
  /* Guest.Clone of @guest (an MvdGuest): defines @new_name and completes @invocation */
  void (*clone) (gpointer guest, const char *new_name, gboolean full,
                 GDBusMethodInvocation *invocation, gpointer data);
  gpointer clone_data;
  GDBusConnection *system_bus; /* for systemd's scopes; NULL with --session or in tests */
  MvdJobs *jobs;               /* image imports, snapshot saves */
  MvdSpawnFunc spawn;          /* starts QEMU: mvd_spawn_qemu, or a test's stand-in */
  gpointer spawn_data;
  MvdTimings timings;
} MvdContext;

G_END_DECLS
