/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* systemd's spellings: yes/no, true/false, on/off, 1/0. */
gboolean mvm_parse_bool (const char *s, gboolean *out);
/* A decimal number with an optional K, M, G or T (powers of 1024) suffix. */
gboolean mvm_parse_size (const char *s, guint64 *out);
/* A plain decimal number in [min, max]. */
gboolean mvm_parse_uint (const char *s, guint64 min, guint64 max, guint64 *out);
/* "256M", "1536M", "2G": the shortest exact form. */
char *mvm_format_size (guint64 bytes);

/* Names: [a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}, no "..". Labels follow the same rule. */
gboolean mvm_name_is_valid (const char *name);

G_END_DECLS
