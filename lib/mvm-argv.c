/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "mvm-argv.h"

#include <string.h>

#include "mvm-error.h"
#include "mvm-paths.h"
#include "mvm-vsock.h"

typedef struct
{
  const MvmGuestConfig *config;
  const MvmHostFacts *facts;
  const MvmLaunch *launch;
  GPtrArray *argv;
} Builder;

typedef enum
{
  DEV_BLK,
  DEV_NET,
  DEV_SERIAL,
  DEV_RNG,
  DEV_BALLOON,
  DEV_9P,
  DEV_VSOCK,
  DEV_VIRTIOFS,
} DeviceKind;

/* Non-transitional PCI devices (modern virtio only) for PCIe, the plain virtio-mmio ones else. */
static const char *
device_model (const Builder *b, DeviceKind kind)
{
  static const char *const pcie[] = {
    [DEV_BLK] = "virtio-blk-pci-non-transitional",
    [DEV_NET] = "virtio-net-pci-non-transitional",
    [DEV_SERIAL] = "virtio-serial-pci-non-transitional",
    [DEV_RNG] = "virtio-rng-pci-non-transitional",
    [DEV_BALLOON] = "virtio-balloon-pci-non-transitional",
    [DEV_9P] = "virtio-9p-pci-non-transitional",
    [DEV_VSOCK] = "vhost-vsock-pci-non-transitional",
    [DEV_VIRTIOFS] = "vhost-user-fs-pci", /* modern only: no transitional variant exists */
  };
  static const char *const mmio[] = {
    [DEV_BLK] = "virtio-blk-device",         [DEV_NET] = "virtio-net-device",
    [DEV_SERIAL] = "virtio-serial-device",   [DEV_RNG] = "virtio-rng-device",
    [DEV_BALLOON] = "virtio-balloon-device", [DEV_9P] = "virtio-9p-device",
    [DEV_VSOCK] = "vhost-vsock-device",      [DEV_VIRTIOFS] = "vhost-user-fs-device",
  };
  return b->config->transport == MVM_TRANSPORT_PCIE ? pcie[kind] : mmio[kind];
}

void
mvm_argv_append_escaped (GString *str, const char *value)
{
  for (const char *p = value; *p; p++)
    {
      if (*p == ',')
        g_string_append_c (str, ',');
      g_string_append_c (str, *p);
    }
}

static void
add (Builder *b, const char *arg)
{
  g_ptr_array_add (b->argv, g_strdup (arg));
}

static void G_GNUC_PRINTF (3, 4)
  add_option (Builder *b, const char *option, const char *format, ...)
{
  va_list args;

  add (b, option);
  va_start (args, format);
  g_ptr_array_add (b->argv, g_strdup_vprintf (format, args));
  va_end (args);
}

/* "-opt prefix,key=<escaped value>,suffix": values from users never reach QEMU unescaped. */
static void
add_option_with_value (Builder *b, const char *option, const char *prefix, const char *value,
                       const char *suffix)
{
  GString *s = g_string_new (prefix);

  mvm_argv_append_escaped (s, value);
  g_string_append (s, suffix);
  add (b, option);
  g_ptr_array_add (b->argv, g_string_free (s, FALSE));
}

static gboolean
uses_acpi (const MvmGuestConfig *c)
{
  /* PCIe on microvm is described through ACPI; BSD kernels find virtio-mmio devices through
   * the virtio_mmio.device= arguments QEMU adds to the command line when ACPI is off. */
  if (c->transport == MVM_TRANSPORT_PCIE)
    return TRUE;
  return c->os == MVM_OS_LINUX || c->os == MVM_OS_OTHER;
}

static gboolean
has_virtiofs (const MvmGuestConfig *c)
{
  for (guint i = 0; i < c->shares->len; i++)
    if (((const MvmShare *)c->shares->pdata[i])->type == MVM_SHARE_VIRTIOFS)
      return TRUE;
  return FALSE;
}

