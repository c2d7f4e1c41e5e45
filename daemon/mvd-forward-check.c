/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "mvd-forward-check.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "mvm-error.h"

/* net.ipv4.ip_unprivileged_port_start: 1024 unless the host says otherwise */
static guint
first_unprivileged_port (void)
{
  g_autofree char *text = NULL;
  guint64 port;

  if (g_file_get_contents ("/proc/sys/net/ipv4/ip_unprivileged_port_start", &text, NULL, NULL)
      && g_ascii_string_to_unsigned (g_strstrip (text), 10, 0, 65536, &port, NULL))
    return port;
  return 1024;
}

/* errno of binding the host side as QEMU's user-mode network would, or 0 */
static int
try_bind (const MvmForward *f)
{
  struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons (f->host_port) };
  int one = 1, saved = 0;
  int fd = socket (AF_INET, (f->udp ? SOCK_DGRAM : SOCK_STREAM) | SOCK_CLOEXEC, 0);

  if (fd < 0)
    return errno;
  if (f->host_address)
    inet_pton (AF_INET, f->host_address, &addr.sin_addr);
  if (!f->udp) /* QEMU's slirp listens with SO_REUSEADDR: a port in TIME_WAIT is free */
    setsockopt (fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (bind (fd, (struct sockaddr *)&addr, sizeof addr) < 0)
    saved = errno;
  close (fd);
  return saved;
}

/* @first_free: the first port a QEMU without privileges may bind; 0 when QEMU has them */
static gboolean
check_one (const MvmNetwork *n, const MvmForward *f, guint first_free, GError **error)
{
  g_autofree char *spelled = mvm_forward_to_string (f);
  int err;

  if (f->host_port < first_free)
    {
      g_set_error (error, MVM_ERROR, MVM_ERROR_INVALID_CONFIG,
                   "[Network %s] Forward=%s: host port %u is privileged and the guest's QEMU "
                   "runs without privileges; use a port from %u (net.ipv4."
                   "ip_unprivileged_port_start)",
                   n->label, spelled, f->host_port, first_free);
      return FALSE;
    }
  err = try_bind (f);
  if (err == 0)
    return TRUE;
  g_set_error (error, MVM_ERROR, MVM_ERROR_INVALID_CONFIG,
               "[Network %s] Forward=%s: host port %u %s", n->label, spelled, f->host_port,
               err == EADDRINUSE ? "is in use" : g_strerror (err));
  return FALSE;
}

gboolean
mvd_forwards_check (const MvmGuestConfig *config, guint32 qemu_uid, GError **error)
{
  guint first_free = 0;

  for (guint i = 0; i < config->networks->len; i++)
    {
      const MvmNetwork *n = config->networks->pdata[i];
      for (guint j = 0; mvm_network_is_user_mode (n) && j < n->forwards->len; j++)
        {
          if (first_free == 0 && qemu_uid != 0)
            first_free = first_unprivileged_port ();
          if (!check_one (n, n->forwards->pdata[j], first_free, error))
            return FALSE;
        }
    }
  return TRUE;
}
