/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * modprobe.d files (and a kernel's modules.softdep) as libkmod reads them: kmod_config_parse()
 * in libkmod/libkmod-config.c, the same in kmod 28 (RHEL 9), 29 (Ubuntu 22.04), 30 (Debian 12)
 * and 34 (Debian 13):
 *
 *  - lines end at '\n'; a backslash before the newline joins the next line, a backslash before
 *    anything else is dropped (freadline_wrapped() in shared/util.c); a NUL ends what is read of
 *    a line;
 *  - a line starting with '#' (column 0) or empty is skipped; words are split on spaces and tabs;
 *  - "alias NAME MODULE", "blacklist MODULE", "options MODULE REST", "install MODULE REST",
 *    "remove MODULE REST", "softdep MODULE REST" (tokens after "pre:" or "post:"); names get
 *    '-' folded to '_' outside [...] (underscores()); a name with a ']' outside brackets or an
 *    unclosed '[' makes the line a syntax error, which libkmod logs and skips, as it does
 *    unknown commands and a missing argument; "include" and "config" are ignored.
 */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>

typedef enum NpModprobeKind {
        NP_MODPROBE_ALIAS,
        NP_MODPROBE_BLACKLIST,
        NP_MODPROBE_OPTIONS,
        NP_MODPROBE_INSTALL,
        NP_MODPROBE_REMOVE,
        NP_MODPROBE_SOFTDEP,
        _NP_MODPROBE_KIND_MAX,
        _NP_MODPROBE_KIND_INVALID = -EINVAL,
} NpModprobeKind;

typedef struct NpModprobeDirective {
        NpModprobeKind kind;
        char *file;    /* as on the described host */
        unsigned line; /* first physical line of the directive */
        char *module;  /* the name or fnmatch() pattern the directive is about, folded */
        char *arg;     /* alias: the module; options, install, remove: the rest of the line */
        char **pre;    /* softdep "pre:" modules, as written */
        char **post;   /* softdep "post:" modules */
        bool late;     /* from a directory only kmod 33 and later read (see kmod.c) */
} NpModprobeDirective;

typedef struct NpModprobeConf {
        NpModprobeDirective *directives; /* in the order libkmod applies them */
        size_t n_directives;
} NpModprobeConf;

/* Add the directives of one file's contents. -ENOMEM only. */
int np_modprobe_conf_parse(const char *file, const char *data, size_t size, bool late,
                           NpModprobeConf *c);
void np_modprobe_conf_done(NpModprobeConf *c);
const char *np_modprobe_kind_to_string(NpModprobeKind k);
/* The directive as a line of text ("install iscsi_tcp /bin/true"), printable. */
char *np_modprobe_directive_text(const NpModprobeDirective *d);

/*
 * What an install command does instead of inserting the module: libkmod runs it with
 * system() (module_do_install_commands(): "$CMDLINE_OPTS" replaced by the module's options).
 * nodeprep never runs it; it recognises the commands used to disable a module (CIS, STIG:
 * /bin/true, /bin/false, exit, echo) and "modprobe --ignore-install MODULE" that inserts it.
 */
typedef enum NpInstallEffect {
        NP_INSTALL_NOTHING, /* exits 0 and inserts nothing: systemd says "Inserted" */
        NP_INSTALL_FAILS,   /* exits non-zero, inserts nothing */
        NP_INSTALL_INSERTS, /* modprobe --ignore-install MODULE: inserted */
        NP_INSTALL_UNKNOWN, /* anything else */
        _NP_INSTALL_EFFECT_MAX,
        _NP_INSTALL_EFFECT_INVALID = -EINVAL,
} NpInstallEffect;

NpInstallEffect np_install_command_effect(const char *command, const char *module);
