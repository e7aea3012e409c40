/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* NULL-terminated string vectors and small string helpers. */

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/strv.h"

char **strv_free(char **l)
{
        STRV_FOREACH (s, l)
                free(*s);
        free(l);
        return NULL;
}

size_t strv_length(char *const *l)
{
        size_t n = 0;

        while (l && l[n])
                n++;
        return n;
}

bool strv_contains(char *const *l, const char *s)
{
        for (size_t i = 0; l && l[i]; i++)
                if (streq(l[i], s))
                        return true;
        return false;
}

int strv_consume(char ***l, char *s)
{
        size_t n = strv_length(*l);
        char **c;

        if (!s)
                return -ENOMEM;
        c = reallocarray(*l, n + 2, sizeof(char *));
        if (!c) {
                free(s);
                return -ENOMEM;
        }
        c[n] = s;
        c[n + 1] = NULL;
        *l = c;
        return 0;
}

int strv_extend(char ***l, const char *s)
{
        return strv_consume(l, strdup(s));
}

int strv_extend_unique(char ***l, const char *s)
{
        if (strv_contains(*l, s))
                return 0;
        return strv_extend(l, s);
}

int intv_extend_unique(int **l, size_t *n, int v)
{
        int *a;

        for (size_t i = 0; i < *n; i++)
                if ((*l)[i] == v)
                        return 0;
        a = reallocarray(*l, *n + 1, sizeof(int));
        if (!a)
                return -ENOMEM;
        a[(*n)++] = v;
        *l = a;
        return 0;
}

void strv_remove(char **l, const char *s)
{
        char **w = l;

        STRV_FOREACH (r, l) {
                if (streq(*r, s))
                        free(*r);
                else
                        *w++ = *r;
        }
        if (w)
                *w = NULL;
}

char **strv_copy(char *const *l)
{
        _cleanup_strv_free_ char **c = calloc(strv_length(l) + 1, sizeof(char *));
        size_t i = 0;

        if (!c)
                return NULL;
        for (; l && l[i]; i++) {
                c[i] = strdup(l[i]);
                if (!c[i])
                        return NULL;
        }
        return TAKE_PTR(c);
}

static int str_cmp(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

void strv_sort(char **l)
{
        size_t n = strv_length(l);

        if (n > 1)
                qsort(l, n, sizeof(char *), str_cmp);
}

int strv_split(const char *s, const char *separators, char ***ret)
{
        _cleanup_strv_free_ char **l = calloc(1, sizeof(char *));

        if (!l)
                return -ENOMEM;
        while (s && *s) {
                size_t n;

                s += strspn(s, separators);
                n = strcspn(s, separators);
                if (n == 0)
                        break;
                if (strv_consume(&l, strndup(s, n)) < 0)
                        return -ENOMEM;
                s += n;
        }
        *ret = TAKE_PTR(l);
        return 0;
}

char *strv_join(char *const *l, const char *separator)
{
        size_t n = 0, k = strlen(separator);
        char *r, *p;

        for (size_t i = 0; l && l[i]; i++)
                n += strlen(l[i]) + (i > 0 ? k : 0);
        r = p = malloc(n + 1);
        if (!r)
                return NULL;
        for (size_t i = 0; l && l[i]; i++) {
                if (i > 0)
                        p = stpcpy(p, separator);
                p = stpcpy(p, l[i]);
        }
        *p = '\0';
        return r;
}

const char *startswith(const char *s, const char *prefix)
{
        size_t n = strlen(prefix);

        return strncmp(s, prefix, n) == 0 ? s + n : NULL;
}

const char *endswith(const char *s, const char *suffix)
{
        size_t a = strlen(s), b = strlen(suffix);

        if (b > a)
                return NULL;
        return streq(s + a - b, suffix) ? s + a - b : NULL;
}

char *strstrip(char *s)
{
        char *e;

        while (isspace((unsigned char)*s))
                s++;
        e = s + strlen(s);
        while (e > s && isspace((unsigned char)e[-1]))
                e--;
        *e = '\0';
        return s;
}

char *strvprintf(const char *fmt, va_list ap)
{
        char *s;

        if (vasprintf(&s, fmt, ap) < 0)
                return NULL;
        return s;
}

char *strprintf(const char *fmt, ...)
{
        va_list ap;
        char *s;

        va_start(ap, fmt);
        s = strvprintf(fmt, ap);
        va_end(ap);
        return s;
}

bool str_is_name(const char *s, const char *extra)
{
        if (isempty(s))
                return false;
        for (const char *c = s; *c; c++)
                if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
                      (*c >= '0' && *c <= '9') || *c == '-' || *c == '_' ||
                      (extra && strchr(extra, *c))))
                        return false;
        return true;
}

