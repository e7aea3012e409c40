/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The kernel command line, read two ways, each as its reader does:
 *
 *  - the kernel's own parameters (selinux=, enforcing=, security=, lsm=, module_blacklist=):
 *    words split by next_arg() in the kernel's lib/cmdline.c (double quotes group, are dropped
 *    around the whole word or the value), names compared by parameq() ('-' and '_' equal),
 *    nothing after a bare "--" (parse_args() hands that to init); __setup() and core_param()
 *    handlers run for every occurrence, so the last one wins;
 *  - libkmod's reading (kmod_config_parse_kcmdline() in libkmod/libkmod-config.c, kmod 28-34
 *    alike): "MODULE.param=value" words become options of MODULE ('-' folded to '_'), and
 *    "modprobe.blacklist=a,b" blacklists a and b as written (not folded); a word with a quote
 *    anywhere but at its start or in the value, or a space inside quotes before the value, is
 *    ignored; libkmod reads at most 4095 bytes.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

typedef struct NpKcmdlineWord {
        char *key;   /* quotes removed as next_arg() does */
        char *value; /* NULL when the word has no '=' */
        bool init;   /* after a bare "--": an argument of init, not a kernel parameter */
} NpKcmdlineWord;

typedef struct NpKcmdlineOption {
        char *module; /* '-' folded to '_' */
        char *param;  /* "param=value" or "param" as libkmod passes it on */
} NpKcmdlineOption;

typedef struct NpKcmdline {
        NpKcmdlineWord *words;
        size_t n_words;
        /* libkmod's reading */
        char **kmod_blacklist; /* modprobe.blacklist= names, in order, as written */
        NpKcmdlineOption *kmod_options;
        size_t n_kmod_options;
} NpKcmdline;

/* Parse a command line (a trailing newline is white space). -ENOMEM only. */
int np_kcmdline_parse(const char *data, size_t size, NpKcmdline *ret);
void np_kcmdline_done(NpKcmdline *c);

/* The kernel's parameq(): equal names, '-' and '_' the same. */
bool np_kcmdline_key_eq(const char *a, const char *b);
/* The last kernel parameter KEY=... (a __setup() or core_param() handler's view), or NULL. */
const NpKcmdlineWord *np_kcmdline_last(const NpKcmdline *c, const char *key);
/* Every value of KEY=, in order, for readers that collect all (systemd's modules_load=). With
 * init_too, words after "--" count as well (systemd reads the whole of /proc/cmdline). */
int np_kcmdline_values(const NpKcmdline *c, const char *key, bool init_too, char ***ret);
/* "key=value" or "key" of a word, for messages. */
char *np_kcmdline_word_text(const NpKcmdlineWord *w);
