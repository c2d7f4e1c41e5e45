/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "qmp-message.h"

#include "qmp-error.h"

static gboolean
holds_value_of (JsonNode *node, GType type)
{
  return node != NULL && JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == type;
}

const char *
qmp_json_get_string (JsonObject *object, const char *member)
{
  JsonNode *node = json_object_get_member (object, member);

  return holds_value_of (node, G_TYPE_STRING) ? json_node_get_string (node) : NULL;
}

gboolean
qmp_json_get_int (JsonObject *object, const char *member, gint64 *value)
{
  JsonNode *node = json_object_get_member (object, member);

  if (!holds_value_of (node, G_TYPE_INT64))
    return FALSE;
  *value = json_node_get_int (node);
  return TRUE;
}

gboolean
qmp_json_get_bool (JsonObject *object, const char *member, gboolean *value)
{
  JsonNode *node = json_object_get_member (object, member);

  if (!holds_value_of (node, G_TYPE_BOOLEAN))
    return FALSE;
  *value = json_node_get_boolean (node);
  return TRUE;
}

JsonObject *
qmp_json_get_object (JsonObject *object, const char *member)
{
  JsonNode *node = json_object_get_member (object, member);

  return node != NULL && JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
}

JsonArray *
qmp_json_get_array (JsonObject *object, const char *member)
{
  JsonNode *node = json_object_get_member (object, member);

  return node != NULL && JSON_NODE_HOLDS_ARRAY (node) ? json_node_get_array (node) : NULL;
}

static gboolean
protocol_error (GError **error, const char *what)
{
  g_set_error (error, QMP_ERROR, QMP_ERROR_PROTOCOL, "%s", what);
  return FALSE;
}

static gboolean
check_reply (JsonObject *message, GError **error)
{
  JsonObject *err;

  if (json_object_has_member (message, "return"))
    return TRUE;
  err = qmp_json_get_object (message, "error");
  if (err == NULL)
    return protocol_error (error, "QMP reply has neither 'return' nor an 'error' object");
  if (qmp_json_get_string (err, "class") == NULL || qmp_json_get_string (err, "desc") == NULL)
    return protocol_error (error, "QMP error reply lacks a string 'class' or 'desc'");
  return TRUE;
}

gboolean
qmp_message_classify (JsonObject *message, QmpMessageKind *kind, GError **error)
{
  if (json_object_has_member (message, "QMP"))
    {
      *kind = QMP_MESSAGE_GREETING;
      return TRUE;
    }
  if (json_object_has_member (message, "event"))
    {
      *kind = QMP_MESSAGE_EVENT;
      return TRUE;
    }
  if (json_object_has_member (message, "return") || json_object_has_member (message, "error"))
    {
      *kind = QMP_MESSAGE_REPLY;
      return check_reply (message, error);
    }
  return protocol_error (error, "QMP message is neither a greeting, an event nor a reply");
}

void
qmp_greeting_free (QmpGreeting *greeting)
{
  if (greeting == NULL)
    return;
  g_free (greeting->package);
  g_strfreev (greeting->capabilities);
  g_free (greeting);
}

static GStrv
parse_capabilities (JsonArray *array)
{
  g_autoptr (GStrvBuilder) builder = g_strv_builder_new ();
  guint len = array != NULL ? json_array_get_length (array) : 0;

  for (guint i = 0; i < len; i++)
    {
      JsonNode *node = json_array_get_element (array, i);

      if (holds_value_of (node, G_TYPE_STRING))
        g_strv_builder_add (builder, json_node_get_string (node));
    }
  return g_strv_builder_end (builder);
}

static gboolean
parse_version_number (JsonObject *qemu, const char *member, guint *out)
{
  gint64 value = 0;

  if (!qmp_json_get_int (qemu, member, &value) || value < 0 || value > G_MAXUINT16)
    return FALSE;
  *out = (guint)value;
  return TRUE;
}

QmpGreeting *
qmp_greeting_new_from_message (JsonObject *message, GError **error)
{
  g_autoptr (QmpGreeting) greeting = g_new0 (QmpGreeting, 1);
  JsonObject *qmp = qmp_json_get_object (message, "QMP");
  JsonObject *version = qmp != NULL ? qmp_json_get_object (qmp, "version") : NULL;
  JsonObject *qemu = version != NULL ? qmp_json_get_object (version, "qemu") : NULL;

  if (qemu == NULL || !parse_version_number (qemu, "major", &greeting->major)
      || !parse_version_number (qemu, "minor", &greeting->minor)
      || !parse_version_number (qemu, "micro", &greeting->micro))
    {
      protocol_error (error, "QMP greeting lacks QMP.version.qemu.{major,minor,micro}");
      return NULL;
    }
  greeting->package = g_strdup (qmp_json_get_string (version, "package"));
  greeting->capabilities = parse_capabilities (qmp_json_get_array (qmp, "capabilities"));
  return g_steal_pointer (&greeting);
}

const char *
qmp_message_get_id (JsonObject *message)
{
  return qmp_json_get_string (message, "id");
}

JsonNode *
qmp_message_take_return (JsonObject *message, const char *command, GError **error)
{
  JsonNode *ret = json_object_get_member (message, "return");
  const char *klass, *desc;
  JsonObject *err;

  if (ret != NULL)
    return json_node_copy (ret);
  err = qmp_json_get_object (message, "error");
  if (err == NULL)
    {
      protocol_error (error, "QMP reply has neither 'return' nor an 'error' object");
      return NULL;
    }
  klass = qmp_json_get_string (err, "class");
  desc = qmp_json_get_string (err, "desc");
  g_propagate_error (error, qmp_error_new_from_reply (command, klass ? klass : "GenericError",
                                                      desc ? desc : "(no description)"));
  return NULL;
}
