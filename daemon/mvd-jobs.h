/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "mvd-context.h"
#include "mvd-job.h"

G_BEGIN_DECLS

/* The daemon's jobs on the bus (/org/microvmd1/job/N), numbered once for all kinds: image
 * imports, snapshot saves. An ended job lingers a minute for its caller to read how it
 * ended. */
MvdJobs *mvd_jobs_new (const MvdContext *context, GDBusObjectManagerServer *objects);
void mvd_jobs_free (MvdJobs *self);

/* A running job of @kind on @target, exported; the caller gets a reference. */
MvdJob *mvd_jobs_start (MvdJobs *self, const char *kind, const char *target);
/* Ends @job: done, or failed with @error (cancelled: G_IO_ERROR_CANCELLED); it leaves the
 * bus a while later. */
void mvd_jobs_end (MvdJobs *self, MvdJob *job, const GError *error);

G_END_DECLS