static void
add_machine (Builder *b)
{
  const char *legacy = b->facts->kvm ? "off" : "on"; /* TCG guests hang calibrating without */
  guint64 mib = b->config->memory / (1024 * 1024);
  /* virtiofsd maps the guest's memory: it must be a memfd QEMU shares */
  gboolean shared = has_virtiofs (b->config);

  add_option (
    b, "-M", "microvm,x-option-roms=off,isa-serial=on,rtc=on,acpi=%s,pcie=%s,pit=%s,pic=%s%s",
    uses_acpi (b->config) ? "on" : "off", b->config->transport == MVM_TRANSPORT_PCIE ? "on" : "off",
    legacy, legacy, shared ? ",memory-backend=mem" : "");
  /* QEMU's virtio-mmio devices are legacy (version 1) unless told otherwise; Linux drives the
   * modern ones, which vhost-user devices (virtiofs) require; the BSDs keep what they know */
  if (b->config->transport == MVM_TRANSPORT_MMIO && b->config->os == MVM_OS_LINUX)
    add_option (b, "-global", "virtio-mmio.force-legacy=off");
  if (shared)
    add_option (b, "-object", "memory-backend-memfd,id=mem,size=%" G_GUINT64_FORMAT "M,share=on",
                mib);
  if (b->facts->kvm)
    {
      add_option (b, "-accel", "kvm");
      add_option (b, "-cpu", "host");
    }
  else if (b->config->tcg_cache > 0)
    add_option (b, "-accel", "tcg,tb-size=%" G_GUINT64_FORMAT,
                b->config->tcg_cache / (1024 * 1024));
  else
    add_option (b, "-accel", "tcg");
  add_option (b, "-smp", "%u", b->config->cpus);
  add_option (b, "-m", "%" G_GUINT64_FORMAT "M", mib);
  if (b->facts->qboot_rom)
    add_option (b, "-bios", "%s", b->facts->qboot_rom);
  add (b, "-nodefaults");
  add (b, "-no-user-config");
  add (b, "-nographic");
  add (b, "-no-shutdown");
  /* seccomp: a QEMU taken over by its guest still cannot exec, setuid, or renice */
  add_option (b, "-sandbox",
              "on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny");
  if (b->launch->paused)
    add (b, "-S");
}

gboolean
mvm_argv_small_pages (const MvmGuestConfig *config, const MvmHostFacts *facts)
{
  return !facts->kvm && config->balloon_free_page_reporting && config->balloon_small_pages;
}

/* What the shipped init configures: each card by its MAC, the host name */
static void
append_network_args (GString *s, const MvmGuestConfig *config)
{
  for (guint i = 0; i < config->networks->len; i++)
    {
      const MvmNetwork *n = config->networks->pdata[i];
      g_autofree char *arg = NULL;

      if (n->mode == MVM_NET_MODE_NONE)
        continue;
      arg = mvm_net_addressing_kernel_arg (&n->addressing, n->mac, mvm_network_is_user_mode (n));
      if (arg)
        g_string_append_printf (s, " %s", arg);
    }
  if (config->hostname)
    g_string_append_printf (s, " microvmd.hostname=%s", config->hostname);
}

char *
mvm_argv_kernel_command_line (const MvmGuestConfig *config, const MvmHostFacts *facts)
{
  GString *s = g_string_new (NULL);

  if (config->os == MVM_OS_LINUX)
    {
      /* microvm has one UART: the kernel need not probe the three other ISA ports */
      g_string_append (s, "console=ttyS0 8250.nr_uarts=1");
      if (config->disks->len > 0)
        g_string_append (s, " root=/dev/vda rw");
      g_string_append (s, " panic=-1");
      /* Under TCG about 1 boot in 6 hangs calibrating the TSC; telling the kernel its rate
       * stopped that (DESIGN.md, "Process model"). */
      if (!facts->kvm && facts->tsc_khz > 0)
        g_string_append_printf (s, " tsc_early_khz=%" G_GUINT64_FORMAT, facts->tsc_khz);
      /* A kernel on one CPU rewrites every lock prefix in its text to run uniprocessor: under
       * TCG each rewrite throws away translated code, 0.15-0.3 s of a boot here, for a gain
       * of a few cycles a lock (README.md, "Performance"). */
      if (!facts->kvm)
        g_string_append (s, " noreplace-smp");
      /* Free blocks of 128 KiB are reported rather than the guest's pageblocks (2 or 4 MiB):
       * with the small pages, an idle 256M guest holds 10-13 MiB less (microvm.guest(5),
       * [Balloon]). Not over huge pages: a smaller report splits one, and khugepaged fills
       * it again within a minute. Linux 6.1 puts its default back when the balloon driver
       * registers; the shipped init sets this again. */
      if (mvm_argv_small_pages (config, facts))
        g_string_append (s, " page_reporting.page_reporting_order=5");
    }
  if (config->os == MVM_OS_LINUX)
    append_network_args (s, config);
  if (config->command_line[0] != '\0')
    g_string_append_printf (s, "%s%s", s->len ? " " : "", config->command_line);
  return g_string_free (s, FALSE);
}

