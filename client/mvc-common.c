/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "mvc-common.h"

#include <errno.h>
#include <gio/gunixfdlist.h>
#include <glib-unix.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "mvm-error.h"
#include "mvm-value.h"

void
mvc_context_clear (MvcContext *ctx)
{
  g_clear_object (&ctx->manager);
  g_clear_object (&ctx->bus);
  g_clear_pointer (&ctx->remote, mvc_remote_free);
}

int
mvc_remote_client (MvcContext *ctx, int argc, char **argv)
{
  const char *globals[4];
  gsize n = 0;

  if (ctx->bus_type == G_BUS_TYPE_SESSION)
    globals[n++] = "--session";
  if (!ctx->ask_password)
    globals[n++] = "--no-ask-password";
  if (ctx->json)
    globals[n++] = "--json";
  globals[n] = NULL;
  return mvc_remote_run_client (ctx->host, globals, argc, argv);
}

static gboolean
parse_verb (MvcContext *ctx, const GOptionEntry *entries, gboolean json, const char *args,
            const char *summary, guint min_args, guint max_args, int *argc, char ***argv,
            int *exit_code)
{
  const GOptionEntry json_entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &ctx->json, "Print JSON", NULL },
    { NULL },
  };
  g_autofree char *params = g_strconcat (ctx->verb, args[0] ? " " : "", args, NULL);
  g_autoptr (GOptionContext) octx = g_option_context_new (params);
  g_autoptr (GError) error = NULL;

  g_option_context_set_summary (octx, summary);
  if (entries)
    g_option_context_add_main_entries (octx, entries, NULL);
  if (json)
    g_option_context_add_main_entries (octx, json_entries, NULL);
  if (!g_option_context_parse (octx, argc, argv, &error))
    {
      *exit_code = mvc_usage ("%s: %s", ctx->verb, error->message);
      return FALSE;
    }
  if (ctx->json && !json)
    {
      *exit_code
        = mvc_usage ("%s: --json is not supported; it is for list, status and stats", ctx->verb);
      return FALSE;
    }
  if ((guint)(*argc - 1) < min_args || (guint)(*argc - 1) > max_args)
    {
      *exit_code = mvc_usage ("%s: expected %s%s; see 'microvmctl %s --help'", ctx->verb,
                              max_args ? "" : "no arguments", args, ctx->verb);
      return FALSE;
    }
  return TRUE;
}

gboolean
mvc_parse_verb (MvcContext *ctx, const GOptionEntry *entries, const char *args, const char *summary,
                guint n_args, int *argc, char ***argv, int *exit_code)
{
  return parse_verb (ctx, entries, FALSE, args, summary, n_args, n_args, argc, argv, exit_code);
}

gboolean
mvc_parse_verb_json (MvcContext *ctx, const GOptionEntry *entries, const char *args,
                     const char *summary, guint n_args, int *argc, char ***argv, int *exit_code)
{
  return parse_verb (ctx, entries, TRUE, args, summary, n_args, n_args, argc, argv, exit_code);
}

gboolean
mvc_parse_verb_range (MvcContext *ctx, const GOptionEntry *entries, const char *args,
                      const char *summary, guint min_args, guint max_args, int *argc, char ***argv,
                      int *exit_code)
{
  return parse_verb (ctx, entries, FALSE, args, summary, min_args, max_args, argc, argv, exit_code);
}

int
mvc_run_subverb (MvcContext *ctx, const MvcSubverb *subverbs, gsize n_subverbs, const char *usage,
                 int argc, char **argv)
{
  g_autoptr (GString) names = g_string_new (NULL);

  if (argc < 2 || g_str_equal (argv[1], "--help") || g_str_equal (argv[1], "-h"))
    {
      g_print ("%s\n'microvmctl %s VERB --help' describes each.\n", usage, ctx->verb);
      return argc < 2 ? MVC_EXIT_USAGE : MVC_EXIT_OK;
    }
  for (gsize i = 0; i < n_subverbs; i++)
    if (g_str_equal (argv[1], subverbs[i].name))
      {
        /* "image import: expected NAME SOURCE", not "image: ..." */
        ctx->verb = subverbs[i].verb;
        return subverbs[i].run (ctx, argc - 1, argv + 1);
      }
  for (gsize i = 0; i < n_subverbs; i++)
    g_string_append_printf (names, "%s%s", i ? ", " : "", subverbs[i].name);
  return mvc_usage ("unknown %s verb '%s'; the verbs are %s", ctx->verb, argv[1], names->str);
}

