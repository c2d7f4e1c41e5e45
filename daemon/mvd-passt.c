/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "mvd-passt.h"

#include <errno.h>
#include <sys/socket.h>
#include <unistd.h>

#include "mvd-spawn.h"
#include "mvm-paths.h"

#define PASST_FD 3

GStrv
mvd_passt_argv (const char *binary, const MvmNetwork *n)
{
  g_autoptr (GStrvBuilder) argv = g_strv_builder_new ();
  g_autofree char *fd = g_strdup_printf ("%d", PASST_FD);

  g_strv_builder_add_many (argv, binary, "--foreground", "--one-off", "--quiet", "--fd", fd, NULL);
  if (n->host_loopback != 1)
    g_strv_builder_add (argv, "--no-map-gw");
  for (guint i = 0; n->forwards && i < n->forwards->len; i++)
    {
      const MvmForward *f = n->forwards->pdata[i];
      g_autofree char *spec
        = f->host_address
            ? g_strdup_printf ("%s/%u:%u", f->host_address, f->host_port, f->guest_port)
            : g_strdup_printf ("%u:%u", f->host_port, f->guest_port);
      g_strv_builder_add_many (argv, f->udp ? "-u" : "-t", spec, NULL);
    }
  return g_strv_builder_end (argv);
}

GSubprocess *
mvd_passt_spawn (const char *binary, const MvmNetwork *n, guint index, const char *runtime_dir,
                 guint32 uid, int *qemu_end, GError **error)
{
  g_auto (GStrv) argv = mvd_passt_argv (binary, n);
  g_autofree char *output = mvm_paths_passt_output (runtime_dir, index);
  int pair[2], target = PASST_FD;
  MvdSpawnRequest request = { .argv = (const char *const *)argv,
                              .fds = &pair[0],
                              .targets = &target,
                              .n_fds = 1,
                              .output_path = output,
                              .tmp_dir = runtime_dir,
                              .uid = uid,
                              .kvm_gid = -1 };
  GSubprocess *process;

  if (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) < 0)
    {
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno),
                   "cannot make a socket pair for passt: %s", g_strerror (errno));
      return NULL;
    }
  process = mvd_spawn_qemu (&request, NULL, error); /* takes pair[0], success or not */
  if (process == NULL)
    {
      close (pair[1]);
      g_prefix_error (error, "cannot start passt: ");
      return NULL;
    }
  *qemu_end = pair[1];
  return process;
}
