/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "mvm-network-config.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

const char *const mvm_network_list_keys[]
  = { "Address", "Gateway", "DNS", "Forward", "AllowTo", NULL };

/* AF_INET or AF_INET6 for a plain address, 0 for anything else */
static int
address_family (const char *text)
{
  unsigned char buf[sizeof (struct in6_addr)];

  if (inet_pton (AF_INET, text, buf) == 1)
    return AF_INET;
  if (inet_pton (AF_INET6, text, buf) == 1)
    return AF_INET6;
  return 0;
}

/* ADDR/LEN with LEN in range for ADDR's family */
static gboolean
cidr_is_valid (const char *text)
{
  const char *slash = strchr (text, '/');
  g_autofree char *address = NULL;
  char *end;
  long len;
  int family;

  if (slash == NULL || slash[1] == '\0')
    return FALSE;
  address = g_strndup (text, slash - text);
  family = address_family (address);
  len = strtol (slash + 1, &end, 10);
  return family != 0 && *end == '\0' && g_ascii_isdigit (slash[1]) && len >= 1
         && len <= (family == AF_INET ? 32 : 128);
}

static gboolean
check_address (const char *word, gpointer data, char **why)
{
  if (g_str_equal (word, "dhcp") || cidr_is_valid (word))
    return TRUE;
  *why = g_strdup ("is neither an address with its prefix length, like 10.0.0.2/24 or "
                   "fd00::2/64, nor 'dhcp'");
  return FALSE;
}

static gboolean
check_ip (const char *word, gpointer data, char **why)
{
  if (address_family (word) != 0)
    return TRUE;
  *why = g_strdup ("is not an IPv4 or IPv6 address");
  return FALSE;
}

/* @data: gboolean[2], an IPv4 and an IPv6 gateway seen */
static gboolean
check_gateway (const char *word, gpointer data, char **why)
{
  gboolean *seen = data;
  int family = address_family (word);

  if (!check_ip (word, NULL, why))
    return FALSE;
  if (seen[family == AF_INET6])
    {
      *why = g_strdup ("is one gateway too many: one IPv4 and one IPv6 at most");
      return FALSE;
    }
  seen[family == AF_INET6] = TRUE;
  return TRUE;
}

gboolean
mvm_net_addressing_parse (const MvmKeyParser *p, const char *group, MvmNetAddressing *out,
                          GError **error)
{
  gboolean gateways_seen[2] = { FALSE, FALSE };

  return mvm_key_parser_get_list (p, group, "Address", check_address, NULL, &out->addresses, error)
         && mvm_key_parser_get_list (p, group, "Gateway", check_gateway, gateways_seen,
                                     &out->gateways, error)
         && mvm_key_parser_get_list (p, group, "DNS", check_ip, NULL, &out->dns, error);
}

void
mvm_net_addressing_clear (MvmNetAddressing *a)
{
  g_clear_pointer (&a->addresses, g_strfreev);
  g_clear_pointer (&a->gateways, g_strfreev);
  g_clear_pointer (&a->dns, g_strfreev);
}

char *
mvm_net_addressing_kernel_arg (const MvmNetAddressing *a, const char *mac, gboolean dhcp_by_default)
{
  GString *arg;

  if (a->addresses == NULL && !dhcp_by_default && a->gateways == NULL && a->dns == NULL)
    return NULL;
  arg = g_string_new ("microvmd.net=");
  g_string_append (arg, mac);
  if (a->addresses == NULL && dhcp_by_default)
    g_string_append (arg, ",dhcp");
  for (guint i = 0; a->addresses && a->addresses[i]; i++)
    g_string_append_printf (arg, ",%s", a->addresses[i]);
  for (guint i = 0; a->gateways && a->gateways[i]; i++)
    g_string_append_printf (arg, ",gw=%s", a->gateways[i]);
  for (guint i = 0; a->dns && a->dns[i]; i++)
    g_string_append_printf (arg, ",dns=%s", a->dns[i]);
  return g_string_free (arg, FALSE);
}

gboolean
mvm_hostname_is_valid (const char *name)
{
  g_auto (GStrv) labels = NULL;

  if (name == NULL || name[0] == '\0' || strlen (name) > 253)
    return FALSE;
  labels = g_strsplit (name, ".", -1);
  for (guint i = 0; labels[i]; i++)
    {
      size_t len = strlen (labels[i]);
      if (len == 0 || len > 63 || labels[i][0] == '-' || labels[i][len - 1] == '-')
        return FALSE;
      for (size_t c = 0; c < len; c++)
        if (!g_ascii_isalnum (labels[i][c]) && labels[i][c] != '-')
          return FALSE;
    }
  return TRUE;
}

/* --- Forward= -------------------------------------------------------------------------- */

static gboolean
parse_port (const char *text, guint16 *out)
{
  guint64 port;

  if (!g_ascii_string_to_unsigned (text, 10, 1, 65535, &port, NULL))
    return FALSE;
  *out = port;
  return TRUE;
}

static void
forward_free (gpointer p)
{
  MvmForward *f = p;
  g_free (f->host_address);
  g_free (f);
}

