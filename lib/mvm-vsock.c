/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "mvm-vsock.h"

#include "mvm-error.h"

#define CID_FIRST 3u
#define CID_SPAN ((1u << 31) - CID_FIRST)

guint32
mvm_vsock_derived_cid (const MvmGuestConfig *config)
{
  return CID_FIRST + g_str_hash (config->uuid) % CID_SPAN;
}

gboolean
mvm_vsock_pick_cid (const MvmGuestConfig *config, MvmCidInUseFunc in_use, gpointer user_data,
                    guint32 *cid, GError **error)
{
  guint32 candidate;

  if (config->vsock_cid)
    {
      if (!in_use (config->vsock_cid, user_data))
        return (*cid = config->vsock_cid), TRUE;
      g_set_error (error, MVM_ERROR, MVM_ERROR_INVALID_CONFIG,
                   "guest %s: [Vsock] CID: %u is used by another running guest; give another "
                   "or CID=auto",
                   config->name, config->vsock_cid);
      return FALSE;
    }
  candidate = mvm_vsock_derived_cid (config);
  for (guint tries = 0; tries < 4096; tries++)
    {
      if (!in_use (candidate, user_data))
        return (*cid = candidate), TRUE;
      candidate = CID_FIRST + (candidate - CID_FIRST + 1) % CID_SPAN;
    }
  g_set_error (error, MVM_ERROR, MVM_ERROR_FAILED, "guest %s: [Vsock] no free CID", config->name);
  return FALSE;
}
