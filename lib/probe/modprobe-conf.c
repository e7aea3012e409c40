/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* modprobe.d as libkmod's kmod_config_parse() reads it (see modprobe-conf.h). */

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "probe/modprobe-conf.h"
#include "probe/modules-load.h"
#include "util/strv.h"

static const char *const kind_names[_NP_MODPROBE_KIND_MAX] = {
        [NP_MODPROBE_ALIAS] = "alias",     [NP_MODPROBE_BLACKLIST] = "blacklist",
        [NP_MODPROBE_OPTIONS] = "options", [NP_MODPROBE_INSTALL] = "install",
        [NP_MODPROBE_REMOVE] = "remove",   [NP_MODPROBE_SOFTDEP] = "softdep",
};

const char *np_modprobe_kind_to_string(NpModprobeKind k)
{
        return k >= 0 && k < _NP_MODPROBE_KIND_MAX ? kind_names[k] : NULL;
}

static void directive_done(NpModprobeDirective *d)
{
        free(d->file);
        free(d->module);
        free(d->arg);
        strv_free(d->pre);
        strv_free(d->post);
}

void np_modprobe_conf_done(NpModprobeConf *c)
{
        FOREACH_ARRAY (d, c->directives, c->n_directives)
                directive_done(d);
        free(c->directives);
        *c = (NpModprobeConf){};
}

/* kmod_config_add_softdep(): words after "pre:" or "post:"; words before either are dropped. */
static int parse_softdep(const char *line, NpModprobeDirective *d)
{
        _cleanup_strv_free_ char **words = NULL;
        char ***mode = NULL;
        int r;

        d->pre = calloc(1, sizeof(char *));
        d->post = calloc(1, sizeof(char *));
        if (!d->pre || !d->post)
                return -ENOMEM;
        r = strv_split(line, " \t\n\v\f\r", &words);
        if (r < 0)
                return r;
        STRV_FOREACH (w, words) {
                if (streq(*w, "pre:"))
                        mode = &d->pre;
                else if (streq(*w, "post:"))
                        mode = &d->post;
                else if (mode && strv_extend(mode, *w) < 0)
                        return -ENOMEM;
        }
        return 0;
}

static int add_directive(NpModprobeConf *c, NpModprobeDirective *d)
{
        NpModprobeDirective *a =
            reallocarray(c->directives, c->n_directives + 1, sizeof(NpModprobeDirective));

        if (!a)
                return -ENOMEM;
        c->directives = a;
        a[c->n_directives++] = *d;
        *d = (NpModprobeDirective){};
        return 0;
}

/* One logical line: what libkmod does with it. */
static int parse_line(NpModprobeConf *c, const char *file, unsigned lineno, char *line, bool late)
{
        NpModprobeDirective d = { .file = NULL, .line = lineno, .late = late };
        char *saveptr = NULL, *cmd, *name, *rest;
        int r;

        if (line[0] == '\0' || line[0] == '#')
                return 0;
        cmd = strtok_r(line, "\t ", &saveptr);
        if (!cmd)
                return 0;
        if (streq(cmd, "alias")) {
                name = strtok_r(NULL, "\t ", &saveptr);
                rest = strtok_r(NULL, "\t ", &saveptr);
                if (np_module_name_underscores(name) < 0 || np_module_name_underscores(rest) < 0)
                        return 0;
                d.kind = NP_MODPROBE_ALIAS;
        } else if (streq(cmd, "blacklist")) {
                name = strtok_r(NULL, "\t ", &saveptr);
                rest = NULL;
                if (np_module_name_underscores(name) < 0)
                        return 0;
                d.kind = NP_MODPROBE_BLACKLIST;
        } else if (STR_IN_SET(cmd, "options", "install", "remove", "softdep")) {
                name = strtok_r(NULL, "\t ", &saveptr);
                /* strtok_r(NULL, "\0"): the rest of the line as it is, NULL when empty. */
                rest = saveptr && *saveptr ? saveptr : NULL;
                if (np_module_name_underscores(name) < 0 || !rest)
                        return 0;
                d.kind = streq(cmd, "options")   ? NP_MODPROBE_OPTIONS
                         : streq(cmd, "install") ? NP_MODPROBE_INSTALL
                         : streq(cmd, "remove")  ? NP_MODPROBE_REMOVE
                                                 : NP_MODPROBE_SOFTDEP;
        } else
                return 0; /* "include", "config", unknown commands: logged and ignored */

        d.file = strdup(file);
        d.module = strdup(name);
        d.arg = rest ? strdup(rest) : NULL;
        if (!d.file || !d.module || (rest && !d.arg)) {
                directive_done(&d);
                return -ENOMEM;
        }
        if (d.kind == NP_MODPROBE_SOFTDEP) {
                r = parse_softdep(rest, &d);
                if (r < 0) {
                        directive_done(&d);
                        return r;
                }
        }
        r = add_directive(c, &d);
        if (r < 0)
                directive_done(&d);
        return r;
}

