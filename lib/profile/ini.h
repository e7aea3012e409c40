/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * systemd-style INI files read with inih, through our own line reader so that every key arrives
 * with its line number and nothing inih would silently mangle gets through: an over-long line
 * (inih splits it into two), an over-long section or key name (inih truncates it), an indented
 * line (inih glues it to the previous value), NUL bytes or invalid UTF-8 are errors with a line.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* Return 0 to continue, or -errno with *ret_error set (without file and line). */
typedef int (*NpIniHandler)(void *userdata, const char *section, const char *key, const char *value,
                            unsigned line, char **ret_error);

/*
 * Parse data (size bytes, the contents of path) and call handler for every key. On failure
 * returns -EINVAL (or the handler's error) and sets *ret_error to "PATH:LINE: message".
 */
/* quote: errors may quote the file's content; when false they name path:line and the class of
 * problem only (the file may be one the caller cannot read, e.g. /etc/shadow). */
int np_ini_parse(const char *path, const char *data, size_t size, NpIniHandler handler,
                 void *userdata, bool quote, char **ret_error);

/* The longest line inih can hold, excluding the newline. */
#define NP_INI_MAX_LINE 198
/* The longest section or key name inih keeps whole. */
#define NP_INI_MAX_NAME 49
