/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "mvc-common.h"

G_BEGIN_DECLS

/* How a job's progress line and its end speak of it */
typedef struct
{
  const char *doing; /* "importing": begins the progress line, before the job's Target */
  const char *moved; /* "read": follows the bytes while their total is unknown */
  const char *what;  /* "import": "cancelling the import", "import cancelled" */
} MvcJobWords;

/* The org.microvmd1.Job at @path, its properties loaded and kept current. */
MvmDbusJob *mvc_job_proxy (MvcContext *ctx, const char *path, GError **error);

/* Follows @job until it ends, drawing its progress on stderr: a live line on a terminal, a
 * line at each tenth otherwise. SIGINT and SIGTERM cancel the job meanwhile. TRUE when it
 * ended done; FALSE with its Error, or G_IO_ERROR_CANCELLED when it was cancelled. */
gboolean mvc_job_follow (MvmDbusJob *job, const MvcJobWords *words, GError **error);

G_END_DECLS
