/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* QEMU sends one JSON object per line; these bounds keep a hostile peer from costing more. */
#define QMP_PARSER_MAX_LINE (16 * 1024 * 1024)
#define QMP_PARSER_MAX_DEPTH 64

/* Splits the QMP byte stream into lines and each line into one JSON object. */
typedef struct _QmpParser QmpParser;

/* A parser with nothing buffered. */
QmpParser *qmp_parser_new (void);

/* Frees the parser and whatever it buffered. */
void qmp_parser_free (QmpParser *parser);

/* Appends bytes as read from the socket; parsing happens in qmp_parser_pop(). */
void qmp_parser_feed (QmpParser *parser, const void *data, gsize len);

/* The next complete message, or NULL: with @error set on a protocol violation (the parser
 * then stays failed), without it when more bytes are needed. */
JsonObject *qmp_parser_pop (QmpParser *parser, GError **error);

/* How many bytes are buffered that are not yet part of a complete line. */
gsize qmp_parser_get_pending (QmpParser *parser);

/* A short, escaped excerpt of the bytes buffered, for error messages. */
char *qmp_parser_describe_pending (QmpParser *parser);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (QmpParser, qmp_parser_free)

G_END_DECLS
