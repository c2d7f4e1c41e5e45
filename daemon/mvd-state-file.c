/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "mvd-state-file.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "mvm-error.h"
#include "mvm-file.h"

#define GROUP "Process"

void
mvd_state_file_free (MvdStateFile *state)
{
  if (state == NULL)
    return;
  g_free (state->binary);
  g_strfreev (state->argv);
  g_free (state->message);
  g_free (state->accelerator);
  g_free (state);
}

gboolean
mvd_state_file_save (const MvdStateFile *state, const char *path, GError **error)
{
  g_autoptr (GKeyFile) kf = g_key_file_new ();
  g_autofree char *data = NULL;
  gsize len;

  g_key_file_set_integer (kf, GROUP, "PID", state->pid);
  g_key_file_set_uint64 (kf, GROUP, "StartTime", state->start_time);
  /* empty when QEMU was gone before /proc could name it: such a file never matches */
  g_key_file_set_string (kf, GROUP, "Binary", state->binary ? state->binary : "");
  g_key_file_set_int64 (kf, GROUP, "StartTimestamp", state->start_timestamp);
  g_key_file_set_boolean (kf, GROUP, "Running", state->running);
  g_key_file_set_boolean (kf, GROUP, "Ready", state->ready);
  g_key_file_set_uint64 (kf, GROUP, "BootTimeUSec", state->boot_usec);
  g_key_file_set_string (kf, GROUP, "Reason", mvm_state_reason_to_string (state->reason));
  g_key_file_set_string (kf, GROUP, "Message", state->message ? state->message : "");
  g_key_file_set_string (kf, GROUP, "Accelerator", state->accelerator ? state->accelerator : "");
  g_key_file_set_uint64 (kf, GROUP, "VsockCID", state->vsock_cid);
  if (state->argv)
    g_key_file_set_string_list (kf, GROUP, "CommandLine", (const char *const *)state->argv,
                                g_strv_length (state->argv));
  data = g_key_file_to_data (kf, &len, NULL);
  return mvm_file_write_runtime (path, data, len, 0600, error);
}

/* Written since states have reasons; a file from an older daemon reads as "adopted". */
static void
load_reason (GKeyFile *kf, MvdStateFile *state)
{
  g_autofree char *reason = g_key_file_get_string (kf, GROUP, "Reason", NULL);

  if (!mvm_state_reason_from_string (reason, &state->reason))
    state->reason = MVM_STATE_REASON_ADOPTED;
  state->message = g_key_file_get_string (kf, GROUP, "Message", NULL);
  state->accelerator = g_key_file_get_string (kf, GROUP, "Accelerator", NULL);
  state->vsock_cid = (guint32)g_key_file_get_uint64 (kf, GROUP, "VsockCID", NULL);
}

MvdStateFile *
mvd_state_file_load (const char *path, GError **error)
{
  g_autoptr (GKeyFile) kf = g_key_file_new ();
  g_autoptr (MvdStateFile) state = g_new0 (MvdStateFile, 1);
  g_autoptr (GError) local = NULL;

  if (!g_key_file_load_from_file (kf, path, G_KEY_FILE_NONE, error))
    {
      g_prefix_error (error, "%s: ", path);
      return NULL;
    }
  state->pid = g_key_file_get_integer (kf, GROUP, "PID", &local);
  if (local == NULL)
    state->start_time = g_key_file_get_uint64 (kf, GROUP, "StartTime", &local);
  if (local == NULL)
    state->binary = g_key_file_get_string (kf, GROUP, "Binary", &local);
  if (local == NULL)
    state->start_timestamp = g_key_file_get_int64 (kf, GROUP, "StartTimestamp", &local);
  if (local == NULL)
    state->running = g_key_file_get_boolean (kf, GROUP, "Running", &local);
  if (local)
    {
      g_set_error (error, MVM_ERROR, MVM_ERROR_FAILED, "%s: %s", path, local->message);
      return NULL;
    }
  if (state->pid <= 1)
    {
      g_set_error (error, MVM_ERROR, MVM_ERROR_FAILED, "%s: PID=%d is not a QEMU", path,
                   state->pid);
      return NULL;
    }
  state->ready = g_key_file_get_boolean (kf, GROUP, "Ready", NULL);
  state->boot_usec = g_key_file_get_uint64 (kf, GROUP, "BootTimeUSec", NULL);
  state->argv = g_key_file_get_string_list (kf, GROUP, "CommandLine", NULL, NULL);
  load_reason (kf, state);
  return g_steal_pointer (&state);
}

gboolean
mvd_state_file_read_process (int pid, guint64 *start_time, char **binary)
{
  g_autofree char *stat_path = g_strdup_printf ("/proc/%d/stat", pid);
  g_autofree char *exe_path = g_strdup_printf ("/proc/%d/exe", pid);
  g_autofree char *stat = NULL;
  g_autofree char *exe = NULL;
  const char *p;
  unsigned long long st;

  if (!g_file_get_contents (stat_path, &stat, NULL, NULL) || (p = strrchr (stat, ')')) == NULL)
    return FALSE;
  /* after "pid (comm) ": state is field 3; starttime is field 22 */
  if (sscanf (p + 2,
              "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d %*d "
              "%*d %llu",
              &st)
      != 1)
    return FALSE;
  exe = g_file_read_link (exe_path, NULL);
  if (exe == NULL)
    return FALSE;
  /* an upgraded binary still identifies the process that runs the old one */
  if (g_str_has_suffix (exe, " (deleted)"))
    exe[strlen (exe) - strlen (" (deleted)")] = '\0';
  *start_time = st;
  *binary = g_steal_pointer (&exe);
  return TRUE;
}

gboolean
mvd_state_file_matches_process (const MvdStateFile *state)
{
  g_autofree char *binary = NULL;
  guint64 start_time;

  return mvd_state_file_read_process (state->pid, &start_time, &binary)
         && start_time == state->start_time && g_strcmp0 (binary, state->binary) == 0;
}
