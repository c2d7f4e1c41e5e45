/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <string.h>

#include "mvc-verbs.h"
#include "mvm-guest-state.h"
#include "mvm-value.h"

typedef struct
{
  char *name;
  char *state;
  char *reason;
  gboolean ready;
  guint cpus;
  guint64 memory;
  guint pid;
  guint64 start_usec;
} Row;

static void
row_free (gpointer p)
{
  Row *row = p;

  g_free (row->name);
  g_free (row->state);
  g_free (row->reason);
  g_free (row);
}

static Row *
row_new (GVariant *props)
{
  Row *row = g_new0 (Row, 1);

  if (!g_variant_lookup (props, "Name", "s", &row->name))
    row->name = g_strdup ("?");
  if (!g_variant_lookup (props, "State", "s", &row->state))
    row->state = g_strdup ("?");
  if (!g_variant_lookup (props, "StateReason", "s", &row->reason))
    row->reason = g_strdup ("");
  g_variant_lookup (props, "Ready", "b", &row->ready);
  g_variant_lookup (props, "MainPID", "u", &row->pid);
  g_variant_lookup (props, "StartTimestamp", "t", &row->start_usec);
  g_variant_lookup (props, "CPUs", "u", &row->cpus);
  g_variant_lookup (props, "Memory", "t", &row->memory);
  return row;
}

/* "crashed (io-error)": a guest that is down says why, unless nothing happened yet or a
 * caller stopped it. */
static char *
state_with_reason (const Row *row)
{
  MvmGuestState state;
  MvmStateReason reason;

  if (mvm_guest_state_from_string (row->state, &state) && mvm_guest_state_is_down (state)
      && mvm_state_reason_from_string (row->reason, &reason) && reason != MVM_STATE_REASON_NONE
      && reason != MVM_STATE_REASON_REQUESTED)
    return g_strdup_printf ("%s (%s)", row->state, row->reason);
  return g_strdup (row->state);
}

static int
compare_rows (gconstpointer a, gconstpointer b)
{
  return g_strcmp0 ((*(Row *const *)a)->name, (*(Row *const *)b)->name);
}

/* One GetManagedObjects answers for every guest at once. */
static GPtrArray *
fetch_rows (MvcContext *ctx, GError **error)
{
  g_autoptr (GPtrArray) guests = mvc_managed_properties (ctx, MVC_GUEST_IFACE, error);
  g_autoptr (GPtrArray) rows = g_ptr_array_new_with_free_func (row_free);

  if (guests == NULL)
    return NULL;
  for (guint i = 0; i < guests->len; i++)
    g_ptr_array_add (rows, row_new (guests->pdata[i]));
  g_ptr_array_sort (rows, compare_rows);
  return g_steal_pointer (&rows);
}

static void
print_json (GPtrArray *rows)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();

  json_builder_begin_array (b);
  for (guint i = 0; i < rows->len; i++)
    {
      Row *row = rows->pdata[i];
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "Name");
      json_builder_add_string_value (b, row->name);
      json_builder_set_member_name (b, "State");
      json_builder_add_string_value (b, row->state);
      json_builder_set_member_name (b, "StateReason");
      json_builder_add_string_value (b, row->reason);
      json_builder_set_member_name (b, "Ready");
      json_builder_add_boolean_value (b, row->ready);
      json_builder_set_member_name (b, "CPUs");
      json_builder_add_int_value (b, row->cpus);
      json_builder_set_member_name (b, "Memory");
      json_builder_add_int_value (b, (gint64)row->memory);
      json_builder_set_member_name (b, "MainPID");
      json_builder_add_int_value (b, row->pid);
      json_builder_set_member_name (b, "StartTimestamp");
      json_builder_add_int_value (b, (gint64)row->start_usec);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  mvc_print_json (json_builder_get_root (b));
}

#define ROW_FORMAT "%-*s %-*s %-5s %4u %6s %7s %s\n"
#define HEAD_FORMAT "%-*s %-*s %-5s %4s %6s %7s %s\n"

static void
print_table (GPtrArray *rows)
{
  g_autoptr (GPtrArray) states = g_ptr_array_new_with_free_func (g_free);
  int width = 4, state_width = 8;

  for (guint i = 0; i < rows->len; i++)
    {
      g_ptr_array_add (states, state_with_reason (rows->pdata[i]));
      width = MAX (width, (int)strlen (((Row *)rows->pdata[i])->name));
      state_width = MAX (state_width, (int)strlen (states->pdata[i]));
    }
  g_print (HEAD_FORMAT, width, "NAME", state_width, "STATE", "READY", "CPUS", "MEMORY", "PID",
           "UPTIME");
  for (guint i = 0; i < rows->len; i++)
    {
      Row *row = rows->pdata[i];
      g_autofree char *memory = mvm_format_size (row->memory);
      g_autofree char *pid = row->pid ? g_strdup_printf ("%u", row->pid) : g_strdup ("-");
      g_autofree char *uptime = mvc_format_uptime (row->start_usec);

      g_print (ROW_FORMAT, width, row->name, state_width, (char *)states->pdata[i],
               row->ready ? "yes" : "no", row->cpus, memory, pid, uptime ? uptime : "-");
    }
}

int
mvc_list (MvcContext *ctx, int argc, char **argv)
{
  g_autoptr (GPtrArray) rows = NULL;
  g_autoptr (GError) error = NULL;
  int status;

  if (!mvc_parse_verb_json (ctx, NULL, "",
                            "Lists the guests, persistent and transient, sorted by name. CPUS and "
                            "MEMORY are the running QEMU's, or the stored guest file's; a guest "
                            "that is down shows why, as in 'crashed (io-error)'.",
                            0, &argc, &argv, &status))
    return status;
  rows = fetch_rows (ctx, &error);
  if (rows == NULL)
    return mvc_fail (error);
  if (ctx->json)
    print_json (rows);
  else
    print_table (rows);
  return MVC_EXIT_OK;
}
