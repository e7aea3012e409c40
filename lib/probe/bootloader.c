/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* grub.cfg, grubenv, BLS entries and loader.conf: the next boot's kernel and options. */

#include <ctype.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

#include "probe/bootloader.h"
#include "util/strv.h"

void np_boot_entry_done(NpBootEntry *e)
{
        free(e->id);
        free(e->title);
        free(e->path);
        free(e->kernel);
        free(e->version);
        free(e->options);
        *e = (NpBootEntry){};
}

void np_boot_config_done(NpBootConfig *c)
{
        FOREACH_ARRAY (e, c->entries, c->n_entries)
                np_boot_entry_done(e);
        free(c->entries);
        free(c->default_value);
        strv_free(c->vars);
        free(c->unknown);
        *c = (NpBootConfig){};
}

/* GRUB's word splitting for the few commands read here: '...' literal, "..." with backslash
 * escapes, a backslash outside quotes escapes the next character. Words appended to *ret. */
static int grub_words(const char *s, char ***ret)
{
        _cleanup_strv_free_ char **words = calloc(1, sizeof(char *));
        _cleanup_free_ char *w = malloc(strlen(s) + 1);

        if (!words || !w)
                return -ENOMEM;
        while (*s) {
                size_t n = 0;
                bool any = false;

                while (*s == ' ' || *s == '\t')
                        s++;
                if (!*s)
                        break;
                while (*s && *s != ' ' && *s != '\t') {
                        any = true;
                        if (*s == '\'') {
                                const char *e = strchr(s + 1, '\'');

                                if (!e)
                                        return -EINVAL;
                                memcpy(w + n, s + 1, (size_t)(e - s - 1));
                                n += (size_t)(e - s - 1);
                                s = e + 1;
                        } else if (*s == '"') {
                                s++;
                                while (*s && *s != '"') {
                                        if (*s == '\\' && s[1])
                                                s++;
                                        w[n++] = *s++;
                                }
                                if (*s != '"')
                                        return -EINVAL;
                                s++;
                        } else {
                                if (*s == '\\' && s[1])
                                        s++;
                                w[n++] = *s++;
                        }
                }
                if (any) {
                        w[n] = '\0';
                        if (strv_extend(&words, w) < 0)
                                return -ENOMEM;
                }
        }
        *ret = TAKE_PTR(words);
        return 0;
}

static const char *version_of_image(const char *path)
{
        const char *b = strrchr(path, '/');

        b = b ? b + 1 : path;
        return startswith(b, "vmlinuz-") ?: startswith(b, "vmlinux-") ?: startswith(b, "bzImage-");
}

static int add_entry(NpBootConfig *c, NpBootEntry *e)
{
        NpBootEntry *a = reallocarray(c->entries, c->n_entries + 1, sizeof(NpBootEntry));

        if (!a)
                return -ENOMEM;
        c->entries = a;
        a[c->n_entries++] = *e;
        *e = (NpBootEntry){};
        return 0;
}

static int set_unknown(NpBootConfig *c, unsigned line, const char *why)
{
        if (c->unknown)
                return 0;
        c->unknown = strprintf("line %u: %s", line, why);
        return c->unknown ? 0 : -ENOMEM;
}

#define MAX_DEPTH 8

