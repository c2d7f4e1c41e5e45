/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "mvd-tap-filter.h"

#include <arpa/inet.h>
#include <gio/gio.h>
#include <string.h>

#include "mvm-error.h"

/* An IPv6 address or network: the part before any '/' parses as one */
static gboolean
is_ipv6 (const char *dest)
{
  g_autofree char *addr = g_strndup (dest, strcspn (dest, "/"));
  struct in6_addr buf;

  return inet_pton (AF_INET6, addr, &buf) == 1;
}

/* "ip daddr 10.0.0.0/8 tcp dport 443 accept" and its udp twin, or one rule without a port
 * (AllowTo= was checked when the guest file was read: a port comes after IPv4 only) */
static void
append_allow (GString *s, const char *dest)
{
  const char *colon = strrchr (dest, ':');
  g_autofree char *addr = NULL;

  if (is_ipv6 (dest))
    {
      g_string_append_printf (s, "    ip6 daddr %s accept\n", dest);
      return;
    }
  if (colon == NULL)
    {
      g_string_append_printf (s, "    ip daddr %s accept\n", dest);
      return;
    }
  addr = g_strndup (dest, colon - dest);
  g_string_append_printf (s, "    ip daddr %s tcp dport %s accept\n", addr, colon + 1);
  g_string_append_printf (s, "    ip daddr %s udp dport %s accept\n", addr, colon + 1);
}

char *
mvd_tap_filter_ruleset (const char *tap, const MvmNetwork *n)
{
  GString *s = g_string_new (NULL);

  /* add, then delete: no error when there was none before, and no rules left from one */
  g_string_append_printf (s, "add table netdev microvmd-%s\n", tap);
  g_string_append_printf (s, "delete table netdev microvmd-%s\n", tap);
  g_string_append_printf (s, "table netdev microvmd-%s {\n", tap);
  g_string_append_printf (s,
                          "  chain ingress {\n"
                          "    type filter hook ingress device \"%s\" priority filter;\n"
                          "    ether saddr != %s drop\n",
                          tap, n->mac);
  if (n->egress.deny)
    {
      g_string_append (s, "    ether type arp accept\n"
                          "    icmpv6 type { nd-router-solicit, nd-neighbor-solicit, "
                          "nd-neighbor-advert } accept\n"
                          "    udp dport 67 accept\n");
      for (guint i = 0; n->egress.allow_to && n->egress.allow_to[i]; i++)
        append_allow (s, n->egress.allow_to[i]);
      g_string_append (s, "    drop\n");
    }
  g_string_append (s, "  }\n}\n");
  return g_string_free (s, FALSE);
}

static gboolean
run_nft (const char *script, GError **error)
{
  g_autoptr (GSubprocess) nft = NULL;
  g_autofree char *err = NULL;

  nft = g_subprocess_new (G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_SILENCE
                            | G_SUBPROCESS_FLAGS_STDERR_PIPE,
                          error, "nft", "-f", "-", NULL);
  if (nft == NULL || !g_subprocess_communicate_utf8 (nft, script, NULL, NULL, &err, error))
    return FALSE;
  if (!g_subprocess_get_successful (nft))
    {
      g_set_error (error, MVM_ERROR, MVM_ERROR_FAILED, "nft refused the tap's rules: %s",
                   err ? g_strstrip (err) : "");
      return FALSE;
    }
  return TRUE;
}

gboolean
mvd_tap_filter_add (const char *tap, const MvmNetwork *n, GError **error)
{
  g_autofree char *ruleset = mvd_tap_filter_ruleset (tap, n);

  return run_nft (ruleset, error);
}

void
mvd_tap_filter_remove (const char *tap)
{
  g_autofree char *script
    = g_strdup_printf ("add table netdev microvmd-%s\ndelete table netdev microvmd-%s\n", tap, tap);

  run_nft (script, NULL);
}
