/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "mvm-host-facts.h"

#include <fcntl.h>
#include <string.h>
#include <time.h>
#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#endif
#include <linux/kvm.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <gio/gio.h>

#include "mvm-error.h"

void
mvm_host_facts_free (MvmHostFacts *facts)
{
  if (facts == NULL)
    return;
  g_free (facts->qemu_binary);
  g_free (facts->qemu_version);
  g_free (facts->qboot_rom);
  g_free (facts->passt);
  g_free (facts->virtiofsd);
  g_free (facts->note);
  g_free (facts);
}

const char *
mvm_host_facts_accelerator (const MvmHostFacts *facts)
{
  return facts->kvm ? "kvm" : "tcg";
}

/* Usable means we may open it and it speaks the stable API, not merely that it exists. */
static gboolean
kvm_usable (void)
{
  int fd = open ("/dev/kvm", O_RDWR | O_CLOEXEC);
  gboolean ok;

  if (fd < 0)
    return FALSE;
  ok = ioctl (fd, KVM_GET_API_VERSION, 0) == KVM_API_VERSION;
  close (fd);
  return ok;
}

/* /dev/kvm can answer and still be unable to run a guest CPU: nested setups that refuse
 * -cpu host's MSRs make QEMU abort at reset. One paused QEMU that quits at once tells. */
typedef struct
{
  gboolean done;
  gboolean ok;
} KvmProbe;

static void
on_probe_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  KvmProbe *probe = user_data;
  GSubprocess *qemu = G_SUBPROCESS (source);

  probe->ok = g_subprocess_communicate_utf8_finish (qemu, result, NULL, NULL, NULL)
              && g_subprocess_get_if_exited (qemu) && g_subprocess_get_exit_status (qemu) == 0;
  probe->done = TRUE;
}

static gboolean
on_probe_timeout (gpointer user_data)
{
  g_subprocess_force_exit (user_data);
  return G_SOURCE_REMOVE;
}

static gboolean
qemu_runs_kvm (const char *binary)
{
  const char *argv[] = { binary,     "-M",          "microvm,x-option-roms=off",
                         "-accel",   "kvm",         "-cpu",
                         "host",     "-nodefaults", "-no-user-config",
                         "-display", "none",        "-S",
                         "-qmp",     "stdio",       NULL };
  g_autoptr (GMainContext) context = g_main_context_new ();
  g_autoptr (GSource) timeout = g_timeout_source_new_seconds (10); /* a hung QEMU: no KVM */
  g_autoptr (GSubprocess) qemu = NULL;
  KvmProbe probe = { FALSE, FALSE };

  /* a private context: probing never runs the caller's main loop */
  g_main_context_push_thread_default (context);
  qemu = g_subprocess_newv (argv,
                            G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_SILENCE
                              | G_SUBPROCESS_FLAGS_STDERR_SILENCE,
                            NULL);
  if (qemu)
    {
      g_source_set_callback (timeout, on_probe_timeout, qemu, NULL);
      g_source_attach (timeout, context);
      g_subprocess_communicate_utf8_async (
        qemu, "{\"execute\":\"qmp_capabilities\"}\n{\"execute\":\"quit\"}\n", NULL, on_probe_done,
        &probe);
      while (!probe.done)
        g_main_context_iteration (context, TRUE);
      g_source_destroy (timeout);
    }
  g_main_context_pop_thread_default (context);
  return probe.ok;
}

static char *
probe_version (const char *binary, GError **error)
{
  const char *argv[] = { binary, "--version", NULL };
  g_autofree char *out = NULL;
  g_autoptr (GRegex) re = g_regex_new ("version ([0-9]+\\.[0-9]+(\\.[0-9]+)?)", 0, 0, NULL);
  g_autoptr (GMatchInfo) match = NULL;
  int status = 0;

  if (!g_spawn_sync (NULL, (char **)argv, NULL, G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL, &out, NULL,
                     &status, error))
    {
      g_prefix_error (error, "cannot run %s --version: ", binary);
      return NULL;
    }
  if (!g_spawn_check_wait_status (status, NULL) || !g_regex_match (re, out, 0, &match))
    {
      g_set_error (error, MVM_ERROR, MVM_ERROR_QEMU_FAILED,
                   "%s --version did not print a QEMU version", binary);
      return NULL;
    }
  return g_match_info_fetch (match, 1);
}

static char *
find_qboot (const char *binary)
{
  g_autofree char *bindir = g_path_get_dirname (binary);
  g_autofree char *near = g_build_filename (bindir, "..", "share", "qemu", "qboot.rom", NULL);
  g_autofree char *canonical = g_canonicalize_filename (near, NULL);

  if (g_file_test (canonical, G_FILE_TEST_IS_REGULAR))
    return g_steal_pointer (&canonical);
  if (g_file_test ("/usr/share/qemu/qboot.rom", G_FILE_TEST_IS_REGULAR))
    return g_strdup ("/usr/share/qemu/qboot.rom");
  return NULL;
}

/* QEMU's own virtiofsd: beside the QEMU in use (a build's tools/virtiofsd, or the lib/qemu
 * or libexec folder of its prefix), then where distributions put it. */