int np_grub_cfg_parse(const char *data, size_t size, NpBootConfig *ret)
{
        _cleanup_free_ char *text = strndup(data, size);
        NpBootConfig c = {};
        /* the menu path: index at each submenu level, and what the open braces are */
        unsigned index[MAX_DEPTH + 1] = {}, depth = 0, lineno = 0, in_if = 0;
        enum {
                BLOCK_MENU,
                BLOCK_ENTRY,
                BLOCK_OTHER
        } blocks[64];
        unsigned n_blocks = 0;
        NpBootEntry cur = {};
        bool in_entry = false, in_next_entry_branch = false;
        /* depth of the "if [ "${next_entry}" ]" block, and of the first if on boot_counter */
        unsigned next_entry_if = 0, boot_counter_if = 0;
        int r = 0;

        if (!text)
                return -ENOMEM;
        c.vars = calloc(1, sizeof(char *));
        if (!c.vars)
                return -ENOMEM;
        /* strv_split drops empty lines; line numbers are counted by hand instead. */
        for (char *p = text, *nl; r >= 0 && p && *p != '\0'; p = nl ? nl + 1 : NULL) {
                _cleanup_strv_free_ char **w = NULL;
                char *l;

                nl = strchr(p, '\n');
                if (nl)
                        *nl = '\0';
                lineno++;
                l = strstrip(p);
                if (l[0] == '\0' || l[0] == '#')
                        continue;
                r = grub_words(l, &w);
                if (r == -EINVAL) {
                        r = set_unknown(&c, lineno, "unbalanced quotes");
                        continue;
                }
                if (r < 0)
                        break;
                if (!w[0])
                        continue;
                if (STR_IN_SET(w[0], "menuentry", "submenu")) {
                        bool sub = streq(w[0], "submenu");

                        if (!endswith(l, "{") || n_blocks >= ELEMENTSOF(blocks) || in_entry ||
                            depth >= MAX_DEPTH) {
                                r = set_unknown(&c, lineno, "a menu entry nodeprep cannot follow");
                                continue;
                        }
                        blocks[n_blocks++] = sub ? BLOCK_MENU : BLOCK_ENTRY;
                        cur = (NpBootEntry){ .title = w[1] ? strdup(w[1]) : strdup("") };
                        if (!cur.title) {
                                r = -ENOMEM;
                                break;
                        }
                        /* "$menuentry_id_option 'ID'" (grub-mkconfig) or "--id ID" / "--id=ID" */
                        for (size_t i = 2; w[i]; i++) {
                                if ((streq(w[i], "$menuentry_id_option") || streq(w[i], "--id")) &&
                                    w[i + 1])
                                        r = free_and_strdup(&cur.id, w[i + 1]);
                                else if (startswith(w[i], "--id="))
                                        r = free_and_strdup(&cur.id, w[i] + 5);
                        }
                        {
                                _cleanup_free_ char *path = NULL;

                                for (unsigned d = 0; d <= depth && r >= 0; d++) {
                                        char *np = strprintf("%s%s%u", strempty(path), d ? ">" : "",
                                                             index[d]);
                                        if (!np)
                                                r = -ENOMEM;
                                        free_and_replace(&path, np);
                                }
                                cur.path = TAKE_PTR(path);
                        }
                        if (r < 0 || !cur.path) {
                                r = -ENOMEM;
                                break;
                        }
                        if (sub) {
                                /* a submenu is not an entry itself; its children are path>N */
                                np_boot_entry_done(&cur);
                                depth++;
                                index[depth] = 0;
                        } else
                                in_entry = true;
                        continue;
                }
                if (streq(w[0], "}") || (l[0] == '}' && strlen(l) == 1)) {
                        if (n_blocks == 0) {
                                r = set_unknown(&c, lineno, "a '}' without a block");
                                continue;
                        }
                        switch (blocks[--n_blocks]) {
                        case BLOCK_ENTRY:
                                in_entry = false;
                                if (cur.kernel)
                                        r = add_entry(&c, &cur);
                                else
                                        np_boot_entry_done(&cur);
                                index[depth]++;
                                break;
                        case BLOCK_MENU:
                                depth--;
                                index[depth]++;
                                break;
                        default:
                                break;
                        }
                        continue;
                }
                if (endswith(l, "{")) {
                        /* function definitions and other blocks */
                        if (n_blocks >= ELEMENTSOF(blocks)) {
                                r = set_unknown(&c, lineno, "blocks nested too deep");
                                continue;
                        }
                        blocks[n_blocks++] = BLOCK_OTHER;
                        continue;
                }
                if (in_entry) {
                        if (STR_IN_SET(w[0], "linux", "linux16", "linuxefi") && w[1] &&
                            !cur.kernel) {
                                const char *rest = l + strlen(w[0]);
                                const char *v;

                                rest += strspn(rest, " \t");
                                rest += strcspn(rest, " \t");
                                rest += strspn(rest, " \t");
                                cur.kernel = strdup(w[1]);
                                cur.options = strdup(rest);
                                cur.line = lineno;
                                v = version_of_image(w[1]);
                                if (v)
                                        cur.version = strdup(v);
                                if (!cur.kernel || !cur.options || (v && !cur.version))
                                        r = -ENOMEM;
                        }
                        continue;
                }
                if (streq(w[0], "if")) {
                        in_if++;
                        if (strstr(l, "${next_entry}") && !next_entry_if) {
                                in_next_entry_branch = true;
                                next_entry_if = in_if;
                        }
                        if (strstr(l, "${boot_counter}") && !boot_counter_if)
                                boot_counter_if = in_if;
                        continue;
                }
                if (streq(w[0], "else") || streq(w[0], "elif")) {
                        if (in_if == next_entry_if)
                                in_next_entry_branch = false;
                        continue;
                }
                if (streq(w[0], "fi")) {
                        if (in_if == next_entry_if) {
                                in_next_entry_branch = false;
                                next_entry_if = 0;
                        }
                        if (in_if == boot_counter_if)
                                boot_counter_if = 0;
                        if (in_if > 0)
                                in_if--;
                        continue;
                }
                if (streq(w[0], "blscfg")) {
                        c.blscfg = true;
                        continue;
                }
                if (streq(w[0], "set") && w[1] && strchr(w[1], '=')) {
                        const char *eq = strchr(w[1], '=');

                        if (startswith(w[1], "default=")) {
                                if (in_next_entry_branch) {
                                        if (streq(eq + 1, "${next_entry}"))
                                                c.next_entry = true;
                                } else if (boot_counter_if) {
                                        /* RHEL 9's 08_fallback_counting: "set default=1" only
                                         * once greenboot's boot_counter in grubenv runs out. */
                                        c.boot_counter_default = true;
                                } else if (in_if == 0 || in_if == next_entry_if)
                                        r = free_and_strdup(&c.default_value, eq + 1);
                                else
                                        r = set_unknown(&c, lineno,
                                                        "a default entry set under a condition");
                        } else if (in_if == 0 && n_blocks == 0)
                                r = strv_extend(&c.vars, w[1]);
                }
        }
        if (r >= 0 && in_entry)
                r = set_unknown(&c, lineno, "the file ends inside a menu entry");
        np_boot_entry_done(&cur);
        if (r < 0) {
                np_boot_config_done(&c);
                return r;
        }
        *ret = c;
        return 0;
}

