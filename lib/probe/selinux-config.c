/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* /etc/selinux/config and enforcing= on the kernel command line, as libselinux 3.4 reads them. */

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "probe/selinux-config.h"
#include "util/strv.h"

#define SELINUX_PAGE 4096 /* libselinux reads lines with fgets(buf, selinux_page_size) */

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

int np_selinux_config_parse(const char *data, size_t size, NpSelinuxConfig *ret)
{
        NpSelinuxConfig c = {};
        char buf[SELINUX_PAGE];
        unsigned lineno = 1;
        size_t pos = 0;

        while (pos < size) {
                size_t max = MIN(size - pos, (size_t)SELINUX_PAGE - 1);
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

int np_selinux_cmdline_enforcing(const char *cmdline, size_t size)
{
        char buf[SELINUX_PAGE];
        size_t n = MIN(size, (size_t)SELINUX_PAGE - 1);
        const char *nl, *tmp;

        /* fgets() of the first line; strstr() then stops at the first NUL. */
        memcpy(buf, cmdline, n);
        buf[n] = '\0';
        nl = memchr(buf, '\n', n);
        if (nl)
                buf[nl - buf + 1] = '\0';
        tmp = strstr(buf, "enforcing=");
        if (!tmp)
                return -1;
        if (tmp != buf && !isspace((unsigned char)tmp[-1]))
                return -1; /* libselinux 3.4 looks at the first occurrence only */
        return atoi(tmp + strlen("enforcing="));
}