static char *
find_virtiofsd (const char *binary)
{
  g_autofree char *bindir = g_path_get_dirname (binary);
  const char *const near[] = { "../lib/qemu/virtiofsd", "../libexec/virtiofsd" };
  const char *const system[] = { "/usr/lib/qemu/virtiofsd", "/usr/libexec/virtiofsd" };

  for (guint i = 0; i < G_N_ELEMENTS (near); i++)
    {
      g_autofree char *path = g_build_filename (bindir, near[i], NULL);
      g_autofree char *canonical = g_canonicalize_filename (path, NULL);
      if (g_file_test (canonical, G_FILE_TEST_IS_EXECUTABLE))
        return g_steal_pointer (&canonical);
    }
  for (guint i = 0; i < G_N_ELEMENTS (system); i++)
    if (g_file_test (system[i], G_FILE_TEST_IS_EXECUTABLE))
      return g_strdup (system[i]);
  return NULL;
}

#define TSC_CALIBRATION_NSEC (10 * 1000 * 1000)

static gint64
nsec_since (const struct timespec *start)
{
  struct timespec now;

  clock_gettime (CLOCK_MONOTONIC_RAW, &now);
  return (now.tv_sec - start->tv_sec) * 1000000000LL + (now.tv_nsec - start->tv_nsec);
}

/* The guest's TSC under TCG ticks with the host's. "cpu MHz" in /proc/cpuinfo is the TSC
 * rate only where nothing scales the clock (most VMs); counting TSC ticks against the raw
 * monotonic clock for 10 ms holds on any x86 host. Rounded to whole MHz, so the argv is
 * the same from one probe to the next. */
static guint64
calibrate_tsc_khz (void)
{
#if defined(__x86_64__) || defined(__i386__)
  struct timespec start;
  guint64 t0, ticks;
  gint64 ns;

  clock_gettime (CLOCK_MONOTONIC_RAW, &start);
  t0 = __rdtsc ();
  while ((ns = nsec_since (&start)) < TSC_CALIBRATION_NSEC)
    ;
  ticks = __rdtsc () - t0;
  return (guint64)((double)ticks * 1e6 / (double)ns / 1000.0 + 0.5) * 1000;
#else
  return 0;
#endif
}

static guint64
probe_tsc_khz (void)
{
  g_autofree char *cpuinfo = NULL;
  const char *line;
  double mhz;
  guint64 khz = calibrate_tsc_khz ();

  if (khz > 0)
    return khz;
  if (!g_file_get_contents ("/proc/cpuinfo", &cpuinfo, NULL, NULL))
    return 0;
  line = strstr (cpuinfo, "cpu MHz");
  if (line == NULL || (line = strchr (line, ':')) == NULL)
    return 0;
  mhz = g_ascii_strtod (line + 1, NULL);
  return mhz > 0 ? (guint64)(mhz * 1000.0 + 0.5) : 0;
}

static char *
resolve_binary (const char *binary, GError **error)
{
  char *path = g_path_is_absolute (binary) ? g_strdup (binary) : g_find_program_in_path (binary);

  if (path == NULL || !g_file_test (path, G_FILE_TEST_IS_EXECUTABLE))
    {
      g_set_error (error, MVM_ERROR, MVM_ERROR_QEMU_FAILED,
                   "QEMU binary '%s' not found; install qemu-system-x86 or set QemuBinary= in "
                   "microvmd.conf",
                   binary);
      g_free (path);
      return NULL;
    }
  return path;
}

MvmHostFacts *
mvm_host_facts_probe (const char *qemu_binary, MvmAccel accel, GError **error)
{
  g_autoptr (MvmHostFacts) facts = g_new0 (MvmHostFacts, 1);
  gboolean assume_kvm;

  facts->qemu_binary = resolve_binary (qemu_binary, error);
  if (facts->qemu_binary == NULL)
    return NULL;
  facts->qemu_version = probe_version (facts->qemu_binary, error);
  if (facts->qemu_version == NULL)
    return NULL;
  /* MICROVMD_ASSUME_KVM=1, for tests of the fallback to TCG on hosts without KVM */
  assume_kvm = g_strcmp0 (g_getenv ("MICROVMD_ASSUME_KVM"), "1") == 0;
  facts->kvm = accel != MVM_ACCEL_TCG && (assume_kvm || kvm_usable ());
  if (facts->kvm && !assume_kvm && !qemu_runs_kvm (facts->qemu_binary))
    {
      facts->kvm = FALSE;
      facts->note = g_strdup ("/dev/kvm is there, but QEMU cannot run a '-cpu host' guest on it "
                              "(a nested setup?); using TCG");
    }
  if (accel == MVM_ACCEL_KVM && !facts->kvm)
    {
      g_set_error (error, MVM_ERROR, MVM_ERROR_FAILED, "Accelerator=kvm, but %s",
                   facts->note ? facts->note : "/dev/kvm is missing or not usable by this user");
      return NULL;
    }
  facts->vhost_vsock = access ("/dev/vhost-vsock", R_OK | W_OK) == 0;
  facts->qboot_rom = find_qboot (facts->qemu_binary);
  facts->passt = g_find_program_in_path ("passt");
  facts->virtiofsd = find_virtiofsd (facts->qemu_binary);
  facts->tsc_khz = probe_tsc_khz ();
  return g_steal_pointer (&facts);
}
