/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "mvm-guest-state.h"

static const char *const state_names[] = {
  [MVM_GUEST_STATE_STOPPED] = "stopped",   [MVM_GUEST_STATE_STARTING] = "starting",
  [MVM_GUEST_STATE_RUNNING] = "running",   [MVM_GUEST_STATE_PAUSED] = "paused",
  [MVM_GUEST_STATE_STOPPING] = "stopping", [MVM_GUEST_STATE_CRASHED] = "crashed",
};

static const char *const reason_names[] = {
  [MVM_STATE_REASON_NONE] = "none",
  [MVM_STATE_REASON_REQUESTED] = "requested",
  [MVM_STATE_REASON_AUTOSTART] = "autostart",
  [MVM_STATE_REASON_RESTARTED] = "restarted",
  [MVM_STATE_REASON_ADOPTED] = "adopted",
  [MVM_STATE_REASON_KVM_FALLBACK] = "kvm-fallback",
  [MVM_STATE_REASON_POWERED_OFF] = "powered-off",
  [MVM_STATE_REASON_KILLED] = "killed",
  [MVM_STATE_REASON_QEMU_EXITED] = "qemu-exited",
  [MVM_STATE_REASON_START_FAILED] = "start-failed",
  [MVM_STATE_REASON_KVM_INTERNAL_ERROR] = "kvm-internal-error",
  [MVM_STATE_REASON_IO_ERROR] = "io-error",
  [MVM_STATE_REASON_GUEST_PANICKED] = "guest-panicked",
  [MVM_STATE_REASON_LOST] = "lost",
  [MVM_STATE_REASON_NETWORK_FAILED] = "network-failed",
  [MVM_STATE_REASON_SHARE_FAILED] = "share-failed",
};

static gboolean
lookup (const char *const *names, guint n, const char *name, int *value)
{
  for (guint i = 0; name && i < n; i++)
    if (g_str_equal (names[i], name))
      {
        *value = i;
        return TRUE;
      }
  return FALSE;
}

const char *
mvm_guest_state_to_string (MvmGuestState state)
{
  g_return_val_if_fail (state < G_N_ELEMENTS (state_names), "stopped");
  return state_names[state];
}

gboolean
mvm_guest_state_from_string (const char *name, MvmGuestState *state)
{
  int value;

  if (!lookup (state_names, G_N_ELEMENTS (state_names), name, &value))
    return FALSE;
  *state = value;
  return TRUE;
}

gboolean
mvm_guest_state_is_down (MvmGuestState state)
{
  return state == MVM_GUEST_STATE_STOPPED || state == MVM_GUEST_STATE_CRASHED;
}

const char *
mvm_state_reason_to_string (MvmStateReason reason)
{
  g_return_val_if_fail (reason < G_N_ELEMENTS (reason_names), "none");
  return reason_names[reason];
}

gboolean
mvm_state_reason_from_string (const char *name, MvmStateReason *reason)
{
  int value;

  if (!lookup (reason_names, G_N_ELEMENTS (reason_names), name, &value))
    return FALSE;
  *reason = value;
  return TRUE;
}

gboolean
mvm_state_reason_is_failure (MvmStateReason reason)
{
  switch (reason)
    {
      case MVM_STATE_REASON_QEMU_EXITED:
      case MVM_STATE_REASON_KVM_INTERNAL_ERROR:
      case MVM_STATE_REASON_IO_ERROR:
      case MVM_STATE_REASON_GUEST_PANICKED:
      case MVM_STATE_REASON_LOST:
      case MVM_STATE_REASON_NETWORK_FAILED:
      case MVM_STATE_REASON_SHARE_FAILED:
        return TRUE;
      default:
        return FALSE;
    }
}
