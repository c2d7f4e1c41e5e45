/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

#include "mvm-key-parser.h"

G_BEGIN_DECLS

/* How a guest's card is addressed inside the guest, from its [Network LABEL] group:
 * Address= (CIDR, or "dhcp"), Gateway= and DNS=, each a list. The shipped init applies it
 * before it reports ready; the daemon hands it over on the kernel command line. */
typedef struct
{
  GStrv addresses; /* "10.0.0.2/24", "fd00::2/64" or "dhcp"; NULL: the mode's default */
  GStrv gateways;  /* at most one IPv4 and one IPv6 */
  GStrv dns;
} MvmNetAddressing;

/* Forward=PROTOCOL:[HOSTADDRESS:]HOSTPORT:GUESTPORT on a user-mode card: connections to the
 * host's port reach the guest's. */
typedef struct
{
  gboolean udp;
  char *host_address; /* an IPv4 address; NULL: all of the host's */
  guint16 host_port;
  guint16 guest_port;
} MvmForward;

/* Forward= values (MvmForward) of a [Network] group; an empty array when there are none. */
gboolean mvm_forwards_parse (const MvmKeyParser *p, const char *group, GPtrArray **out,
                             GError **error);
/* "tcp:0.0.0.0:18080:80", the form Forward= takes with every part spelled out */
char *mvm_forward_to_string (const MvmForward *f);
/* The host address a forward listens on: its own, or "0.0.0.0" for all */
const char *mvm_forward_host_address (const MvmForward *f);

/* One AllowTo= DESTINATION[:PORT], DESTINATION an address or a CIDR network (PORT with
 * IPv4 only). */
typedef struct
{
  char *network; /* "10.0.0.0/8", "10.0.0.1", "fd00::/64" */
  gboolean ipv6;
  guint16 port; /* TCP and UDP; 0: any */
} MvmAllowTo;

/* Egress=deny with AllowTo=: what a tap card's guest may send to. */
typedef struct
{
  gboolean deny;       /* Egress=deny: only AllowTo= (and ARP, NDP, DHCP) */
  GPtrArray *allow_to; /* MvmAllowTo; NULL when AllowTo= is not given */
} MvmEgress;

gboolean mvm_egress_parse (const MvmKeyParser *p, const char *group, MvmEgress *out,
                           GError **error);
void mvm_egress_clear (MvmEgress *e);

/* The keys this module reads: they may be given on several lines. */
extern const char *const mvm_network_list_keys[];

gboolean mvm_net_addressing_parse (const MvmKeyParser *p, const char *group, MvmNetAddressing *out,
                                   GError **error);
void mvm_net_addressing_clear (MvmNetAddressing *a);

/* "microvmd.net=MAC,ITEM,..." for the kernel command line (documented in microvm.guest(5)),
 * or NULL when the card is left unconfigured. @dhcp_by_default: a user-mode card, which
 * without Address= gets "dhcp". */
char *mvm_net_addressing_kernel_arg (const MvmNetAddressing *a, const char *mac,
                                     gboolean dhcp_by_default);

/* A host name of labels of 1 to 63 letters, digits and '-', at most 253 characters. */
gboolean mvm_hostname_is_valid (const char *name);

G_END_DECLS