int np_grubenv_parse(const char *data, size_t size, char ***ret)
{
        _cleanup_strv_free_ char **l = calloc(1, sizeof(char *)), **lines = NULL;
        _cleanup_free_ char *text = strndup(data, size);

        if (!l || !text || strv_split(text, "\n", &lines) < 0)
                return -ENOMEM;
        STRV_FOREACH (s, lines) {
                if ((*s)[0] == '#' || !strchr(*s, '='))
                        continue;
                if (strv_extend(&l, *s) < 0)
                        return -ENOMEM;
        }
        *ret = TAKE_PTR(l);
        return 0;
}

int np_bls_entry_parse(const char *name, const char *data, size_t size, NpBootEntry *ret)
{
        _cleanup_free_ char *text = strndup(data, size);
        NpBootEntry e = {};
        unsigned lineno = 0;
        int r = 0;

        if (!text)
                return -ENOMEM;
        e.id = strndup(name, endswith(name, ".conf") ? strlen(name) - 5 : strlen(name));
        if (!e.id)
                return -ENOMEM;
        for (char *p = text, *nl; r >= 0 && p && *p; p = nl ? nl + 1 : NULL) {
                char *l, *value;
                size_t k;

                nl = strchr(p, '\n');
                if (nl)
                        *nl = '\0';
                lineno++;
                l = strstrip(p);
                if (l[0] == '#' || l[0] == '\0')
                        continue;
                k = strcspn(l, " \t");
                value = l + k;
                value += strspn(value, " \t");
                l[k] = '\0';
                if (streq(l, "title"))
                        r = free_and_strdup(&e.title, value);
                else if (streq(l, "version"))
                        r = free_and_strdup(&e.version, value);
                else if (streq(l, "linux")) {
                        r = free_and_strdup(&e.kernel, value);
                        if (r >= 0 && !e.version && version_of_image(value))
                                r = free_and_strdup(&e.version, version_of_image(value));
                        if (!e.line)
                                e.line = lineno;
                } else if (streq(l, "options")) {
                        /* several options lines are joined (BLS) */
                        char *o = e.options ? strprintf("%s %s", e.options, value) : strdup(value);

                        if (!o)
                                r = -ENOMEM;
                        free_and_replace(&e.options, o);
                        e.line = lineno;
                }
        }
        if (r >= 0 && !e.kernel)
                r = -EINVAL;
        if (r >= 0 && !e.options)
                r = free_and_strdup(&e.options, "");
        if (r < 0) {
                np_boot_entry_done(&e);
                return r;
        }
        *ret = e;
        return 0;
}

int np_loader_conf_default(const char *data, size_t size, char **ret)
{
        _cleanup_strv_free_ char **lines = NULL;
        _cleanup_free_ char *text = strndup(data, size);

        *ret = NULL;
        if (!text || strv_split(text, "\n", &lines) < 0)
                return -ENOMEM;
        STRV_FOREACH (s, lines) {
                char *l = strstrip(*s);
                const char *v = startswith(l, "default");

                if (v && (*v == ' ' || *v == '\t')) {
                        v += strspn(v, " \t");
                        /* the last one wins (systemd-boot's parser overwrites) */
                        if (free_and_strdup(ret, v) < 0)
                                return -ENOMEM;
                }
        }
        return 0;
}

