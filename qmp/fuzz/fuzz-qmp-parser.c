/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer target over what a hostile QEMU controls: the byte stream framing, the JSON
 * parser behind it and the decoding of greetings, events and replies. */
#include <stddef.h>
#include <stdint.h>

#include "qmp-commands.h"
#include "qmp-event.h"
#include "qmp-message.h"
#include "qmp-parser.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static void
decode (JsonObject *message)
{
  QmpMessageKind kind;
  g_autoptr (GError) error = NULL;

  if (!qmp_message_classify (message, &kind, &error))
    return;
  switch (kind)
    {
      case QMP_MESSAGE_GREETING:
        qmp_greeting_free (qmp_greeting_new_from_message (message, &error));
        break;
      case QMP_MESSAGE_EVENT:
        qmp_event_free (qmp_event_new_from_message (message, &error));
        break;
      case QMP_MESSAGE_REPLY:
        (void)qmp_message_get_id (message);
        g_clear_pointer (&error, g_error_free);
        {
          JsonNode *ret = qmp_message_take_return (message, "fuzz", &error);

          if (ret != NULL)
            {
              (void)qmp_commands_decode_all (ret); /* query-status, -balloon, -blockstats... */
              json_node_unref (ret);
            }
        }
        break;
      default:
        break;
    }
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autoptr (QmpParser) parser = qmp_parser_new ();
  /* The first byte picks how the stream is chopped, as reads from a socket would. */
  size_t chunk = size > 0 ? (data[0] % 16) + 1 : 1;
  size_t offset = size > 0 ? 1 : 0;

  while (offset < size)
    {
      size_t n = MIN (chunk, size - offset);
      JsonObject *message;
      g_autoptr (GError) error = NULL;

      qmp_parser_feed (parser, data + offset, n);
      offset += n;
      while ((message = qmp_parser_pop (parser, &error)) != NULL)
        {
          decode (message);
          json_object_unref (message);
        }
      if (error != NULL)
        break;
    }
  return 0;
}
