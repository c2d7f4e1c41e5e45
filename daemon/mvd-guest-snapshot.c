/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A guest's snapshots: saving one of the running guest (a Job), removing one, and the
 * Snapshots property. Starting from one is a start (mvd-guest.c) with the snapshot's plan. */
#include "mvd-guest-private.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "mvd-dbus-error.h"
#include "mvd-jobs.h"
#include "mvd-log.h"
#include "mvm-error.h"
#include "mvm-file-copy.h"
#include "mvm-paths.h"
#include "mvm-snapshot.h"

static const char *
guest_data_dir (MvdGuest *self)
{
  return self->context->config->guest_data_dir;
}

const char *
mvd_guest_data_dir (MvdGuest *self, GError **error)
{
  if (guest_data_dir (self) == NULL)
    g_set_error (error, MVM_ERROR, MVM_ERROR_INVALID_STATE,
                 "guest %s: this microvmd has no folder for guests' data", self->config->name);
  return guest_data_dir (self);
}

void
mvd_guest_publish_snapshots (MvdGuest *self)
{
  g_autoptr (GPtrArray) list = mvm_snapshot_list (guest_data_dir (self), self->config->name);
  GVariantBuilder b;

  g_variant_builder_init (&b, G_VARIANT_TYPE ("a(stt)"));
  for (guint i = 0; i < list->len; i++)
    {
      const MvmSnapshot *s = list->pdata[i];
      g_variant_builder_add (&b, "(stt)", s->name, (guint64)s->created_usec, s->size);
    }
  mvm_dbus_guest_set_snapshots (MVM_DBUS_GUEST (self), g_variant_builder_end (&b));
}

/* --- what a snapshot can hold ------------------------------------------------------------ */

/* A snapshot is memory, devices and ephemeral disks: a disk written in place, or through an
 * overlay that outlives the guest, would move on without it; a share's host files too, and
 * QEMU 7.2 cannot migrate a mounted 9p share or virtiofsd's state. */
static gboolean
check_savable (MvdGuest *self, const MvmGuestConfig *config, GError **error)
{
  for (guint i = 0; i < config->disks->len; i++)
    {
      const MvmDisk *d = config->disks->pdata[i];
      if (!d->read_only && !d->ephemeral)
        {
          g_set_error (error, MVM_ERROR, MVM_ERROR_INVALID_CONFIG,
                       "guest %s: [Disk %s] is written %s, which a snapshot cannot take along "
                       "and would not match later; only read-only and Ephemeral=yes disks go "
                       "with a snapshot",
                       config->name, d->label,
                       d->image ? "through an overlay that outlives the guest" : "in place");
          return FALSE;
        }
    }
  if (config->shares->len > 0)
    {
      const MvmShare *s = config->shares->pdata[0];
      g_set_error (error, MVM_ERROR, MVM_ERROR_INVALID_CONFIG,
                   "guest %s: [Share %s]: QEMU cannot save a guest with a shared folder (9p "
                   "while mounted, virtiofs ever)",
                   config->name, s->label);
      return FALSE;
    }
  return TRUE;
}

static gboolean
check_can_save (MvdGuest *self, const char *name, GError **error)
{
  const char *guest = self->config->name;

  if (mvd_guest_data_dir (self, error) == NULL)
    return FALSE;
  if (self->state != MVM_GUEST_STATE_RUNNING && self->state != MVM_GUEST_STATE_PAUSED)
    g_set_error (error, MVM_ERROR, MVM_ERROR_INVALID_STATE,
                 "cannot save guest %s: it is %s, not running", guest,
                 mvm_guest_state_to_string (self->state));
  else if (!mvm_dbus_guest_get_ready (MVM_DBUS_GUEST (self)))
    g_set_error (error, MVM_ERROR, MVM_ERROR_INVALID_STATE,
                 "cannot save guest %s: it is not ready yet; a snapshot starts a booted guest "
                 "(microvmctl start --wait-ready)",
                 guest);
  else if (self->saving_snapshot)
    g_set_error (error, MVM_ERROR, MVM_ERROR_BUSY, "guest %s is being saved already", guest);
  else
    return check_savable (self, mvd_guest_get_active_config (self), error);
  return FALSE;
}

/* --- saving ------------------------------------------------------------------------------ */

typedef struct
{
  MvdGuest *guest;
  MvdJob *job;
  char *partial;
  MvmSnapshot *info;
  char *runtime_dir;
  GPtrArray *ephemeral; /* labels of the ephemeral writable disks */
  gboolean was_running;
  gint64 begin_usec;
} SaveCall;

static void
save_call_free (SaveCall *call)
{
  if (call->partial)
    mvm_snapshot_abort (call->partial);
  g_free (call->partial);
  mvm_snapshot_free (call->info);
  g_free (call->runtime_dir);
  g_ptr_array_unref (call->ephemeral);
  g_object_unref (call->job);
  g_object_unref (call->guest);
  g_free (call);
}

static gboolean
copy_overlay (SaveCall *call, const char *label, GCancellable *cancellable, GError **error)
{
  g_autofree char *from = mvm_paths_ephemeral_overlay (call->runtime_dir, label);
  g_autofree char *file = g_strconcat (label, ".qcow2", NULL);
  g_autofree char *to = g_build_filename (call->partial, file, NULL);
  int fd = open (from, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  gboolean ok;

  if (fd < 0)
    {
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno), "cannot open %s: %s", from,
                   g_strerror (errno));
      return FALSE;
    }
  ok = mvm_file_copy (fd, to, cancellable, error);
  close (fd);
  return ok;
}

/* In a worker, while the CPUs stand: the overlays as the memory knows them, then all of it
 * synced and named */
