/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Appends guest output @data to @out as a terminal may safely show it, as journalctl does:
 * text, newlines and tabs stay; "\r\n" becomes "\n"; every other control byte (escape
 * sequences included), C1 control and byte that is not UTF-8 becomes \xNN. */
void mvc_escape_control (GString *out, const char *data, gsize length);

G_END_DECLS