static void
add_boot (Builder *b)
{
  g_autofree char *kernel_args = mvm_argv_kernel_command_line (b->config, b->facts);
  g_autofree char *append = b->launch->run
                              ? g_strdup_printf ("%s%smicrovmd.run=%s", kernel_args,
                                                 kernel_args[0] ? " " : "", b->launch->run)
                              : g_steal_pointer (&kernel_args);

  /* QEMU's loader fopen()s these names, so the inherited fds go by their /proc name */
  if (b->launch->kernel_fd >= 0)
    add_option (b, "-kernel", "/proc/self/fd/%d", b->launch->kernel_fd);
  else
    add_option (b, "-kernel", "%s", b->launch->kernel);
  if (b->launch->initrd && b->launch->initrd_fd >= 0)
    add_option (b, "-initrd", "/proc/self/fd/%d", b->launch->initrd_fd);
  else if (b->launch->initrd)
    add_option (b, "-initrd", "%s", b->launch->initrd);
  if (append[0] != '\0')
    add_option (b, "-append", "%s", append);
}

static void
add_socket_chardev (Builder *b, const char *id, const MvmSocket *sock)
{
  g_autofree char *prefix = g_strdup_printf ("socket,id=%s,path=", id);

  if (sock->fd >= 0)
    add_option (b, "-chardev", "socket,id=%s,fd=%d,server=on,wait=off", id, sock->fd);
  else
    add_option_with_value (b, "-chardev", prefix, sock->path, ",server=on,wait=off");
}

static void
add_channels (Builder *b)
{
  add_socket_chardev (b, "qmp", &b->launch->qmp);
  add_option (b, "-mon", "chardev=qmp,mode=control");
  add_socket_chardev (b, "serial0", &b->launch->serial);
  add_option (b, "-serial", "chardev:serial0");
  add_option (b, "-device", "%s,id=vser0", device_model (b, DEV_SERIAL));
  add_socket_chardev (b, "ready", &b->launch->ready);
  add_option (b, "-device", "virtserialport,bus=vser0.0,chardev=ready,name=org.microvmd.ready");
}

static void
add_rng_and_balloon (Builder *b)
{
  add_option (b, "-object", "rng-random,id=rng0,filename=/dev/urandom");
  add_option (b, "-device", "%s,rng=rng0", device_model (b, DEV_RNG));
  add_option (b, "-device", "%s,id=balloon0,deflate-on-oom=%s,free-page-reporting=%s",
              device_model (b, DEV_BALLOON), b->config->balloon_deflate_on_oom ? "on" : "off",
              b->config->balloon_free_page_reporting ? "on" : "off");
  /* a Linux panic stops the guest in run state guest-panicked (the daemon's reason) rather
   * than rebooting it through panic=-1; QEMU 7.2 has no pvpanic for virtio-mmio guests */
  if (b->config->os == MVM_OS_LINUX && b->config->transport == MVM_TRANSPORT_PCIE)
    add_option (b, "-device", "pvpanic-pci");
}

/* The disk's fds as fd set i + 1: QEMU picks the one whose access mode it needs (an overlay's
 * backing has only the read-only one). */
