/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

#include "mvm-key-lines.h"

G_BEGIN_DECLS

/* Typed, validated reads from a key file; every error names file, line, group and key. */
typedef struct
{
  const char *file_name;
  GKeyFile *keyfile;
  MvmKeyLines *lines;
} MvmKeyParser;

typedef struct
{
  const char *name;
  int value;
} MvmEnumEntry;

/* Loads @data into @parser (which then owns a GKeyFile and a line index). The keys in
 * @list_keys (NULL: none) may be given on several lines: read them with _get_list. */
gboolean mvm_key_parser_init (MvmKeyParser *parser, const char *data, gsize length,
                              const char *file_name, const char *const *list_keys, GError **error);
void mvm_key_parser_clear (MvmKeyParser *parser);

gboolean mvm_key_parser_fail (const MvmKeyParser *parser, const char *group, const char *key,
                              GError **error, const char *format, ...) G_GNUC_PRINTF (5, 6);

/* Refuses any key of @group not in the NULL-terminated @allowed. */
gboolean mvm_key_parser_check_keys (const MvmKeyParser *parser, const char *group,
                                    const char *const *allowed, GError **error);

/* Each getter leaves *out untouched when the key is absent. */
gboolean mvm_key_parser_get_string (const MvmKeyParser *parser, const char *group, const char *key,
                                    char **out, GError **error);
gboolean mvm_key_parser_get_path (const MvmKeyParser *parser, const char *group, const char *key,
                                  char **out, GError **error);
gboolean mvm_key_parser_get_bool (const MvmKeyParser *parser, const char *group, const char *key,
                                  gboolean *out, GError **error);
gboolean mvm_key_parser_get_uint (const MvmKeyParser *parser, const char *group, const char *key,
                                  guint64 min, guint64 max, guint64 *out, GError **error);
gboolean mvm_key_parser_get_size (const MvmKeyParser *parser, const char *group, const char *key,
                                  guint64 min, guint64 max, guint64 *out, GError **error);
gboolean mvm_key_parser_get_enum (const MvmKeyParser *parser, const char *group, const char *key,
                                  const MvmEnumEntry *entries, int *out, GError **error);

/* Checks one word of a list; FALSE with *why ("is not ...") refuses it. */
typedef gboolean (*MvmListCheck) (const char *word, gpointer data, char **why);

/* A list key: the blank-separated words of all its lines, in order; an empty line empties
 * what came before it. @check (optional) is asked about each word; an error names the line
 * the word is on. */
gboolean mvm_key_parser_get_list (const MvmKeyParser *parser, const char *group, const char *key,
                                  MvmListCheck check, gpointer check_data, GStrv *out,
                                  GError **error);

const char *mvm_enum_to_string (const MvmEnumEntry *entries, int value);

G_END_DECLS
