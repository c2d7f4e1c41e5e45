/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "mvm-guest-config.h"

#include <stdio.h>
#include <string.h>

#include "mvm-error.h"
#include "mvm-key-parser.h"
#include "mvm-value.h"

#define MAX_MEMORY (4ULL << 40)
/* QEMU 7.2's own bounds for TCG's translation buffer (tcg/region.c) */
#define MIN_TCG_CACHE (1024 * 1024ULL)
#define MAX_TCG_CACHE (2048 * 1024 * 1024ULL)
#define MAX_SHUTDOWN_TIMEOUT 3600

static const MvmEnumEntry os_entries[] = {
  { "linux", MVM_OS_LINUX },     { "netbsd", MVM_OS_NETBSD }, { "freebsd", MVM_OS_FREEBSD },
  { "openbsd", MVM_OS_OPENBSD }, { "other", MVM_OS_OTHER },   { NULL, 0 },
};
static const MvmEnumEntry transport_entries[] = {
  { "auto", MVM_TRANSPORT_AUTO },
  { "pcie", MVM_TRANSPORT_PCIE },
  { "mmio", MVM_TRANSPORT_MMIO },
  { NULL, 0 },
};
static const MvmEnumEntry restart_entries[] = {
  { "no", MVM_RESTART_NO },
  { "on-failure", MVM_RESTART_ON_FAILURE },
  { "always", MVM_RESTART_ALWAYS },
  { NULL, 0 },
};
static const MvmEnumEntry format_entries[] = {
  { "raw", MVM_DISK_FORMAT_RAW },
  { "qcow2", MVM_DISK_FORMAT_QCOW2 },
  { NULL, 0 },
};
static const MvmEnumEntry share_type_entries[] = {
  { "9p", MVM_SHARE_9P },
  { "virtiofs", MVM_SHARE_VIRTIOFS },
  { NULL, 0 },
};
static const MvmEnumEntry net_mode_entries[] = {
  { "none", MVM_NET_MODE_NONE },
  { "user", MVM_NET_MODE_USER },
  { "tap", MVM_NET_MODE_TAP },
  { "passt", MVM_NET_MODE_PASST },
  { NULL, 0 },
};

static const char *const guest_keys[] = {
  "Name",
  "OS",
  "Transport",
  "CPUs",
  "Memory",
  "Kernel",
  "Initrd",
  "CommandLine",
  "Autostart",
  "Restart",
  "ShutdownTimeoutSec",
  "Hostname",
  "Command",
  "StartFrom",
  "TCGCacheSize",
  NULL,
};
static const char *const disk_keys[] = { "Path", "Image", "Format", "ReadOnly", "Ephemeral", NULL };
static const char *const network_keys[]
  = { "Mode",    "Bridge",       "MAC",    "Address", "Gateway", "DNS",
      "Forward", "HostLoopback", "Egress", "AllowTo", NULL };
static const char *const share_keys[] = { "Type", "Path", "Tag", "ReadOnly", NULL };
static const char *const vsock_keys[] = { "CID", NULL };
static const char *const balloon_keys[]
  = { "FreePageReporting", "DeflateOnOOM", "SmallPages", NULL };

/* A fixed namespace for name-based guest UUIDs (RFC 4122 section 4.3). */
static const guint8 uuid_namespace[16] = { 0x6d, 0x76, 0x6d, 0x64, 0x2d, 0x67, 0x75, 0x65,
                                           0x73, 0x74, 0x40, 0x8a, 0x91, 0x3c, 0x5e, 0x01 };

static void
disk_free (gpointer p)
{
  MvmDisk *d = p;
  g_free (d->label);
  g_free (d->path);
  g_free (d->image);
  g_free (d);
}

static void
network_free (gpointer p)
{
  MvmNetwork *n = p;
  g_free (n->label);
  g_free (n->bridge);
  mvm_net_addressing_clear (&n->addressing);
  g_clear_pointer (&n->forwards, g_ptr_array_unref);
  mvm_egress_clear (&n->egress);
  g_free (n->mac);
  g_free (n);
}

