/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "mvc-tail.h"

gboolean
mvc_tail_start (const MvcSpan *spans, guint n_spans, guint64 n_lines, guint *span_index,
                gsize *offset)
{
  /* the newline ending the text ends the last line, it does not start another one */
  gboolean skip_final = TRUE;
  guint64 newlines = 0;

  *span_index = 0;
  *offset = 0;
  if (n_lines == 0)
    {
      /* an empty tail starts at the very end */
      *span_index = n_spans > 0 ? n_spans - 1 : 0;
      *offset = n_spans > 0 ? spans[n_spans - 1].length : 0;
      return TRUE;
    }
  for (guint s = n_spans; s-- > 0;)
    for (gsize i = spans[s].length; i-- > 0;)
      {
        if (spans[s].data[i] == '\n' && !skip_final && ++newlines == n_lines)
          {
            *span_index = s;
            *offset = i + 1;
            return TRUE;
          }
        skip_final = FALSE;
      }
  return FALSE;
}
