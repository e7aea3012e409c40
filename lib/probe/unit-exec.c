/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A service's ExecStartPre= commands as systemd loads and runs them (unit-exec.h). */

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "probe/probe.h"
#include "probe/unit-exec.h"
#include "util/strv.h"

#define WHITESPACE " \t\n\r"

void np_exec_start_pre_done(NpExecStartPre *e)
{
        FOREACH_ARRAY (c, e->commands, e->n_commands) {
                free(c->file);
                free(c->path);
        }
        free(e->commands);
        free(e->unit_file);
        free(e->fails);
        free(e->unknown);
        *e = (NpExecStartPre){};
}

static void clear_commands(NpExecStartPre *e)
{
        char *unit_file = TAKE_PTR(e->unit_file), *fails = TAKE_PTR(e->fails),
             *unknown = TAKE_PTR(e->unknown);

        np_exec_start_pre_done(e);
        e->unit_file = unit_file;
        e->fails = fails;
        e->unknown = unknown;
}

/* Set *dst to the first reason only. */
static int set_once(char **dst, char *text)
{
        if (!text)
                return -ENOMEM;
        if (*dst)
                free(text);
        else
                *dst = text;
        return 0;
}

/* /dev/null: a masked unit file or drop-in (null_or_empty() in systemd's stat-util.c). */
static bool is_dev_null(const struct stat *st)
{
        return S_ISCHR(st->st_mode) && st->st_rdev == makedev(1, 3);
}

/*
 * One word as extract_first_word(EXTRACT_UNQUOTE|EXTRACT_CUNESCAPE) takes it: quotes removed.
 * 1 with *ret (NULL when only args are skipped), 0 at the end, -EINVAL for an open quote or a
 * trailing backslash. *ret_escaped: the word had a backslash escape (the path's is not
 * modelled).
 */
static int next_word(const char **p, char **ret, bool *ret_escaped)
{
        _cleanup_free_ char *w = malloc(strlen(*p) + 1);
        const char *s = *p + strspn(*p, WHITESPACE);
        char quote = 0;
        size_t n = 0;

        if (!w)
                return -ENOMEM;
        *ret_escaped = false;
        if (!*s) {
                *p = s;
                return 0;
        }
        for (; *s && (quote || !strchr(WHITESPACE, *s)); s++) {
                if (*s == '\\') {
                        if (!s[1])
                                return -EINVAL;
                        *ret_escaped = true;
                        w[n++] = *++s;
                } else if (quote && *s == quote)
                        quote = 0;
                else if (!quote && (*s == '"' || *s == '\''))
                        quote = *s;
                else
                        w[n++] = *s;
        }
        if (quote)
                return -EINVAL;
        w[n] = '\0';
        *p = s;
        if (ret)
                *ret = TAKE_PTR(w);
        return 1;
}

/* Why systemd refuses the executable path of an ExecStartPre= command (config_parse_exec()),
 * NULL when it takes it. */
static const char *refused_path(const char *path)
{
        size_t len = 0;

        if (isempty(path))
                return "no executable after the prefixes";
        for (const char *t = path; *t; t++)
                if ((*t > 0 && *t < ' ') || strchr("\"'\\\x7f", *t))
                        return "quotes or control characters in the executable name";
        if (endswith(path, "/"))
                return "the executable path names a directory";
        if (path[0] != '/')
                return strchr(path, '/') ? "neither an absolute path nor a file name" : NULL;
        if (strlen(path) >= PATH_MAX)
                return "the executable path is too long";
        for (const char *t = path; *t; t++)
                if (*t == '/')
                        len = 0;
                else if (++len > NAME_MAX)
                        return "a component of the executable path is too long";
        return NULL;
}

/* "/usr//sbin/./x" -> "/usr/sbin/x" (path_simplify(): doubled slashes and "." components). */
static void simplify_path(char *path)
{
        char *o = path;

        for (const char *s = path; *s;) {
                if (*s == '/' && (s[1] == '/' || (s[1] == '.' && (s[2] == '/' || !s[2])))) {
                        s += s[1] == '/' ? 1 : 2;
                        continue;
                }
                *o++ = *s++;
        }
        if (o == path)
                *o++ = '/';
        *o = '\0';
}