static void
share_free (gpointer p)
{
  MvmShare *s = p;
  g_free (s->label);
  g_free (s->path);
  g_free (s->tag);
  g_free (s);
}

void
mvm_guest_config_free (MvmGuestConfig *config)
{
  if (config == NULL)
    return;
  g_free (config->name);
  g_free (config->uuid);
  g_free (config->source_path);
  g_free (config->kernel);
  g_free (config->initrd);
  g_free (config->command_line);
  g_free (config->hostname);
  g_free (config->start_from);
  g_strfreev (config->command);
  g_clear_pointer (&config->disks, g_ptr_array_unref);
  g_clear_pointer (&config->networks, g_ptr_array_unref);
  g_clear_pointer (&config->shares, g_ptr_array_unref);
  g_free (config);
}

const char *
mvm_os_to_string (MvmOs os)
{
  return mvm_enum_to_string (os_entries, os);
}

const char *
mvm_transport_to_string (MvmTransport transport)
{
  return mvm_enum_to_string (transport_entries, transport);
}

const char *
mvm_restart_to_string (MvmRestart restart)
{
  return mvm_enum_to_string (restart_entries, restart);
}

static char *
uuid_for_name (const char *name)
{
  g_autoptr (GChecksum) sum = g_checksum_new (G_CHECKSUM_SHA1);
  guint8 digest[20];
  gsize len = sizeof digest;

  g_checksum_update (sum, uuid_namespace, sizeof uuid_namespace);
  g_checksum_update (sum, (const guchar *)name, strlen (name));
  g_checksum_get_digest (sum, digest, &len);
  digest[6] = (digest[6] & 0x0f) | 0x50;
  digest[8] = (digest[8] & 0x3f) | 0x80;
  return g_strdup_printf ("%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
                          digest[0], digest[1], digest[2], digest[3], digest[4], digest[5],
                          digest[6], digest[7], digest[8], digest[9], digest[10], digest[11],
                          digest[12], digest[13], digest[14], digest[15]);
}

/* 52:54:00 (QEMU's prefix) and three bytes of SHA-1 over the UUID and the label. */
static char *
mac_for (const char *uuid, const char *label)
{
  g_autofree char *input = g_strconcat (uuid, "/", label, NULL);
  g_autoptr (GChecksum) sum = g_checksum_new (G_CHECKSUM_SHA1);
  guint8 digest[20];
  gsize len = sizeof digest;

  g_checksum_update (sum, (const guchar *)input, strlen (input));
  g_checksum_get_digest (sum, digest, &len);
  return g_strdup_printf ("52:54:00:%02x:%02x:%02x", digest[0], digest[1], digest[2]);
}

static gboolean
mac_is_valid (const char *mac)
{
  guint octets[6];
  char tail;

  if (strlen (mac) != 17)
    return FALSE;
  for (int i = 0; i < 17; i++)
    if ((i % 3 == 2) ? mac[i] != ':' : !g_ascii_isxdigit (mac[i]))
      return FALSE;
  if (sscanf (mac, "%x:%x:%x:%x:%x:%x%c", &octets[0], &octets[1], &octets[2], &octets[3],
              &octets[4], &octets[5], &tail)
      != 6)
    return FALSE;
  /* unicast, and not all zeros */
  return (octets[0] & 1) == 0
         && (octets[0] | octets[1] | octets[2] | octets[3] | octets[4] | octets[5]) != 0;
}

static gboolean
interface_name_is_valid (const char *name)
{
  gsize len = strlen (name);

  if (len == 0 || len > 15 || strcmp (name, ".") == 0 || strcmp (name, "..") == 0)
    return FALSE;
  for (gsize i = 0; i < len; i++)
    if (name[i] == '/' || name[i] == ':' || g_ascii_isspace (name[i]) || !g_ascii_isprint (name[i]))
      return FALSE;
  return TRUE;
}

static char *
name_from_file (const char *file_name)
{
  g_autofree char *base = g_path_get_basename (file_name);

  if (g_str_has_suffix (base, ".guest"))
    base[strlen (base) - strlen (".guest")] = '\0';
  return g_steal_pointer (&base);
}

