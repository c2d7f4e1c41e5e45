/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "mvd-context.h"
#include "mvd-state-file.h"
#include "mvm-dbus.h"
#include "mvm-guest-config.h"
#include "mvm-guest-state.h"

G_BEGIN_DECLS

/* One guest, exported as org.microvmd1.Guest: the skeleton's properties are its state.
 * Signal "finished" tells that a transient guest is done; an Undefine goes to the
 * manager through MvdContext.undefine. */
#define MVD_TYPE_GUEST (mvd_guest_get_type ())
G_DECLARE_FINAL_TYPE (MvdGuest, mvd_guest, MVD, GUEST, MvmDbusGuestSkeleton)

/* @file_path is where the definition is stored, NULL for a transient guest. */
MvdGuest *mvd_guest_new (const MvdContext *context, MvmGuestConfig *config, const char *guest_file,
                         const char *file_path);

const char *mvd_guest_get_name (MvdGuest *self);
/* The stored guest file's text. */
const char *mvd_guest_get_guest_file (MvdGuest *self);
MvmGuestState mvd_guest_get_state (MvdGuest *self);
/* The vsock CID of its running QEMU; 0 when stopped or without [Vsock]. */
guint32 mvd_guest_get_vsock_cid (MvdGuest *self);
/* The uid the guest's QEMU runs under; 0 when none runs, or it runs as root. */
guint32 mvd_guest_get_uid (MvdGuest *self);
gboolean mvd_guest_is_transient (MvdGuest *self);
/* Does a disk of its stored definition, or of the one its QEMU runs, name image @image? */
gboolean mvd_guest_uses_image (MvdGuest *self, const char *image);
/* The host's accelerator changed: a stopped guest's Accelerator property follows it. */
void mvd_guest_refresh_accelerator (MvdGuest *self);
/* Stores a new definition; a running guest keeps its old one until the next start. */
void mvd_guest_redefine (MvdGuest *self, MvmGuestConfig *config, const char *guest_file);

/* Takes over the QEMU a previous daemon started (@state is taken). */
void mvd_guest_adopt (MvdGuest *self, MvdStateFile *state);
/* Its QEMU ended while no daemon watched: with -no-shutdown only a crash or a kill ends
 * it unasked, so Restart= (on-failure too) brings it back; otherwise it stays stopped. */
void mvd_guest_lost (MvdGuest *self);

void mvd_guest_start_async (MvdGuest *self, GAsyncReadyCallback callback, gpointer user_data);
/* The same, naming why it starts (autostart, restarted, ...) in StateReason. */
void mvd_guest_start_with_reason_async (MvdGuest *self, MvmStateReason reason,
                                        GAsyncReadyCallback callback, gpointer user_data);
/* The same from snapshot @snapshot instead of a boot; a start already under way is shared. */
void mvd_guest_start_from_snapshot_async (MvdGuest *self, const char *snapshot,
                                          GAsyncReadyCallback callback, gpointer user_data);
gboolean mvd_guest_start_finish (MvdGuest *self, GAsyncResult *result, GError **error);
void mvd_guest_shutdown_async (MvdGuest *self, guint timeout_sec, GAsyncReadyCallback callback,
                               gpointer user_data);
void mvd_guest_kill_async (MvdGuest *self, GAsyncReadyCallback callback, gpointer user_data);
gboolean mvd_guest_stop_finish (MvdGuest *self, GAsyncResult *result, GError **error);

G_END_DECLS