static MvmForward *
forward_parse (const char *word, char **why)
{
  g_auto (GStrv) parts = g_strsplit (word, ":", -1);
  guint n = g_strv_length (parts);
  MvmForward f = { 0 };

  if ((n != 3 && n != 4) || !(g_str_equal (parts[0], "tcp") || g_str_equal (parts[0], "udp")))
    {
      *why = g_strdup ("is not PROTOCOL:[HOSTADDRESS:]HOSTPORT:GUESTPORT with PROTOCOL tcp or "
                       "udp, like tcp:8080:80 or tcp:127.0.0.1:8080:80");
      return NULL;
    }
  if (n == 4 && address_family (parts[1]) != AF_INET)
    {
      *why = g_strdup_printf ("has '%s' for the host address, not an IPv4 address", parts[1]);
      return NULL;
    }
  if (!parse_port (parts[n - 2], &f.host_port) || !parse_port (parts[n - 1], &f.guest_port))
    {
      *why = g_strdup ("has a port that is not a number from 1 to 65535");
      return NULL;
    }
  f.udp = g_str_equal (parts[0], "udp");
  f.host_address = n == 4 ? g_strdup (parts[1]) : NULL;
  return g_memdup2 (&f, sizeof f);
}

static gboolean
check_forward (const char *word, gpointer data, char **why)
{
  MvmForward *f = forward_parse (word, why);

  if (f == NULL)
    return FALSE;
  forward_free (f);
  return TRUE;
}

static gboolean
forwards_clash (const GPtrArray *forwards, const MvmForward *f)
{
  for (guint i = 0; i < forwards->len; i++)
    {
      const MvmForward *o = forwards->pdata[i];
      if (o->udp == f->udp && o->host_port == f->host_port)
        return TRUE;
    }
  return FALSE;
}

gboolean
mvm_forwards_parse (const MvmKeyParser *p, const char *group, GPtrArray **out, GError **error)
{
  g_autoptr (GPtrArray) forwards = g_ptr_array_new_with_free_func (forward_free);
  g_auto (GStrv) words = NULL;

  if (!mvm_key_parser_get_list (p, group, "Forward", check_forward, NULL, &words, error))
    return FALSE;
  for (guint i = 0; words && words[i]; i++)
    {
      g_autofree char *why = NULL;
      MvmForward *f = forward_parse (words[i], &why);
      if (forwards_clash (forwards, f))
        {
          forward_free (f);
          return mvm_key_parser_fail (p, group, "Forward", error,
                                      "'%s' forwards a host port already forwarded", words[i]);
        }
      g_ptr_array_add (forwards, f);
    }
  g_clear_pointer (out, g_ptr_array_unref);
  *out = g_steal_pointer (&forwards);
  return TRUE;
}

const char *
mvm_forward_host_address (const MvmForward *f)
{
  return f->host_address ? f->host_address : "0.0.0.0";
}

char *
mvm_forward_to_string (const MvmForward *f)
{
  return g_strdup_printf ("%s:%s:%u:%u", f->udp ? "udp" : "tcp", mvm_forward_host_address (f),
                          f->host_port, f->guest_port);
}

/* --- Egress= and AllowTo= ------------------------------------------------------------------ */

static void
allow_to_free (gpointer p)
{
  MvmAllowTo *a = p;
  g_free (a->network);
  g_free (a);
}

/* ADDRESS, CIDR, or IPv4 ADDRESS-or-CIDR:PORT; NULL when it is none of these */
static MvmAllowTo *
allow_to_parse (const char *word)
{
  const char *colon = strrchr (word, ':');
  g_autofree char *dest = NULL;
  MvmAllowTo a = { 0 };

  if (address_family (word) != 0 || cidr_is_valid (word))
    {
      g_autofree char *addr = g_strndup (word, strcspn (word, "/"));
      a.ipv6 = address_family (addr) == AF_INET6;
      a.network = g_strdup (word);
      return g_memdup2 (&a, sizeof a);
    }
  dest = colon ? g_strndup (word, colon - word) : NULL;
  if (dest && (address_family (dest) == AF_INET || (cidr_is_valid (dest) && !strchr (dest, ':')))
      && parse_port (colon + 1, &a.port))
    {
      a.network = g_steal_pointer (&dest);
      return g_memdup2 (&a, sizeof a);
    }
  return NULL;
}

static gboolean
check_allow_to (const char *word, gpointer data, char **why)
{
  MvmAllowTo *a = allow_to_parse (word);

  if (a)
    {
      allow_to_free (a);
      return TRUE;
    }
  *why = g_strdup ("is not an address or a network (10.0.0.1, 10.0.0.0/8, fd00::/64), with an "
                   "optional port after an IPv4 one (10.0.0.1:443)");
  return FALSE;
}

gboolean
mvm_egress_parse (const MvmKeyParser *p, const char *group, MvmEgress *out, GError **error)
{
  static const MvmEnumEntry modes[] = { { "allow", 0 }, { "deny", 1 }, { NULL, 0 } };
  g_auto (GStrv) words = NULL;
  int deny = 0;

  if (!mvm_key_parser_get_enum (p, group, "Egress", modes, &deny, error)
      || !mvm_key_parser_get_list (p, group, "AllowTo", check_allow_to, NULL, &words, error))
    return FALSE;
  out->deny = deny;
  if (words && !deny)
    return mvm_key_parser_fail (p, group, "AllowTo", error, "only applies with Egress=deny");
  if (words == NULL)
    return TRUE;
  g_clear_pointer (&out->allow_to, g_ptr_array_unref);
  out->allow_to = g_ptr_array_new_with_free_func (allow_to_free);
  for (guint i = 0; words[i]; i++)
    g_ptr_array_add (out->allow_to, allow_to_parse (words[i]));
  return TRUE;
}

void
mvm_egress_clear (MvmEgress *e)
{
  g_clear_pointer (&e->allow_to, g_ptr_array_unref);
}
