/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Line-preserving editors for iscsid.conf, /etc/selinux/config and nodeprep's modules-load.d file.
 */

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "fix/plan/conf-edit.h"
#include "probe/iscsid-conf.h"
#include "probe/modules-load.h"
#include "probe/selinux-config.h"
#include "util/strv.h"

const char *np_text_line_ending(const char *data, size_t size)
{
        size_t crlf = 0, lf = 0;

        for (size_t i = 0; i < size; i++)
                if (data[i] == '\n') {
                        if (i > 0 && data[i - 1] == '\r')
                                crlf++;
                        else
                                lf++;
                }
        return crlf > lf ? "\r\n" : "\n";
}

/* The ending of the line that ends just before end (exclusive): "\r\n", "\n" or "" (none). */
static const char *ending_before(const char *data, size_t end)
{
        if (end == 0 || data[end - 1] != '\n')
                return "";
        return end >= 2 && data[end - 2] == '\r' ? "\r\n" : "\n";
}

/* The end (exclusive) of the physical line that contains offset. */
static size_t line_end(const char *data, size_t size, size_t offset)
{
        const char *nl = memchr(data + offset, '\n', size - offset);

        return nl ? (size_t)(nl - data) + 1 : size;
}

/* data with [from, to) replaced by insert. */
static int splice(const char *data, size_t size, size_t from, size_t to, const char *insert,
                  char **ret, size_t *ret_size)
{
        size_t n = strlen(insert), total = size - (to - from) + n;
        char *out = malloc(total + 1);

        if (!out)
                return -ENOMEM;
        memcpy(out, data, from);
        memcpy(out + from, insert, n);
        memcpy(out + from + n, data + to, size - to);
        out[total] = '\0';
        *ret = out;
        *ret_size = total;
        return 0;
}

static int copy_unchanged(const char *data, size_t size, char **ret, size_t *ret_size)
{
        char *out = malloc(size + 1);

        if (!out)
                return -ENOMEM;
        memcpy(out, data, size);
        out[size] = '\0';
        *ret = out;
        *ret_size = size;
        return 0;
}

/* Where new text goes at the end of a file: after the last newline. A last line without one
 * stays last (iscsid never reads it; for the others a newline is added by the caller). */
static size_t end_of_complete_lines(const char *data, size_t size)
{
        while (size > 0 && data[size - 1] != '\n')
                size--;
        return size;
}

/* --- iscsid.conf ---------------------------------------------------------------------------- */

/* "#node.startup = automatic", "  # node.startup=x": a comment that is key's line disabled. */
static bool comment_names_key(const char *line, size_t n, const char *key)
{
        size_t i = 0, k = strlen(key);

        while (i < n && isspace((unsigned char)line[i]))
                i++;
        if (i >= n || line[i] != '#')
                return false;
        while (i < n && line[i] == '#')
                i++;
        while (i < n && isspace((unsigned char)line[i]))
                i++;
        if (n - i < k || memcmp(line + i, key, k) != 0)
                return false;
        i += k;
        return i < n && (isspace((unsigned char)line[i]) || line[i] == '=');
}

static int check_iscsi_words(const char *key, const char *value, char **ret_error)
{
        if (isempty(key) || strlen(key) >= 128 || strpbrk(key, " \t\r\n=#")) {
                *ret_error = strprintf("\"%s\" is not a key iscsid can read", strna(key));
                return -EINVAL;
        }
        if (isempty(value) || strlen(value) >= 256 || strpbrk(value, "\r\n") ||
            isspace((unsigned char)value[0]) || isspace((unsigned char)value[strlen(value) - 1])) {
                *ret_error =
                    strprintf("\"%s\" is not a value iscsid can read for %s", strna(value), key);
                return -EINVAL;
        }
        return 0;
}

/* The edit changed key and nothing else iscsid sees. */
static int verify_iscsi(const NpIscsiRecord *before, const char *data, size_t size, const char *key,
                        const char *value, char **ret_error)
{
        NpIscsiRecord after = {};
        const NpKeyValue *kv;
        int r;

        r = np_iscsi_record_parse(data, size, &after);
        if (r < 0)
                return r;
        kv = np_key_values_get(after.settings, after.n_settings, key);
        if (!kv || !streq(kv->value, value))
                r = -EBADMSG;
        FOREACH_ARRAY (o, before->settings, before->n_settings) {
                const NpKeyValue *n = np_key_values_get(after.settings, after.n_settings, o->key);

                if (!streq(o->key, key) && (!n || !streq(n->value, o->value)))
                        r = -EBADMSG;
        }
        if (after.n_settings !=
            before->n_settings +
                (np_key_values_get(before->settings, before->n_settings, key) ? 0 : 1))
                r = -EBADMSG;
        if (after.n_problems != before->n_problems)
                r = -EBADMSG;
        np_iscsi_record_done(&after);
        if (r == -EBADMSG)
                *ret_error = strprintf("internal error: the edited file would not read as "
                                       "\"%s = %s\" with everything else unchanged; nothing "
                                       "written",
                                       key, value);
        return r;
}

