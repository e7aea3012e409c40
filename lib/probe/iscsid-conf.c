/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* open-iscsi key = value files, parsed as idbm_recinfo_config() does. */

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "probe/iscsid-conf.h"
#include "util/secret.h"
#include "util/strv.h"

#define IDBM_BUFFER    2048 /* fgets(buffer, sizeof(buffer), f) */
#define IDBM_NAME_MAX  128  /* char name[NAME_MAXVAL] */
#define IDBM_VALUE_MAX 256  /* char value[VALUE_MAXVAL] */

static const char *const startup_values[] = { "manual", "automatic", "onboot", NULL };

/* Keys whose values iscsid checks against a list; any other value is rejected. */
static const struct {
        const char *key;
        const char *const *values;
} enum_keys[] = {
        { NP_ISCSI_KEY_STARTUP, startup_values },
        { NP_ISCSI_KEY_CONN_STARTUP, startup_values },
};

static int add_problem(NpIscsiRecord *rec, unsigned line, const char *key, char *problem)
{
        NpConfProblem *a;

        if (!problem)
                return -ENOMEM;
        a = reallocarray(rec->problems, rec->n_problems + 1, sizeof(NpConfProblem));
        if (!a) {
                free(problem);
                return -ENOMEM;
        }
        rec->problems = a;
        a[rec->n_problems] = (NpConfProblem){ .line = line, .problem = problem };
        if (key && !(a[rec->n_problems].key = strdup(key))) {
                free(problem);
                return -ENOMEM;
        }
        rec->n_problems++;
        return 0;
}

static int set_value(NpIscsiRecord *rec, const char *key, const char *value, unsigned line)
{
        NpKeyValue *a;

        /* A secret never leaves the probe: the key stays (its presence matters), the value is
         * replaced. */
        if (np_secret_key(key))
                value = NP_REDACTED;
        FOREACH_ARRAY (kv, rec->settings, rec->n_settings)
                if (streq(kv->key, key)) {
                        kv->line = line;
                        return free_and_strdup(&kv->value, value);
                }
        a = reallocarray(rec->settings, rec->n_settings + 1, sizeof(NpKeyValue));
        if (!a)
                return -ENOMEM;
        rec->settings = a;
        a[rec->n_settings] =
            (NpKeyValue){ .key = strdup(key), .value = strdup(value), .line = line };
        rec->n_settings++;
        if (!a[rec->n_settings - 1].key || !a[rec->n_settings - 1].value)
                return -ENOMEM;
        return 0;
}

/* Note the key and fate of a chunk for editors; info may be NULL. */
static int line_info(NpIscsiLine *info, NpIscsiLineKind kind, const char *key)
{
        if (!info)
                return 0;
        info->kind = kind;
        if (key && !(info->key = strdup(key)))
                return -ENOMEM;
        return 0;
}

static int reject(NpIscsiRecord *rec, NpIscsiLine *info, unsigned line, const char *key,
                  char *problem)
{
        int r = line_info(info, NP_ISCSI_LINE_REJECTED, key);

        if (r < 0) {
                free(problem);
                return r;
        }
        return add_problem(rec, line, key, problem);
}

