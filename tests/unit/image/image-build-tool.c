/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* image-build-tool ARCHIVE IMAGE [SIZE]: mvm_image_build from the command line, for the tests
 * and for debugging. SIZE is bytes, or a number with K, M or G. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "mvm-image-build.h"

static gboolean
parse_size (const char *text, guint64 *size)
{
  char *end;
  guint64 v = g_ascii_strtoull (text, &end, 10);

  switch (g_ascii_toupper (*end))
    {
      case 'G':
        v *= 1024;
      /* fall through */
      case 'M':
        v *= 1024;
      /* fall through */
      case 'K':
        v *= 1024;
        end++;
      /* fall through */
      case '\0':
        break;
      default:
        return FALSE;
    }
  *size = v;
  return end != text && *end == '\0';
}

static void
print_progress (guint64 consumed, guint64 total, gpointer user_data)
{
  if (g_getenv ("IMAGE_BUILD_PROGRESS") != NULL)
    fprintf (stderr, "progress %" G_GUINT64_FORMAT "/%" G_GUINT64_FORMAT "\n", consumed, total);
}

int
main (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MvmImageInfo) info = NULL;
  guint64 size = 0;
  int fd;

  if (argc < 3 || argc > 4 || (argc == 4 && !parse_size (argv[3], &size)))
    {
      fprintf (stderr, "usage: %s ARCHIVE IMAGE [SIZE]\n", argv[0]);
      return 2;
    }
  fd = open (argv[1], O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    {
      fprintf (stderr, "image-build-tool: cannot open %s: %s\n", argv[1], g_strerror (errno));
      return 1;
    }
  if (!mvm_image_build (fd, argv[2], size, print_progress, NULL, NULL, &info, &error))
    {
      fprintf (stderr, "image-build-tool: %s\n", error->message);
      close (fd);
      return 1;
    }
  close (fd);
  printf ("kind: %s\nlayers: %u\ncontent: %" G_GUINT64_FORMAT "\nsize: %" G_GUINT64_FORMAT
          "\nconfig: %s\n",
          mvm_image_kind_to_string (info->kind), info->n_layers, info->content_bytes,
          info->image_bytes, info->config_json != NULL ? info->config_json : "null");
  return 0;
}
