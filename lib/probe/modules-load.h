/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * modules-load.d as systemd-modules-load (systemd 252, Debian 12 and RHEL 9) reads it:
 *
 *  - directories /etc, /run, /usr/local/lib, /usr/lib and /lib (split-usr builds) + modules-load.d,
 *    a directory reached twice through symlinks counted once;
 *  - only "*.conf", not hidden; the first directory with a file name wins and hides the same name
 *    further down, whatever it is (a /dev/null symlink, an empty file, a dangling link);
 *  - files are applied in byte order of their name, whatever directory they are in;
 *  - each line stripped of " \t\n\r"; empty lines and lines starting with '#' or ';' skipped; the
 *    whole rest of the line is the module name (no inline comments, no parameters).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "util/root.h"

typedef struct NpModulesLoadLine {
        char *file; /* path as on the described host */
        unsigned line;
        char *text; /* the stripped line: what systemd looks up */
        bool
            applied; /* false when the file is hidden by another (or, for the next boot, in /run) */
        char *hidden_by;
        bool in_run; /* in /run/modules-load.d: emptied at every boot, so not read next boot */
} NpModulesLoadLine;

typedef struct NpModulesLoad {
        NpModulesLoadLine *lines;
        size_t n_lines;
} NpModulesLoad;

void np_modules_load_done(NpModulesLoad *m);
/* Add the module lines of one file's contents. */
int np_modules_load_parse(const char *file, const char *data, size_t size, bool applied,
                          const char *hidden_by, NpModulesLoad *m);
/* Read every modules-load.d directory under the root. Unreadable files are errors with a reason. */
int np_modules_load_read(const NpRoot *root, NpModulesLoad *ret, char **ret_error);
/* The same for the next boot: /run/modules-load.d is empty then (a tmpfs), so its files neither
 * load nor hide anything; their lines come back not applied, with in_run set. */
int np_modules_load_read_next_boot(const NpRoot *root, NpModulesLoad *ret, char **ret_error);

/* underscores() in kmod's shared/util.c (alias_normalize() reads names alike), in place: '-'
 * becomes '_' outside [...]; -EINVAL on a stray ']' or a '[' never closed. */
int np_module_name_underscores(char *s);
/* The same on a copy. */
int np_module_name_normalize(const char *name, char **ret);