static int add_command(NpExecStartPre *e, const char *file, unsigned line, const char *path,
                       bool ignore)
{
        NpExecCommand *a = reallocarray(e->commands, e->n_commands + 1, sizeof(NpExecCommand));

        if (!a)
                return -ENOMEM;
        e->commands = a;
        a[e->n_commands] = (NpExecCommand){
                .file = strdup(file), .line = line, .path = strdup(path), .ignore = ignore
        };
        e->n_commands++;
        return a[e->n_commands - 1].file && a[e->n_commands - 1].path ? 0 : -ENOMEM;
}

/* One ExecStartPre= value (config_parse_exec()), appended to e->commands. */
static int parse_exec(NpExecStartPre *e, const char *unit, const char *file, unsigned line,
                      const char *value)
{
        const char *p = value;
        bool semicolon;

        do {
                _cleanup_free_ char *word = NULL;
                bool ignore = false, argv0 = false, noenv = false, escaped;
                enum {
                        PRIV_NONE,
                        PRIV_FULL,
                        PRIV_NOSETUID,
                        PRIV_AMBIENT
                } priv = PRIV_NONE;
                const char *f, *why;
                char *path;
                int r;

                semicolon = false;
                r = next_word(&p, &word, &escaped);
                if (r == -ENOMEM)
                        return r;
                if (r <= 0)
                        return 0; /* systemd drops the rest of the line, without error */
                if (streq(word, ";")) {
                        semicolon = true;
                        continue;
                }
                for (f = word;; f++)
                        if (*f == '-' && !ignore)
                                ignore = true;
                        else if (*f == '@' && !argv0)
                                argv0 = true;
                        else if (*f == ':' && !noenv)
                                noenv = true;
                        else if (*f == '+' && priv == PRIV_NONE)
                                priv = PRIV_FULL;
                        else if (*f == '!' && priv == PRIV_NONE)
                                priv = PRIV_NOSETUID;
                        else if (*f == '!' && priv == PRIV_NOSETUID)
                                priv = PRIV_AMBIENT;
                        else
                                break;
                path = (char *)f;
                if (ignore && (escaped || strchr(path, '%') || (path[0] != '/' && *path))) {
                        /* however systemd resolves it, a missing one is skipped */
                        r = add_command(e, file, line, path, ignore);
                        if (r < 0)
                                return r;
                        continue;
                }
                if (escaped || strchr(path, '%'))
                        return set_once(&e->unknown,
                                        strprintf("%s:%u: ExecStartPre=%s: nodeprep does not "
                                                  "expand systemd's escapes and specifiers",
                                                  file, line, word));
                why = refused_path(path);
                if (why && ignore)
                        return 0;
                if (why)
                        return set_once(&e->fails,
                                        strprintf("%s:%u: ExecStartPre=%s: %s, and the line has "
                                                  "no '-': systemd does not load %s (bad-setting)",
                                                  file, line, word, why, unit));
                if (path[0] != '/')
                        return set_once(&e->unknown,
                                        strprintf("%s:%u: ExecStartPre=%s: a name systemd looks "
                                                  "up in its search path, which nodeprep does "
                                                  "not follow",
                                                  file, line, word));
                simplify_path(path);
                for (;;) {
                        bool esc;

                        p += strspn(p, WHITESPACE);
                        if (p[0] == ';' && (!p[1] || strchr(WHITESPACE, p[1]))) {
                                p++;
                                semicolon = true;
                                break;
                        }
                        if (p[0] == '\\' && p[1] == ';' && (!p[2] || strchr(WHITESPACE, p[2]))) {
                                p += 2;
                                continue;
                        }
                        r = next_word(&p, NULL, &esc);
                        if (r == -ENOMEM)
                                return r;
                        if (r == 0)
                                break;
                        if (r < 0 && ignore)
                                return 0;
                        if (r < 0)
                                return set_once(&e->fails,
                                                strprintf("%s:%u: ExecStartPre=%s: an open quote "
                                                          "or a trailing backslash, and the line "
                                                          "has no '-': systemd does not load %s "
                                                          "(bad-setting)",
                                                          file, line, word, unit));
                }
                r = add_command(e, file, line, path, ignore);
                if (r < 0)
                        return r;
        } while (semicolon);
        return 0;
}

