/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "mvd-virtiofs.h"

#include <string.h>
#include <unistd.h>

#include "mvd-spawn.h"
#include "mvm-paths.h"

#define VIRTIOFSD_FD 3
#define CAP_SYS_ADMIN_BIT 21

/* Does this process hold CAP_SYS_ADMIN, which virtiofsd needs to sandbox itself in namespaces
 * (and the daemon to give a read-only share its read-only view)? Read once: a daemon's
 * capabilities do not change. */
gboolean
mvd_virtiofs_can_spawn (void)
{
  static int known = -1;
  g_autofree char *status = NULL;
  const char *line;

  if (known >= 0)
    return known;
  known = 0;
  if (g_file_get_contents ("/proc/self/status", &status, NULL, NULL)
      && (line = strstr (status, "\nCapEff:\t")) != NULL)
    known = (g_ascii_strtoull (line + 9, NULL, 16) >> CAP_SYS_ADMIN_BIT) & 1;
  return known;
}

GStrv
mvd_virtiofs_argv (const char *binary, const MvmShare *share, int listen_fd)
{
  g_autoptr (GStrvBuilder) argv = g_strv_builder_new ();
  g_autofree char *fd = g_strdup_printf ("--fd=%d", listen_fd);
  g_autoptr (GString) source = g_string_new ("source=");

  /* -o is libfuse's comma-separated list, where a backslash takes the next byte as it is */
  for (const char *p = share->path; *p; p++)
    {
      if (*p == ',' || *p == '\\')
        g_string_append_c (source, '\\');
      g_string_append_c (source, *p);
    }
  g_strv_builder_add_many (argv, binary, fd, "-o", source->str, "-o", "cache=auto", "-o",
                           "sandbox=namespace",
                           /* the daemon's own limit, not a million: virtiofsd may not raise it */
                           "--rlimit-nofile=0", NULL);
  return g_strv_builder_end (argv);
}

GSubprocess *
mvd_virtiofs_spawn (const char *binary, const MvmShare *share, guint index, const char *runtime_dir,
                    int listen_fd, GError **error)
{
  g_auto (GStrv) argv = mvd_virtiofs_argv (binary, share, VIRTIOFSD_FD);
  g_autofree char *output = mvm_paths_virtiofsd_output (runtime_dir, index);
  int target = VIRTIOFSD_FD;
  MvdSpawnRequest request = { .argv = (const char *const *)argv,
                              .fds = &listen_fd,
                              .targets = &target,
                              .n_fds = 1,
                              .output_path = output,
                              .uid = 0,
                              .kvm_gid = -1,
                              .read_only_tree = share->read_only ? share->path : NULL };
  GSubprocess *process;

  process = mvd_spawn_qemu (&request, NULL, error);
  if (process == NULL)
    g_prefix_error (error, "cannot start virtiofsd: ");
  return process;
}
