/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "mvm-network-config.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

const char *const mvm_network_list_keys[] = { "Address", "Gateway", "DNS", NULL };

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
