/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

/* The console broker of one guest: reads QEMU's serial stream whether or not anyone
 * watches, writes it to a size-capped, rotated log, copies it to every console client,
 * and forwards what clients type to the guest. It outlives the QEMU processes it serves. */
#define MVD_TYPE_SERIAL (mvd_serial_get_type ())
G_DECLARE_FINAL_TYPE (MvdSerial, mvd_serial, MVD, SERIAL, GObject)

MvdSerial *mvd_serial_new (const char *name, const char *log_path, guint64 max_bytes,
                           guint keep_files);
/* Takes @fd, a socket connected to QEMU's serial chardev. */
void mvd_serial_attach (MvdSerial *self, int fd);
/* Reads what QEMU still has buffered, then drops the QEMU side; clients stay. */
void mvd_serial_detach (MvdSerial *self);
#define MVD_SERIAL_MAX_CLIENTS 16

typedef enum
{
  MVD_CONSOLE_WRITE,     /* types too; refused (Busy) while another client types */
  MVD_CONSOLE_FORCE,     /* types, and the client that typed until now only watches */
  MVD_CONSOLE_READ_ONLY, /* output only */
} MvdConsoleMode;

/* A new client: returns the peer's end of a socketpair, or -1 with @error set. At most
 * MVD_SERIAL_MAX_CLIENTS at once (LimitExceeded), one of them typing. */
int mvd_serial_open_console (MvdSerial *self, MvdConsoleMode mode, GError **error);
/* Hangs up every client: they see EOF (the QEMU process ended). */
void mvd_serial_close_consoles (MvdSerial *self);

G_END_DECLS
