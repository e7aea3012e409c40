/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* systemd-style INI parsing on top of inih, with line numbers and strict line checks. */

#include <ctype.h>
#include <ini.h>
#include <string.h>

#include "profile/ini.h"
#include "util/strv.h"

typedef struct IniStream {
        const char *path;
        const char *data;
        size_t size;
        size_t pos;
        unsigned line;
        NpIniHandler handler;
        void *userdata;
        int error;
        unsigned error_line;
        char *error_message;
        bool error_quotes; /* the message may hold content of the file */
} IniStream;

static void stream_fail(IniStream *s, int error, char *message)
{
        if (s->error != 0) {
                free(message);
                return;
        }
        s->error = error;
        s->error_quotes = true;
        s->error_line = s->line;
        s->error_message = message ? message : strdup("out of memory");
}

/* fgets-like reader for ini_parse_stream(): hands inih one line at a time, or stops it. */
static char *stream_read_line(char *str, int num, void *userdata)
{
        IniStream *s = userdata;
        const char *p, *nl;
        size_t n;

        if (s->error != 0 || s->pos >= s->size)
                return NULL;

        p = s->data + s->pos;
        nl = memchr(p, '\n', s->size - s->pos);
        n = nl ? (size_t)(nl - p) : s->size - s->pos;
        s->pos += n + (nl ? 1 : 0);
        s->line++;

        if (memchr(p, '\0', n)) {
                stream_fail(s, -EINVAL, strdup("NUL byte in line: not a text file"));
                s->error_quotes = false;
                return NULL;
        }
        if (!utf8_is_valid(p, n)) {
                stream_fail(s, -EINVAL, strdup("line is not valid UTF-8"));
                s->error_quotes = false;
                return NULL;
        }
        if (s->line == 1 && n >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0) {
                p += 3; /* a UTF-8 byte order mark, as editors on other systems write */
                n -= 3;
        }
        /* Leading white space would make inih treat the line as a continuation of the previous
         * value; systemd has no such rule, so drop it. */
        while (n > 0 && (*p == ' ' || *p == '\t')) {
                p++;
                n--;
        }
        if (n + 1 > (size_t)num) {
                stream_fail(s, -EINVAL,
                            strprintf("line is longer than %d bytes, which the INI parser cannot "
                                      "hold",
                                      num - 1));
                s->error_quotes = false;
                return NULL;
        }
        memcpy(str, p, n);
        str[n] = '\0';

        if (str[0] == '[') {
                _cleanup_free_ char *copy = strdup(str);
                char *e, *name;
                int r;

                if (!copy) {
                        stream_fail(s, -ENOMEM, NULL);
                        return NULL;
                }
                e = copy + strlen(copy);
                while (e > copy && isspace((unsigned char)e[-1]))
                        *--e = '\0';
                if (e == copy || e[-1] != ']') {
                        stream_fail(s, -EINVAL, strprintf("malformed section header \"%s\"", copy));
                        return NULL;
                }
                e[-1] = '\0';
                name = strstrip(copy + 1);
                if (strlen(name) > NP_INI_MAX_NAME) {
                        stream_fail(
                            s, -EINVAL,
                            strprintf("section name longer than %d characters", NP_INI_MAX_NAME));
                        return NULL;
                }
                /* Tell the handler a section starts (key NULL): repeated sections such as
                 * [Check] are separate entries. */
                char *msg = NULL;
                r = s->handler(s->userdata, name, NULL, NULL, s->line, &msg);
                if (r < 0) {
                        stream_fail(s, r, msg);
                        return NULL;
                }
        }
        return str;
}

static int stream_handle_key(void *userdata, const char *section, const char *key,
                             const char *value)
{
        IniStream *s = userdata;
        char *msg = NULL;
        int r;

        if (s->error != 0)
                return 0;
        r = s->handler(s->userdata, section, key, value, s->line, &msg);
        if (r < 0) {
                stream_fail(s, r, msg);
                return 0;
        }
        return 1;
}

int np_ini_parse(const char *path, const char *data, size_t size, NpIniHandler handler,
                 void *userdata, bool quote, char **ret_error)
{
        IniStream s = {
                .path = path,
                .data = data,
                .size = size,
                .handler = handler,
                .userdata = userdata,
        };
        int line;

        line = ini_parse_stream(stream_read_line, &s, stream_handle_key, &s);
        if (s.error != 0 && (line <= 0 || (unsigned)line >= s.error_line)) {
                if (quote || !s.error_quotes)
                        *ret_error = strprintf("%s:%u: %s", path, s.error_line, s.error_message);
                else
                        *ret_error = strprintf("%s:%u: not a valid line for this file (content "
                                               "not shown: %s is not readable by everyone)",
                                               path, s.error_line, path);
                free(s.error_message);
                return s.error;
        }
        free(s.error_message);
        if (line > 0) {
                *ret_error =
                    strprintf("%s:%d: syntax error: expected [Section] or Key=Value", path, line);
                return -EINVAL;
        }
        if (line < 0) {
                *ret_error = strprintf("%s: out of memory while parsing", path);
                return -ENOMEM;
        }
        return 0;
}
