/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The kernel command line as the kernel and as libkmod read it (see kcmdline.h). */

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "probe/kcmdline.h"
#include "probe/modules-load.h"
#include "util/strv.h"

/* libkmod reads /proc/cmdline into a KCMD_LINE_SIZE (4096) buffer. */
#define KMOD_KCMDLINE_MAX 4095

void np_kcmdline_done(NpKcmdline *c)
{
        FOREACH_ARRAY (w, c->words, c->n_words) {
                free(w->key);
                free(w->value);
        }
        free(c->words);
        FOREACH_ARRAY (o, c->kmod_options, c->n_kmod_options) {
                free(o->module);
                free(o->param);
        }
        free(c->kmod_options);
        strv_free(c->kmod_blacklist);
        *c = (NpKcmdline){};
}

static bool is_space(char c)
{
        return isspace((unsigned char)c);
}

/* One word, as next_arg() in the kernel's lib/cmdline.c splits and unquotes it. */
static int add_word(NpKcmdline *c, char *args, size_t n, bool init)
{
        NpKcmdlineWord *a, *w;
        size_t equals = 0;
        bool quoted = false;
        char *val = NULL;

        /* next_arg(): a leading quote is skipped, as is the matching one at the end. */
        if (n > 0 && args[0] == '"') {
                args++, n--;
                quoted = true;
        }
        /* next_arg() keeps looking while equals is 0, so "=a=b" splits at the second '='. */
        for (size_t i = 0; i < n && equals == 0; i++)
                if (args[i] == '=')
                        equals = i;
        if (equals > 0) {
                args[equals] = '\0';
                val = args + equals + 1;
                if (*val == '"') {
                        val++;
                        if (args[n - 1] == '"')
                                args[n - 1] = '\0';
                }
        }
        if (quoted && n > 0 && args[n - 1] == '"')
                args[n - 1] = '\0';
        args[n] = '\0';

        a = reallocarray(c->words, c->n_words + 1, sizeof(NpKcmdlineWord));
        if (!a)
                return -ENOMEM;
        c->words = a;
        w = &a[c->n_words++];
        *w = (NpKcmdlineWord){ .key = strdup(args),
                               .value = val ? strdup(val) : NULL,
                               .init = init };
        return (!w->key || (val && !w->value)) ? -ENOMEM : 0;
}

static int kernel_words(const char *data, size_t size, NpKcmdline *c)
{
        _cleanup_free_ char *buf = malloc(size + 1);
        bool init = false;
        size_t pos = 0;

        if (!buf)
                return -ENOMEM;
        memcpy(buf, data, size);
        buf[size] = '\0';
        /* The kernel's string ends at the first NUL. */
        size = strlen(buf);
        while (pos < size) {
                size_t start, i;
                bool in_quote = false;
                int r;

                while (pos < size && is_space(buf[pos]))
                        pos++;
                if (pos >= size)
                        break;
                start = pos;
                if (buf[pos] == '"') {
                        in_quote = true;
                        pos++;
                }
                for (i = pos; i < size; i++) {
                        if (is_space(buf[i]) && !in_quote)
                                break;
                        if (buf[i] == '"')
                                in_quote = !in_quote;
                }
                /* parse_args(): a bare "--" ends the kernel's parameters. */
                if (!init && i - start == 2 && buf[start] == '-' && buf[start + 1] == '-') {
                        init = true;
                        pos = i;
                        continue;
                }
                {
                        char save = buf[i];

                        r = add_word(c, buf + start, i - start, init);
                        buf[i] = save;
                }
                if (r < 0)
                        return r;
                pos = i;
        }
        return 0;
}

static int kmod_result(NpKcmdline *c, char *modname, char *param, char *value)
{
        _cleanup_free_ char *norm = NULL;
        NpKcmdlineOption *a;
        int r;

        /* kcmdline_parse_result() in libkmod/libkmod-config.c */
        if (!modname || !param)
                return 0;
        if (streq(modname, "modprobe") && strncmp(param, "blacklist=", 10) == 0) {
                for (char *t = value;;) {
                        char *comma = t ? strchr(t, ',') : NULL;

                        if (!t)
                                break;
                        if (comma)
                                *comma = '\0';
                        r = strv_extend(&c->kmod_blacklist, t);
                        if (r < 0)
                                return r;
                        t = comma ? comma + 1 : NULL;
                }
                return 0;
        }
        r = np_module_name_normalize(modname, &norm);
        if (r == -EINVAL)
                return 0; /* libkmod: "Ignoring bad option on kernel command line" */
        if (r < 0)
                return r;
        a = reallocarray(c->kmod_options, c->n_kmod_options + 1, sizeof(NpKcmdlineOption));
        if (!a)
                return -ENOMEM;
        c->kmod_options = a;
        a[c->n_kmod_options] =
            (NpKcmdlineOption){ .module = TAKE_PTR(norm), .param = strdup(param) };
        c->n_kmod_options++;
        return a[c->n_kmod_options - 1].param ? 0 : -ENOMEM;
}

