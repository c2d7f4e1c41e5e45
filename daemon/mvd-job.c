/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "mvd-job.h"

struct _MvdJob
{
  MvmDbusJobSkeleton parent_instance;
  char *path;
  GCancellable *cancellable;
};

static void mvd_job_iface_init (MvmDbusJobIface *iface);

G_DEFINE_TYPE_WITH_CODE (MvdJob, mvd_job, MVM_DBUS_TYPE_JOB_SKELETON,
                         G_IMPLEMENT_INTERFACE (MVM_DBUS_TYPE_JOB, mvd_job_iface_init))

static gboolean
handle_cancel (MvmDbusJob *iface, GDBusMethodInvocation *invocation)
{
  MvdJob *self = MVD_JOB (iface);

  g_cancellable_cancel (self->cancellable);
  mvm_dbus_job_complete_cancel (iface, invocation);
  return TRUE;
}

static void
mvd_job_iface_init (MvmDbusJobIface *iface)
{
  iface->handle_cancel = handle_cancel;
}

static void
mvd_job_finalize (GObject *object)
{
  MvdJob *self = MVD_JOB (object);

  g_free (self->path);
  g_clear_object (&self->cancellable);
  G_OBJECT_CLASS (mvd_job_parent_class)->finalize (object);
}

static void
mvd_job_class_init (MvdJobClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = mvd_job_finalize;
}

static void
mvd_job_init (MvdJob *self)
{
  self->cancellable = g_cancellable_new ();
}

MvdJob *
mvd_job_new (const char *kind, const char *target, guint id)
{
  MvdJob *self = g_object_new (MVD_TYPE_JOB, NULL);
  MvmDbusJob *iface = MVM_DBUS_JOB (self);

  self->path = g_strdup_printf ("/org/microvmd1/job/%u", id);
  mvm_dbus_job_set_kind (iface, kind);
  mvm_dbus_job_set_target (iface, target);
  mvm_dbus_job_set_state (iface, "running");
  mvm_dbus_job_set_error (iface, "");
  return self;
}

const char *
mvd_job_get_path (MvdJob *self)
{
  return self->path;
}

GCancellable *
mvd_job_get_cancellable (MvdJob *self)
{
  return self->cancellable;
}

void
mvd_job_set_progress (MvdJob *self, guint64 done, guint64 total)
{
  MvmDbusJob *iface = MVM_DBUS_JOB (self);

  if (mvm_dbus_job_get_bytes_total (iface) != total)
    mvm_dbus_job_set_bytes_total (iface, total);
  mvm_dbus_job_set_bytes_done (iface, done);
}

void
mvd_job_end (MvdJob *self, const GError *error)
{
  MvmDbusJob *iface = MVM_DBUS_JOB (self);

  if (error == NULL)
    mvm_dbus_job_set_state (iface, "done");
  else if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    mvm_dbus_job_set_state (iface, "cancelled");
  else
    {
      /* the error first: who sees State change reads Error already set */
      mvm_dbus_job_set_error (iface, error->message);
      mvm_dbus_job_set_state (iface, "failed");
    }
}

gboolean
mvd_job_is_running (MvdJob *self)
{
  return g_str_equal (mvm_dbus_job_get_state (MVM_DBUS_JOB (self)), "running");
}
