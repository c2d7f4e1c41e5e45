/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "mvm-dbus.h"

G_BEGIN_DECLS

/* The one live line `start --wait-ready` draws on a terminal while a guest boots: the time
 * since the start, and the last line the guest wrote on its console (read through a
 * read-only console; without the right to one, the time alone). Runs on the thread-default
 * main loop; mvc_progress_end clears the line. */
typedef struct _MvcProgress MvcProgress;

/* NULL when stderr is not a terminal: nothing is drawn then. */
MvcProgress *mvc_progress_begin (MvmDbusGuest *guest);
void mvc_progress_end (MvcProgress *self);

G_END_DECLS
