/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gio/gio.h>

#include "mvm-dbus.h"

G_BEGIN_DECLS

/* Work that outlives the bus call that began it (an image import), as
 * /org/microvmd1/job/N, org.microvmd1.Job: its progress, how it ended, and Cancel(). The
 * work itself runs elsewhere (a worker thread) and reports here, on the main loop. */
#define MVD_TYPE_JOB (mvd_job_get_type ())
G_DECLARE_FINAL_TYPE (MvdJob, mvd_job, MVD, JOB, MvmDbusJobSkeleton)

/* A running job of @kind ("import") on @target (the image's name), numbered @id. */
MvdJob *mvd_job_new (const char *kind, const char *target, guint id);
/* /org/microvmd1/job/ID */
const char *mvd_job_get_path (MvdJob *self);
/* Cancel() cancels it; the work checks it. */
GCancellable *mvd_job_get_cancellable (MvdJob *self);
/* Progress, from the main loop: @done of @total bytes (0: not known yet). */
void mvd_job_set_progress (MvdJob *self, guint64 done, guint64 total);
/* Ends it: done, or failed (@error), or cancelled (@error is G_IO_ERROR_CANCELLED). */
void mvd_job_end (MvdJob *self, const GError *error);
gboolean mvd_job_is_running (MvdJob *self);

G_END_DECLS