static gboolean
parse_guest_name (const MvmKeyParser *p, MvmGuestConfig *c, GError **error)
{
  g_autofree char *name = NULL;

  if (!mvm_key_parser_get_string (p, "Guest", "Name", &name, error))
    return FALSE;
  if ((name == NULL || name[0] == '\0') && p->file_name == NULL)
    return mvm_key_parser_fail (p, "Guest", "Name", error,
                                "missing; a guest file sent without a file name must give Name=");
  if (name == NULL || name[0] == '\0')
    {
      g_free (name);
      name = name_from_file (p->file_name);
      if (!mvm_name_is_valid (name))
        return mvm_key_parser_fail (p, "Guest", "Name", error,
                                    "no Name= given and the file name '%s' is not a valid guest "
                                    "name; use letters, digits, '_', '.' and '-', at most 63, "
                                    "starting with a letter or digit",
                                    name);
    }
  else if (!mvm_name_is_valid (name))
    return mvm_key_parser_fail (p, "Guest", "Name", error,
                                "'%s' is not a valid guest name; use letters, digits, '_', '.' "
                                "and '-', at most 63, starting with a letter or digit, no '..'",
                                name);
  c->name = g_steal_pointer (&name);
  c->uuid = uuid_for_name (c->name);
  return TRUE;
}

static gboolean
parse_command_line (const MvmKeyParser *p, MvmGuestConfig *c, GError **error)
{
  if (!mvm_key_parser_get_string (p, "Guest", "CommandLine", &c->command_line, error))
    return FALSE;
  if (strpbrk (c->command_line, "\n\r") != NULL)
    return mvm_key_parser_fail (p, "Guest", "CommandLine", error,
                                "the kernel command line must be one line");
  if (strlen (c->command_line) > MVM_MAX_COMMAND_LINE)
    return mvm_key_parser_fail (p, "Guest", "CommandLine", error,
                                "%zu bytes is too long; at most %d bytes", strlen (c->command_line),
                                MVM_MAX_COMMAND_LINE);
  return TRUE;
}

static gboolean
parse_hostname (const MvmKeyParser *p, MvmGuestConfig *c, GError **error)
{
  if (!mvm_key_parser_get_string (p, "Guest", "Hostname", &c->hostname, error))
    return FALSE;
  if (c->hostname && !mvm_hostname_is_valid (c->hostname))
    return mvm_key_parser_fail (p, "Guest", "Hostname", error,
                                "'%s' is not a host name (labels of letters, digits and '-', "
                                "at most 63 characters each, 253 in all)",
                                c->hostname);
  return TRUE;
}

/* StartFrom=: a snapshot of this guest, by name */
static gboolean
parse_start_from (const MvmKeyParser *p, MvmGuestConfig *c, GError **error)
{
  if (!mvm_key_parser_get_string (p, "Guest", "StartFrom", &c->start_from, error))
    return FALSE;
  if (c->start_from && !mvm_name_is_valid (c->start_from))
    return mvm_key_parser_fail (p, "Guest", "StartFrom", error,
                                "'%s' is not a snapshot name (letters, digits, '_', '.', '-'; "
                                "at most 63)",
                                c->start_from);
  return TRUE;
}

/* Command=: words as a shell splits them (quotes, backslashes), nothing expanded */
static gboolean
parse_command (const MvmKeyParser *p, MvmGuestConfig *c, GError **error)
{
  g_autofree char *text = NULL;
  g_autoptr (GError) local = NULL;

  if (!mvm_key_parser_get_string (p, "Guest", "Command", &text, error))
    return FALSE;
  if (text == NULL || text[0] == '\0')
    return TRUE;
  if (!g_shell_parse_argv (text, NULL, &c->command, &local))
    return mvm_key_parser_fail (p, "Guest", "Command", error, "%s", local->message);
  return TRUE;
}