const NpBootEntry *np_boot_config_find(const NpBootConfig *c, const char *value)
{
        bool numeric_path = !isempty(value) && strspn(value, "0123456789>") == strlen(value);

        if (isempty(value))
                return c->n_entries > 0 && streq(c->entries[0].path, "0") ? &c->entries[0] : NULL;
        FOREACH_ARRAY (e, c->entries, c->n_entries) {
                if (numeric_path ? streq(e->path, value)
                                 : (streq_ptr(e->id, value) || streq_ptr(e->title, value)))
                        return e;
        }
        /* "submenu title>entry title" and mixed paths: match on the last element by id/title */
        if (strchr(value, '>')) {
                const char *last = strrchr(value, '>') + 1;

                FOREACH_ARRAY (e, c->entries, c->n_entries)
                        if (strchr(e->path, '>') &&
                            (streq_ptr(e->id, last) || streq_ptr(e->title, last)))
                                return e;
        }
        return NULL;
}

static const char *lookup_var(char *const *vars, const char *name, size_t n)
{
        STRV_FOREACH (v, (char **)vars)
                if (strncmp(*v, name, n) == 0 && (*v)[n] == '=')
                        return *v + n + 1;
        return NULL;
}

int np_boot_expand(const char *options, char *const *vars1, char *const *vars2, char **ret,
                   char **ret_unset)
{
        _cleanup_free_ char *out = malloc(1);
        size_t len = 0;

        if (!out)
                return -ENOMEM;
        out[0] = '\0';
        for (const char *p = options; *p;) {
                const char *name, *val;
                size_t n, skip;
                char *grown;

                if (*p != '$') {
                        n = strcspn(p, "$");
                        val = p;
                        skip = n;
                } else {
                        bool braced = p[1] == '{';

                        name = p + 1 + braced;
                        n = strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                         "0123456789_");
                        if (n == 0 || (braced && name[n] != '}')) {
                                val = "$";
                                n = 1;
                                skip = 1;
                        } else {
                                skip = 1 + braced + n + braced;
                                val = lookup_var(vars1, name, n) ?: lookup_var(vars2, name, n);
                                if (!val) {
                                        if (ret_unset && !*ret_unset &&
                                            !(*ret_unset = strndup(name, n)))
                                                return -ENOMEM;
                                        val = "";
                                }
                                n = strlen(val);
                        }
                }
                grown = realloc(out, len + n + 1);
                if (!grown)
                        return -ENOMEM;
                out = grown;
                memcpy(out + len, val, n);
                len += n;
                out[len] = '\0';
                p += skip;
        }
        *ret = TAKE_PTR(out);
        return 0;
}

/* rpmvercmp(): runs of digits compare as numbers, runs of letters as strings, digits beat
 * letters, '~' sorts before anything; other characters separate. */
int np_boot_version_cmp(const char *a, const char *b)
{
        while (*a || *b) {
                const char *sa, *sb;
                bool num;
                int c;

                if (*a == '~' || *b == '~') {
                        if (*a != '~')
                                return 1;
                        if (*b != '~')
                                return -1;
                        a++, b++;
                        continue;
                }
                while (*a && !isalnum((unsigned char)*a) && *a != '~')
                        a++;
                while (*b && !isalnum((unsigned char)*b) && *b != '~')
                        b++;
                if (!*a || !*b)
                        break;
                num = isdigit((unsigned char)*a);
                if (num != (bool)isdigit((unsigned char)*b))
                        return num ? 1 : -1;
                sa = a, sb = b;
                if (num) {
                        while (*sa == '0')
                                sa++;
                        while (*sb == '0')
                                sb++;
                        a = sa, b = sb;
                        while (isdigit((unsigned char)*a))
                                a++;
                        while (isdigit((unsigned char)*b))
                                b++;
                        if ((a - sa) != (b - sb))
                                return (a - sa) > (b - sb) ? 1 : -1;
                } else {
                        while (isalpha((unsigned char)*a))
                                a++;
                        while (isalpha((unsigned char)*b))
                                b++;
                }
                c = strncmp(sa, sb, (size_t)MIN(a - sa, b - sb));
                if (c != 0)
                        return c > 0 ? 1 : -1;
                if ((a - sa) != (b - sb))
                        return (a - sa) > (b - sb) ? 1 : -1;
        }
        if (!*a && !*b)
                return 0;
        return *a ? 1 : -1;
}
