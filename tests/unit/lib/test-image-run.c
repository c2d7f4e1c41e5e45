/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* mvm_image_run_script: what a guest's init runs for Command= or an image's config. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "mvm-image-run.h"

#define CONFIG                                                                                     \
  "{\"Entrypoint\": [\"/bin/sh\", \"-c\"], \"Cmd\": [\"echo it's $HOME\"], "                       \
  "\"Env\": [\"PATH=/bin\", \"A=b c\"], \"WorkingDir\": \"/srv/app\", \"User\": \"app:staff\"}"

/* Entrypoint then Cmd, the Env as given with HOME added (PATH was there), the folder and
 * the user; every word quoted for the shell */
static void
test_image_config (void **state)
{
  g_autofree char *script = mvm_image_run_script (CONFIG, NULL, NULL);

  assert_string_equal (script, "cd '/srv/app' || exit 126\n"
                               "run_user='app:staff'\n"
                               "exec_command 'PATH=/bin' 'A=b c' 'HOME=/root' '/bin/sh' '-c' "
                               "'echo it'\\''s $HOME'\n");
}

/* Command= replaces Cmd, not Entrypoint, as docker run's arguments do */
static void
test_command_replaces_cmd (void **state)
{
  const char *command[] = { "exit 4", NULL };
  g_autofree char *script = mvm_image_run_script (CONFIG, command, NULL);

  assert_non_null (strstr (script, "'/bin/sh' '-c' 'exit 4'\n"));
  assert_null (strstr (script, "echo"));
}

/* no image: Command= alone, as root in /, with Docker's PATH */
static void
test_command_alone (void **state)
{
  const char *command[] = { "/bin/true", NULL };
  g_autofree char *script = mvm_image_run_script (NULL, command, NULL);

  assert_string_equal (script,
                       "cd '/' || exit 126\nrun_user=\nexec_command "
                       "'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' "
                       "'HOME=/root' '/bin/true'\n");
}

/* nothing to run: a tarball's image, or a config without Entrypoint and Cmd */
static void
test_nothing (void **state)
{
  GError *error = NULL;

  assert_null (mvm_image_run_script (NULL, NULL, &error));
  assert_null (error);
  assert_null (mvm_image_run_script ("{\"Env\": [\"A=b\"]}", NULL, &error));
  assert_null (error);
}

/* the kernel command line cannot take a huge environment: refused, saying what to shorten */
static void
test_too_long (void **state)
{
  g_autofree char *huge = g_strnfill (3000, 'x');
  const char *command[] = { "/bin/echo", huge, NULL };
  GError *error = NULL;

  assert_null (mvm_image_run_argument (NULL, command, &error));
  assert_non_null (error);
  assert_non_null (strstr (error->message, "shorten Command="));
  g_error_free (error);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_image_config),  cmocka_unit_test (test_command_replaces_cmd),
    cmocka_unit_test (test_command_alone), cmocka_unit_test (test_nothing),
    cmocka_unit_test (test_too_long),
  };
  return cmocka_run_group_tests_name ("image-run", tests, NULL, NULL);
}
