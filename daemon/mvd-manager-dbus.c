/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* org.microvmd1.Manager methods. */
#include "mvd-check.h"
#include "mvd-dbus-error.h"
#include "mvd-dbus-options.h"
#include "mvd-manager-private.h"
#include "mvm-error.h"

/* One option of DefineGuest, CreateGuest or PreviewCommandLine */
static gboolean
take_option (const char *key, GVariant *value, char **file_name, GStrv *command, GError **error)
{
  if (g_str_equal (key, "file-name") && g_variant_is_of_type (value, G_VARIANT_TYPE_STRING)
      && g_variant_get_string (value, NULL)[0])
    {
      g_free (*file_name);
      *file_name = g_path_get_basename (g_variant_get_string (value, NULL));
      return TRUE;
    }
  if (command && g_str_equal (key, "command") && g_variant_is_of_type (value, G_VARIANT_TYPE ("as"))
      && g_variant_n_children (value) > 0)
    {
      g_strfreev (*command);
      *command = g_variant_dup_strv (value, NULL);
      return TRUE;
    }
  g_set_error (error, MVM_ERROR, MVM_ERROR_INVALID_CONFIG,
               "option '%s' is unknown or not of its type; the options are: file-name "
               "(a non-empty string)%s",
               key, command ? ", command (a non-empty string array)" : "");
  return FALSE;
}

gboolean
mvd_manager_parse_options (GVariant *options, char **file_name, GStrv *command, GError **error)
{
  GVariantIter iter;
  const char *key;
  GVariant *value;

  *file_name = NULL;
  g_variant_iter_init (&iter, options);
  while (g_variant_iter_next (&iter, "{&sv}", &key, &value))
    {
      g_autoptr (GVariant) owned = value;
      if (!take_option (key, value, file_name, command, error))
        return FALSE;
    }
  return TRUE;
}

static gboolean
handle_define_guest (MvmDbusManager *iface, GDBusMethodInvocation *invocation, const char *text,
                     GVariant *options)
{
  MvdManager *self = MVD_MANAGER (iface);
  GError *error = NULL;
  g_autofree char *file_name = NULL;
  MvdGuest *guest = NULL;
  g_autofree char *path = NULL;

  if (mvd_manager_parse_options (options, &file_name, NULL, &error))
    guest = mvd_manager_define (self, text, file_name, &error);
  if (guest == NULL)
    {
      mvd_dbus_return_error (invocation, error);
      return TRUE;
    }
  path = mvd_manager_guest_path (mvd_guest_get_name (guest));
  mvm_dbus_manager_complete_define_guest (iface, invocation, path);
  return TRUE;
}

typedef struct
{
  MvdManager *manager;
  GDBusMethodInvocation *invocation;
} CreateCall;

static void
on_created_started (GObject *source, GAsyncResult *result, gpointer user_data)
{
  CreateCall *call = user_data;
  MvdGuest *guest = MVD_GUEST (source);
  GError *error = NULL;

  if (mvd_guest_start_finish (guest, result, &error))
    {
      g_autofree char *path = mvd_manager_guest_path (mvd_guest_get_name (guest));
      mvm_dbus_manager_complete_create_guest (MVM_DBUS_MANAGER (call->manager), call->invocation,
                                              path);
    }
  else
    {
      if (mvd_manager_lookup (call->manager, mvd_guest_get_name (guest)) == guest)
        mvd_manager_remove (call->manager, guest);
      mvd_dbus_return_error (call->invocation, error);
    }
  g_object_unref (call->manager);
  g_object_unref (call->invocation);
  g_free (call);
}

static gboolean
handle_create_guest (MvmDbusManager *iface, GDBusMethodInvocation *invocation, const char *text,
                     GVariant *options)
{
  MvdManager *self = MVD_MANAGER (iface);
  GError *error = NULL;
  g_autofree char *file_name = NULL;
  MvmGuestConfig *config = NULL;
  g_auto (GStrv) command = NULL;
  CreateCall *call;
  MvdGuest *guest;

  if (mvd_manager_parse_options (options, &file_name, &command, &error))
    config = mvd_manager_parse (self, text, file_name, &error);
  if (config && command)
    {
      /* as docker run's arguments: they replace the file's Command= (the image's Cmd) */
      g_strfreev (config->command);
      config->command = g_steal_pointer (&command);
    }
  if (config && mvd_manager_lookup (self, config->name))
    {
      error = g_error_new (MVM_ERROR, MVM_ERROR_ALREADY_EXISTS, "guest %s already exists",
                           config->name);
      g_clear_pointer (&config, mvm_guest_config_free);
    }
  if (config && !mvd_manager_check_room (self, config->name, &error))
    g_clear_pointer (&config, mvm_guest_config_free);
  if (config == NULL)
    {
      mvd_dbus_return_error (invocation, error);
      return TRUE;
    }
  guest = mvd_manager_add (self, config, text, NULL);
  call = g_new0 (CreateCall, 1);
  call->manager = g_object_ref (self);
  call->invocation = g_object_ref (invocation);
  mvd_guest_start_async (guest, on_created_started, call);
  return TRUE;
}

