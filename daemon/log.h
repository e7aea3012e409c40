/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * nodeprepd's logging: one line per message on stderr, with the syslog priority prefix journald
 * understands when stderr is the journal (JOURNAL_STREAM), and plain otherwise.
 */
#pragma once

#include <syslog.h>

#include "util/macro.h"

void log_set_max_level(int level);
void log_full(int level, const char *fmt, ...) _printf_(2, 3);
/* Log with errno set from error (for %m) and return error. */
int log_full_errno(int level, int error, const char *fmt, ...) _printf_(3, 4);

#define log_debug(...)            log_full(LOG_DEBUG, __VA_ARGS__)
#define log_info(...)             log_full(LOG_INFO, __VA_ARGS__)
#define log_notice(...)           log_full(LOG_NOTICE, __VA_ARGS__)
#define log_warning(...)          log_full(LOG_WARNING, __VA_ARGS__)
#define log_error(...)            log_full(LOG_ERR, __VA_ARGS__)
#define log_warning_errno(e, ...) log_full_errno(LOG_WARNING, e, __VA_ARGS__)
#define log_error_errno(e, ...)   log_full_errno(LOG_ERR, e, __VA_ARGS__)
#define log_debug_errno(e, ...)   log_full_errno(LOG_DEBUG, e, __VA_ARGS__)
