/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "mvm-launch-plan.h"

#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>

#include "mvm-image-meta.h"
#include "mvm-image-run.h"
#include "mvm-kernel-image.h"
#include "mvm-paths.h"
#include "mvm-snapshot.h"

void
mvm_launch_plan_free (MvmLaunchPlan *plan)
{
  if (plan == NULL)
    return;
  g_free (plan->kernel);
  g_free (plan->initrd);
  g_free (plan->run);
  for (guint i = 0; i < G_N_ELEMENTS (plan->socket_paths); i++)
    g_free (plan->socket_paths[i]);
  g_strfreev (plan->argv);
  mvm_guest_files_clear (&plan->files);
  g_free (plan);
}

static void
place_sockets (MvmLaunchPlan *plan, const char *dir)
{
  static const char *const files[] = { "qmp.sock", "console.sock", "ready.sock" };
  MvmSocket *sockets[] = { &plan->launch.qmp, &plan->launch.serial, &plan->launch.ready };

  for (guint i = 0; i < G_N_ELEMENTS (files); i++)
    {
      plan->socket_paths[i] = g_build_filename (dir, files[i], NULL);
      *sockets[i] = (MvmSocket){ -1, plan->socket_paths[i] };
    }
}

/* An argv to run by hand (microvmd --check --socket-dir): sockets in @dir, and the files by
 * their names, checked and opened all the same. */
static void
by_name (MvmLaunchPlan *plan, const char *dir)
{
  place_sockets (plan, dir);
  if (plan->launch.runtime_dir == NULL)
    plan->launch.runtime_dir = dir; /* ephemeral overlays beside the sockets */
  plan->launch.kernel_fd = plan->launch.initrd_fd = plan->launch.vhost_vsock_fd = -1;
  for (guint i = 0; i < G_N_ELEMENTS (plan->launch.disk_fds); i++)
    plan->launch.disk_fds[i][0] = plan->launch.disk_fds[i][1] = plan->launch.overlay_fds[i][0]
      = plan->launch.overlay_fds[i][1] = -1;
}

static gboolean
never_in_use (guint32 cid, gpointer user_data)
{
  return FALSE;
}

/* An Image= disk is named by its file in messages and in an argv to run by hand */
static void
name_images (const MvmDaemonConfig *config, MvmGuestConfig *guest)
{
  for (guint i = 0; i < guest->disks->len; i++)
    {
      MvmDisk *d = guest->disks->pdata[i];
      if (d->image && d->path == NULL)
        d->path = mvm_paths_image_file (config->images_dir, d->image);
    }
}

/* Command=, or the root image's OCI Entrypoint and Cmd: the script, in base64 */
static gboolean
plan_run (const MvmDaemonConfig *config, const MvmGuestConfig *guest, char **run, GError **error)
{
  const MvmDisk *root = guest->disks->len ? guest->disks->pdata[0] : NULL;
  g_autoptr (MvmImageMeta) meta = NULL;
  GError *local = NULL;

  if (root && root->image)
    {
      g_autofree char *meta_path = mvm_paths_image_meta (config->images_dir, root->image);
      meta = mvm_image_meta_read (meta_path, root->path, NULL);
    }
  *run = mvm_image_run_argument (meta ? meta->config_json : NULL,
                                 (const char *const *)guest->command, &local);
  if (local == NULL)
    return TRUE;
  g_propagate_prefixed_error (error, local, "guest %s: ", guest->name);
  return FALSE;
}

/* A restore: the snapshot's memory for -incoming */
static gboolean
open_snapshot (MvmLaunchPlan *plan, const MvmGuestConfig *guest, const char *dir, GError **error)
{
  g_autofree char *path = mvm_snapshot_memory_path (dir);
  int fd = open (path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

  if (fd < 0)
    {
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno), "guest %s: cannot open %s: %s",
                   guest->name, path, g_strerror (errno));
      return FALSE;
    }
  mvm_guest_files_add (&plan->files, fd, MVM_FD_INCOMING);
  plan->launch.incoming = TRUE;
  return TRUE;
}

MvmLaunchPlan *
mvm_launch_plan_new (const MvmDaemonConfig *config, const MvmHostFacts *facts,
                     MvmGuestConfig *guest, const MvmLaunchPlace *place, GError **error)
{
  g_autoptr (MvmLaunchPlan) plan = g_new0 (MvmLaunchPlan, 1);
  MvmOverlayPlace overlays = { .create_image = place->create_overlays,
                               .runtime_dir = place->runtime_dir,
                               .ephemeral_source_dir = place->ephemeral_source_dir };
  guint32 cid = 0;

  if (!mvm_daemon_config_check_guest (config, guest, error)
      || !mvm_daemon_config_resolve_boot (config, guest, &plan->kernel, &plan->initrd, error)
      || (guest->vsock
          && !mvm_vsock_pick_cid (guest, place->cid_in_use ? place->cid_in_use : never_in_use,
                                  place->cid_in_use_data, &cid, error)))
    return NULL;
  mvm_launch_init_default (&plan->launch, guest, plan->kernel, plan->initrd);
  plan->launch.paused = TRUE;
  plan->launch.vsock_cid = cid;
  plan->launch.guest_data_dir = config->guest_data_dir;
  plan->launch.runtime_dir = place->runtime_dir;
  if (!mvm_guest_files_open (&plan->files, config, guest, &plan->launch, &overlays, error)
      || !mvm_kernel_image_check_fits (
        guest, mvm_guest_files_fd_for (&plan->files, plan->launch.kernel_fd),
        mvm_guest_files_fd_for (&plan->files, plan->launch.initrd_fd), error))
    return NULL;
  name_images (config, guest);
  if (!plan_run (config, guest, &plan->run, error))
    return NULL;
  plan->launch.run = plan->run;
  if (place->snapshot_dir && !open_snapshot (plan, guest, place->snapshot_dir, error))
    return NULL;
  if (place->socket_dir)
    by_name (plan, place->socket_dir);
  plan->argv = mvm_argv_build (guest, facts, &plan->launch, error);
  /* not for a restore: QEMU 7.2's loader faults in all of the guest's memory, which in 4 KiB
   * pages takes 3-7 times as long as in huge ones (bench-snapshot: 0.7 against 0.25 s at
   * 128M, 2.6 against 0.35 s at 512M) */
  plan->small_pages = mvm_argv_small_pages (guest, facts) && !plan->launch.incoming;
  return plan->argv ? g_steal_pointer (&plan) : NULL;
}
