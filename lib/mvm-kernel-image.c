/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* How much guest memory a kernel and initrd take before the kernel runs at all: Debian's
 * generic vmlinux ends at 74 MiB of physical memory, so Memory=64M boots nothing, without a
 * word on the console. Said at start instead. */
#include "mvm-kernel-image.h"

#include <elf.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mvm-error.h"

#define MIB (1024 * 1024)
/* what the kernel needs to run at all beyond its image and the initrd: page tables, the
 * initramfs unpacked, its first allocations (measured: Debian's at 96M, ending at 74 MiB,
 * and the minimal one at 64M, ending at 35 MiB, both boot to ready) */
#define HEADROOM (16 * MIB)
#define MAX_SEGMENTS 64

/* The highest physical address an ELF64 kernel's loadable segments reach; FALSE when @fd
 * is no ELF64 file */
static gboolean
elf_end (int fd, guint64 *end)
{
  Elf64_Ehdr eh;
  Elf64_Phdr ph[MAX_SEGMENTS];

  if (pread (fd, &eh, sizeof eh, 0) != (ssize_t)sizeof eh
      || memcmp (eh.e_ident, ELFMAG, SELFMAG) != 0 || eh.e_ident[EI_CLASS] != ELFCLASS64
      || eh.e_phentsize != sizeof (Elf64_Phdr) || eh.e_phnum == 0 || eh.e_phnum > MAX_SEGMENTS)
    return FALSE;
  if (pread (fd, ph, eh.e_phnum * sizeof (Elf64_Phdr), (off_t)eh.e_phoff)
      != (ssize_t)(eh.e_phnum * sizeof (Elf64_Phdr)))
    return FALSE;
  *end = 0;
  for (guint i = 0; i < eh.e_phnum; i++)
    if (ph[i].p_type == PT_LOAD)
      *end = MAX (*end, ph[i].p_paddr + ph[i].p_memsz);
  return *end > 0;
}

gboolean
mvm_kernel_image_check_fits (const MvmGuestConfig *guest, int kernel_fd, int initrd_fd,
                             GError **error)
{
  struct stat initrd = { 0 };
  guint64 end, need;

  if (kernel_fd < 0 || !elf_end (kernel_fd, &end))
    return TRUE;
  if (initrd_fd >= 0 && fstat (initrd_fd, &initrd) < 0)
    initrd.st_size = 0;
  need = end + (guint64)initrd.st_size + HEADROOM;
  if (guest->memory >= need)
    return TRUE;
  need = (need + 16 * MIB - 1) / (16 * MIB) * (16 * MIB); /* a round figure to write */
  g_set_error (error, MVM_ERROR, MVM_ERROR_INVALID_CONFIG,
               "guest %s: [Guest] Memory=%" G_GUINT64_FORMAT "M is too small for its kernel, "
               "which lies up to %" G_GUINT64_FORMAT " MiB of guest memory, with an initrd of "
               "%.1f MiB above it: it would hang before its first console line; give it "
               "Memory=%" G_GUINT64_FORMAT "M or more, or a smaller kernel (Kernel=)",
               guest->name, guest->memory / MIB, (end + MIB - 1) / MIB,
               (double)initrd.st_size / MIB, need / MIB);
  return FALSE;
}
