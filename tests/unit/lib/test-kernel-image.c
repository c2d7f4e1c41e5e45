/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A guest whose Memory= cannot hold its vmlinux and initrd is refused at start, naming the
 * least Memory= that boots; one that can, and a kernel that is no ELF file, pass. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <elf.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "mvm-kernel-image.h"

#define MIB (1024 * 1024)

/* a memfd holding an ELF64 header and one PT_LOAD segment at physical 16 MiB of @size */
static int
fake_vmlinux (guint64 size)
{
  Elf64_Ehdr eh = { 0 };
  Elf64_Phdr ph = { 0 };
  int fd = memfd_create ("vmlinux", MFD_CLOEXEC);

  memcpy (eh.e_ident, ELFMAG, SELFMAG);
  eh.e_ident[EI_CLASS] = ELFCLASS64;
  eh.e_phoff = sizeof eh;
  eh.e_phentsize = sizeof ph;
  eh.e_phnum = 1;
  ph.p_type = PT_LOAD;
  ph.p_paddr = 16 * MIB;
  ph.p_memsz = size;
  assert_int_equal (pwrite (fd, &eh, sizeof eh, 0), sizeof eh);
  assert_int_equal (pwrite (fd, &ph, sizeof ph, sizeof eh), sizeof ph);
  return fd;
}

static MvmGuestConfig *
guest (const char *memory)
{
  g_autofree char *text = g_strdup_printf ("[Guest]\nName=g\nMemory=%s\n", memory);

  return mvm_guest_config_new_from_data (text, strlen (text), "g.guest", NULL);
}

static void
test_too_small_is_refused (void **state)
{
  g_autoptr (MvmGuestConfig) small = guest ("64M");
  g_autoptr (MvmGuestConfig) enough = guest ("128M");
  g_autoptr (GError) error = NULL;
  int kernel = fake_vmlinux (58 * MIB); /* ends at 74 MiB, as Debian's generic one */
  int initrd = memfd_create ("initrd", MFD_CLOEXEC);

  assert_int_equal (ftruncate (initrd, 2 * MIB), 0);
  assert_false (mvm_kernel_image_check_fits (small, kernel, initrd, &error));
  assert_non_null (strstr (error->message, "guest g: [Guest] Memory=64M is too small"));
  assert_non_null (strstr (error->message, "up to 74 MiB"));
  assert_non_null (strstr (error->message, "Memory=96M or more"));
  assert_true (mvm_kernel_image_check_fits (enough, kernel, initrd, NULL));
  close (kernel);
  /* the minimal kernel (guest-kernel/) ends at 35 MiB: Memory=64M boots it (measured) */
  kernel = fake_vmlinux (19 * MIB);
  assert_true (mvm_kernel_image_check_fits (small, kernel, initrd, NULL));
  close (kernel);
  close (initrd);
}

static void
test_not_elf_is_not_judged (void **state)
{
  g_autoptr (MvmGuestConfig) small = guest ("16M");
  int bzimage = memfd_create ("bzImage", MFD_CLOEXEC);

  assert_int_equal (pwrite (bzimage, "MZ\0\0HdrS", 8, 0), 8);
  assert_true (mvm_kernel_image_check_fits (small, bzimage, -1, NULL));
  close (bzimage);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_too_small_is_refused),
    cmocka_unit_test (test_not_elf_is_not_judged),
  };
  return cmocka_run_group_tests_name ("kernel-image", tests, NULL, NULL);
}
