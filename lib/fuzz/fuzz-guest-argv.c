/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer target over what a caller of DefineGuest controls: the guest-file parser and the
 * argv built from what it accepts. Every QemuOpts value the builder writes is split again
 * the way QEMU splits it (',' separates, ',,' is a comma) and must hold only the keys the
 * builder means for that option: anything else is an injection, and aborts. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mvm-argv.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

/* The option, its bare first word (NULL: none allowed), and its keys. */
static const struct
{
  const char *option;
  const char *const *first;
  const char *const *keys;
} known[] = {
  { "-name", NULL, (const char *const[]){ "guest", "debug-threads", NULL } },
  { "-M", (const char *const[]){ "microvm", NULL },
    (const char *const[]){ "x-option-roms", "isa-serial", "rtc", "acpi", "pcie", "pit", "pic",
                           "memory-backend", NULL } },
  { "-accel", (const char *const[]){ "kvm", "tcg", NULL },
    (const char *const[]){ "tb-size", NULL } },
  { "-global", NULL, (const char *const[]){ "virtio-mmio.force-legacy", NULL } },
  { "-sandbox", (const char *const[]){ "on", NULL },
    (const char *const[]){ "obsolete", "elevateprivileges", "spawn", "resourcecontrol", NULL } },
  { "-chardev", (const char *const[]){ "socket", NULL },
    (const char *const[]){ "id", "fd", "path", "server", "wait", NULL } },
  { "-mon", NULL, (const char *const[]){ "chardev", "mode", NULL } },
  { "-object", (const char *const[]){ "rng-random", "memory-backend-memfd", NULL },
    (const char *const[]){ "id", "filename", "size", "share", NULL } },
  { "-add-fd", NULL, (const char *const[]){ "fd", "set", "opaque", NULL } },
  { "-drive", NULL, (const char *const[]){ "if", "id", "file", "format", "readonly", NULL } },
  { "-blockdev", NULL,
    (const char *const[]){ "driver", "node-name", "file.driver", "file.filename", "backing.driver",
                           "backing.read-only", "backing.file.driver", "backing.file.filename",
                           NULL } },
  { "-netdev", (const char *const[]){ "user", "tap", "stream", NULL },
    (const char *const[]){ "id", "fd", "hostfwd", "server", "addr.type", "addr.str", NULL } },
  { "-fsdev", (const char *const[]){ "local", NULL },
    (const char *const[]){ "id", "path", "security_model", "readonly", NULL } },
  { "-device", (const char *const[]){ "*", NULL }, /* any device model first */
    (const char *const[]){ "id", "drive", "netdev", "mac", "fsdev", "mount_tag", "rng",
                           "deflate-on-oom", "free-page-reporting", "guest-cid", "bus", "chardev",
                           "name", "vhostfd", "tag", NULL } },
};

/* Splits @value as QemuOpts does and checks each part against @k's keys. */
static void
check_value (gsize k, const char *value)
{
  g_autoptr (GString) part = g_string_new (NULL);
  guint index = 0;

  for (const char *p = value;; p++)
    {
      if (*p == ',' && p[1] == ',')
        {
          g_string_append_c (part, ',');
          p++;
          continue;
        }
      if (*p != ',' && *p != '\0')
        {
          g_string_append_c (part, *p);
          continue;
        }
      {
        const char *eq = strchr (part->str, '=');
        g_autofree char *key = eq ? g_strndup (part->str, eq - part->str) : g_strdup (part->str);

        if (eq == NULL)
          {
            /* a bare word: only first, and only one the option takes */
            if (index != 0 || known[k].first == NULL
                || !(g_strv_contains (known[k].first, "*")
                     || g_strv_contains (known[k].first, key)))
              abort ();
          }
        else if (!g_strv_contains (known[k].keys, key))
          abort ();
      }
      index++;
      g_string_truncate (part, 0);
      if (*p == '\0')
        break;
    }
}

static void
check_argv (char **argv)
{
  for (guint i = 1; argv[i]; i++)
    for (gsize k = 0; k < G_N_ELEMENTS (known); k++)
      if (g_str_equal (argv[i], known[k].option))
        {
          if (argv[i + 1] == NULL)
            abort ();
          check_value (k, argv[++i]);
          break;
        }
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  MvmHostFacts facts = { .qemu_binary = (char *)"qemu-system-x86_64",
                         .qemu_version = (char *)"7.2.0",
                         .kvm = size & 1,
                         .vhost_vsock = TRUE,
                         .virtiofsd = (char *)"/usr/lib/qemu/virtiofsd",
                         .tsc_khz = 2600000 };
  g_autoptr (MvmGuestConfig) guest = NULL;
  g_auto (GStrv) argv = NULL;
  MvmLaunch launch;

  guest = mvm_guest_config_new_from_data ((const char *)data, size, "fuzz.guest", NULL);
  if (guest == NULL)
    return 0;
  mvm_launch_init_default (&launch, guest, "/k", guest->kernel ? NULL : "/i");
  launch.paused = TRUE;
  argv = mvm_argv_build (guest, &facts, &launch, NULL);
  if (argv)
    check_argv (argv);
  /* a by-name launch (microvmd --check --socket-dir) puts the caller's paths in the argv */
  launch.kernel_fd = launch.initrd_fd = launch.vhost_vsock_fd = -1;
  for (guint i = 0; i < MVM_MAX_DISKS; i++)
    launch.disk_fds[i][0] = launch.disk_fds[i][1] = launch.overlay_fds[i][0]
      = launch.overlay_fds[i][1] = -1;
  launch.qmp = (MvmSocket){ -1, "/run/q,s" };
  launch.guest_data_dir = "/var/lib/g,d";
  launch.runtime_dir = "/run/r,d"; /* the overlays' names too */
  g_strfreev (argv);
  argv = mvm_argv_build (guest, &facts, &launch, NULL);
  if (argv)
    check_argv (argv);
  return 0;
}