int np_iscsi_conf_set(const char *data, size_t size, const char *key, const char *value, char **ret,
                      size_t *ret_size, char **ret_where, char **ret_error)
{
        _cleanup_(np_iscsi_record_done) NpIscsiRecord rec = {};
        _cleanup_free_ char *insert = NULL, *out = NULL, *where = NULL;
        const NpIscsiLine *active = NULL, *anchor = NULL;
        NpIscsiLine *lines = NULL;
        size_t n = 0, out_size = 0;
        int r;

        r = check_iscsi_words(key, value, ret_error);
        if (r < 0)
                return r;
        r = np_iscsi_record_parse_lines(data, size, &rec, &lines, &n);
        if (r < 0)
                return r;
        /* The active line is the last accepted one (iscsid: last valid line wins). */
        for (size_t i = 0; i < n; i++) {
                const NpIscsiLine *l = &lines[i];

                if (l->kind == NP_ISCSI_LINE_SETTING && streq_ptr(l->key, key))
                        active = l;
                else if ((l->kind == NP_ISCSI_LINE_REJECTED && streq_ptr(l->key, key)) ||
                         (l->kind == NP_ISCSI_LINE_COMMENT &&
                          comment_names_key(data + l->offset, l->length, key)))
                        anchor = l;
        }

        if (active) {
                const NpKeyValue *kv = np_key_values_get(rec.settings, rec.n_settings, key);
                size_t end = active->offset + active->length, indent = 0;

                if (kv && streq(kv->value, value)) {
                        np_iscsi_lines_free(lines, n);
                        return copy_unchanged(data, size, ret, ret_size);
                }
                if (!active->line_start) {
                        *ret_error = strprintf("line %u is longer than 2047 bytes and iscsid "
                                               "reads \"%s\" from its tail; change it by hand",
                                               active->line, key);
                        np_iscsi_lines_free(lines, n);
                        return -EMEDIUMTYPE;
                }
                while (indent < active->length && (data[active->offset + indent] == ' ' ||
                                                   data[active->offset + indent] == '\t'))
                        indent++;
                insert = strprintf("%.*s%s = %s%s", (int)indent, data + active->offset, key, value,
                                   ending_before(data, end));
                where = strprintf("line %u, was \"%s\"", active->line, kv ? kv->value : "");
                r = insert && where
                        ? splice(data, size, active->offset, end, insert, &out, &out_size)
                        : -ENOMEM;
        } else if (anchor) {
                size_t end = anchor->offset + anchor->length;

                insert = strprintf("%s = %s%s", key, value, ending_before(data, end));
                where =
                    strprintf("new line after line %u (%s)", anchor->line,
                              anchor->kind == NP_ISCSI_LINE_COMMENT ? "where it is commented out"
                                                                    : "which iscsid ignores");
                r = insert && where ? splice(data, size, end, end, insert, &out, &out_size)
                                    : -ENOMEM;
        } else {
                const char *eol = np_text_line_ending(data, size);
                size_t at = end_of_complete_lines(data, size);

                insert = strprintf(NP_SET_BY_NODEPREP "%s%s = %s%s", eol, key, value, eol);
                where = strdup(at < size ? "added before the unterminated last line"
                                         : "added at the end");
                r = insert && where ? splice(data, size, at, at, insert, &out, &out_size) : -ENOMEM;
        }
        np_iscsi_lines_free(lines, n);
        if (r < 0)
                return r;
        r = verify_iscsi(&rec, out, out_size, key, value, ret_error);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(out);
        *ret_size = out_size;
        if (ret_where)
                *ret_where = TAKE_PTR(where);
        return 1;
}

/* --- /etc/selinux/config ------------------------------------------------------------------- */

static bool at_line_start(const char *data, size_t offset)
{
        return offset == 0 || data[offset - 1] == '\n';
}

