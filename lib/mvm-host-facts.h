/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum
{
  MVM_ACCEL_AUTO,
  MVM_ACCEL_KVM,
  MVM_ACCEL_TCG,
} MvmAccel;

/* What the argv builder needs to know about this host; probed once. */
typedef struct
{
  char *qemu_binary;    /* as given, or resolved in PATH */
  char *qemu_version;   /* "7.2.22" */
  gboolean kvm;         /* /dev/kvm usable, and the daemon allows it */
  gboolean vhost_vsock; /* /dev/vhost-vsock present */
  char *qboot_rom;      /* NULL when absent */
  char *passt;          /* passt's path, NULL when not installed */
  char *virtiofsd;      /* QEMU's virtiofsd, NULL when not installed */
  guint64 tsc_khz;      /* 0 when unknown */
  char *note;           /* why KVM is not used though /dev/kvm exists, or NULL */
} MvmHostFacts;

/* Probes @qemu_binary (runs it with --version) and the host devices; @accel forces one. */
MvmHostFacts *mvm_host_facts_probe (const char *qemu_binary, MvmAccel accel, GError **error);
void mvm_host_facts_free (MvmHostFacts *facts);
const char *mvm_host_facts_accelerator (const MvmHostFacts *facts);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MvmHostFacts, mvm_host_facts_free)

G_END_DECLS
