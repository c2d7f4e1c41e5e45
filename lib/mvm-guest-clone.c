/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A clone's guest file is its source's, edited line by line: what the user wrote and why
 * (comments, order, spelling) stays, and only what must differ between the two changes. */
#include "mvm-guest-clone.h"

#include <string.h>

#include "mvm-error.h"
#include "mvm-key-lines.h"

/* what becomes of one line of the source (1-based) */
typedef struct
{
  guint line;
  char *text; /* NULL: dropped */
} LineEdit;

static void
edit (GArray *edits, guint line, char *text)
{
  if (line > 0)
    g_array_append_val (edits, ((LineEdit){ line, text }));
  else
    g_free (text);
}

static void
clear_edit (gpointer p)
{
  g_free (((LineEdit *)p)->text);
}

static const LineEdit *
edit_of (GArray *edits, guint line)
{
  for (guint i = 0; i < edits->len; i++)
    if (g_array_index (edits, LineEdit, i).line == line)
      return &g_array_index (edits, LineEdit, i);
  return NULL;
}

static void
plan_edits (GArray *edits, const MvmKeyLines *lines, const MvmGuestConfig *source,
            const char *new_name, GHashTable *new_paths)
{
  guint name = mvm_key_lines_lookup (lines, "Guest", "Name");

  if (name)
    edit (edits, name, g_strdup_printf ("Name=%s", new_name));
  else /* the name came from the file's */
    edit (edits, mvm_key_lines_lookup (lines, "Guest", NULL),
          g_strdup_printf ("[Guest]\nName=%s", new_name));
  edit (edits, mvm_key_lines_lookup (lines, "Guest", "Autostart"), NULL);
  for (guint i = 0; i < source->networks->len; i++)
    {
      const MvmNetwork *n = source->networks->pdata[i];
      g_autofree char *group = g_strconcat ("Network ", n->label, NULL);
      edit (edits, mvm_key_lines_lookup (lines, group, "MAC"), NULL);
    }
  for (guint i = 0; i < source->disks->len; i++)
    {
      const MvmDisk *d = source->disks->pdata[i];
      const char *path = g_hash_table_lookup (new_paths, d->label);
      g_autofree char *group = g_strconcat ("Disk ", d->label, NULL);
      if (path)
        edit (edits, mvm_key_lines_lookup (lines, group, "Path"),
              g_strdup_printf ("Path=%s", path));
    }
}

/* The clone parses, is named @new_name, and its disks are where @new_paths says */
static gboolean
check_clone (const char *text, const char *new_name, GHashTable *new_paths, GError **error)
{
  g_autoptr (MvmGuestConfig) clone
    = mvm_guest_config_new_from_data (text, strlen (text), new_name, error);

  if (clone == NULL)
    return FALSE;
  for (guint i = 0; i < clone->disks->len; i++)
    {
      const MvmDisk *d = clone->disks->pdata[i];
      const char *path = g_hash_table_lookup (new_paths, d->label);
      if (path && g_strcmp0 (d->path, path) != 0)
        {
          g_set_error (error, MVM_ERROR, MVM_ERROR_FAILED,
                       "guest %s: [Disk %s] Path= could not be pointed at its copy", new_name,
                       d->label);
          return FALSE;
        }
    }
  return TRUE;
}

char *
mvm_guest_clone_text (const char *text, const MvmGuestConfig *source, const char *new_name,
                      GHashTable *new_paths, GError **error)
{
  g_autoptr (MvmKeyLines) lines
    = mvm_key_lines_new (text, strlen (text), source->name, mvm_network_list_keys, error);
  g_autoptr (GArray) edits = g_array_new (FALSE, FALSE, sizeof (LineEdit));
  g_auto (GStrv) split = NULL;
  GString *out = g_string_new (NULL);

  if (lines == NULL)
    {
      g_string_free (out, TRUE);
      return NULL;
    }
  g_array_set_clear_func (edits, clear_edit);
  plan_edits (edits, lines, source, new_name, new_paths);
  g_string_append_printf (out, "# A clone of guest %s\n", source->name);
  split = g_strsplit (text, "\n", -1);
  for (guint i = 0; split[i]; i++)
    {
      const LineEdit *e = edit_of (edits, i + 1);
      if (split[i + 1] == NULL && split[i][0] == '\0')
        break; /* the text's own last newline */
      if (e == NULL)
        g_string_append_printf (out, "%s\n", split[i]);
      else if (e->text)
        g_string_append_printf (out, "%s\n", e->text);
    }
  if (!check_clone (out->str, new_name, new_paths, error))
    {
      g_string_free (out, TRUE);
      return NULL;
    }
  return g_string_free (out, FALSE);
}
