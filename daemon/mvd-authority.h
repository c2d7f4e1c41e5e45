/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gio/gio.h>

#include "mvd-context.h"

G_BEGIN_DECLS

/* Who may do what (microvmd(8), SECURITY): polkit decides for the callers of the system
 * daemon, root may do anything, and the read-only calls are open to all. A --session daemon
 * trusts its bus, which only its own user can reach. */
typedef enum
{
  MVD_ACTION_NONE,    /* read-only: open to all */
  MVD_ACTION_MANAGE,  /* org.microvmd1.manage */
  MVD_ACTION_CONSOLE, /* org.microvmd1.console */
} MvdAction;

/* The action a method of org.microvmd1.Manager or .Guest needs. */
MvdAction mvd_authority_action_for (const char *method);

/* Blocks on polkit: TRUE when @sender may do @action; else FALSE with an AccessDenied
 * @error naming the action. @interactive lets polkit ask the user (an authentication
 * agent), as the caller asked. */
gboolean mvd_authority_check_sync (const MvdContext *context, GDBusConnection *connection,
                                   const char *sender, MvdAction action, gboolean interactive,
                                   GError **error);

/* Every method call to @skeleton is authorized first, in GDBus's worker thread, so that
 * waiting for polkit never stops the main loop (system mode; --session needs no guard). */
void mvd_authority_guard (GDBusInterfaceSkeleton *skeleton, const MvdContext *context);

G_END_DECLS
