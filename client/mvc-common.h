/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <json-glib/json-glib.h>

#include "mvc-remote.h"
#include "mvm-dbus.h"

G_BEGIN_DECLS

/* microvmctl's exit status; microvmctl(1) documents them. */
typedef enum
{
  MVC_EXIT_OK = 0,
  MVC_EXIT_FAILURE = 1,
  MVC_EXIT_USAGE = 2,
  MVC_EXIT_NO_SUCH_GUEST = 3,
} MvcExit;

#define MVC_BUS_NAME "org.microvmd1"
#define MVC_MANAGER_PATH "/org/microvmd1"
#define MVC_GUEST_IFACE "org.microvmd1.Guest"
/* Start and Shutdown return only when done, which can take minutes: never give up first. */
#define MVC_CALL_TIMEOUT_MSEC G_MAXINT

/* What every verb gets: the global options and, once asked for, the bus. */
typedef struct
{
  GBusType bus_type;
  gboolean json;
  /* FALSE with --no-ask-password: polkit may not ask the user for a password */
  gboolean ask_password;
  const char *verb;
  /* -H: [USER@]HOST[:PORT] whose microvmd is reached through ssh, or NULL */
  const char *host;
  MvcRemote *remote;
  GDBusConnection *bus;
  MvmDbusManager *manager;
} MvcContext;

/* A verb's main; argv[0] is the verb. Returns an MvcExit. */
typedef int (*MvcVerbFunc) (MvcContext *ctx, int argc, char **argv);

void mvc_context_clear (MvcContext *ctx);

/* With -H, the verbs that need file descriptors run HOST's own microvmctl with their
 * arguments through ssh; returns its exit status. */
int mvc_remote_client (MvcContext *ctx, int argc, char **argv);

/* Parses a verb's options and checks it got exactly @n_args arguments; on failure prints
 * the error and sets *exit_code. --help prints the verb's help and exits. */
gboolean mvc_parse_verb (MvcContext *ctx, const GOptionEntry *entries, const char *args,
                         const char *summary, guint n_args, int *argc, char ***argv,
                         int *exit_code);
/* Like mvc_parse_verb, for verbs that support --json. */
gboolean mvc_parse_verb_json (MvcContext *ctx, const GOptionEntry *entries, const char *args,
                              const char *summary, guint n_args, int *argc, char ***argv,
                              int *exit_code);
/* Like mvc_parse_verb, for verbs whose last arguments may be left out: @min_args to @max_args. */
gboolean mvc_parse_verb_range (MvcContext *ctx, const GOptionEntry *entries, const char *args,
                               const char *summary, guint min_args, guint max_args, int *argc,
                               char ***argv, int *exit_code);

/* A verb of a verb, such as image's import */
typedef struct
{
  const char *name; /* "import" */
  const char *verb; /* "image import": how its --help and usage errors name it */
  MvcVerbFunc run;
} MvcSubverb;

/* Runs the subverb that argv[1] names; without one, or with --help, prints @usage. */
int mvc_run_subverb (MvcContext *ctx, const MvcSubverb *subverbs, gsize n_subverbs,
                     const char *usage, int argc, char **argv);

/* The Manager proxy, connecting on first use. */
MvmDbusManager *mvc_manager (MvcContext *ctx, GError **error);
/* The Guest proxy for @name, looked up with Manager.GetGuest, for calling its methods: its
 * properties are not loaded, its signals not followed (a start is a round trip shorter). */
MvmDbusGuest *mvc_guest (MvcContext *ctx, const char *name, GError **error);
/* The same, its properties loaded and kept current from PropertiesChanged. */
MvmDbusGuest *mvc_guest_watched (MvcContext *ctx, const char *name, GError **error);

/* Prints "microvmctl: MESSAGE" without the D-Bus prefix; returns the exit code it maps to. */
int mvc_fail (const GError *error);
/* Prints "microvmctl: MESSAGE" and returns MVC_EXIT_USAGE. */
int mvc_usage (const char *format, ...) G_GNUC_PRINTF (1, 2);

/* The text of a guest file, and in @options the "file-name" the daemon is told, so that
 * its errors name the file and the line, and the file's stem names a guest without Name=. */
char *mvc_read_guest_file (const char *path, GVariant **options, GError **error);
/* mvc_fail() for an error about a guest file sent as text: names @path as it was typed. */
int mvc_fail_guest_file (const GError *error, const char *path);
/* define and create: send FILE (argv[1]) with @send; 0 when it was taken. */
typedef gboolean (*MvcSendGuestFunc) (MvmDbusManager *manager, const char *text, GVariant *options,
                                      char **path, GCancellable *cancellable, GError **error);
int mvc_send_guest_file (MvcContext *ctx, const char *file, MvcSendGuestFunc send);

/* The properties (a{sv}) of every object that has @interface, from one GetManagedObjects */
GPtrArray *mvc_managed_properties (MvcContext *ctx, const char *interface, GError **error);

/* A console socket of @guest, non-blocking (OpenConsole's "force" and "read-only"); -1 when
 * the caller may not have one. */
int mvc_open_console (MvmDbusGuest *guest, gboolean force, gboolean read_only, GError **error);

/* "2.215s", "3min 4s", "2h 5min", "3d 4h". */
char *mvc_format_duration (guint64 usec);
/* A wall-clock time in the local zone, "2024-05-01 12:00:03 CEST". */
char *mvc_format_timestamp (guint64 usec_since_epoch);
/* Time elapsed since @usec_since_epoch, or NULL when it is 0. */
char *mvc_format_uptime (guint64 usec_since_epoch);

/* Writes all of @data to @fd, through partial writes and EINTR; @what names it in errors. */
gboolean mvc_write_all (int fd, const char *what, const char *data, gsize length, GError **error);

/* Prints @node as indented JSON followed by a newline; takes ownership. */
void mvc_print_json (JsonNode *node);

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (MvcContext, mvc_context_clear)

G_END_DECLS
