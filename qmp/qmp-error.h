/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* QEMU's error classes come first, then failures found on this side of the socket. */
typedef enum
{
  QMP_ERROR_GENERIC,           /* QEMU: GenericError, or a class this code does not know */
  QMP_ERROR_COMMAND_NOT_FOUND, /* QEMU: CommandNotFound */
  QMP_ERROR_DEVICE_NOT_ACTIVE, /* QEMU: DeviceNotActive */
  QMP_ERROR_DEVICE_NOT_FOUND,  /* QEMU: DeviceNotFound */
  QMP_ERROR_KVM_MISSING_CAP,   /* QEMU: KVMMissingCap */
  QMP_ERROR_DISCONNECTED,      /* the connection ended before the reply */
  QMP_ERROR_PROTOCOL,          /* the peer broke the protocol; the connection is closed */
  QMP_ERROR_TIMEOUT,           /* no reply in time; the connection stays usable */
  QMP_ERROR_INVALID_REPLY,     /* a reply that does not have the shape the command promises */
} QmpError;

#define QMP_ERROR (qmp_error_quark ())
GQuark qmp_error_quark (void);

/* Builds the GError for a QMP error reply {"class": ..., "desc": ...}, prefixed by the command. */
GError *qmp_error_new_from_reply (const char *command, const char *klass, const char *desc);

/* The QMP error class ("GenericError", ...) kept from the reply, or NULL for local errors. */
const char *qmp_error_get_class (const GError *error);

/* The QMP error desc exactly as QEMU sent it, or NULL for local errors. */
const char *qmp_error_get_desc (const GError *error);

G_END_DECLS
