/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "mvd-check.h"

#include <stdio.h>

#include "mvm-launch-plan.h"

GStrv
mvd_check_argv (const MvmDaemonConfig *config, const MvmHostFacts *facts, MvmGuestConfig *guest,
                const char *socket_dir, GError **error)
{
  MvmLaunchPlace place = { .socket_dir = socket_dir };
  g_autoptr (MvmLaunchPlan) plan = mvm_launch_plan_new (config, facts, guest, &place, error);

  return plan ? g_steal_pointer (&plan->argv) : NULL;
}

static GStrv
check_one (const MvmDaemonConfig *config, const MvmHostFacts *facts, const char *socket_dir,
           const char *file, GError **error)
{
  g_autoptr (MvmGuestConfig) guest = mvm_guest_config_new_from_file (file, error);

  return guest ? mvd_check_argv (config, facts, guest, socket_dir, error) : NULL;
}

int
mvd_check_run (const MvmDaemonConfig *config, const char *socket_dir, char **files)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MvmHostFacts) facts = NULL;
  guint n_files = g_strv_length (files);
  int status = 0;

  facts = mvm_host_facts_probe (config->qemu_binary, config->accelerator, &error);
  if (facts && !mvm_daemon_config_apply_user_network (config, facts, &error))
    g_clear_pointer (&facts, mvm_host_facts_free);
  if (facts == NULL)
    {
      g_printerr ("microvmd: %s\n", error->message);
      return 1;
    }
  if (facts->note)
    g_printerr ("microvmd: %s\n", facts->note);
  for (guint i = 0; i < n_files; i++)
    {
      g_auto (GStrv) argv = check_one (config, facts, socket_dir, files[i], &error);

      if (argv == NULL)
        {
          g_printerr ("microvmd: %s\n", error->message);
          g_clear_error (&error);
          status = 1;
          continue;
        }
      if (n_files > 1)
        g_print ("%s# %s\n", i > 0 ? "\n" : "", files[i]);
      for (guint j = 0; argv[j]; j++)
        g_print ("%s\n", argv[j]);
    }
  return status;
}
