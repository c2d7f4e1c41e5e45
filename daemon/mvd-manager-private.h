/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "mvd-image-store.h"
#include "mvd-manager.h"

G_BEGIN_DECLS

/* Shared by mvd-manager.c (the guest table) and mvd-manager-dbus.c (the bus methods). */
struct _MvdManager
{
  MvmDbusManagerSkeleton parent_instance;
  MvdContext context;
  GHashTable *guests; /* name -> MvdGuest */
  GDBusObjectManagerServer *object_manager;
  MvdImageStore *images;
  GHashTable *cloning;    /* names of the clones being made */
  GQueue autostart_queue; /* MvdGuest, with a reference */
  guint autostart_running;
};

/* Parses guest-file text from the bus; @file_name (a base name, or NULL) names it in errors
 * and gives the guest's name when the text has no Name=. */
MvmGuestConfig *mvd_manager_parse (MvdManager *self, const char *text, const char *file_name,
                                   GError **error);
/* The options of DefineGuest, CreateGuest and PreviewCommandLine: "file-name" (s), whose
 * base name is kept in @file_name, and for CreateGuest (@command not NULL) "command" (as).
 * Anything else is refused, naming it. */
gboolean mvd_manager_parse_options (GVariant *options, char **file_name, GStrv *command,
                                    GError **error);
/* Adds and exports a guest; @file_path NULL for transient. */
MvdGuest *mvd_manager_add (MvdManager *self, MvmGuestConfig *config, const char *text,
                           const char *file_path);
void mvd_manager_remove (MvdManager *self, MvdGuest *guest);
/* Writes the guest file atomically and defines or redefines the guest. */
/* FALSE when a new guest called @name would pass MaxGuests=. */
gboolean mvd_manager_check_room (MvdManager *self, const char *name, GError **error);
MvdGuest *mvd_manager_define (MvdManager *self, const char *text, const char *file_name,
                              GError **error);
char *mvd_manager_guest_path (const char *name);
/* A guest was added, removed or redefined: what depends on the guests follows (UsedBy). */
void mvd_manager_guests_changed (MvdManager *self);

/* Guest.Clone (MvdContext.clone): checks, copies in a worker thread, defines, answers. */
void mvd_manager_clone (gpointer guest, const char *new_name, gboolean full,
                        GDBusMethodInvocation *invocation, gpointer data);

void mvd_manager_dbus_iface_init (MvmDbusManagerIface *iface);

G_END_DECLS