static void
finish_in_thread (GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
  SaveCall *call = data;
  GError *error = NULL;

  if (g_task_return_error_if_cancelled (task))
    return;
  for (guint i = 0; i < call->ephemeral->len; i++)
    if (!copy_overlay (call, call->ephemeral->pdata[i], cancellable, &error))
      {
        g_task_return_error (task, error);
        return;
      }
  if (!mvm_snapshot_commit (call->partial, call->info, &error))
    g_task_return_error (task, error);
  else
    g_task_return_boolean (task, TRUE);
}

static void
save_ended (SaveCall *call, GError *error)
{
  MvdGuest *self = call->guest;

  self->saving_snapshot = FALSE;
  if (self->qemu)
    mvd_qemu_end_snapshot (self->qemu, call->was_running);
  if (error)
    mvd_guest_warning (self->config->name, "snapshot %s not saved: %s", call->info->name,
                       error->message);
  else
    mvd_guest_message (self->config->name, "snapshot %s saved in %.3f s", call->info->name,
                       (g_get_monotonic_time () - call->begin_usec) / 1e6);
  mvd_jobs_end (self->context->jobs, call->job, error);
  mvd_guest_publish_snapshots (self);
  g_clear_error (&error);
  save_call_free (call);
}

static void
on_finished (GObject *source, GAsyncResult *result, gpointer data)
{
  SaveCall *call = data;
  GError *error = NULL;

  if (g_task_propagate_boolean (G_TASK (result), &error))
    g_clear_pointer (&call->partial, g_free); /* named now: not to be removed */
  else
    g_prefix_error (&error, "guest %s: snapshot %s: ", call->guest->config->name, call->info->name);
  save_ended (call, error);
}

static void
on_progress (guint64 done, guint64 total, gpointer data)
{
  SaveCall *call = data;

  mvd_job_set_progress (call->job, done, total);
}

static void
on_saved (GObject *source, GAsyncResult *result, gpointer data)
{
  SaveCall *call = data;
  GError *error = NULL;
  g_autoptr (GTask) task = NULL;

  if (!mvd_qemu_save_snapshot_finish (MVD_QEMU (source), result, &error))
    {
      save_ended (call, error);
      return;
    }
  task = g_task_new (NULL, mvd_job_get_cancellable (call->job), on_finished, call);
  g_task_set_task_data (task, call, NULL);
  g_task_run_in_thread (task, finish_in_thread);
}

static SaveCall *
save_call_new (MvdGuest *self, const char *name, char *partial)
{
  const MvmGuestConfig *config = mvd_guest_get_active_config (self);
  SaveCall *call = g_new0 (SaveCall, 1);
  g_autofree char *target = g_strdup_printf ("%s/%s", config->name, name);

  call->guest = g_object_ref (self);
  call->partial = partial;
  call->runtime_dir = mvm_paths_guest_runtime (self->context->paths, config->name);
  call->was_running = self->state == MVM_GUEST_STATE_RUNNING;
  call->begin_usec = g_get_monotonic_time ();
  call->ephemeral = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; i < config->disks->len; i++)
    {
      const MvmDisk *d = config->disks->pdata[i];
      if (d->ephemeral && !d->read_only)
        g_ptr_array_add (call->ephemeral, g_strdup (d->label));
    }
  call->info = g_new0 (MvmSnapshot, 1);
  call->info->name = g_strdup (name);
  call->info->created_usec = g_get_real_time ();
  call->info->qemu_binary = g_strdup (self->context->facts->qemu_binary);
  call->info->qemu_version = g_strdup (self->context->facts->qemu_version);
  call->info->argv = mvm_snapshot_argv_without_incoming (mvd_qemu_get_argv (self->qemu));
  call->job = mvd_jobs_start (self->context->jobs, "snapshot", target);
  return call;
}

/* Opens the memory file in a new partial folder; -1 with @error set */
static int
open_memory (MvdGuest *self, const char *name, char **partial, GError **error)
{
  g_autofree char *path = NULL;
  int fd;

  *partial = mvm_snapshot_begin (guest_data_dir (self), self->config->name, name, error);
  if (*partial == NULL)
    return -1;
  path = mvm_snapshot_memory_path (*partial);
  fd = open (path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0)
    {
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno), "cannot create %s: %s", path,
                   g_strerror (errno));
      mvm_snapshot_abort (*partial);
      g_clear_pointer (partial, g_free);
    }
  return fd;
}

MvdJob *
mvd_guest_save_snapshot (MvdGuest *self, const char *name, GError **error)
{
  char *partial = NULL;
  SaveCall *call;
  int fd;

  if (!check_can_save (self, name, error))
    return NULL;
  if ((fd = open_memory (self, name, &partial, error)) < 0)
    {
      g_prefix_error (error, "guest %s: snapshot %s: ", self->config->name, name);
      return NULL;
    }
  call = save_call_new (self, name, partial);
  self->saving_snapshot = TRUE;
  mvd_guest_message (self->config->name, "saving snapshot %s", name);
  mvd_qemu_save_snapshot_async (self->qemu, fd, on_progress, call,
                                mvd_job_get_cancellable (call->job), on_saved, call);
  return call->job;
}

gboolean
mvd_guest_remove_snapshot (MvdGuest *self, const char *name, GError **error)
{
  const char *data_dir = mvd_guest_data_dir (self, error);

  if (data_dir == NULL || !mvm_snapshot_remove (data_dir, self->config->name, name, error))
    return FALSE;
  mvd_guest_message (self->config->name, "snapshot %s removed", name);
  mvd_guest_publish_snapshots (self);
  return TRUE;
}
