/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * /etc/selinux/config and the kernel command line, read the way libselinux 3.4 reads them at
 * boot (selinux_getenforcemode() and selinux_init_load_policy()):
 *
 *  - page-size fgets() chunks (4096 bytes on most hosts, 64 KiB on some arm64 and ppc64le); a chunk
 * must start with "SELINUX=" exactly (column 0, upper case, no space before '='); white space after
 * '=' is skipped; the value is matched case-insensitively by prefix ("enforcing # x", "ENFORCING",
 * "enforcingXYZ" are enforcing); quotes are not stripped; the first recognised line wins and
 * unrecognised ones are skipped;
 *  - no recognised line: the boot falls back to permissive;
 *  - the first word-initial "enforcing=" on the kernel command line wins over the file
 *    (libselinux 3.10 reads the last one, with strtol(, 0)).
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
        size_t offset;         /* where that fgets() chunk starts in the data */
        unsigned ignored_line; /* first SELINUX= line libselinux skips (bad value), 0 if none */
        size_t ignored_offset;
        char *ignored_value;
} NpSelinuxConfig;

/* With this host's page size; _page: with the given one. */
int np_selinux_config_parse(const char *data, size_t size, NpSelinuxConfig *ret);
int np_selinux_config_parse_page(const char *data, size_t size, size_t page, NpSelinuxConfig *ret);
size_t np_selinux_page_size(void);
/* A line that fills a 4096-byte chunk: then the page size can change what libselinux reads. */
bool np_selinux_config_has_long_line(const char *data, size_t size);
void np_selinux_config_done(NpSelinuxConfig *c);

/* The value of enforcing= on the first line of cmdline, as libselinux reads it at boot, or -1
 * when it sets nothing. NP_SELINUX_CMDLINE_AMBIGUOUS when libselinux up to 3.9 (the first
 * word-initial occurrence, atoi()) and 3.10 and later (the last one, strtol(, 0), non-zero
 * enforces) would boot differently; -ENOMEM. */
#define NP_SELINUX_CMDLINE_AMBIGUOUS (-2)
int np_selinux_cmdline_enforcing(const char *cmdline, size_t size);
