/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* NULL-terminated string vectors and small string helpers. */
#pragma once

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#include "util/macro.h"

char **strv_free(char **l);
DEFINE_TRIVIAL_CLEANUP_FUNC(char **, strv_free);
#define _cleanup_strv_free_ _cleanup_(strv_freep)

size_t strv_length(char *const *l);
bool strv_contains(char *const *l, const char *s);
/* Append a copy of s; -ENOMEM on failure (l unchanged). */
int strv_extend(char ***l, const char *s);
/* Append s itself, taking ownership (freed on failure). */
int strv_consume(char ***l, char *s);
int strv_extend_unique(char ***l, const char *s);
/* Append v to the array of n ints unless it holds it already. -ENOMEM only. */
int intv_extend_unique(int **l, size_t *n, int v);
/* Remove every entry equal to s (freeing it). */
void strv_remove(char **l, const char *s);
char **strv_copy(char *const *l);
void strv_sort(char **l);
/* Split on any of the separator characters, skipping empty words. */
int strv_split(const char *s, const char *separators, char ***ret);
char *strv_join(char *const *l, const char *separator);

#define STRV_FOREACH(s, l) for (char **s = (l); s && *s; s++)

const char *startswith(const char *s, const char *prefix) _pure_;
const char *endswith(const char *s, const char *suffix) _pure_;
/* Strip leading and trailing isspace() characters in place; returns the new start. */
char *strstrip(char *s);
char *strprintf(const char *fmt, ...) _printf_(1, 2);
char *strvprintf(const char *fmt, va_list ap) _printf_(1, 0);
/* Replace *dst with a copy of src (NULL allowed). */
int free_and_strdup(char **dst, const char *src);
/* Replace *dst with src, taking ownership. */
void free_and_replace(char **dst, char *src);
/* Replace *dst with the formatted text (a message field); -ENOMEM leaves *dst as it was. */
int free_and_printf(char **dst, const char *fmt, ...) _printf_(2, 3);
int free_and_vprintf(char **dst, const char *fmt, va_list ap) _printf_(2, 0);
/* Not empty, and only ASCII letters, digits, '-', '_' and the characters in extra (may be NULL):
 * the names of site values ([Path NAME], [Endpoint NAME]) and of profiles. */
bool str_is_name(const char *s, const char *extra) _pure_;
/* Undo in place the \ooo octal escapes of /proc/self/mountinfo, /proc/swaps and /etc/fstab
 * ("\040" for a space); returns s. */
char *str_unescape_octal(char *s);
/* A printable copy: control characters and invalid UTF-8 become \xNN, cut at max bytes. */
char *str_escape_printable(const char *s, size_t len, size_t max);
bool utf8_is_valid(const char *s, size_t len);

#define STRV_MAKE(...)     ((char *[]){ __VA_ARGS__, NULL })
#define STR_IN_SET(x, ...) strv_contains(STRV_MAKE(__VA_ARGS__), (x))
