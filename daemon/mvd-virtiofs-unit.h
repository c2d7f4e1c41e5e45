/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gio/gio.h>

#include "mvm-guest-config.h"

G_BEGIN_DECLS

/* One virtiofsd that systemd runs for the daemon, as a transient service in machine.slice. */
typedef struct _MvdVirtiofsUnit MvdVirtiofsUnit;

typedef struct
{
  const char *guest;
  const MvmShare *share; /* ReadOnly=yes: the unit sees its folder read-only */
  guint index;
  GStrv argv;    /* virtiofsd's, listening on its standard input (--fd=0) */
  int listen_fd; /* becomes its standard input; the caller keeps its own */
  int output_fd; /* its standard output and error; the caller keeps its own */
} MvdVirtiofsUnitRequest;

/* The unit ended: @how virtiofsd failed ("was killed by signal 9"), or NULL when it quit by
 * itself (QEMU hung up) */
typedef void (*MvdVirtiofsUnitEnded) (const char *how, gpointer data);

/* Starts the unit and follows it: @ended is called once, when it ends, and @destroy (@data)
 * after; until then the daemon keeps the returned watch. NULL with @error set when systemd
 * refused, and then neither is called. */
MvdVirtiofsUnit *mvd_virtiofs_unit_start (GDBusConnection *bus,
                                          const MvdVirtiofsUnitRequest *request,
                                          MvdVirtiofsUnitEnded ended, gpointer data,
                                          GDestroyNotify destroy, GError **error);

G_END_DECLS