int np_modprobe_conf_parse(const char *file, const char *data, size_t size, bool late,
                           NpModprobeConf *c)
{
        _cleanup_free_ char *buf = malloc(size + 1);
        unsigned lineno = 1;
        size_t pos = 0;

        if (!buf)
                return -ENOMEM;
        while (pos < size) {
                unsigned first = lineno;
                size_t n = 0;
                int r;

                /* freadline_wrapped() */
                while (pos < size) {
                        char ch = data[pos++];

                        if (ch == '\n') {
                                lineno++;
                                break;
                        }
                        if (ch == '\\' && pos < size) {
                                ch = data[pos++];
                                if (ch == '\n') {
                                        lineno++;
                                        continue;
                                }
                        } else if (ch == '\\')
                                continue; /* a backslash at the very end: EOF */
                        buf[n++] = ch;
                }
                buf[n] = '\0';
                r = parse_line(c, file, first, buf, late);
                if (r < 0)
                        return r;
        }
        return 0;
}

char *np_modprobe_directive_text(const NpModprobeDirective *d)
{
        _cleanup_free_ char *pre = NULL, *post = NULL, *text = NULL;

        if (d->kind == NP_MODPROBE_SOFTDEP) {
                pre = strv_join(d->pre, " ");
                post = strv_join(d->post, " ");
                if (!pre || !post)
                        return NULL;
                text = strprintf("softdep %s%s%s%s%s", d->module, isempty(pre) ? "" : " pre: ", pre,
                                 isempty(post) ? "" : " post: ", post);
        } else if (d->kind == NP_MODPROBE_BLACKLIST)
                text = strprintf("blacklist %s", d->module);
        else
                text = strprintf("%s %s %s", np_modprobe_kind_to_string(d->kind), d->module,
                                 strstrip(d->arg));
        return text ? str_escape_printable(text, strlen(text), 200) : NULL;
}

static const char *base_name(const char *w)
{
        const char *s = strrchr(w, '/');

        return s ? s + 1 : w;
}

/* One simple command, split into words, or NULL when it has shell syntax nodeprep does not
 * follow (quotes, expansions, redirections, more commands). */
static char **simple_words(const char *cmd)
{
        char **words = NULL;

        if (strpbrk(cmd, "'\"\\`$(){}<>|&;*?[~#=\n"))
                return NULL;
        if (strv_split(cmd, " \t", &words) < 0)
                return NULL;
        return words;
}

static bool is_modprobe_insert(char **words, const char *module)
{
        bool ignore_install = false, names_it = false;

        if (!words || !words[0] || !streq(base_name(words[0]), "modprobe"))
                return false;
        STRV_FOREACH (w, words + 1) {
                if (streq(*w, "--ignore-install") || streq(*w, "-i"))
                        ignore_install = true;
                else if ((*w)[0] == '-') {
                        /* -r, --remove, -n/--dry-run, -R, --show...: not an insertion */
                        if (!STR_IN_SET(*w, "-q", "--quiet", "-v", "--verbose", "-b",
                                        "--use-blacklist", "-s", "--syslog"))
                                return false;
                } else if (!names_it) {
                        _cleanup_free_ char *a = strdup(*w), *b = strdup(module);

                        if (!a || !b || np_module_name_underscores(a) < 0 ||
                            np_module_name_underscores(b) < 0)
                                return false;
                        names_it = streq(a, b);
                        if (!names_it)
                                return false; /* another module first */
                }
        }
        return ignore_install && names_it;
}

NpInstallEffect np_install_command_effect(const char *command, const char *module)
{
        _cleanup_free_ char *cmd = NULL, *first = NULL;
        _cleanup_strv_free_ char **words = NULL, **head = NULL;
        const char *p;
        size_t n;

        /* libkmod replaces every "$CMDLINE_OPTS" with the options before system(). */
        cmd = strdup(command);
        if (!cmd)
                return NP_INSTALL_UNKNOWN;
        while ((p = strstr(cmd, "$CMDLINE_OPTS"))) {
                char *s = strprintf("%.*s%s", (int)(p - cmd), cmd, p + strlen("$CMDLINE_OPTS"));

                if (!s)
                        return NP_INSTALL_UNKNOWN;
                free_and_replace(&cmd, s);
        }
        /* sh: a word starting with '#' comments out the rest ("/bin/true # CIS 1.1.1"). */
        for (char *h = strchr(cmd, '#'); h; h = strchr(h + 1, '#'))
                if (h == cmd || isspace((unsigned char)h[-1])) {
                        *h = '\0';
                        break;
                }
        words = simple_words(strstrip(cmd));
        if (words && words[0]) {
                const char *b = base_name(words[0]);

                if (streq(b, "true") || streq(b, ":") || streq(b, "echo"))
                        return NP_INSTALL_NOTHING;
                if (streq(b, "false"))
                        return NP_INSTALL_FAILS;
                if (streq(words[0], "exit"))
                        return (!words[1] || streq(words[1], "0")) ? NP_INSTALL_NOTHING
                                                                   : NP_INSTALL_FAILS;
                if (is_modprobe_insert(words, module))
                        return NP_INSTALL_INSERTS;
                return NP_INSTALL_UNKNOWN;
        }
        /* "modprobe --ignore-install X; other" or "... && other": the first command inserts. */
        n = strcspn(cmd, ";&|\n");
        if (cmd[n] == '\0')
                return NP_INSTALL_UNKNOWN;
        first = strndup(cmd, n);
        if (!first)
                return NP_INSTALL_UNKNOWN;
        head = simple_words(strstrip(first));
        if (head && (cmd[n] == ';' || (cmd[n] == '&' && cmd[n + 1] == '&')) &&
            is_modprobe_insert(head, module))
                return NP_INSTALL_INSERTS;
        return NP_INSTALL_UNKNOWN;
}