static gboolean
parse_guest_group (const MvmKeyParser *p, MvmGuestConfig *c, GError **error)
{
  const char *g = "Guest";
  int os = MVM_OS_LINUX, transport = MVM_TRANSPORT_AUTO, restart = MVM_RESTART_NO;
  guint64 cpus = 1, memory = 256 * 1024 * 1024ULL, timeout = 30, tcg_cache = 0;

  if (!mvm_key_parser_check_keys (p, g, guest_keys, error) || !parse_guest_name (p, c, error)
      || !mvm_key_parser_get_enum (p, g, "OS", os_entries, &os, error)
      || !mvm_key_parser_get_enum (p, g, "Transport", transport_entries, &transport, error)
      || !mvm_key_parser_get_uint (p, g, "CPUs", 1, MVM_MAX_CPUS, &cpus, error)
      || !mvm_key_parser_get_size (p, g, "Memory", MVM_MIN_MEMORY, MAX_MEMORY, &memory, error)
      || !mvm_key_parser_get_path (p, g, "Kernel", &c->kernel, error)
      || !mvm_key_parser_get_path (p, g, "Initrd", &c->initrd, error)
      || !parse_command_line (p, c, error) || !parse_hostname (p, c, error)
      || !parse_command (p, c, error) || !parse_start_from (p, c, error)
      || !mvm_key_parser_get_bool (p, g, "Autostart", &c->autostart, error)
      || !mvm_key_parser_get_enum (p, g, "Restart", restart_entries, &restart, error)
      || !mvm_key_parser_get_uint (p, g, "ShutdownTimeoutSec", 1, MAX_SHUTDOWN_TIMEOUT, &timeout,
                                   error)
      || !mvm_key_parser_get_size (p, g, "TCGCacheSize", MIN_TCG_CACHE, MAX_TCG_CACHE, &tcg_cache,
                                   error))
    return FALSE;
  if (memory % (1024 * 1024) != 0)
    return mvm_key_parser_fail (p, g, "Memory", error, "must be a whole number of megabytes (M)");
  if (tcg_cache % (1024 * 1024) != 0)
    return mvm_key_parser_fail (p, g, "TCGCacheSize", error,
                                "must be a whole number of megabytes (M)");
  if (transport == MVM_TRANSPORT_AUTO)
    transport = os == MVM_OS_LINUX ? MVM_TRANSPORT_PCIE : MVM_TRANSPORT_MMIO;
  c->os = os;
  c->transport = transport;
  c->restart = restart;
  c->cpus = cpus;
  c->memory = memory;
  c->tcg_cache = tcg_cache;
  c->shutdown_timeout_sec = timeout;
  return TRUE;
}

/* Path= or Image=, one of them; an imported image is a raw ext4 file of the daemon's */
static gboolean
check_disk_source (const MvmKeyParser *p, const char *group, const MvmDisk *d, int format,
                   GError **error)
{
  if (d->path && d->image)
    return mvm_key_parser_fail (p, group, "Image", error, "a disk has Path= or Image=, not both");
  if (d->image && !mvm_name_is_valid (d->image))
    return mvm_key_parser_fail (p, group, "Image", error,
                                "'%s' is not an image name (letters, digits, '_', '.', '-')",
                                d->image);
  if (d->image && format != MVM_DISK_FORMAT_RAW)
    return mvm_key_parser_fail (p, group, "Format", error,
                                "an imported image is raw; Format= does not apply to Image=");
  if (d->path == NULL && d->image == NULL)
    return mvm_key_parser_fail (p, group, "Path", error,
                                "a disk needs Path=, an absolute path, or Image=, an imported "
                                "image's name");
  return TRUE;
}