static gboolean
handle_get_guest (MvmDbusManager *iface, GDBusMethodInvocation *invocation, const char *name)
{
  g_autofree char *path = NULL;

  if (mvd_manager_lookup (MVD_MANAGER (iface), name) == NULL)
    {
      mvd_dbus_return_error (
        invocation, g_error_new (MVM_ERROR, MVM_ERROR_NO_SUCH_GUEST, "no guest named '%s'", name));
      return TRUE;
    }
  path = mvd_manager_guest_path (name);
  mvm_dbus_manager_complete_get_guest (iface, invocation, path);
  return TRUE;
}

static int
compare_names (gconstpointer a, gconstpointer b, gpointer user_data)
{
  return g_strcmp0 (*(const char *const *)a, *(const char *const *)b);
}

static gboolean
handle_list_guests (MvmDbusManager *iface, GDBusMethodInvocation *invocation)
{
  MvdManager *self = MVD_MANAGER (iface);
  g_autofree const char **names
    = (const char **)g_hash_table_get_keys_as_array (self->guests, NULL);
  GVariantBuilder builder;

  g_qsort_with_data (names, g_hash_table_size (self->guests), sizeof (char *), compare_names, NULL);
  g_variant_builder_init (&builder, G_VARIANT_TYPE ("a(sos)"));
  for (guint i = 0; names[i]; i++)
    {
      g_autofree char *path = mvd_manager_guest_path (names[i]);
      MvdGuest *guest = mvd_manager_lookup (self, names[i]);
      g_variant_builder_add (&builder, "(sos)", names[i], path,
                             mvm_guest_state_to_string (mvd_guest_get_state (guest)));
    }
  mvm_dbus_manager_complete_list_guests (iface, invocation, g_variant_builder_end (&builder));
  return TRUE;
}

static GStrv
preview (MvdManager *self, const char *text, GVariant *options, GError **error)
{
  g_autofree char *file_name = NULL;
  g_autoptr (MvmGuestConfig) config = NULL;

  if (!mvd_manager_parse_options (options, &file_name, NULL, error)
      || (config = mvd_manager_parse (self, text, file_name, error)) == NULL)
    return NULL;
  return mvd_check_argv (self->context.config, self->context.facts, config, NULL, error);
}

static gboolean
handle_preview_command_line (MvmDbusManager *iface, GDBusMethodInvocation *invocation,
                             const char *text, GVariant *options)
{
  GError *error = NULL;
  g_auto (GStrv) argv = preview (MVD_MANAGER (iface), text, options, &error);

  if (argv == NULL)
    mvd_dbus_return_error (invocation, error);
  else
    mvm_dbus_manager_complete_preview_command_line (iface, invocation, (const char *const *)argv);
  return TRUE;
}

static gboolean
handle_reload (MvmDbusManager *iface, GDBusMethodInvocation *invocation)
{
  GError *error = NULL;

  if (mvd_manager_reload (MVD_MANAGER (iface), &error))
    mvm_dbus_manager_complete_reload (iface, invocation);
  else
    mvd_dbus_return_error (invocation, error);
  return TRUE;
}

/* ImportImage's options: "size" (t), bytes */
static gboolean
parse_import_options (GVariant *options, guint64 *size, GError **error)
{
  const MvdDbusOption known[] = { { "size", "t", size }, { NULL } };

  *size = 0;
  return mvd_dbus_options_parse ("ImportImage", options, known, error);
}

static gboolean
handle_import_image (MvmDbusManager *iface, GDBusMethodInvocation *invocation, GUnixFDList *fd_list,
                     GVariant *source, const char *name, GVariant *options)
{
  MvdManager *self = MVD_MANAGER (iface);
  GError *error = NULL;
  guint64 size;
  MvdJob *job = NULL;
  int fd = -1;

  if (parse_import_options (options, &size, &error))
    {
      if (fd_list == NULL
          || (fd = g_unix_fd_list_get (fd_list, g_variant_get_handle (source), &error)) < 0)
        {
          g_clear_error (&error);
          error = g_error_new (MVM_ERROR, MVM_ERROR_INVALID_CONFIG,
                               "ImportImage needs the source as a file descriptor");
        }
      else
        job = mvd_image_store_import (self->images, fd, name, size, &error);
    }
  if (job == NULL)
    mvd_dbus_return_error (invocation, error);
  else
    mvm_dbus_manager_complete_import_image (iface, invocation, NULL, mvd_job_get_path (job));
  return TRUE;
}

void
mvd_manager_dbus_iface_init (MvmDbusManagerIface *iface)
{
  iface->handle_import_image = handle_import_image;
  iface->handle_define_guest = handle_define_guest;
  iface->handle_create_guest = handle_create_guest;
  iface->handle_get_guest = handle_get_guest;
  iface->handle_list_guests = handle_list_guests;
  iface->handle_preview_command_line = handle_preview_command_line;
  iface->handle_reload = handle_reload;
}