int free_and_vprintf(char **dst, const char *fmt, va_list ap)
{
        char *s = strvprintf(fmt, ap);

        if (!s)
                return -ENOMEM;
        free_and_replace(dst, s);
        return 0;
}

int free_and_printf(char **dst, const char *fmt, ...)
{
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = free_and_vprintf(dst, fmt, ap);
        va_end(ap);
        return r;
}

int free_and_strdup(char **dst, const char *src)
{
        char *c = NULL;

        if (src) {
                c = strdup(src);
                if (!c)
                        return -ENOMEM;
        }
        free(*dst);
        *dst = c;
        return 0;
}

void free_and_replace(char **dst, char *src)
{
        free(*dst);
        *dst = src;
}

/* Length of the valid UTF-8 sequence at s (at most len bytes), 0 if invalid. */
static size_t utf8_seq_len(const unsigned char *s, size_t len)
{
        size_t n;
        unsigned cp;

        if (s[0] < 0x80)
                return 1;
        if ((s[0] & 0xe0) == 0xc0) {
                n = 2;
                cp = s[0] & 0x1f;
        } else if ((s[0] & 0xf0) == 0xe0) {
                n = 3;
                cp = s[0] & 0x0f;
        } else if ((s[0] & 0xf8) == 0xf0) {
                n = 4;
                cp = s[0] & 0x07;
        } else
                return 0;
        if (n > len)
                return 0;
        for (size_t i = 1; i < n; i++) {
                if ((s[i] & 0xc0) != 0x80)
                        return 0;
                cp = (cp << 6) | (s[i] & 0x3f);
        }
        /* Reject overlong forms, surrogates and values past U+10FFFF. */
        if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
            (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
                return 0;
        return n;
}

bool utf8_is_valid(const char *s, size_t len)
{
        const unsigned char *p = (const unsigned char *)s;

        for (size_t i = 0; i < len;) {
                size_t n = utf8_seq_len(p + i, len - i);

                if (n == 0)
                        return false;
                i += n;
        }
        return true;
}

char *str_unescape_octal(char *s)
{
        char *o = s;

        for (const char *i = s; *i; i++) {
                if (i[0] == '\\' && i[1] >= '0' && i[1] <= '3' && i[2] >= '0' && i[2] <= '7' &&
                    i[3] >= '0' && i[3] <= '7') {
                        *o++ = (char)((i[1] - '0') * 64 + (i[2] - '0') * 8 + (i[3] - '0'));
                        i += 3;
                } else
                        *o++ = *i;
        }
        *o = '\0';
        return s;
}

char *str_escape_printable(const char *s, size_t len, size_t max)
{
        const unsigned char *p = (const unsigned char *)s;
        char *r, *o;
        size_t i = 0;

        /* Worst case every byte becomes four characters, plus "..." */
        r = o = malloc(MIN(len, max) * 4 + 4);
        if (!r)
                return NULL;
        while (i < len && i < max) {
                size_t n = utf8_seq_len(p + i, len - i);

                if (n == 1 && (p[i] < 0x20 || p[i] == 0x7f))
                        n = 0;
                if (n == 0) {
                        o += sprintf(o, "\\x%02x", p[i]);
                        i++;
                } else {
                        memcpy(o, p + i, n);
                        o += n;
                        i += n;
                }
        }
        if (i < len)
                o = stpcpy(o, "...");
        *o = '\0';
        return r;
}
