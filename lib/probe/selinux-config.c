/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* /etc/selinux/config and enforcing= on the kernel command line, as libselinux 3.4 reads them. */

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "probe/selinux-config.h"
#include "util/strv.h"

/* libselinux reads lines with fgets(buf, selinux_page_size): sysconf(_SC_PAGE_SIZE). */
size_t np_selinux_page_size(void)
{
        long p = sysconf(_SC_PAGE_SIZE);

        return p > 0 ? (size_t)p : 4096;
}

void np_selinux_config_done(NpSelinuxConfig *c)
{
        free(c->value);
        free(c->ignored_value);
        *c = (NpSelinuxConfig){};
}

static const struct {
        const char *word;
        NpSelinuxMode mode;
} selinux_words[] = {
        { "enforcing", NP_SELINUX_ENFORCING },
        { "permissive", NP_SELINUX_PERMISSIVE },
        { "disabled", NP_SELINUX_DISABLED },
};

/* The shown value: up to the end of the chunk's text, at most 64 bytes, printable. */
static char *shown_value(const char *tag, size_t n)
{
        while (n > 0 && (tag[n - 1] == '\n' || tag[n - 1] == '\r'))
                n--;
        return str_escape_printable(tag, n, 64);
}

int np_selinux_config_parse_page(const char *data, size_t size, size_t page, NpSelinuxConfig *ret)
{
        NpSelinuxConfig c = {};
        _cleanup_free_ char *buf = malloc(page);
        unsigned lineno = 1;
        size_t pos = 0;

        if (!buf)
                return -ENOMEM;
        while (pos < size) {
                size_t max = MIN(size - pos, page - 1);
                const char *nl = memchr(data + pos, '\n', max);
                size_t n = nl ? (size_t)(nl - (data + pos)) + 1 : max;
                unsigned this_line = lineno;
                size_t this_offset = pos;
                const char *tag;

                memcpy(buf, data + pos, n);
                buf[n] = '\0';
                pos += n;
                if (nl)
                        lineno++;

                if (strncmp(buf, "SELINUX=", 8) != 0)
                        continue;
                tag = buf + 8;
                while (isspace((unsigned char)*tag))
                        tag++;
                for (size_t i = 0; i < ELEMENTSOF(selinux_words); i++)
                        if (strncasecmp(tag, selinux_words[i].word,
                                        strlen(selinux_words[i].word)) == 0) {
                                c.set = true;
                                c.mode = selinux_words[i].mode;
                                c.line = this_line;
                                c.offset = this_offset;
                                c.value = shown_value(tag, strlen(tag));
                                if (!c.value) {
                                        np_selinux_config_done(&c);
                                        return -ENOMEM;
                                }
                                *ret = c;
                                return 0;
                        }
                if (c.ignored_line == 0) {
                        c.ignored_line = this_line;
                        c.ignored_offset = this_offset;
                        c.ignored_value = shown_value(buf + 8, strlen(buf + 8));
                        if (!c.ignored_value) {
                                np_selinux_config_done(&c);
                                return -ENOMEM;
                        }
                }
        }
        *ret = c;
        return 0;
}

int np_selinux_config_parse(const char *data, size_t size, NpSelinuxConfig *ret)
{
        return np_selinux_config_parse_page(data, size, np_selinux_page_size(), ret);
}

bool np_selinux_config_has_long_line(const char *data, size_t size)
{
        size_t start = 0;

        for (size_t i = 0; i <= size; i++)
                if (i == size || data[i] == '\n') {
                        /* The line with its newline fills a 4096-byte fgets() buffer. */
                        if (i - start + (i < size) >= 4095)
                                return true;
                        start = i + 1;
                }
        return false;
}

/* What enforcing= does at boot: -1 not set (or negative: the config decides), 0, 1. */
static int cmdline_effect_old(const char *buf)
{
        const char *tmp = strstr(buf, "enforcing=");
        int v;

        /* libselinux up to 3.9: the first occurrence only; it must start a word; atoi(). */
        if (!tmp || (tmp != buf && !isspace((unsigned char)tmp[-1])))
                return -1;
        v = atoi(tmp + strlen("enforcing="));
        return v < 0 ? -1 : v > 0;
}

static int cmdline_effect_new(const char *buf)
{
        const char *last = NULL;

        /* libselinux 3.10 and later: the last word-initial occurrence, strtol(, 0), any
         * non-zero value enforces. */
        for (const char *t = strstr(buf, "enforcing="); t; t = strstr(t + 1, "enforcing="))
                if (t == buf || isspace((unsigned char)t[-1]))
                        last = t;
        if (!last)
                return -1;
        return strtol(last + strlen("enforcing="), NULL, 0) != 0;
}

int np_selinux_cmdline_enforcing(const char *cmdline, size_t size)
{
        size_t page = np_selinux_page_size();
        _cleanup_free_ char *buf = malloc(page);
        size_t n = MIN(size, page - 1);
        const char *nl, *tmp;
        int old, new;

        if (!buf)
                return -ENOMEM;
        /* fgets() of the first line; strstr() then stops at the first NUL. */
        memcpy(buf, cmdline, n);
        buf[n] = '\0';
        nl = memchr(buf, '\n', n);
        if (nl)
                buf[nl - buf + 1] = '\0';
        old = cmdline_effect_old(buf);
        new = cmdline_effect_new(buf);
        if (old != new)
                return NP_SELINUX_CMDLINE_AMBIGUOUS;
        if (old < 0)
                return -1;
        tmp = strstr(buf, "enforcing=");
        return atoi(tmp + strlen("enforcing=")); /* as written, for the report */
}