/* The generated proxies cannot pass call flags, so the flag that lets polkit ask the user
 * (as systemctl without --no-ask-password) is set on each call on its way out. Not by
 * destination: a proxy sends to microvmd's unique name. Runs in GDBus's worker thread; an
 * outgoing message is locked, hence the copy. */
static GDBusMessage *
allow_interactive_authorization (GDBusConnection *bus, GDBusMessage *message, gboolean incoming,
                                 gpointer user_data)
{
  GDBusMessage *copy;

  (void)bus;
  (void)user_data;
  if (incoming || g_dbus_message_get_message_type (message) != G_DBUS_MESSAGE_TYPE_METHOD_CALL
      || g_strcmp0 (g_dbus_message_get_destination (message), "org.freedesktop.DBus") == 0)
    return message;
  copy = g_dbus_message_copy (message, NULL);
  if (copy == NULL)
    return message; /* sent as it is: polkit then cannot ask, the call still goes */
  g_object_unref (message);
  g_dbus_message_set_flags (copy, g_dbus_message_get_flags (copy)
                                    | G_DBUS_MESSAGE_FLAGS_ALLOW_INTERACTIVE_AUTHORIZATION);
  return copy;
}

/* -H: through ssh. polkit on the remote decides for the user ssh logs in as, and is never
 * let ask: no authentication agent of ours can answer through the bridge. */
static GDBusConnection *
connect_remote (MvcContext *ctx, GError **error)
{
  ctx->remote = mvc_remote_connect (ctx->host, ctx->bus_type == G_BUS_TYPE_SESSION, error);
  if (ctx->remote == NULL)
    return NULL;
  return g_object_ref (mvc_remote_get_bus (ctx->remote));
}

static GDBusConnection *
connect_bus (MvcContext *ctx, GError **error)
{
  GDBusConnection *bus;

  if (ctx->host)
    return connect_remote (ctx, error);
  bus = g_bus_get_sync (ctx->bus_type, NULL, error);
  if (bus == NULL)
    {
      g_prefix_error (error, "cannot connect to the %s bus: ",
                      ctx->bus_type == G_BUS_TYPE_SESSION ? "session" : "system");
      return NULL;
    }
  /* the session daemon trusts its bus's owner and never asks polkit */
  if (ctx->ask_password && ctx->bus_type == G_BUS_TYPE_SYSTEM)
    g_dbus_connection_add_filter (bus, allow_interactive_authorization, NULL, NULL);
  return bus;
}

static GDBusConnection *
bus_of (MvcContext *ctx, GError **error)
{
  /* registers the org.microvmd1.Error.* names, so errors come back in MVM_ERROR */
  (void)mvm_error_quark ();
  if (ctx->bus == NULL)
    ctx->bus = connect_bus (ctx, error);
  return ctx->bus;
}

MvmDbusManager *
mvc_manager (MvcContext *ctx, GError **error)
{
  if (ctx->manager)
    return ctx->manager;
  if (bus_of (ctx, error) == NULL)
    return NULL;
  /* no verb reads the Manager's properties or waits for its signals: two round trips less */
  ctx->manager = mvm_dbus_manager_proxy_new_sync (
    ctx->bus, G_DBUS_PROXY_FLAGS_DO_NOT_LOAD_PROPERTIES | G_DBUS_PROXY_FLAGS_DO_NOT_CONNECT_SIGNALS,
    MVC_BUS_NAME, MVC_MANAGER_PATH, NULL, error);
  if (ctx->manager)
    g_dbus_proxy_set_default_timeout (G_DBUS_PROXY (ctx->manager), MVC_CALL_TIMEOUT_MSEC);
  return ctx->manager;
}