static gboolean
parse_disk (const MvmKeyParser *p, const char *group, const char *label, MvmGuestConfig *c,
            GError **error)
{
  g_autoptr (GPtrArray) owner = g_ptr_array_new_with_free_func (disk_free);
  MvmDisk *d = g_new0 (MvmDisk, 1);
  int format = MVM_DISK_FORMAT_RAW;

  g_ptr_array_add (owner, d);
  d->label = g_strdup (label);
  if (c->disks->len >= MVM_MAX_DISKS)
    return mvm_key_parser_fail (p, group, NULL, error, "too many disks; at most %d", MVM_MAX_DISKS);
  if (!mvm_key_parser_check_keys (p, group, disk_keys, error)
      || !mvm_key_parser_get_path (p, group, "Path", &d->path, error)
      || !mvm_key_parser_get_string (p, group, "Image", &d->image, error)
      || !mvm_key_parser_get_enum (p, group, "Format", format_entries, &format, error)
      || !mvm_key_parser_get_bool (p, group, "ReadOnly", &d->read_only, error)
      || !mvm_key_parser_get_bool (p, group, "Ephemeral", &d->ephemeral, error))
    return FALSE;
  if (!check_disk_source (p, group, d, format, error))
    return FALSE;
  d->format = format;
  g_ptr_array_add (c->disks, g_ptr_array_steal_index (owner, 0));
  return TRUE;
}

static gboolean
parse_host_loopback (const MvmKeyParser *p, const char *group, MvmNetwork *n, GError **error)
{
  gboolean value = FALSE;

  n->host_loopback = -1;
  if (!mvm_key_parser_get_bool (p, group, "HostLoopback", &value, error))
    return FALSE;
  if (mvm_key_lines_lookup (p->lines, group, "HostLoopback") == 0)
    return TRUE;
  if (!mvm_network_is_user_mode (n))
    return mvm_key_parser_fail (p, group, "HostLoopback", error,
                                "only applies to Mode=user and Mode=passt");
  n->host_loopback = value;
  return TRUE;
}

static gboolean
parse_network (const MvmKeyParser *p, const char *group, const char *label, MvmGuestConfig *c,
               GError **error)
{
  g_autoptr (GPtrArray) owner = g_ptr_array_new_with_free_func (network_free);
  MvmNetwork *n = g_new0 (MvmNetwork, 1);
  int mode = MVM_NET_MODE_USER;

  g_ptr_array_add (owner, n);
  n->label = g_strdup (label);
  if (c->networks->len >= MVM_MAX_NETWORKS)
    return mvm_key_parser_fail (p, group, NULL, error, "too many networks; at most %d",
                                MVM_MAX_NETWORKS);
  if (!mvm_key_parser_check_keys (p, group, network_keys, error)
      || !mvm_key_parser_get_enum (p, group, "Mode", net_mode_entries, &mode, error)
      || !mvm_key_parser_get_string (p, group, "Bridge", &n->bridge, error)
      || !mvm_key_parser_get_string (p, group, "MAC", &n->mac, error)
      || !mvm_net_addressing_parse (p, group, &n->addressing, error)
      || !mvm_forwards_parse (p, group, &n->forwards, error))
    return FALSE;
  n->mode = mode;
  if (n->forwards->len > 0 && !mvm_network_is_user_mode (n))
    return mvm_key_parser_fail (p, group, "Forward", error,
                                "only applies to Mode=user and Mode=passt");
  if (!parse_host_loopback (p, group, n, error) || !mvm_egress_parse (p, group, &n->egress, error))
    return FALSE;
  if (n->egress.deny && n->mode != MVM_NET_MODE_TAP)
    return mvm_key_parser_fail (p, group, "Egress", error,
                                "deny is enforced on Mode=tap cards only (by nftables on the "
                                "tap); passt and QEMU's user-mode network have no filter per "
                                "destination");
  if (n->bridge && n->bridge[0] == '\0')
    g_clear_pointer (&n->bridge, g_free);
  if (n->bridge && mode != MVM_NET_MODE_TAP)
    return mvm_key_parser_fail (p, group, "Bridge", error, "only applies to Mode=tap");
  if (n->bridge && !interface_name_is_valid (n->bridge))
    return mvm_key_parser_fail (p, group, "Bridge", error,
                                "'%s' is not a valid interface name (1 to 15 characters, no '/', "
                                "':' or spaces)",
                                n->bridge);
  if (n->mac && n->mac[0] == '\0')
    g_clear_pointer (&n->mac, g_free);
  if (n->mac && !mac_is_valid (n->mac))
    return mvm_key_parser_fail (p, group, "MAC", error,
                                "'%s' is not a unicast MAC address like 52:54:00:12:34:56", n->mac);
  if (n->mac == NULL)
    n->mac = mac_for (c->uuid, label);
  g_ptr_array_add (c->networks, g_ptr_array_steal_index (owner, 0));
  return TRUE;
}

