/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib-object.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* The events the daemon acts on; anything else arrives as QMP_EVENT_OTHER. */
typedef enum
{
  QMP_EVENT_OTHER,
  QMP_EVENT_BALLOON_CHANGE,
  QMP_EVENT_BLOCK_IO_ERROR,
  QMP_EVENT_DEVICE_DELETED,
  QMP_EVENT_GUEST_PANICKED,
  QMP_EVENT_POWERDOWN,
  QMP_EVENT_RESET,
  QMP_EVENT_RESUME,
  QMP_EVENT_SHUTDOWN,
  QMP_EVENT_STOP,
} QmpEventType;

/* One QMP event. The typed fields in @u point into @data and live as long as the event;
 * a field QEMU left out reads as NULL, 0 or FALSE. */
typedef struct
{
  QmpEventType type;
  char *name;
  JsonObject *data; /* never NULL: empty when the event carried no data */
  gint64 seconds;   /* QEMU's timestamp, host wall clock */
  gint64 microseconds;
  union
  {
    struct
    {
      gboolean guest;     /* TRUE when the guest asked for it */
      const char *reason; /* "guest-shutdown", "host-qmp-quit", "host-signal", ... */
    } shutdown;
    struct
    {
      gboolean guest;
      const char *reason;
    } reset;
    struct
    {
      const char *action; /* "pause", "poweroff", "run" */
    } guest_panicked;
    struct
    {
      const char *device; /* may be NULL: devices without an id */
      const char *path;   /* QOM path */
    } device_deleted;
    struct
    {
      gint64 actual; /* bytes the guest now has */
    } balloon_change;
    struct
    {
      const char *device;    /* the drive's id; may be "" when only node_name is set */
      const char *node_name; /* may be NULL */
      const char *operation; /* "read" or "write" */
      const char *action;    /* "ignore", "report" or "stop" */
      gboolean nospace;      /* the host ran out of space (ENOSPC) */
      const char *reason;    /* strerror() of the host error */
    } block_io_error;
  } u;
} QmpEvent;

#define QMP_TYPE_EVENT (qmp_event_get_type ())
GType qmp_event_get_type (void);

/* Decodes {"event": ..., "data": ..., "timestamp": ...}; fails when the message is not one. */
QmpEvent *qmp_event_new_from_message (JsonObject *message, GError **error);

/* A copy that shares the (never modified) data. */
QmpEvent *qmp_event_copy (const QmpEvent *event);

/* Frees the event and its data. */
void qmp_event_free (QmpEvent *event);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (QmpEvent, qmp_event_free)

G_END_DECLS