/* GetGuest, sent to the well-known name (the bus starts microvmd if it must); the reply's
 * sender is the daemon's unique name, which a proxy uses without asking the bus for it */
static gboolean
get_guest (MvcContext *ctx, const char *name, char **path, char **owner, GError **error)
{
  g_autoptr (GDBusMessage) call = g_dbus_message_new_method_call (
    MVC_BUS_NAME, MVC_MANAGER_PATH, "org.microvmd1.Manager", "GetGuest");
  g_autoptr (GDBusMessage) reply = NULL;

  if (bus_of (ctx, error) == NULL)
    return FALSE;
  g_dbus_message_set_body (call, g_variant_new ("(s)", name));
  reply = g_dbus_connection_send_message_with_reply_sync (
    ctx->bus, call, G_DBUS_SEND_MESSAGE_FLAGS_NONE, MVC_CALL_TIMEOUT_MSEC, NULL, NULL, error);
  if (reply == NULL || g_dbus_message_to_gerror (reply, error))
    return FALSE;
  if (!g_variant_is_of_type (g_dbus_message_get_body (reply), G_VARIANT_TYPE ("(o)")))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   "microvmd answered GetGuest with %s, not an object path",
                   g_variant_get_type_string (g_dbus_message_get_body (reply)));
      return FALSE;
    }
  g_variant_get (g_dbus_message_get_body (reply), "(o)", path);
  *owner = g_strdup (g_dbus_message_get_sender (reply));
  return TRUE;
}

static MvmDbusGuest *
guest_proxy (MvcContext *ctx, const char *name, GDBusProxyFlags flags, GError **error)
{
  g_autofree char *path = NULL;
  g_autofree char *owner = NULL;
  MvmDbusGuest *guest;

  if (!get_guest (ctx, name, &path, &owner, error))
    return NULL;
  /* a proxy of the well-known name follows a daemon that leaves the bus (start --wait-ready,
   * console); one that only calls asks the daemon that answered, without more round trips */
  guest = mvm_dbus_guest_proxy_new_sync (
    ctx->bus, flags, flags & G_DBUS_PROXY_FLAGS_DO_NOT_AUTO_START ? owner : MVC_BUS_NAME, path,
    NULL, error);
  if (guest)
    g_dbus_proxy_set_default_timeout (G_DBUS_PROXY (guest), MVC_CALL_TIMEOUT_MSEC);
  return guest;
}

MvmDbusGuest *
mvc_guest (MvcContext *ctx, const char *name, GError **error)
{
  return guest_proxy (ctx, name,
                      G_DBUS_PROXY_FLAGS_DO_NOT_LOAD_PROPERTIES
                        | G_DBUS_PROXY_FLAGS_DO_NOT_CONNECT_SIGNALS
                        | G_DBUS_PROXY_FLAGS_DO_NOT_AUTO_START,
                      error);
}

MvmDbusGuest *
mvc_guest_watched (MvcContext *ctx, const char *name, GError **error)
{
  return guest_proxy (ctx, name, G_DBUS_PROXY_FLAGS_NONE, error);
}

static gboolean
is_no_such_guest (const GError *error)
{
  g_autofree char *remote = g_dbus_error_get_remote_error (error);

  return g_error_matches (error, MVM_ERROR, MVM_ERROR_NO_SUCH_GUEST)
         || g_strcmp0 (remote, "org.microvmd1.Error.NoSuchGuest") == 0;
}

/* The daemon's messages name the guest and say what to do; the bus's own need a hint. */
static const char *
hint (const GError *error)
{
  if (g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_SERVICE_UNKNOWN)
      || g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_NAME_HAS_NO_OWNER))
    return " (is microvmd running? with --session, on this session bus?)";
  return "";
}