/* The lines of one unit file or drop-in (config_parse()), ExecStartPre= of [Service] applied. */
static int parse_file(NpExecStartPre *e, const char *unit, const char *file, char *data)
{
        _cleanup_free_ char *continuation = NULL;
        bool service = false;
        unsigned line = 0;

        if (startswith(data, "\xef\xbb\xbf"))
                data += 3;
        for (char *l = data, *nl; l; l = nl) {
                char *s, *v;
                size_t len;
                bool escaped = false;

                nl = strchr(l, '\n');
                if (nl)
                        *nl++ = '\0';
                else if (!*l)
                        break;
                line++;
                s = l + strspn(l, WHITESPACE);
                if (*s && strchr("#;", *s))
                        continue; /* comments, even inside a continued line */
                if (continuation) {
                        char *joined = strprintf("%s%s", continuation, l);

                        if (!joined)
                                return -ENOMEM;
                        free_and_replace(&continuation, joined);
                        s = continuation;
                } else
                        s = l;
                for (char *c = s; *c; c++)
                        escaped = !escaped && *c == '\\';
                if (escaped) {
                        s[strlen(s) - 1] = ' ';
                        if (!continuation && !(continuation = strdup(s)))
                                return -ENOMEM;
                        continue;
                }
                s = strstrip(s);
                len = strlen(s);
                if (s[0] == '[') {
                        if (s[len - 1] != ']')
                                return set_once(&e->fails,
                                                strprintf("%s:%u: an invalid section header: "
                                                          "systemd does not load %s",
                                                          file, line, unit));
                        service = len == 9 && startswith(s, "[Service]");
                } else if (service && (v = strchr(s, '=')) && v != s) {
                        *v++ = '\0';
                        if (streq(strstrip(s), "ExecStartPre")) {
                                int r;

                                v = strstrip(v);
                                if (isempty(v))
                                        clear_commands(e); /* an empty assignment resets */
                                else if ((r = parse_exec(e, unit, file, line, v)) < 0)
                                        return r;
                        }
                }
                continuation = mfree(continuation);
                if (e->fails || e->unknown)
                        return 0;
        }
        return 0;
}

/* Read and apply one file. A file that exists and cannot be read leaves e->unknown. */
static int apply_file(const NpRoot *root, NpExecStartPre *e, const char *unit, const char *path)
{
        _cleanup_free_ char *data = NULL;
        int r = np_root_read_file(root, path, NP_READ_MAX_DEFAULT, &data, NULL);

        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return set_once(&e->unknown, np_probe_reason(root, path, r));
        return parse_file(e, unit, path, data);
}

static int cmp_basename(const void *a, const void *b)
{
        return strcmp(strrchr(*(char *const *)a, '/'), strrchr(*(char *const *)b, '/'));
}

/* The drop-ins systemd applies, in order: *.conf of UNIT.d/ then of TYPE.d/ in each unit
 * directory, the first of a name winning, sorted by name. Masked names are left out. */
