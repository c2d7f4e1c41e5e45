/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "mvd-jobs.h"

#include "mvd-authority.h"

/* an ended job stays on the bus this long, for its caller to read how it ended */
#define JOB_LINGER_SECONDS 60

struct _MvdJobs
{
  const MvdContext *context;
  GDBusObjectManagerServer *objects;
  guint next;
};

MvdJobs *
mvd_jobs_new (const MvdContext *context, GDBusObjectManagerServer *objects)
{
  MvdJobs *self = g_new0 (MvdJobs, 1);

  self->context = context;
  self->objects = g_object_ref (objects);
  return self;
}

void
mvd_jobs_free (MvdJobs *self)
{
  if (self == NULL)
    return;
  g_object_unref (self->objects);
  g_free (self);
}

MvdJob *
mvd_jobs_start (MvdJobs *self, const char *kind, const char *target)
{
  MvdJob *job = mvd_job_new (kind, target, ++self->next);
  g_autoptr (MvmDbusObjectSkeleton) object = mvm_dbus_object_skeleton_new (mvd_job_get_path (job));

  mvm_dbus_object_skeleton_set_job (object, MVM_DBUS_JOB (job));
  mvd_authority_guard (G_DBUS_INTERFACE_SKELETON (job), self->context);
  g_dbus_object_manager_server_export (self->objects, G_DBUS_OBJECT_SKELETON (object));
  return job;
}

typedef struct
{
  GDBusObjectManagerServer *objects;
  MvdJob *job;
} Linger;

static gboolean
unexport (gpointer data)
{
  Linger *linger = data;

  g_dbus_object_manager_server_unexport (linger->objects, mvd_job_get_path (linger->job));
  g_object_unref (linger->job);
  g_object_unref (linger->objects);
  g_free (linger);
  return G_SOURCE_REMOVE;
}

void
mvd_jobs_end (MvdJobs *self, MvdJob *job, const GError *error)
{
  Linger *linger = g_new0 (Linger, 1);

  mvd_job_end (job, error);
  linger->objects = g_object_ref (self->objects);
  linger->job = g_object_ref (job);
  g_timeout_add_seconds (JOB_LINGER_SECONDS, unexport, linger);
}
