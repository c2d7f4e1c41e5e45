/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gio/gio.h>

#include "mvm-guest-config.h"

G_BEGIN_DECLS

/* QEMU's virtiofsd serving one Type=virtiofs share: a process of its own beside QEMU, started
 * as root (virtiofsd needs it to sandbox itself in namespaces and to keep the guest's file
 * owners), in a mount namespace where the share's folder is read-only unless ReadOnly=no.
 * It gets @listen_fd (taken, success or not), a listening socket whose file is gone and to
 * which the daemon already connected QEMU's end, and quits by itself once QEMU hangs up. Its
 * output goes to mvm_paths_virtiofsd_output (@runtime_dir, @index). */
GSubprocess *mvd_virtiofs_spawn (const char *binary, const MvmShare *share, guint index,
                                 const char *runtime_dir, int listen_fd, GError **error);

/* virtiofsd's argv for @share, listening on fd @listen_fd (pure; for tests and the spawn) */
GStrv mvd_virtiofs_argv (const char *binary, const MvmShare *share, int listen_fd);

/* Whether this daemon may run virtiofsd as its own child: it holds CAP_SYS_ADMIN, which
 * virtiofsd needs to sandbox itself in namespaces (and the daemon to give a read-only share
 * its read-only view). The hardened microvmd.service has not got it: systemd runs virtiofsd
 * instead (mvd-virtiofs-unit). */
gboolean mvd_virtiofs_can_spawn (void);

G_END_DECLS