int
mvc_fail (const GError *error)
{
  g_autoptr (GError) copy = g_error_copy (error);

  g_dbus_error_strip_remote_error (copy);
  /* dbus-daemon's refusal is a dump of its matching rules; say what it means instead */
  if (g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_ACCESS_DENIED)
      && g_str_has_prefix (copy->message, "Rejected send message"))
    {
      g_printerr ("microvmctl: the bus policy refuses this call: changing guests needs root or "
                  "the group microvm\n");
      return MVC_EXIT_FAILURE;
    }
  g_printerr ("microvmctl: %s%s\n", copy->message, hint (error));
  return is_no_such_guest (error) ? MVC_EXIT_NO_SUCH_GUEST : MVC_EXIT_FAILURE;
}

int
mvc_usage (const char *format, ...)
{
  g_autofree char *message = NULL;
  va_list args;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  g_printerr ("microvmctl: %s\n", message);
  return MVC_EXIT_USAGE;
}

int
mvc_fail_guest_file (const GError *error, const char *path)
{
  g_autoptr (GError) copy = g_error_copy (error);
  g_autofree char *base = g_path_get_basename (path);

  g_dbus_error_strip_remote_error (copy);
  /* the daemon knows the file by its base name: say the path the user typed */
  if (!g_error_matches (copy, MVM_ERROR, MVM_ERROR_INVALID_CONFIG)
      || !g_str_has_prefix (copy->message, base) || g_str_equal (base, path))
    return mvc_fail (error);
  g_printerr ("microvmctl: %s%s\n", path, copy->message + strlen (base));
  return MVC_EXIT_FAILURE;
}

char *
mvc_read_guest_file (const char *path, GVariant **options, GError **error)
{
  g_autofree char *text = NULL;
  g_autofree char *base = g_path_get_basename (path);
  GVariantBuilder builder;
  gsize length;

  if (!g_file_get_contents (path, &text, &length, error))
    return NULL;
  if (memchr (text, '\0', length))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "%s: not a text file", path);
      return NULL;
    }
  g_variant_builder_init (&builder, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&builder, "{sv}", "file-name", g_variant_new_string (base));
  *options = g_variant_ref_sink (g_variant_builder_end (&builder));
  return g_steal_pointer (&text);
}

int
mvc_send_guest_file (MvcContext *ctx, const char *file, MvcSendGuestFunc send)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) options = NULL;
  g_autofree char *text = mvc_read_guest_file (file, &options, &error);
  g_autofree char *path = NULL;
  MvmDbusManager *manager;

  if (text == NULL || (manager = mvc_manager (ctx, &error)) == NULL)
    return mvc_fail (error);
  if (!send (manager, text, options, &path, NULL, &error))
    return mvc_fail_guest_file (error, file);
  return MVC_EXIT_OK;
}

char *
mvc_format_duration (guint64 usec)
{
  static const struct
  {
    const char *suffix;
    guint64 usec;
  } units[] = {
    { "d", G_GUINT64_CONSTANT (86400000000) },
    { "h", G_GUINT64_CONSTANT (3600000000) },
    { "min", G_GUINT64_CONSTANT (60000000) },
    { "s", G_USEC_PER_SEC },
  };

  if (usec < G_GUINT64_CONSTANT (60000000))
    return g_strdup_printf ("%.3gs", usec / 1e6);
  for (gsize i = 0; i < G_N_ELEMENTS (units) - 1; i++)
    if (usec >= units[i].usec)
      {
        guint64 major = usec / units[i].usec;
        guint64 minor = (usec % units[i].usec) / units[i + 1].usec;
        return g_strdup_printf ("%" G_GUINT64_FORMAT "%s %" G_GUINT64_FORMAT "%s", major,
                                units[i].suffix, minor, units[i + 1].suffix);
      }
  g_assert_not_reached ();
}

char *
mvc_format_timestamp (guint64 usec_since_epoch)
{
  g_autoptr (GDateTime) utc = g_date_time_new_from_unix_utc (usec_since_epoch / G_USEC_PER_SEC);
  g_autoptr (GDateTime) local = utc ? g_date_time_to_local (utc) : NULL;

  if (local == NULL)
    return g_strdup_printf ("%" G_GUINT64_FORMAT " usec", usec_since_epoch);
  return g_date_time_format (local, "%Y-%m-%d %H:%M:%S %Z");
}