static gboolean
parse_share (const MvmKeyParser *p, const char *group, const char *label, MvmGuestConfig *c,
             GError **error)
{
  g_autoptr (GPtrArray) owner = g_ptr_array_new_with_free_func (share_free);
  MvmShare *s = g_new0 (MvmShare, 1);
  int type = MVM_SHARE_9P;

  g_ptr_array_add (owner, s);
  s->label = g_strdup (label);
  s->read_only = TRUE;
  if (c->shares->len >= MVM_MAX_SHARES)
    return mvm_key_parser_fail (p, group, NULL, error, "too many shares; at most %d",
                                MVM_MAX_SHARES);
  if (!mvm_key_parser_check_keys (p, group, share_keys, error)
      || !mvm_key_parser_get_enum (p, group, "Type", share_type_entries, &type, error)
      || !mvm_key_parser_get_path (p, group, "Path", &s->path, error)
      || !mvm_key_parser_get_string (p, group, "Tag", &s->tag, error)
      || !mvm_key_parser_get_bool (p, group, "ReadOnly", &s->read_only, error))
    return FALSE;
  if (s->path == NULL)
    return mvm_key_parser_fail (p, group, "Path", error, "a share needs Path=, an absolute path");
  s->type = type;
  if (s->tag == NULL || s->tag[0] == '\0')
    {
      g_free (s->tag);
      s->tag = g_strdup (label);
    }
  if (!mvm_name_is_valid (s->tag) || strlen (s->tag) > 31)
    return mvm_key_parser_fail (p, group, "Tag", error,
                                "'%s' is not a valid mount tag (letters, digits, '_', '.', '-', at "
                                "most 31)",
                                s->tag);
  /* at most MVM_MAX_SHARES earlier shares: the scan is bounded */
  for (guint i = 0; i < c->shares->len; i++)
    if (g_str_equal (((MvmShare *)c->shares->pdata[i])->tag, s->tag))
      return mvm_key_parser_fail (p, group, "Tag", error, "tag '%s' is used by another share",
                                  s->tag);
  g_ptr_array_add (c->shares, g_ptr_array_steal_index (owner, 0));
  return TRUE;
}

static gboolean
parse_vsock (const MvmKeyParser *p, MvmGuestConfig *c, GError **error)
{
  g_autofree char *cid = NULL;
  guint64 v = 0;

  if (!mvm_key_parser_check_keys (p, "Vsock", vsock_keys, error)
      || !mvm_key_parser_get_string (p, "Vsock", "CID", &cid, error))
    return FALSE;
  c->vsock = TRUE;
  if (cid == NULL || cid[0] == '\0' || g_str_equal (cid, "auto"))
    return TRUE;
  if (!mvm_parse_uint (cid, 3, G_MAXUINT32 - 1, &v))
    return mvm_key_parser_fail (p, "Vsock", "CID", error,
                                "'%s' is neither auto nor a number from 3 to 4294967294", cid);
  c->vsock_cid = v;
  return TRUE;
}

static gboolean
parse_balloon (const MvmKeyParser *p, MvmGuestConfig *c, GError **error)
{
  return mvm_key_parser_check_keys (p, "Balloon", balloon_keys, error)
         && mvm_key_parser_get_bool (p, "Balloon", "FreePageReporting",
                                     &c->balloon_free_page_reporting, error)
         && mvm_key_parser_get_bool (p, "Balloon", "DeflateOnOOM", &c->balloon_deflate_on_oom,
                                     error)
         && mvm_key_parser_get_bool (p, "Balloon", "SmallPages", &c->balloon_small_pages, error);
}

typedef gboolean (*LabelledParser) (const MvmKeyParser *p, const char *group, const char *label,
                                    MvmGuestConfig *c, GError **error);

