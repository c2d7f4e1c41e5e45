/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "qmp-error.h"

#include <string.h>

/* An extended error domain, so the class and desc survive g_prefix_error() and copies. */
typedef struct
{
  char *klass;
  char *desc;
} QmpErrorPrivate;

static void
qmp_error_private_init (QmpErrorPrivate *priv)
{
}

static void
qmp_error_private_copy (const QmpErrorPrivate *src, QmpErrorPrivate *dest)
{
  if (src == NULL || dest == NULL)
    return;
  dest->klass = g_strdup (src->klass);
  dest->desc = g_strdup (src->desc);
}

static void
qmp_error_private_clear (QmpErrorPrivate *priv)
{
  if (priv == NULL)
    return;
  g_clear_pointer (&priv->klass, g_free);
  g_clear_pointer (&priv->desc, g_free);
}

G_DEFINE_EXTENDED_ERROR (QmpError, qmp_error)

static const struct
{
  const char *klass;
  QmpError code;
} class_codes[] = {
  { "CommandNotFound", QMP_ERROR_COMMAND_NOT_FOUND },
  { "DeviceNotActive", QMP_ERROR_DEVICE_NOT_ACTIVE },
  { "DeviceNotFound", QMP_ERROR_DEVICE_NOT_FOUND },
  { "GenericError", QMP_ERROR_GENERIC },
  { "KVMMissingCap", QMP_ERROR_KVM_MISSING_CAP },
};

static QmpError
code_for_class (const char *klass)
{
  for (gsize i = 0; i < G_N_ELEMENTS (class_codes); i++)
    {
      if (strcmp (class_codes[i].klass, klass) == 0)
        return class_codes[i].code;
    }
  return QMP_ERROR_GENERIC;
}

GError *
qmp_error_new_from_reply (const char *command, const char *klass, const char *desc)
{
  GError *error
    = g_error_new (QMP_ERROR, code_for_class (klass), "QMP command '%s' failed: %s", command, desc);
  QmpErrorPrivate *priv = qmp_error_get_private (error);

  if (priv == NULL)
    return error;
  priv->klass = g_strdup (klass);
  priv->desc = g_strdup (desc);
  return error;
}

const char *
qmp_error_get_class (const GError *error)
{
  const QmpErrorPrivate *priv;

  if (error == NULL || error->domain != QMP_ERROR)
    return NULL;
  priv = qmp_error_get_private (error);
  return priv != NULL ? priv->klass : NULL;
}

const char *
qmp_error_get_desc (const GError *error)
{
  const QmpErrorPrivate *priv;

  if (error == NULL || error->domain != QMP_ERROR)
    return NULL;
  priv = qmp_error_get_private (error);
  return priv != NULL ? priv->desc : NULL;
}
