/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* A guest's life-cycle state, as the Guest's State property names it. Daemon and client
 * share these, so neither compares state strings by hand. */
typedef enum
{
  MVM_GUEST_STATE_STOPPED,
  MVM_GUEST_STATE_STARTING,
  MVM_GUEST_STATE_RUNNING,
  MVM_GUEST_STATE_PAUSED,
  MVM_GUEST_STATE_STOPPING,
  MVM_GUEST_STATE_CRASHED,
} MvmGuestState;

/* Why a guest is in its state (StateReason): one machine word each. */
typedef enum
{
  MVM_STATE_REASON_NONE,               /* nothing happened yet */
  MVM_STATE_REASON_REQUESTED,          /* a caller asked: start, stop, pause, resume */
  MVM_STATE_REASON_AUTOSTART,          /* Autostart=yes, at daemon start */
  MVM_STATE_REASON_RESTARTED,          /* Restart=, after a failure or a stop */
  MVM_STATE_REASON_ADOPTED,            /* taken over from a previous daemon */
  MVM_STATE_REASON_KVM_FALLBACK,       /* started again under TCG: KVM could not run it */
  MVM_STATE_REASON_POWERED_OFF,        /* the guest powered itself off */
  MVM_STATE_REASON_KILLED,             /* QEMU was killed by a signal */
  MVM_STATE_REASON_QEMU_EXITED,        /* QEMU exited on its own */
  MVM_STATE_REASON_START_FAILED,       /* QEMU could not be started, or died starting */
  MVM_STATE_REASON_KVM_INTERNAL_ERROR, /* QEMU stopped the guest: KVM internal error */
  MVM_STATE_REASON_IO_ERROR,           /* QEMU stopped the guest: a disk I/O error */
  MVM_STATE_REASON_GUEST_PANICKED,     /* the guest kernel panicked (pvpanic) */
  MVM_STATE_REASON_LOST,               /* QEMU ended while no daemon watched it */
  MVM_STATE_REASON_NETWORK_FAILED,     /* a card's network (passt) ended under the guest */
  MVM_STATE_REASON_SHARE_FAILED,       /* a share's server (virtiofsd) ended under the guest */
} MvmStateReason;

const char *mvm_guest_state_to_string (MvmGuestState state);
gboolean mvm_guest_state_from_string (const char *name, MvmGuestState *state);
/* Stopped or crashed: no QEMU runs. */
gboolean mvm_guest_state_is_down (MvmGuestState state);

const char *mvm_state_reason_to_string (MvmStateReason reason);
gboolean mvm_state_reason_from_string (const char *name, MvmStateReason *reason);
/* A reason that is always a failure for Restart=on-failure. "killed" is one only for
 * SIGKILL and the like: a SIGTERM from the host ends QEMU cleanly, as systemd sees it. */
gboolean mvm_state_reason_is_failure (MvmStateReason reason);

G_END_DECLS
