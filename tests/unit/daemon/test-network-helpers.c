/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What the daemon hands the host's network tools for a card: passt's command line and the
 * nftables rules on a tap, read from guest files. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "mvd-passt.h"
#include "mvd-tap-filter.h"
#include "mvm-guest-config.h"

static MvmGuestConfig *
parse (const char *text)
{
  g_autoptr (GError) error = NULL;
  MvmGuestConfig *c = mvm_guest_config_new_from_data (text, strlen (text), "/g/t.guest", &error);

  if (c == NULL)
    fail_msg ("refused: %s", error->message);
  return c;
}

static char *
joined_argv (const char *text)
{
  MvmGuestConfig *c = parse (text);
  g_auto (GStrv) argv = mvd_passt_argv ("/usr/bin/passt", c->networks->pdata[0]);
  char *joined = g_strjoinv (" ", argv);

  mvm_guest_config_free (c);
  return joined;
}

static void
test_passt_argv (void **state)
{
  g_autofree char *closed = joined_argv ("[Guest]\n[Network n]\nMode=passt\n");
  g_autofree char *open = joined_argv ("[Guest]\n[Network n]\nHostLoopback=yes\n"
                                       "Forward=tcp:8080:80 udp:127.0.0.1:5353:53\n");

  assert_string_equal (closed, "/usr/bin/passt --foreground --one-off --quiet --fd 3 --no-map-gw");
  assert_string_equal (open, "/usr/bin/passt --foreground --one-off --quiet --fd 3 "
                             "-t 8080:80 -u 127.0.0.1/5353:53");
}

static void
test_tap_rules (void **state)
{
  MvmGuestConfig *c = parse ("[Guest]\n[Network lan]\nMode=tap\nMAC=52:54:00:12:34:56\n"
                             "[Network locked]\nMode=tap\nMAC=52:54:00:12:34:57\nEgress=deny\n"
                             "AllowTo=10.0.0.1 10.1.0.0/16:443 fd00::/64\n");
  g_autofree char *open = mvd_tap_filter_ruleset ("mvmtap0", c->networks->pdata[0]);
  g_autofree char *locked = mvd_tap_filter_ruleset ("mvmtap1", c->networks->pdata[1]);

  /* every tap: the guest's own MAC only */
  assert_non_null (strstr (open, "hook ingress device \"mvmtap0\""));
  assert_non_null (strstr (open, "ether saddr != 52:54:00:12:34:56 drop\n"));
  assert_null (strstr (open, "    drop\n"));
  /* Egress=deny: ARP, NDP, DHCP, then each AllowTo=, then nothing */
  assert_non_null (strstr (locked, "ether type arp accept\n"));
  assert_non_null (strstr (locked, "udp dport 67 accept\n"));
  assert_non_null (strstr (locked, "ip daddr 10.0.0.1 accept\n"));
  assert_non_null (strstr (locked, "ip daddr 10.1.0.0/16 tcp dport 443 accept\n"));
  assert_non_null (strstr (locked, "ip daddr 10.1.0.0/16 udp dport 443 accept\n"));
  assert_non_null (strstr (locked, "ip6 daddr fd00::/64 accept\n"));
  assert_true (g_str_has_suffix (locked, "    drop\n  }\n}\n"));
  mvm_guest_config_free (c);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_passt_argv),
    cmocka_unit_test (test_tap_rules),
  };

  return cmocka_run_group_tests_name ("network-helpers", tests, NULL, NULL);
}
