/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "qmp-event.h"

#include <stdlib.h>
#include <string.h>

#include "qmp-error.h"
#include "qmp-message.h"

G_DEFINE_BOXED_TYPE (QmpEvent, qmp_event, qmp_event_copy, qmp_event_free)

static void
parse_shutdown (QmpEvent *event)
{
  qmp_json_get_bool (event->data, "guest", &event->u.shutdown.guest);
  event->u.shutdown.reason = qmp_json_get_string (event->data, "reason");
}

static void
parse_reset (QmpEvent *event)
{
  qmp_json_get_bool (event->data, "guest", &event->u.reset.guest);
  event->u.reset.reason = qmp_json_get_string (event->data, "reason");
}

static void
parse_guest_panicked (QmpEvent *event)
{
  event->u.guest_panicked.action = qmp_json_get_string (event->data, "action");
}

static void
parse_device_deleted (QmpEvent *event)
{
  event->u.device_deleted.device = qmp_json_get_string (event->data, "device");
  event->u.device_deleted.path = qmp_json_get_string (event->data, "path");
}

static void
parse_balloon_change (QmpEvent *event)
{
  qmp_json_get_int (event->data, "actual", &event->u.balloon_change.actual);
}

static void
parse_block_io_error (QmpEvent *event)
{
  event->u.block_io_error.device = qmp_json_get_string (event->data, "device");
  event->u.block_io_error.node_name = qmp_json_get_string (event->data, "node-name");
  event->u.block_io_error.operation = qmp_json_get_string (event->data, "operation");
  event->u.block_io_error.action = qmp_json_get_string (event->data, "action");
  qmp_json_get_bool (event->data, "nospace", &event->u.block_io_error.nospace);
  event->u.block_io_error.reason = qmp_json_get_string (event->data, "reason");
}

typedef struct
{
  const char *name;
  QmpEventType type;
  void (*parse) (QmpEvent *event);
} QmpEventHandler;

/* Sorted by name for bsearch(), as in libvirt's qemu_monitor_json.c. */
static const QmpEventHandler event_handlers[] = {
  { "BALLOON_CHANGE", QMP_EVENT_BALLOON_CHANGE, parse_balloon_change },
  { "BLOCK_IO_ERROR", QMP_EVENT_BLOCK_IO_ERROR, parse_block_io_error },
  { "DEVICE_DELETED", QMP_EVENT_DEVICE_DELETED, parse_device_deleted },
  { "GUEST_PANICKED", QMP_EVENT_GUEST_PANICKED, parse_guest_panicked },
  { "POWERDOWN", QMP_EVENT_POWERDOWN, NULL },
  { "RESET", QMP_EVENT_RESET, parse_reset },
  { "RESUME", QMP_EVENT_RESUME, NULL },
  { "SHUTDOWN", QMP_EVENT_SHUTDOWN, parse_shutdown },
  { "STOP", QMP_EVENT_STOP, NULL },
};

static int
compare_handler (const void *key, const void *elem)
{
  return strcmp (key, ((const QmpEventHandler *)elem)->name);
}

static const QmpEventHandler *
find_handler (const char *name)
{
  return bsearch (name, event_handlers, G_N_ELEMENTS (event_handlers), sizeof (QmpEventHandler),
                  compare_handler);
}

static QmpEvent *
event_new (const char *name, JsonObject *data, gint64 seconds, gint64 microseconds)
{
  QmpEvent *event = g_new0 (QmpEvent, 1);
  const QmpEventHandler *handler = find_handler (name);

  event->name = g_strdup (name);
  event->data = data != NULL ? json_object_ref (data) : json_object_new ();
  event->seconds = seconds;
  event->microseconds = microseconds;
  if (handler != NULL)
    {
      event->type = handler->type;
      if (handler->parse != NULL)
        handler->parse (event);
    }
  return event;
}

QmpEvent *
qmp_event_new_from_message (JsonObject *message, GError **error)
{
  const char *name = qmp_json_get_string (message, "event");
  JsonObject *data = qmp_json_get_object (message, "data");
  JsonObject *timestamp = qmp_json_get_object (message, "timestamp");
  gint64 seconds = 0;
  gint64 microseconds = 0;

  if (name == NULL || *name == '\0')
    {
      g_set_error (error, QMP_ERROR, QMP_ERROR_PROTOCOL, "QMP event has no name");
      return NULL;
    }
  if (data == NULL && json_object_has_member (message, "data"))
    {
      g_set_error (error, QMP_ERROR, QMP_ERROR_PROTOCOL, "QMP event %s has non-object data", name);
      return NULL;
    }
  if (timestamp != NULL)
    {
      qmp_json_get_int (timestamp, "seconds", &seconds);
      qmp_json_get_int (timestamp, "microseconds", &microseconds);
    }
  return event_new (name, data, seconds, microseconds);
}

QmpEvent *
qmp_event_copy (const QmpEvent *event)
{
  /* The data is shared: nothing in libqmp changes an event's data once it is decoded. */
  return event_new (event->name, event->data, event->seconds, event->microseconds);
}

void
qmp_event_free (QmpEvent *event)
{
  if (event == NULL)
    return;
  g_free (event->name);
  json_object_unref (event->data);
  g_free (event);
}