static void
add_disk_fdset (Builder *b, guint i)
{
  static const char *const modes[] = { "ro", "rw" };
  const MvmDisk *d = b->config->disks->pdata[i];

  for (guint m = 0; m < 2; m++)
    if (b->launch->disk_fds[i][m] >= 0)
      add_option (b, "-add-fd", "fd=%d,set=%u,opaque=%s-%s", b->launch->disk_fds[i][m], i + 1,
                  d->label, modes[m]);
}

/* The overlay's fds as fd set MVM_MAX_DISKS + i + 1, apart from the image's: a reopen of
 * either must never pick the other's file. */
static void
add_overlay_fdset (Builder *b, guint i)
{
  static const char *const modes[] = { "ro", "rw" };
  const MvmDisk *d = b->config->disks->pdata[i];

  for (guint m = 0; m < 2; m++)
    add_option (b, "-add-fd", "fd=%d,set=%u,opaque=%s-overlay-%s", b->launch->overlay_fds[i][m],
                MVM_MAX_DISKS + i + 1, d->label, modes[m]);
}

/* An overlay by its name, to run by hand: a writable Image= disk's in the guest's data
 * folder, an ephemeral disk's in its runtime folder; NULL when the launch names neither */
static char *
overlay_by_name (const Builder *b, const MvmDisk *d)
{
  if (d->path == NULL)
    return NULL;
  if (mvm_disk_has_ephemeral_overlay (d))
    return b->launch->runtime_dir ? mvm_paths_ephemeral_overlay (b->launch->runtime_dir, d->label)
                                  : NULL;
  return b->launch->guest_data_dir
           ? mvm_paths_disk_overlay (b->launch->guest_data_dir, b->config->name, d->label)
           : NULL;
}

/* A writable Image= disk, or an ephemeral one: a qcow2 node over the disk, read-only in its
 * own format, its backing given here rather than read from the overlay's header, which QEMU
 * under the guest can write. */
static gboolean
add_overlay_disk (Builder *b, guint i, GError **error)
{
  const MvmDisk *d = b->config->disks->pdata[i];
  gboolean by_fd = b->launch->overlay_fds[i][0] >= 0 && b->launch->disk_fds[i][0] >= 0;
  g_autofree char *overlay = NULL;
  g_autofree char *image = NULL;
  GString *s;

  if (by_fd)
    {
      add_disk_fdset (b, i);
      add_overlay_fdset (b, i);
      overlay = g_strdup_printf ("/dev/fdset/%u", MVM_MAX_DISKS + i + 1);
      image = g_strdup_printf ("/dev/fdset/%u", i + 1);
    }
  else if ((overlay = overlay_by_name (b, d)))
    image = g_strdup (d->path);
  else if (mvm_disk_has_ephemeral_overlay (d))
    {
      g_set_error (error, MVM_ERROR, MVM_ERROR_INVALID_CONFIG,
                   "guest %s: [Disk %s] Ephemeral=yes has no overlay yet (the launch names "
                   "the runtime folder it goes in)",
                   b->config->name, d->label);
      return FALSE;
    }
  else
    {
      g_set_error (error, MVM_ERROR, MVM_ERROR_INVALID_CONFIG,
                   "guest %s: [Disk %s] Image=%s has no overlay yet (the launch names it)",
                   b->config->name, d->label, d->image);
      return FALSE;
    }
  s = g_string_new ("driver=qcow2,node-name=disk");
  g_string_append_printf (s, "%u,file.driver=file,file.filename=", i);
  mvm_argv_append_escaped (s, overlay);
  g_string_append_printf (s,
                          ",backing.driver=%s,backing.read-only=on,backing.file.driver=file,"
                          "backing.file.filename=",
                          d->format == MVM_DISK_FORMAT_QCOW2 ? "qcow2" : "raw");
  mvm_argv_append_escaped (s, image);
  add (b, "-blockdev");
  g_ptr_array_add (b->argv, g_string_free (s, FALSE));
  add_option (b, "-device", "%s,drive=disk%u", device_model (b, DEV_BLK), i);
  return TRUE;
}

