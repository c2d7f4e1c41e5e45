/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "mvm-guest-config.h"

G_BEGIN_DECLS

/* The guest file of a clone of @source, from its text @text: named @new_name, with the MACs
 * it derives from its own name (given MAC= lines dropped), not started with the daemon
 * (Autostart= dropped), and each disk in @new_paths (label -> path) at its new path; the rest,
 * comments too, as written. */
char *mvm_guest_clone_text (const char *text, const MvmGuestConfig *source, const char *new_name,
                            GHashTable *new_paths, GError **error);

G_END_DECLS
