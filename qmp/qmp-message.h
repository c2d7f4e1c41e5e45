/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Private to libqmp: what a parsed QMP message is, and type-checked JSON getters
 * that, unlike json-glib's, never warn on a hostile peer's wrong types. */

#include <glib.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

typedef enum
{
  QMP_MESSAGE_GREETING,
  QMP_MESSAGE_EVENT,
  QMP_MESSAGE_REPLY,
} QmpMessageKind;

typedef struct
{
  guint major;
  guint minor;
  guint micro;
  char *package;
  GStrv capabilities;
} QmpGreeting;

/* Says which kind @message is; a message of none of the three is a protocol error. */
gboolean qmp_message_classify (JsonObject *message, QmpMessageKind *kind, GError **error);

/* Decodes a greeting {"QMP": {"version": ..., "capabilities": [...]}}. */
QmpGreeting *qmp_greeting_new_from_message (JsonObject *message, GError **error);
void qmp_greeting_free (QmpGreeting *greeting);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (QmpGreeting, qmp_greeting_free)

/* The string id of a reply, or NULL. */
const char *qmp_message_get_id (JsonObject *message);

/* The "return" member of a classified reply, or the QMP error it carries. */
JsonNode *qmp_message_take_return (JsonObject *message, const char *command, GError **error);

const char *qmp_json_get_string (JsonObject *object, const char *member);
gboolean qmp_json_get_int (JsonObject *object, const char *member, gint64 *value);
gboolean qmp_json_get_bool (JsonObject *object, const char *member, gboolean *value);
JsonObject *qmp_json_get_object (JsonObject *object, const char *member);
JsonArray *qmp_json_get_array (JsonObject *object, const char *member);

G_END_DECLS
