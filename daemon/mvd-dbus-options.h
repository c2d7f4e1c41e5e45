/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* One option a bus method knows in its a{sv}: its key, its type ("b" into a gboolean, "t"
 * into a guint64) and where its value goes. */
typedef struct
{
  const char *key;
  const char *type;
  gpointer value;
} MvdDbusOption;

/* Stores each option of @options in its @known entry (ended by a NULL key); options not given
 * keep what the caller set. An unknown key or a value of another type is refused, the error
 * naming @method, the key and the options known. */
gboolean mvd_dbus_options_parse (const char *method, GVariant *options, const MvdDbusOption *known,
                                 GError **error);

G_END_DECLS
