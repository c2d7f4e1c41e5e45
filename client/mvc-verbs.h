/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* One function per verb, each in its own mvc-<verb>.c; microvmctl.c holds the table. */
#pragma once

#include "mvc-common.h"

G_BEGIN_DECLS

int mvc_list (MvcContext *ctx, int argc, char **argv);
int mvc_status (MvcContext *ctx, int argc, char **argv);
int mvc_define (MvcContext *ctx, int argc, char **argv);
int mvc_undefine (MvcContext *ctx, int argc, char **argv);
int mvc_clone (MvcContext *ctx, int argc, char **argv);
int mvc_create (MvcContext *ctx, int argc, char **argv);
int mvc_start (MvcContext *ctx, int argc, char **argv);
int mvc_stop (MvcContext *ctx, int argc, char **argv);
int mvc_kill (MvcContext *ctx, int argc, char **argv);
int mvc_reboot (MvcContext *ctx, int argc, char **argv);
int mvc_pause (MvcContext *ctx, int argc, char **argv);
int mvc_resume (MvcContext *ctx, int argc, char **argv);
int mvc_check (MvcContext *ctx, int argc, char **argv);
int mvc_set_memory (MvcContext *ctx, int argc, char **argv);
int mvc_stats (MvcContext *ctx, int argc, char **argv);
int mvc_autostart (MvcContext *ctx, int argc, char **argv);
int mvc_reload (MvcContext *ctx, int argc, char **argv);
int mvc_console (MvcContext *ctx, int argc, char **argv);
int mvc_log (MvcContext *ctx, int argc, char **argv);
int mvc_image (MvcContext *ctx, int argc, char **argv);
int mvc_snapshot (MvcContext *ctx, int argc, char **argv);
int mvc_run (MvcContext *ctx, int argc, char **argv);
/* image import, called by mvc_image */
int mvc_image_import (MvcContext *ctx, int argc, char **argv);
/* Image.Remove of image @name */
gboolean mvc_remove_image (MvcContext *ctx, const char *name, GError **error);

G_END_DECLS
