/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Pure helpers of 'microvmctl log': where the last lines of a rotated log start. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* A piece of a log in memory; a log and its rotated files are pieces, oldest first. */
typedef struct
{
  const char *data;
  gsize length;
} MvcSpan;

/* Where the last @n_lines lines of the concatenation of @spans start, like tail -n: piece
 * *span_index, byte *offset. An unterminated last line counts as a line. Returns FALSE when
 * the whole text has fewer lines, so an older piece may hold the rest (the start is 0, 0). */
gboolean mvc_tail_start (const MvcSpan *spans, guint n_spans, guint64 n_lines, guint *span_index,
                         gsize *offset);

G_END_DECLS
