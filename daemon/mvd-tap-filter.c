/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "mvd-tap-filter.h"

#include <gio/gio.h>

#include "mvm-error.h"

/* "ip daddr 10.0.0.0/8 tcp dport 443 accept" and its udp twin, or one rule without a port */
static void
append_allow (GString *s, const MvmAllowTo *a)
{
  if (a->port == 0)
    {
      g_string_append_printf (s, "    %s daddr %s accept\n", a->ipv6 ? "ip6" : "ip", a->network);
      return;
    }
  g_string_append_printf (s, "    ip daddr %s tcp dport %u accept\n", a->network, a->port);
  g_string_append_printf (s, "    ip daddr %s udp dport %u accept\n", a->network, a->port);
}

/* Drops the tap's table: "add" first, so that a table that is not there is no error. */
static void
append_drop_table (GString *s, const char *tap)
{
  g_string_append_printf (s, "add table netdev microvmd-%s\n", tap);
  g_string_append_printf (s, "delete table netdev microvmd-%s\n", tap);
}

char *
mvd_tap_filter_ruleset (const char *tap, const MvmNetwork *n)
{
  GString *s = g_string_new (NULL);

  append_drop_table (s, tap); /* no rules left from an earlier guest's tap of that name */
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
      for (guint i = 0; n->egress.allow_to && i < n->egress.allow_to->len; i++)
        append_allow (s, n->egress.allow_to->pdata[i]);
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
  g_autoptr (GString) script = g_string_new (NULL);

  append_drop_table (script, tap);
  run_nft (script->str, NULL);
}