static int apply_line(NpIscsiRecord *rec, char *line, unsigned lineno, NpIscsiLine *info)
{
        char name[IDBM_NAME_MAX + 1], *p = line, *value;
        _cleanup_free_ char *redacted = NULL;
        const char *shown;
        size_t n = 0;
        int r;

        line = strstrip(line);
        shown = line;
        if (*line == '\0')
                return line_info(info, NP_ISCSI_LINE_BLANK, NULL);
        if (*line == '#')
                return line_info(info, NP_ISCSI_LINE_COMMENT, NULL);

        p = line;
        while (*p && !isspace((unsigned char)*p) && *p != '=')
                p++;
        n = (size_t)(p - line);
        if (n == 0) /* iscsid looks up "" and finds no such setting */
                return add_problem(rec, lineno, NULL,
                                   strprintf("\"%s\" has no key; iscsid ignores the line", line));
        if (n >= IDBM_NAME_MAX) {
                /* idbm_recinfo_config() copies it into name[128] without a bound: a stack
                 * overflow, after which nothing iscsid or iscsiadm does is predictable. */
                if (!rec->undefined &&
                    !(rec->undefined = strprintf("line %u: a key longer than %d characters "
                                                 "overflows open-iscsi's parser",
                                                 lineno, IDBM_NAME_MAX - 1)))
                        return -ENOMEM;
                return reject(rec, info, lineno, NULL,
                              strprintf("key longer than %d characters: open-iscsi "
                                        "overflows its buffer; the line is not used",
                                        IDBM_NAME_MAX - 1));
        }
        memcpy(name, line, n);
        name[n] = '\0';
        /* Problems quote the line: never a secret's value. */
        if (np_secret_key(name)) {
                redacted = strprintf("%s = " NP_REDACTED, name);
                if (!redacted)
                        return -ENOMEM;
                shown = redacted;
        }
        if (*p == '\0')
                return reject(rec, info, lineno, name,
                              strprintf("\"%s\" has no value; iscsid ignores the line", shown));
        p++; /* iscsid skips exactly one character after the key, whatever it is */
        while (*p && isspace((unsigned char)*p))
                p++;
        if (*p && *p != '=')
                return reject(rec, info, lineno, name,
                              strprintf("\"%s\": iscsid needs white space before '=' (write "
                                        "\"%s = ...\"); it ignores this line",
                                        shown, name));
        if (*p)
                p++;
        while (*p && isspace((unsigned char)*p))
                p++;
        if (*p == '\0')
                return reject(rec, info, lineno, name,
                              strprintf("\"%s\" has no value; iscsid ignores the line", shown));
        value = p;
        if (strlen(value) >= IDBM_VALUE_MAX) {
                /* Copied into value[256] without a bound, as the key above. */
                if (!rec->undefined &&
                    !(rec->undefined = strprintf("line %u: a value longer than %d characters "
                                                 "overflows open-iscsi's parser",
                                                 lineno, IDBM_VALUE_MAX - 1)))
                        return -ENOMEM;
                r = add_problem(rec, lineno, name,
                                strprintf("value longer than %d characters: open-iscsi "
                                          "overflows its buffer",
                                          IDBM_VALUE_MAX - 1));
                if (r < 0)
                        return r;
                value[IDBM_VALUE_MAX - 1] = '\0';
        }

        if (streq(name, NP_ISCSI_KEY_SESSION_MRDSL))
                return reject(rec, info, lineno, name,
                              strprintf("%s is not an open-iscsi setting and iscsid "
                                        "ignores it; the setting is %s",
                                        NP_ISCSI_KEY_SESSION_MRDSL, NP_ISCSI_KEY_MRDSL));

        for (size_t i = 0; i < ELEMENTSOF(enum_keys); i++) {
                if (!streq(name, enum_keys[i].key))
                        continue;
                if (!strv_contains((char **)enum_keys[i].values, value)) {
                        _cleanup_free_ char *allowed =
                            strv_join((char **)enum_keys[i].values, ", ");
                        return reject(rec, info, lineno, name,
                                      strprintf("%s = %s: not one of %s (case matters); "
                                                "iscsid keeps the previous value",
                                                name, value, strna(allowed)));
                }
        }
        r = line_info(info, NP_ISCSI_LINE_SETTING, name);
        if (r < 0)
                return r;
        return set_value(rec, name, value, lineno);
}

void np_iscsi_lines_free(NpIscsiLine *l, size_t n)
{
        for (size_t i = 0; i < n; i++)
                free(l[i].key);
        free(l);
}

int np_iscsi_record_parse_lines(const char *data, size_t size, NpIscsiRecord *rec,
                                NpIscsiLine **ret_lines, size_t *ret_n)
{
        NpIscsiLine *lines = NULL;
        size_t n_lines = 0, allocated = 0;
        char buf[IDBM_BUFFER];
        unsigned lineno = 1;
        size_t pos = 0;
        bool at_line_start = true;
        int r = 0;

        while (pos < size) {
                /* One fgets() chunk: up to IDBM_BUFFER-1 bytes, ending after a '\n' if any. */
                size_t max = MIN(size - pos, (size_t)IDBM_BUFFER - 1);
                const char *nl = memchr(data + pos, '\n', max);
                size_t n = nl ? (size_t)(nl - (data + pos)) + 1 : max;
                unsigned this_line = lineno;
                NpIscsiLine *info = NULL;

                if (ret_lines) {
                        if (!GREEDY_REALLOC(lines, allocated, n_lines + 1)) {
                                r = -ENOMEM;
                                break;
                        }
                        info = &lines[n_lines++];
                        *info = (NpIscsiLine){ .line = this_line,
                                               .offset = pos,
                                               .length = n,
                                               .line_start = at_line_start,
                                               .kind = NP_ISCSI_LINE_DROPPED };
                }
                memcpy(buf, data + pos, n);
                buf[n] = '\0';
                pos += n;
                at_line_start = nl != NULL;
                if (nl)
                        lineno++;

                if (memchr(buf, '\0', n)) {
                        r = add_problem(rec, this_line, NULL,
                                        strdup("NUL byte in line; iscsid ignores the line"));
                } else if (!nl) {
                        /* iscsid: "Config file line N too long." and the chunk is lost. */
                        r = add_problem(rec, this_line, NULL,
                                        strdup(pos >= size && n < IDBM_BUFFER - 1
                                                   ? "last line has no newline; iscsid "
                                                     "ignores it"
                                                   : "line longer than 2047 bytes; iscsid "
                                                     "drops the first 2047 bytes and reads "
                                                     "the rest as a line of its own"));
                } else {
                        buf[n - 1] = '\0';
                        r = apply_line(rec, buf, this_line, info);
                }
                if (r < 0)
                        break;
        }
        if (r < 0) {
                np_iscsi_lines_free(lines, n_lines);
                return r;
        }
        if (ret_lines) {
                *ret_lines = lines;
                *ret_n = n_lines;
        }
        return 0;
}

int np_iscsi_record_parse(const char *data, size_t size, NpIscsiRecord *rec)
{
        return np_iscsi_record_parse_lines(data, size, rec, NULL, NULL);
}
