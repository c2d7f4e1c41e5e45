/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "mvm-dbus.h"

G_BEGIN_DECLS

/* A guest's console read line by line, through a read-only console socket, on the
 * thread-default main loop: `start --wait-ready`'s live line and `run`'s output. Each line
 * reaches @func without its "\n" or a "\r" before it; a line that grows past 1 MiB is passed
 * on as it is, so a guest cannot make the reader hold more. */
typedef struct _MvcConsoleLines MvcConsoleLines;

typedef void (*MvcConsoleLineFunc) (char *line, gpointer user_data);

/* NULL, with @error, when the caller may not have a console */
MvcConsoleLines *mvc_console_lines_open (MvmDbusGuest *guest, MvcConsoleLineFunc func,
                                         gpointer user_data, GError **error);
/* Passes on what the socket still holds, without waiting for more. */
void mvc_console_lines_drain (MvcConsoleLines *self);
/* Stops reading and closes the socket; NULL is fine. */
void mvc_console_lines_close (MvcConsoleLines *self);

G_END_DECLS
