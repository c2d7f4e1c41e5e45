/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* What the shipped init runs as PID 1's child when a guest has a command: Command= of the
 * guest file, or its root image's OCI Entrypoint and Cmd (Command= replaces Cmd, as the
 * arguments of `docker run` do), with the image's Env, WorkingDir and User. The init gets
 * it on the kernel command line as microvmd.run=BASE64 of a shell script that switches to
 * the user with busybox's chpst and starts the command with exactly that environment.
 * Returns NULL, and no error, when there is nothing to run. @config_json: the OCI config
 * object, or NULL. */
char *mvm_image_run_script (const char *config_json, const char *const *command, GError **error);
/* The same script in base64, for microvmd.run=; refused when it would crowd the kernel's
 * command line (2048 bytes on x86). NULL, and no error, when there is nothing to run. */
char *mvm_image_run_argument (const char *config_json, const char *const *command, GError **error);

G_END_DECLS
