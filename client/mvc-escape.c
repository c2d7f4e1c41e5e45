/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Guest output on the administrator's terminal: no escape sequence gets through. */
#include "mvc-escape.h"

static void
append_hex (GString *out, guchar byte)
{
  g_string_append_printf (out, "\\x%02x", byte);
}

/* The bytes of one character at @p, or 0 when it must be escaped byte by byte. */
static gsize
printable_length (const char *p, gsize left)
{
  guchar byte = (guchar)*p;
  gunichar c;

  if (byte == '\n' || byte == '\t' || (byte >= 0x20 && byte < 0x7f))
    return 1;
  if (byte < 0x80)
    return 0;
  c = g_utf8_get_char_validated (p, left);
  if (c == (gunichar)-1 || c == (gunichar)-2 || (c >= 0x80 && c < 0xa0))
    return 0;
  return g_utf8_next_char (p) - p;
}

void
mvc_escape_control (GString *out, const char *data, gsize length)
{
  for (gsize i = 0; i < length;)
    {
      gsize n;

      if (data[i] == '\r' && i + 1 < length && data[i + 1] == '\n')
        {
          i++; /* the serial line's CR LF is a newline here */
          continue;
        }
      n = printable_length (data + i, length - i);
      if (n == 0)
        append_hex (out, (guchar)data[i++]);
      else
        {
          g_string_append_len (out, data + i, n);
          i += n;
        }
    }
}
