/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Every method of the D-Bus API is either read-only and open to all, or needs a polkit action
 * (microvmd(8), SECURITY): a method added to lib/org.microvmd1.xml without a decision fails
 * here rather than being open to every local user. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "mvd-authority.h"
#include "mvm-dbus.h"

/* What microvmd(8) documents as open to all; nothing else may be. */
static const char *const read_only[] = {
  "GetGuest", "ListGuests", "GetGuestFile", "GetStats", NULL,
};

static void
check_interface (GDBusInterfaceInfo *info)
{
  for (guint i = 0; info->methods[i]; i++)
    {
      const char *method = info->methods[i]->name;
      MvdAction action = mvd_authority_action_for (method);

      if (g_strv_contains (read_only, method))
        assert_int_equal (action, MVD_ACTION_NONE);
      else if (g_str_equal (method, "OpenConsole"))
        assert_int_equal (action, MVD_ACTION_CONSOLE);
      else if (action != MVD_ACTION_MANAGE)
        fail_msg ("%s.%s needs no polkit action; give it one in daemon/mvd-authority.c", info->name,
                  method);
    }
}

static void
test_every_changing_method_needs_an_action (void **unused)
{
  (void)unused;
  check_interface (mvm_dbus_manager_interface_info ());
  check_interface (mvm_dbus_guest_interface_info ());
}

static void
test_writing_a_property_needs_manage (void **unused)
{
  (void)unused;
  /* org.freedesktop.DBus.Properties.Set: Autostart is the only writable property */
  assert_int_equal (mvd_authority_action_for ("Set"), MVD_ACTION_MANAGE);
  assert_int_equal (mvd_authority_action_for ("Get"), MVD_ACTION_NONE);
  assert_int_equal (mvd_authority_action_for ("GetAll"), MVD_ACTION_NONE);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_every_changing_method_needs_an_action),
    cmocka_unit_test (test_writing_a_property_needs_manage),
  };

  return cmocka_run_group_tests (tests, NULL, NULL);
}
