/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "mvd-tap.h"

#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <net/if.h>
#include <linux/if_tun.h>
#include <linux/sockios.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

char *
mvd_tap_name (const MvmGuestConfig *config, guint index)
{
  g_autofree char *hex = g_strndup (config->uuid, 8);

  return g_strdup_printf ("mvm%sn%u", hex, index);
}

static gboolean
fail (GError **error, const char *what, const char *name)
{
  int saved = errno;

  g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved), "cannot %s %s: %s%s", what, name,
               g_strerror (saved),
               saved == EPERM ? " (creating taps needs CAP_NET_ADMIN: the system daemon has it, "
                                "a --session daemon does not)"
                              : "");
  return FALSE;
}

static gboolean
set_up_and_enslave (const char *name, const char *bridge, GError **error)
{
  struct ifreq ifr = { 0 };
  int sock = socket (AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  gboolean ok = FALSE;

  if (sock < 0)
    return fail (error, "open a socket for", name);
  g_strlcpy (ifr.ifr_name, name, IFNAMSIZ);
  if (ioctl (sock, SIOCGIFFLAGS, &ifr) < 0)
    fail (error, "read the flags of", name);
  else if ((ifr.ifr_flags |= IFF_UP, ioctl (sock, SIOCSIFFLAGS, &ifr)) < 0)
    fail (error, "bring up", name);
  else if (bridge && (ifr.ifr_ifindex = if_nametoindex (name)) == 0)
    fail (error, "find", name);
  else if (bridge
           && (g_strlcpy (ifr.ifr_name, bridge, IFNAMSIZ), ioctl (sock, SIOCBRADDIF, &ifr)) < 0)
    fail (error, "add the tap to bridge", bridge);
  else
    ok = TRUE;
  close (sock);
  return ok;
}

int
mvd_tap_open (const char *name, const char *bridge, GError **error)
{
  struct ifreq ifr = { .ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR };
  int fd = open ("/dev/net/tun", O_RDWR | O_CLOEXEC);

  if (fd < 0)
    {
      fail (error, "open", "/dev/net/tun");
      return -1;
    }
  g_strlcpy (ifr.ifr_name, name, IFNAMSIZ);
  if (ioctl (fd, TUNSETIFF, &ifr) < 0)
    {
      fail (error, "create tap", name);
      close (fd);
      return -1;
    }
  if (!set_up_and_enslave (name, bridge, error))
    {
      close (fd); /* the tap is not persistent: it goes with this fd */
      return -1;
    }
  return fd;
}
