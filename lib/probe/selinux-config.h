/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * /etc/selinux/config and the kernel command line, read the way libselinux 3.4 reads them at
 * boot (selinux_getenforcemode() and selinux_init_load_policy()):
 *
 *  - 4096-byte fgets() chunks; a chunk must start with "SELINUX=" exactly (column 0, upper
 *    case, no space before '='); white space after '=' is skipped; the value is matched
 *    case-insensitively by prefix ("enforcing # x", "ENFORCING", "enforcingXYZ" are enforcing);
 *    quotes are not stripped; the first recognised line wins and unrecognised ones are skipped;
 *  - no recognised line: the boot falls back to permissive;
 *  - the first word-initial "enforcing=" on the kernel command line wins over the file.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "facts.h"

typedef struct NpSelinuxConfig {
        bool set;           /* a SELINUX= line libselinux recognises exists */
        NpSelinuxMode mode; /* valid when set */
        char *value;        /* the value as written on that line (first 64 bytes, printable) */
        unsigned line;
        size_t offset;          /* where that fgets() chunk starts in the data */
        unsigned ignored_line;  /* first SELINUX= line libselinux skips (bad value), 0 if none */
        size_t ignored_offset;
        char *ignored_value;
} NpSelinuxConfig;

int np_selinux_config_parse(const char *data, size_t size, NpSelinuxConfig *ret);
void np_selinux_config_done(NpSelinuxConfig *c);

/* atoi() of the first word-initial "enforcing=" in the first line of cmdline, or -1. */
int np_selinux_cmdline_enforcing(const char *cmdline, size_t size);
