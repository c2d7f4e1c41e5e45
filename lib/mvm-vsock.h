/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "mvm-guest-config.h"

G_BEGIN_DECLS

typedef gboolean (*MvmCidInUseFunc) (guint32 cid, gpointer user_data);

/* The CID @config's [Vsock] gets: its CID=, or for CID=auto the one derived from its UUID,
 * moved on to the next free one while @in_use says it is taken. An explicit CID that is
 * taken is an error naming the guest and the key. */
gboolean mvm_vsock_pick_cid (const MvmGuestConfig *config, MvmCidInUseFunc in_use,
                             gpointer user_data, guint32 *cid, GError **error);

/* The derived CID of CID=auto, in [3, 2^31): stable for a name. */
guint32 mvm_vsock_derived_cid (const MvmGuestConfig *config);

G_END_DECLS