/* A disk without an overlay: a read-only one, or a lasting writable Path= disk: one -drive */
static gboolean
add_plain_disk (Builder *b, guint i, GError **error)
{
  const MvmDisk *d = b->config->disks->pdata[i];
  g_autofree char *prefix = g_strdup_printf ("if=none,id=disk%u,file=", i);
  g_autofree char *fdset = g_strdup_printf ("/dev/fdset/%u", i + 1);
  g_autofree char *suffix
    = g_strdup_printf (",format=%s%s", d->format == MVM_DISK_FORMAT_QCOW2 ? "qcow2" : "raw",
                       d->read_only ? ",readonly=on" : "");
  gboolean by_fd = b->launch->disk_fds[i][0] >= 0;

  if (!by_fd && d->path == NULL)
    {
      g_set_error (error, MVM_ERROR, MVM_ERROR_INVALID_CONFIG,
                   "guest %s: [Disk %s] Image=%s has no file yet (the launch names it)",
                   b->config->name, d->label, d->image);
      return FALSE;
    }
  if (by_fd)
    add_disk_fdset (b, i);
  add_option_with_value (b, "-drive", prefix, by_fd ? fdset : d->path, suffix);
  add_option (b, "-device", "%s,drive=disk%u", device_model (b, DEV_BLK), i);
  return TRUE;
}

static gboolean
has_any_overlay (const MvmDisk *d)
{
  return mvm_disk_has_overlay (d) || mvm_disk_has_ephemeral_overlay (d);
}

static gboolean
add_disks (Builder *b, GError **error)
{
  for (guint i = 0; i < b->config->disks->len; i++)
    {
      gboolean ok = has_any_overlay (b->config->disks->pdata[i]) ? add_overlay_disk (b, i, error)
                                                                 : add_plain_disk (b, i, error);
      if (!ok)
        return FALSE;
    }
  return TRUE;
}

/* ",hostfwd=tcp:ADDR:PORT-:PORT" for each Forward= */
static char *
slirp_forwards (const MvmNetwork *n)
{
  GString *s = g_string_new (NULL);

  for (guint i = 0; n->forwards && i < n->forwards->len; i++)
    {
      const MvmForward *f = n->forwards->pdata[i];
      g_string_append_printf (s, ",hostfwd=%s:%s:%u-:%u", f->udp ? "udp" : "tcp",
                              f->host_address ? f->host_address : "", f->host_port, f->guest_port);
    }
  return g_string_free (s, FALSE);
}

gboolean
mvm_network_uses_passt (const MvmNetwork *n, const MvmHostFacts *facts)
{
  return n->mode == MVM_NET_MODE_PASST || (n->mode == MVM_NET_MODE_USER && facts->passt);
}

/* Mode=passt without passt, or a promise slirp cannot keep */
static gboolean
check_user_mode (Builder *b, const MvmNetwork *n, GError **error)
{
  if (n->mode == MVM_NET_MODE_PASST && b->facts->passt == NULL)
    {
      g_set_error (error, MVM_ERROR, MVM_ERROR_INVALID_CONFIG,
                   "guest %s: [Network %s] Mode=passt: passt is not installed", b->config->name,
                   n->label);
      return FALSE;
    }
  if (n->mode == MVM_NET_MODE_USER && b->facts->passt == NULL && n->host_loopback == 0)
    {
      g_set_error (error, MVM_ERROR, MVM_ERROR_INVALID_CONFIG,
                   "guest %s: [Network %s] HostLoopback=no needs passt, which is not installed: "
                   "QEMU's own user-mode network always lets the guest reach the host's "
                   "loopback at 10.0.2.2",
                   b->config->name, n->label);
      return FALSE;
    }
  return TRUE;
}