static int list_dropins(const NpRoot *root, NpExecStartPre *e, const char *unit, char ***ret)
{
        _cleanup_strv_free_ char **names = calloc(1, sizeof(char *)), **paths = NULL;
        const char *type = strrchr(unit, '.');

        if (!names)
                return -ENOMEM;
        for (size_t k = 0; k < 2; k++)
                for (size_t d = 0; d < ELEMENTSOF(np_unit_dirs); d++) {
                        _cleanup_free_ char *dir =
                            k == 0 ? strprintf("%s/%s.d", np_unit_dirs[d], unit)
                                   : strprintf("%s/%s.d", np_unit_dirs[d], type + 1);
                        _cleanup_strv_free_ char **entries = NULL;
                        int r;

                        if (!dir)
                                return -ENOMEM;
                        r = np_root_list_dir(root, dir, &entries);
                        if (r == -ENOMEM)
                                return r;
                        if (r == -ENOENT || r == -ENOTDIR)
                                continue;
                        if (r < 0)
                                return set_once(&e->unknown, np_probe_reason(root, dir, r));
                        STRV_FOREACH (n, entries) {
                                _cleanup_free_ char *path = NULL;
                                struct stat st;

                                if (!endswith(*n, ".conf") || (*n)[0] == '.' ||
                                    strv_contains(names, *n))
                                        continue;
                                if (strv_extend(&names, *n) < 0)
                                        return -ENOMEM;
                                path = strprintf("%s/%s", dir, *n);
                                if (!path)
                                        return -ENOMEM;
                                r = np_root_stat(root, path, &st);
                                if (r == -ENOMEM)
                                        return r;
                                /* a dangling link is an entry systemd cannot open: skipped */
                                if (r == -ENOENT || (r >= 0 && is_dev_null(&st)))
                                        continue;
                                if (r >= 0 && S_ISDIR(st.st_mode))
                                        continue;
                                if (strv_consume(&paths, TAKE_PTR(path)) < 0)
                                        return -ENOMEM;
                        }
                }
        if (paths)
                qsort(paths, strv_length(paths), sizeof(char *), cmp_basename);
        *ret = TAKE_PTR(paths);
        return 0;
}

/* Can systemd execute path (find_executable_full(): open, a regular file, X_OK as root)? NULL
 * when it can, else why not; *ret_unknown when that cannot be told. */
static int executable_problem(const NpRoot *root, const char *path, char **ret_problem,
                              char **ret_unknown)
{
        struct stat st;
        int r = np_root_stat(root, path, &st);

        *ret_problem = NULL;
        if (r == -ENOMEM)
                return r;
        if (r == -ENOENT || r == -ENOTDIR)
                *ret_problem = strdup("no such file");
        else if (r < 0)
                return (*ret_unknown = np_probe_reason(root, path, r)) ? 0 : -ENOMEM;
        else if (!S_ISREG(st.st_mode))
                *ret_problem = strprintf("a %s, not a regular file", np_file_type_name(st.st_mode));
        else if (!(st.st_mode & 0111))
                *ret_problem = strdup("not executable (no execute bit)");
        else
                return 0;
        return *ret_problem ? 0 : -ENOMEM;
}

int np_unit_exec_start_pre(const NpRoot *root, const char *unit, NpExecStartPre *ret)
{
        _cleanup_strv_free_ char **dropins = NULL;
        NpExecStartPre *e = ret;
        int r;

        *e = (NpExecStartPre){};
        for (size_t d = 0; d < ELEMENTSOF(np_unit_dirs) && !e->unit_file; d++) {
                _cleanup_free_ char *p = strprintf("%s/%s", np_unit_dirs[d], unit);
                struct stat st;

                if (!p)
                        return -ENOMEM;
                r = np_root_stat(root, p, &st);
                if (r == -ENOMEM)
                        return r;
                if (r == -ENOENT || r == -ENOTDIR)
                        continue;
                e->unit_file = TAKE_PTR(p);
                if (r >= 0 && is_dev_null(&st))
                        return set_once(&e->fails, strprintf("%s is linked to /dev/null: %s is "
                                                             "masked",
                                                             e->unit_file, unit));
        }
        if (!e->unit_file)
                return 0;
        r = apply_file(root, e, unit, e->unit_file);
        if (r < 0 || e->fails || e->unknown)
                return r;
        r = list_dropins(root, e, unit, &dropins);
        if (r < 0 || e->unknown)
                return r;
        STRV_FOREACH (d, dropins) {
                r = apply_file(root, e, unit, *d);
                if (r < 0 || e->fails || e->unknown)
                        return r;
        }
        FOREACH_ARRAY (c, e->commands, e->n_commands) {
                _cleanup_free_ char *problem = NULL;

                if (c->ignore)
                        continue;
                r = executable_problem(root, c->path, &problem, &e->unknown);
                if (r < 0 || e->unknown)
                        return r;
                if (problem)
                        return set_once(&e->fails,
                                        strprintf("%s:%u: ExecStartPre=%s: %s, and the line has "
                                                  "no '-': systemd fails the start of %s "
                                                  "(status 203/EXEC)",
                                                  c->file, c->line, c->path, problem, unit));
        }
        return 0;
}