static gboolean
parse_labelled (const MvmKeyParser *p, const char *group, MvmGuestConfig *c, GError **error)
{
  static const struct
  {
    const char *prefix;
    LabelledParser parse;
  } kinds[] = { { "Disk ", parse_disk }, { "Network ", parse_network }, { "Share ", parse_share } };

  for (gsize i = 0; i < G_N_ELEMENTS (kinds); i++)
    {
      const char *label = group + strlen (kinds[i].prefix);
      if (!g_str_has_prefix (group, kinds[i].prefix))
        continue;
      if (!mvm_name_is_valid (label))
        return mvm_key_parser_fail (p, group, NULL, error,
                                    "'%s' is not a valid label; use letters, digits, '_', '.' and "
                                    "'-', starting with a letter or digit",
                                    label);
      return kinds[i].parse (p, group, label, c, error);
    }
  return mvm_key_parser_fail (p, group, NULL, error,
                              "unknown group; use [Guest], [Disk LABEL], [Network LABEL], "
                              "[Share LABEL], [Vsock] or [Balloon]");
}

static gboolean
parse_group (const MvmKeyParser *p, const char *group, MvmGuestConfig *c, GError **error)
{
  if (g_str_equal (group, "Guest"))
    return TRUE; /* parsed first, since others derive from its name */
  if (g_str_equal (group, "Vsock"))
    return parse_vsock (p, c, error);
  if (g_str_equal (group, "Balloon"))
    return parse_balloon (p, c, error);
  return parse_labelled (p, group, c, error);
}

static MvmGuestConfig *
guest_config_new_empty (void)
{
  MvmGuestConfig *c = g_new0 (MvmGuestConfig, 1);

  c->command_line = g_strdup ("");
  c->disks = g_ptr_array_new_with_free_func (disk_free);
  c->networks = g_ptr_array_new_with_free_func (network_free);
  c->shares = g_ptr_array_new_with_free_func (share_free);
  c->balloon_free_page_reporting = TRUE;
  c->balloon_deflate_on_oom = TRUE;
  return c;
}

MvmGuestConfig *
mvm_guest_config_new_from_data (const char *data, gsize length, const char *file_name,
                                GError **error)
{
  g_autoptr (MvmGuestConfig) c = guest_config_new_empty ();
  MvmKeyParser p = { 0 };
  g_auto (GStrv) groups = NULL;
  gboolean ok;

  /* before any parsing: a large file must cost nothing */
  if (length > MVM_MAX_GUEST_FILE)
    {
      g_set_error (error, MVM_ERROR, MVM_ERROR_INVALID_CONFIG,
                   "%s: the guest file is %" G_GSIZE_FORMAT " bytes; at most %d are allowed",
                   file_name ? file_name : "guest file", length, MVM_MAX_GUEST_FILE);
      return NULL;
    }
  if (!mvm_key_parser_init (&p, data, length, file_name, mvm_network_list_keys, error))
    return NULL;
  groups = g_key_file_get_groups (p.keyfile, NULL);
  ok = g_key_file_has_group (p.keyfile, "Guest")
         ? parse_guest_group (&p, c, error)
         : mvm_key_parser_fail (&p, NULL, NULL, error,
                                "no [Guest] group; every guest file needs one");
  for (guint i = 0; ok && groups[i]; i++)
    ok = parse_group (&p, groups[i], c, error);
  mvm_key_parser_clear (&p);
  if (!ok)
    return NULL;
  return g_steal_pointer (&c);
}

MvmGuestConfig *
mvm_guest_config_new_from_file (const char *path, GError **error)
{
  g_autofree char *data = NULL;
  gsize length = 0;
  MvmGuestConfig *c;

  if (!g_file_get_contents (path, &data, &length, error))
    return NULL;
  c = mvm_guest_config_new_from_data (data, length, path, error);
  if (c)
    c->source_path = g_strdup (path);
  return c;
}

gboolean
mvm_disk_has_overlay (const MvmDisk *disk)
{
  return disk->image != NULL && !disk->read_only && !disk->ephemeral;
}

gboolean
mvm_disk_has_ephemeral_overlay (const MvmDisk *disk)
{
  return disk->ephemeral && !disk->read_only;
}