int np_selinux_config_set(const char *data, size_t size, NpSelinuxMode mode, char **ret,
                          size_t *ret_size, char **ret_where, char **ret_error)
{
        _cleanup_(np_selinux_config_done) NpSelinuxConfig c = {}, after = {};
        _cleanup_free_ char *insert = NULL, *out = NULL, *where = NULL;
        const char *word = np_selinux_mode_to_string(mode);
        size_t out_size = 0;
        int r;

        if (mode != NP_SELINUX_PERMISSIVE && mode != NP_SELINUX_ENFORCING) {
                *ret_error = strdup("nodeprep never writes SELINUX=disabled: a host booted "
                                    "without a policy leaves new files unlabelled, and "
                                    "enabling SELinux again needs a relabel of every file");
                return -EINVAL;
        }
        r = np_selinux_config_parse(data, size, &c);
        if (r < 0)
                return r;
        if (c.set) {
                size_t end = line_end(data, size, c.offset);

                if (c.mode == mode)
                        return copy_unchanged(data, size, ret, ret_size);
                if (!at_line_start(data, c.offset)) {
                        *ret_error = strprintf("line %u is longer than 4095 bytes and "
                                               "libselinux reads SELINUX= from its tail; "
                                               "change it by hand",
                                               c.line);
                        return -EMEDIUMTYPE;
                }
                insert = strprintf("SELINUX=%s%s", word, ending_before(data, end));
                where = strprintf("line %u, was \"SELINUX=%s\"", c.line, strna(c.value));
                r = insert && where ? splice(data, size, c.offset, end, insert, &out, &out_size)
                                    : -ENOMEM;
        } else {
                const char *eol = np_text_line_ending(data, size);
                bool terminated = size == 0 || data[size - 1] == '\n';

                /* No line libselinux recognises: any new column-0 line is the first it reads. */
                if (c.ignored_line > 0 && at_line_start(data, c.ignored_offset)) {
                        size_t end = line_end(data, size, c.ignored_offset);
                        const char *e = ending_before(data, end);

                        /* After that line, with its line ending (or terminating it first). */
                        insert = strprintf("%sSELINUX=%s%s", *e ? "" : eol, word, *e ? e : eol);
                        where = strprintf("new line after line %u, whose value libselinux does "
                                          "not understand",
                                          c.ignored_line);
                        r = insert && where ? splice(data, size, end, end, insert, &out, &out_size)
                                            : -ENOMEM;
                } else {
                        insert = strprintf("%s" NP_SET_BY_NODEPREP "%sSELINUX=%s%s",
                                           terminated ? "" : eol, eol, word, eol);
                        where = strdup("added at the end");
                        r = insert && where
                                ? splice(data, size, size, size, insert, &out, &out_size)
                                : -ENOMEM;
                }
        }
        if (r < 0)
                return r;
        r = np_selinux_config_parse(out, out_size, &after);
        if (r < 0)
                return r;
        if (!after.set || after.mode != mode) {
                *ret_error = strprintf("internal error: the edited file would not read as "
                                       "SELINUX=%s; nothing written",
                                       word);
                return -EBADMSG;
        }
        *ret = TAKE_PTR(out);
        *ret_size = out_size;
        if (ret_where)
                *ret_where = TAKE_PTR(where);
        return 1;
}

/* --- modules-load.d ------------------------------------------------------------------------- */

#define MODULES_LOAD_HEADER                                                                      \
        "# Kernel modules loaded at boot by systemd-modules-load.service.\n"                     \
        "# Written by nodeprep (nodeprepctl apply) for its kmod.persistent checks: one module\n" \
        "# name per line. nodeprepctl rollback removes what it added.\n"

static int modules_load_has(const char *data, size_t size, const char *module, bool *ret)
{
        _cleanup_(np_modules_load_done) NpModulesLoad m = {};
        int r = np_modules_load_parse("nodeprep.conf", data, size, true, NULL, &m);

        if (r < 0)
                return r;
        *ret = false;
        FOREACH_ARRAY (l, m.lines, m.n_lines)
                if (streq(l->text, module))
                        *ret = true;
        return 0;
}

int np_modules_load_conf_add(const char *data, size_t size, const char *module, char **ret,
                             size_t *ret_size, char **ret_error)
{
        _cleanup_free_ char *insert = NULL, *out = NULL;
        size_t out_size = 0;
        bool has = false;
        int r;

        if (isempty(module) ||
            strspn(module, "abcdefghijklmnopqrstuvwxyz"
                           "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") != strlen(module)) {
                *ret_error = strprintf("\"%s\" is not a kernel module name", strna(module));
                return -EINVAL;
        }
        if (!data) {
                out = strprintf(MODULES_LOAD_HEADER "%s\n", module);
                if (!out)
                        return -ENOMEM;
                out_size = strlen(out);
        } else {
                const char *eol = np_text_line_ending(data, size);
                bool terminated = size == 0 || data[size - 1] == '\n';

                r = modules_load_has(data, size, module, &has);
                if (r < 0)
                        return r;
                if (has)
                        return copy_unchanged(data, size, ret, ret_size);
                insert = strprintf("%s%s%s", terminated ? "" : eol, module, eol);
                r = insert ? splice(data, size, size, size, insert, &out, &out_size) : -ENOMEM;
                if (r < 0)
                        return r;
        }
        r = modules_load_has(out, out_size, module, &has);
        if (r < 0)
                return r;
        if (!has) {
                *ret_error = strprintf("internal error: the edited file would not list %s; "
                                       "nothing written",
                                       module);
                return -EBADMSG;
        }
        *ret = TAKE_PTR(out);
        *ret_size = out_size;
        return 1;
}