static gboolean
add_networks (Builder *b, GError **error)
{
  for (guint i = 0; i < b->config->networks->len; i++)
    {
      const MvmNetwork *n = b->config->networks->pdata[i];
      g_autofree char *hostfwd = NULL;

      if (n->mode == MVM_NET_MODE_NONE)
        continue;
      if (!check_user_mode (b, n, error))
        return FALSE;
      if (mvm_network_uses_passt (n, b->facts))
        add_option (b, "-netdev", "stream,id=net%u,server=off,addr.type=fd,addr.str=%d", i,
                    b->launch->net_fds[i]);
      else if (n->mode == MVM_NET_MODE_USER)
        {
          hostfwd = slirp_forwards (n);
          add_option (b, "-netdev", "user,id=net%u%s", i, hostfwd);
        }
      else
        add_option (b, "-netdev", "tap,id=net%u,fd=%d", i, b->launch->net_fds[i]);
      add_option (b, "-device", "%s,netdev=net%u,mac=%s", device_model (b, DEV_NET), i, n->mac);
    }
  return TRUE;
}

static void
add_share_9p (Builder *b, const MvmShare *s, guint i)
{
  g_autofree char *prefix = g_strdup_printf ("local,id=fs%u,path=", i);

  add_option_with_value (b, "-fsdev", prefix, s->path,
                         s->read_only ? ",security_model=none,readonly=on"
                                      : ",security_model=none");
  add_option (b, "-device", "%s,fsdev=fs%u,mount_tag=%s", device_model (b, DEV_9P), i, s->tag);
}

/* QEMU gets a socket to the share's virtiofsd, which the daemon starts; read-only is
 * enforced there, by virtiofsd's read-only view of the folder */
static void
add_share_virtiofs (Builder *b, const MvmShare *s, guint i)
{
  add_option (b, "-chardev", "socket,id=fs%u,fd=%d", i, b->launch->share_fds[i]);
  add_option (b, "-device", "%s,chardev=fs%u,tag=%s", device_model (b, DEV_VIRTIOFS), i, s->tag);
}

static gboolean
virtiofs_possible (const Builder *b, const MvmShare *s, GError **error)
{
  if (b->facts->virtiofsd == NULL)
    g_set_error (error, MVM_ERROR, MVM_ERROR_INVALID_CONFIG,
                 "guest %s: [Share %s] Type=virtiofs needs QEMU's virtiofsd, which this host "
                 "lacks (Debian: qemu-system-common; or use Type=9p)",
                 b->config->name, s->label);
  else if (b->config->transport == MVM_TRANSPORT_MMIO && b->config->os != MVM_OS_LINUX)
    g_set_error (error, MVM_ERROR, MVM_ERROR_INVALID_CONFIG,
                 "guest %s: [Share %s] Type=virtiofs needs modern virtio-mmio devices, which "
                 "only OS=linux guests get on Transport=mmio (use Transport=pcie or Type=9p)",
                 b->config->name, s->label);
  else
    return TRUE;
  return FALSE;
}

static gboolean
add_shares (Builder *b, GError **error)
{
  for (guint i = 0; i < b->config->shares->len; i++)
    {
      const MvmShare *s = b->config->shares->pdata[i];
      if (s->type == MVM_SHARE_9P)
        add_share_9p (b, s, i);
      else if (!virtiofs_possible (b, s, error))
        return FALSE;
      else
        add_share_virtiofs (b, s, i);
    }
  return TRUE;
}

static gboolean
add_vsock (Builder *b, GError **error)
{
  guint32 cid = b->config->vsock_cid ? b->config->vsock_cid : b->launch->vsock_cid;

  if (!b->config->vsock)
    return TRUE;
  if (!b->facts->vhost_vsock)
    {
      g_set_error (error, MVM_ERROR, MVM_ERROR_INVALID_CONFIG,
                   "guest %s: [Vsock] needs /dev/vhost-vsock, which this host lacks (load the "
                   "vhost_vsock module, or remove [Vsock])",
                   b->config->name);
      return FALSE;
    }
  if (cid < 3)
    {
      g_set_error (error, MVM_ERROR, MVM_ERROR_INVALID_CONFIG,
                   "guest %s: [Vsock] CID=auto was not resolved to a CID", b->config->name);
      return FALSE;
    }
  if (b->launch->vhost_vsock_fd >= 0)
    add_option (b, "-device", "%s,id=vsock0,guest-cid=%u,vhostfd=%d", device_model (b, DEV_VSOCK),
                cid, b->launch->vhost_vsock_fd);
  else
    add_option (b, "-device", "%s,id=vsock0,guest-cid=%u", device_model (b, DEV_VSOCK), cid);
  return TRUE;
}