char *
mvc_format_uptime (guint64 usec_since_epoch)
{
  gint64 now = g_get_real_time ();

  if (usec_since_epoch == 0)
    return NULL;
  return mvc_format_duration (now > (gint64)usec_since_epoch ? now - usec_since_epoch : 0);
}

void
mvc_print_json (JsonNode *node)
{
  g_autoptr (JsonGenerator) generator = json_generator_new ();
  g_autofree char *text = NULL;

  json_generator_set_pretty (generator, TRUE);
  json_generator_set_root (generator, node);
  text = json_generator_to_data (generator, NULL);
  g_print ("%s\n", text);
  json_node_unref (node);
}

gboolean
mvc_write_all (int fd, const char *what, const char *data, gsize length, GError **error)
{
  while (length > 0)
    {
      gssize n = write (fd, data, length);

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          int saved = errno;
          g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved), "cannot write to %s: %s",
                       what, g_strerror (saved));
          return FALSE;
        }
      data += n;
      length -= n;
    }
  return TRUE;
}

int
mvc_open_console (MvmDbusGuest *guest, gboolean force, gboolean read_only, GError **error)
{
  g_autoptr (GUnixFDList) fds = NULL;
  g_autoptr (GVariant) handle = NULL;
  GVariantDict options;
  GDBusConnection *bus = g_dbus_proxy_get_connection (G_DBUS_PROXY (guest));
  int fd;

  /* -H: the bridge would end the connection on a reply carrying one */
  if (!(g_dbus_connection_get_capabilities (bus) & G_DBUS_CAPABILITY_FLAGS_UNIX_FD_PASSING))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                   "the console of guest %s cannot come through ssh (-H: file descriptors do "
                   "not cross it); 'microvmctl -H HOST console %s' runs HOST's own microvmctl",
                   mvm_dbus_guest_get_name (guest), mvm_dbus_guest_get_name (guest));
      return -1;
    }
  g_variant_dict_init (&options, NULL);
  if (force)
    g_variant_dict_insert (&options, "force", "b", TRUE);
  if (read_only)
    g_variant_dict_insert (&options, "read-only", "b", TRUE);
  if (!mvm_dbus_guest_call_open_console_sync (guest, g_variant_dict_end (&options), NULL, &handle,
                                              &fds, NULL, error))
    return -1;
  if (fds == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                   "microvmd sent no console socket for guest %s", mvm_dbus_guest_get_name (guest));
      return -1;
    }
  fd = g_unix_fd_list_get (fds, g_variant_get_handle (handle), error);
  if (fd >= 0 && !g_unix_set_fd_nonblocking (fd, TRUE, error))
    {
      close (fd);
      return -1;
    }
  return fd;
}

GPtrArray *
mvc_managed_properties (MvcContext *ctx, const char *interface, GError **error)
{
  g_autoptr (GVariant) reply = NULL;
  g_autoptr (GVariantIter) objects = NULL;
  g_autoptr (GPtrArray) found = g_ptr_array_new_with_free_func ((GDestroyNotify)g_variant_unref);
  GVariant *interfaces;

  if (mvc_manager (ctx, error) == NULL)
    return NULL;
  reply = g_dbus_connection_call_sync (ctx->bus, MVC_BUS_NAME, MVC_MANAGER_PATH,
                                       "org.freedesktop.DBus.ObjectManager", "GetManagedObjects",
                                       NULL, G_VARIANT_TYPE ("(a{oa{sa{sv}}})"),
                                       G_DBUS_CALL_FLAGS_NONE, -1, NULL, error);
  if (reply == NULL)
    return NULL;
  g_variant_get (reply, "(a{oa{sa{sv}}})", &objects);
  while (g_variant_iter_next (objects, "{o@a{sa{sv}}}", NULL, &interfaces))
    {
      g_autoptr (GVariant) owned = interfaces;
      GVariant *props = g_variant_lookup_value (interfaces, interface, G_VARIANT_TYPE_VARDICT);
      if (props)
        g_ptr_array_add (found, props);
    }
  return g_steal_pointer (&found);
}