/* kmod_config_parse_kcmdline() in libkmod/libkmod-config.c, state for state. */
static int kmod_words(const char *data, size_t size, NpKcmdline *c)
{
        enum {
                IGNORE,
                MODNAME,
                PARAM,
                VALUE,
                COMPLETE
        } state = MODNAME;
        size_t n = MIN(size, (size_t)KMOD_KCMDLINE_MAX);
        _cleanup_free_ char *buf = malloc(n + 1);
        char *p, *p_quote_start = NULL, *modname, *param = NULL, *value = NULL;
        bool is_quoted = false, iter = true;
        int r;

        if (!buf)
                return -ENOMEM;
        memcpy(buf, data, n);
        buf[n] = '\0';
        for (p = buf, modname = buf; iter; p++) {
                switch (*p) {
                case '"':
                        is_quoted = !is_quoted;
                        if (is_quoted && state == MODNAME && p == modname) {
                                p_quote_start = p;
                                modname = p + 1;
                        } else if (state != VALUE)
                                state = IGNORE;
                        break;
                case '\0':
                        iter = false;
                        __attribute__((fallthrough));
                case ' ':
                case '\n':
                case '\t':
                case '\v':
                case '\f':
                case '\r':
                        if (is_quoted && state == VALUE)
                                ;
                        else if (is_quoted)
                                state = IGNORE;
                        else if (state == VALUE || state == PARAM) {
                                *p = '\0';
                                state = COMPLETE;
                        } else {
                                modname = p + 1;
                                state = MODNAME;
                                p_quote_start = NULL;
                        }
                        break;
                case '.':
                        if (state == MODNAME) {
                                *p = '\0';
                                param = p + 1;
                                state = PARAM;
                        } else if (state == PARAM)
                                state = IGNORE;
                        break;
                case '=':
                        if (state == PARAM) {
                                value = p + 1;
                                state = VALUE;
                        } else if (state == MODNAME)
                                state = IGNORE;
                        break;
                }
                if (state == COMPLETE) {
                        /* libkmod re-quotes "mod.param=a b" that a boot loader passed as
                         * "\"mod.param=a b\"": the module name is what matters here. */
                        if (p_quote_start && p_quote_start < modname && value) {
                                memmove(p_quote_start, modname, (size_t)(value - modname));
                                value--, modname--, param--;
                                *value = '"';
                        }
                        r = kmod_result(c, modname, param, value);
                        if (r < 0)
                                return r;
                        modname = p + 1;
                        state = MODNAME;
                        p_quote_start = NULL;
                }
        }
        return 0;
}

int np_kcmdline_parse(const char *data, size_t size, NpKcmdline *ret)
{
        NpKcmdline c = {};
        int r;

        c.kmod_blacklist = calloc(1, sizeof(char *));
        r = c.kmod_blacklist ? kernel_words(data, size, &c) : -ENOMEM;
        if (r >= 0)
                r = kmod_words(data, size, &c);
        if (r < 0) {
                np_kcmdline_done(&c);
                return r;
        }
        *ret = c;
        return 0;
}

bool np_kcmdline_key_eq(const char *a, const char *b)
{
        for (;; a++, b++) {
                char x = *a, y = *b;

                if (x == '-')
                        x = '_';
                if (y == '-')
                        y = '_';

                if (x != y)
                        return false;
                if (x == '\0')
                        return true;
        }
}

const NpKcmdlineWord *np_kcmdline_last(const NpKcmdline *c, const char *key)
{
        const NpKcmdlineWord *found = NULL;

        FOREACH_ARRAY (w, c->words, c->n_words)
                if (!w->init && w->value && np_kcmdline_key_eq(w->key, key))
                        found = w;
        return found;
}

int np_kcmdline_values(const NpKcmdline *c, const char *key, bool init_too, char ***ret)
{
        _cleanup_strv_free_ char **l = calloc(1, sizeof(char *));

        if (!l)
                return -ENOMEM;
        FOREACH_ARRAY (w, c->words, c->n_words)
                if ((init_too || !w->init) && w->value && np_kcmdline_key_eq(w->key, key) &&
                    strv_extend(&l, w->value) < 0)
                        return -ENOMEM;
        *ret = TAKE_PTR(l);
        return 0;
}

char *np_kcmdline_word_text(const NpKcmdlineWord *w)
{
        return w->value ? strprintf("%s=%s", w->key, w->value) : strdup(w->key);
}
