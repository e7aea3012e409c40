/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A service's ExecStartPre= commands as systemd 252 (Debian 12; the rules are the same in 247
 * and 257) loads and runs them, read from the root's files, never run:
 *
 *  - the unit file: the first of np_unit_dirs that has it; a link to /dev/null is masked;
 *  - then its drop-ins: *.conf in NAME.d/ and in the type's service.d/ of each unit directory
 *    (src/shared/dropin.c unit_file_find_dropin_paths()); the first directory with a file name
 *    wins (a /dev/null link masks it); applied in byte order of their names;
 *  - lines as src/shared/conf-parser.c config_parse() reads them: comments ('#', ';'), a
 *    trailing backslash continues the line (the assignment is at its last line), "[Service]"
 *    sections only, key and value stripped; an empty ExecStartPre= clears the list;
 *  - each value as src/core/load-fragment.c config_parse_exec(): commands separated by a lone
 *    ";", each with the prefixes '-', '@', ':', '+', '!', '!!' in any order (each once); a path
 *    systemd refuses makes the unit "bad-setting" unless the command has '-' (then it is
 *    dropped with the rest of the line);
 *  - at start (src/core/execute.c exec_child(), find_executable_full()): an executable that
 *    does not exist, is not a regular file or has no execute bit fails the unit with status
 *    203/EXEC unless the command has '-'.
 *
 * Not modelled, said as unknown: specifiers ('%'), backslash escapes in the path, a bare name
 * looked up in $PATH. Not read: the runtime directories (system.control, transient, generator
 * output) and RootDirectory=/RootImage= (iscsid.service has none).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "util/root.h"

typedef struct NpExecCommand {
        char *file; /* unit file or drop-in, as on the described host */
        unsigned line;
        char *path;  /* the executable */
        bool ignore; /* '-': a missing executable is skipped, a failure ignored */
} NpExecCommand;

typedef struct NpExecStartPre {
        char *unit_file; /* the unit file read; NULL when the unit has none */
        NpExecCommand *commands;
        size_t n_commands;
        /* systemd does not start the unit: "FILE:LINE: ..." (an executable it cannot run, a line
         * it refuses, a masked unit file); NULL otherwise */
        char *fails;
        /* a file that exists cannot be read, or a line is outside the model: why */
        char *unknown;
} NpExecStartPre;

void np_exec_start_pre_done(NpExecStartPre *e);
/* Fill ret for unit (e.g. "iscsid.service") in root. Only -ENOMEM is an error. */
int np_unit_exec_start_pre(const NpRoot *root, const char *unit, NpExecStartPre *ret);