GStrv
mvm_argv_build (const MvmGuestConfig *config, const MvmHostFacts *facts, const MvmLaunch *launch,
                GError **error)
{
  Builder b = { config, facts, launch, g_ptr_array_new_with_free_func (g_free) };
  g_autoptr (GPtrArray) owner = b.argv;

  if (launch->kernel == NULL)
    {
      g_set_error (error, MVM_ERROR, MVM_ERROR_INVALID_CONFIG,
                   "guest %s: no kernel; set Kernel= in the guest file or DefaultKernel= in "
                   "microvmd.conf",
                   config->name);
      return NULL;
    }
  add (&b, facts->qemu_binary);
  add_option_with_value (&b, "-name", "guest=", config->name, ",debug-threads=on");
  add_option (&b, "-uuid", "%s", config->uuid);
  add_machine (&b);
  add_boot (&b);
  add_channels (&b);
  add_rng_and_balloon (&b);
  if (!add_disks (&b, error) || !add_networks (&b, error))
    return NULL;
  if (!add_shares (&b, error) || !add_vsock (&b, error))
    return NULL;
  if (launch->incoming)
    add_option (&b, "-incoming", "fd:%d", MVM_FD_INCOMING);
  g_ptr_array_add (b.argv, NULL);
  /* g_ptr_array_steal() would leave the GPtrArray itself behind, leaked */
  return (GStrv)g_ptr_array_free (g_steal_pointer (&owner), FALSE);
}

void
mvm_launch_init_default (MvmLaunch *launch, const MvmGuestConfig *config, const char *kernel,
                         const char *initrd)
{
  int next_net = MVM_FD_NET_FIRST;

  memset (launch, 0, sizeof *launch);
  launch->kernel = kernel;
  launch->initrd = initrd;
  launch->qmp.fd = MVM_FD_QMP;
  launch->serial.fd = MVM_FD_SERIAL;
  launch->ready.fd = MVM_FD_READY;
  for (guint i = 0; i < G_N_ELEMENTS (launch->net_fds); i++)
    {
      const MvmNetwork *n = i < config->networks->len ? config->networks->pdata[i] : NULL;
      launch->net_fds[i] = n && n->mode != MVM_NET_MODE_NONE ? next_net++ : -1;
    }
  launch->vsock_cid
    = config->vsock ? (config->vsock_cid ? config->vsock_cid : mvm_vsock_derived_cid (config)) : 0;
  launch->kernel_fd = MVM_FD_KERNEL;
  launch->vhost_vsock_fd = config->vsock ? MVM_FD_VHOST_VSOCK : -1;
  launch->initrd_fd = initrd ? MVM_FD_INITRD : -1;
  for (guint i = 0, next = MVM_FD_VIRTIOFS_FIRST; i < MVM_MAX_SHARES; i++)
    {
      const MvmShare *s = i < config->shares->len ? config->shares->pdata[i] : NULL;
      launch->share_fds[i] = s && s->type == MVM_SHARE_VIRTIOFS ? (int)next++ : -1;
    }
  for (guint i = 0; i < MVM_MAX_DISKS; i++)
    {
      const MvmDisk *d = i < config->disks->len ? config->disks->pdata[i] : NULL;
      gboolean overlay = d && has_any_overlay (d);

      /* the disk under an overlay is its read-only backing: QEMU never gets it writable */
      launch->disk_fds[i][0] = d ? MVM_FD_DISK_FIRST + 2 * (int)i : -1;
      launch->disk_fds[i][1]
        = d && !d->read_only && !overlay ? MVM_FD_DISK_FIRST + 2 * (int)i + 1 : -1;
      launch->overlay_fds[i][0] = overlay ? MVM_FD_OVERLAY_FIRST + 2 * (int)i : -1;
      launch->overlay_fds[i][1] = overlay ? MVM_FD_OVERLAY_FIRST + 2 * (int)i + 1 : -1;
    }
}
