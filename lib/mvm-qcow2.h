/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Reads the qcow2 header of the open image @fd and refuses one that would make QEMU open
 * another host file by a name in the header: a backing file, or an external data file.
 * The error names the header field. */
gboolean mvm_qcow2_check_standalone (int fd, GError **error);

G_END_DECLS
