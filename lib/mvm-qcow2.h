/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Reads the qcow2 header of the open image @fd and refuses one that would make QEMU open
 * another host file by a name in the header: a backing file, or an external data file.
 * The error names the header field. */
gboolean mvm_qcow2_check_standalone (int fd, GError **error);

/* Writes into the empty file @fd a qcow2 image of @size bytes with every cluster unallocated
 * and no backing file named: QEMU reads those clusters from the backing node its command line
 * gives, never from a name in a file the guest can write. */
gboolean mvm_qcow2_write_overlay (int fd, guint64 size, GError **error);
/* The size of the disk the qcow2 image @fd holds (its header's size field). */
gboolean mvm_qcow2_virtual_size (int fd, guint64 *size, GError **error);

G_END_DECLS
