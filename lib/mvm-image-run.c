/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "mvm-image-run.h"

#include <json-glib/json-glib.h>
#include <string.h>

#include "mvm-error.h"

/* Docker's PATH for an image that sets none */
#define DEFAULT_PATH "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

static void
add_strings (GPtrArray *out, JsonObject *config, const char *member)
{
  JsonNode *node = config ? json_object_get_member (config, member) : NULL;
  JsonArray *array = node && JSON_NODE_HOLDS_ARRAY (node) ? json_node_get_array (node) : NULL;

  for (guint i = 0; array && i < json_array_get_length (array); i++)
    {
      JsonNode *e = json_array_get_element (array, i);
      if (JSON_NODE_HOLDS_VALUE (e) && json_node_get_value_type (e) == G_TYPE_STRING)
        g_ptr_array_add (out, g_strdup (json_node_get_string (e)));
    }
}

static const char *
get_string (JsonObject *config, const char *member)
{
  JsonNode *node = config ? json_object_get_member (config, member) : NULL;

  if (node && JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_STRING)
    return json_node_get_string (node);
  return NULL;
}

static gboolean
has_variable (GPtrArray *env, const char *name)
{
  gsize len = strlen (name);

  for (guint i = 0; i < env->len; i++)
    if (strncmp (env->pdata[i], name, len) == 0 && ((char *)env->pdata[i])[len] == '=')
      return TRUE;
  return FALSE;
}

static void
append_quoted (GString *script, const char *word)
{
  g_autofree char *quoted = g_shell_quote (word);

  g_string_append_c (script, ' ');
  g_string_append (script, quoted);
}

/* The script the init sources: exec_command and $run_user are the init's (guest-kernel/init) */
static char *
compose (JsonObject *config, GPtrArray *argv)
{
  g_autoptr (GPtrArray) env = g_ptr_array_new_with_free_func (g_free);
  const char *dir = get_string (config, "WorkingDir");
  const char *user = get_string (config, "User");
  g_autoptr (GString) script = g_string_new ("cd");

  add_strings (env, config, "Env");
  if (!has_variable (env, "PATH"))
    g_ptr_array_add (env, g_strdup (DEFAULT_PATH));
  if (!has_variable (env, "HOME"))
    g_ptr_array_add (env, g_strdup ("HOME=/root"));
  append_quoted (script, dir && dir[0] ? dir : "/");
  g_string_append (script, " || exit 126\nrun_user=");
  if (user && user[0])
    {
      g_autofree char *quoted = g_shell_quote (user);
      g_string_append (script, quoted);
    }
  g_string_append (script, "\nexec_command");
  for (guint i = 0; i < env->len; i++)
    append_quoted (script, env->pdata[i]);
  for (guint i = 0; i < argv->len; i++)
    append_quoted (script, argv->pdata[i]);
  g_string_append_c (script, '\n');
  return g_string_free (g_steal_pointer (&script), FALSE);
}

char *
mvm_image_run_script (const char *config_json, const char *const *command, GError **error)
{
  g_autoptr (JsonNode) root = NULL;
  g_autoptr (GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);
  JsonObject *config = NULL;

  if (config_json)
    {
      if ((root = json_from_string (config_json, error)) == NULL)
        return NULL;
      if (JSON_NODE_HOLDS_OBJECT (root))
        config = json_node_get_object (root);
    }
  add_strings (argv, config, "Entrypoint");
  if (command)
    for (guint i = 0; command[i]; i++)
      g_ptr_array_add (argv, g_strdup (command[i]));
  else
    add_strings (argv, config, "Cmd");
  if (argv->len == 0)
    return NULL;
  return compose (config, argv);
}

/* the kernel's command line is at most 2048 bytes (x86): the script gets most of it */
#define MAX_RUN_BYTES 1536

char *
mvm_image_run_argument (const char *config_json, const char *const *command, GError **error)
{
  g_autofree char *script = mvm_image_run_script (config_json, command, error);
  g_autofree char *encoded = NULL;

  if (script == NULL)
    return NULL;
  encoded = g_base64_encode ((const guchar *)script, strlen (script));
  if (strlen (encoded) > MAX_RUN_BYTES)
    {
      g_set_error (error, MVM_ERROR, MVM_ERROR_INVALID_CONFIG,
                   "the command to run and its environment take %zu bytes of the kernel command "
                   "line, more than %d; shorten Command= or the image's Env",
                   strlen (encoded), MAX_RUN_BYTES);
      return NULL;
    }
  return g_steal_pointer (&encoded);
}
