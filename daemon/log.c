/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* nodeprepd's logging (see log.h). */

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "daemon/log.h"

static int max_level = LOG_INFO;

void log_set_max_level(int level)
{
        max_level = level;
}

static _printf_(2, 0) void log_va(int level, const char *fmt, va_list ap)
{
        static int journal = -1;

        if (level > max_level)
                return;
        if (journal < 0)
                journal = getenv("JOURNAL_STREAM") != NULL;
        if (journal)
                fprintf(stderr, "<%d>", level);
        else
                fputs("nodeprepd: ", stderr);
        vfprintf(stderr, fmt, ap);
        fputc('\n', stderr);
}

void log_full(int level, const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        log_va(level, fmt, ap);
        va_end(ap);
}

int log_full_errno(int level, int error, const char *fmt, ...)
{
        va_list ap;

        errno = ERRNO_VALUE(error);
        va_start(ap, fmt);
        log_va(level, fmt, ap);
        va_end(ap);
        return -ERRNO_VALUE(error);
}
