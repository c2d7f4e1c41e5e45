/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

#include "mvm-guest-state.h"

G_BEGIN_DECLS

/* RUNTIME/NAME/state: what a restarted daemon needs to adopt a running QEMU.
 * The pid alone proves nothing (pids are reused); pid, start time and binary together
 * identify one process. */
typedef struct
{
  int pid;
  guint64 start_time;     /* /proc/PID/stat field 22, clock ticks since boot */
  char *binary;           /* /proc/PID/exe when spawned */
  gint64 start_timestamp; /* wall clock, usec */
  gboolean ready;
  guint64 boot_usec;
  gboolean running; /* FALSE while still starting: the CPUs may not run yet */
  GStrv argv;
  MvmStateReason reason; /* why it runs: requested, autostart, restarted, kvm-fallback */
  char *message;         /* the StateMessage that went with it */
  char *accelerator;     /* "kvm" or "tcg", as launched */
  guint32 vsock_cid;     /* 0 without [Vsock] */
} MvdStateFile;

void mvd_state_file_free (MvdStateFile *state);
gboolean mvd_state_file_save (const MvdStateFile *state, const char *path, GError **error);
MvdStateFile *mvd_state_file_load (const char *path, GError **error);

/* Fills pid, start time and binary from /proc; FALSE when the process is gone. */
gboolean mvd_state_file_read_process (int pid, guint64 *start_time, char **binary);
/* TRUE when @pid is still the process @state describes. */
gboolean mvd_state_file_matches_process (const MvdStateFile *state);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MvdStateFile, mvd_state_file_free)

G_END_DECLS
