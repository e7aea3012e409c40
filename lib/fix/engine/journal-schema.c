/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What this version of nodeprep writes in a journal, record by record, and nothing else. A
 * journal under --root DIR is whatever DIR's owner put there, and even the host's own is read
 * by a process that runs as root: rollback acts only on records that apply.c (and rollback.c)
 * could have written, field for field, in an order they could have written them. Paths are
 * absolute and plain (no "." or "..", no "//"), saved file names are the step's own, temporary
 * names follow np_temp_name(), values have the shape the planners give them (a module name, a
 * unit name, an iSCSI record's target and portal, a known package tool). There is no argv to
 * run: a "command" step holds typed fields, and rollback derives the one command it may run.
 */

#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "fix/engine/fix-internal.h"
#include "fix/engine/journal.h"
#include "fix/exec/file-edit.h"
#include "util/strv.h"

enum {
        PHASE_HEADER,   /* the first line must be the change record */
        PHASE_APPLY,    /* steps, until "complete" or a torn line */
        PHASE_ROLLBACK, /* only rollback's records ("undo-temp", "rolled-back") */
        PHASE_END,      /* after "rolled-back": nothing */
};

typedef enum FieldType {
        F_TEXT,         /* a string without control characters */
        F_TEXT_OR_NULL, /* the same, or null */
        F_ANY_STRING,   /* a step's message (command output may have newlines), or null */
        F_BOOL,
        F_UINT,  /* an integer >= 0 */
        F_TEXTV, /* an array of F_TEXT */
} FieldType;

typedef struct Field {
        const char *name;
        FieldType type;
} Field;

static const Field header_fields[] = {
        { "type", F_TEXT }, { "format", F_UINT },   { "id", F_TEXT },        { "created", F_TEXT },
        { "root", F_TEXT }, { "nodeprep", F_TEXT }, { "profiles", F_TEXTV }, {},
};
static const Field end_fields[] = {
        { "type", F_TEXT }, { "n", F_UINT }, { "state", F_TEXT }, { "message", F_ANY_STRING }, {},
};
static const Field complete_fields[] = {
        { "type", F_TEXT },
        { "changed", F_BOOL },
        { "failed", F_BOOL },
        {},
};
static const Field undo_temp_fields[] = {
        { "type", F_TEXT },
        { "n", F_UINT },
        { "temp", F_TEXT },
        {},
};
static const Field rolled_back_fields[] = { { "type", F_TEXT }, { "at", F_TEXT }, {} };

/* A "begin" record: these, then its kind's own. */
#define BEGIN_FIELDS                                                                  \
        { "type", F_TEXT }, { "n", F_UINT }, { "state", F_TEXT }, { "kind", F_TEXT }, \
            { "checks", F_TEXTV },                                                    \
        {                                                                             \
                "summary", F_TEXT                                                     \
        }

static const Field edit_fields[] = {
        BEGIN_FIELDS,
        { "path", F_TEXT },
        { "existed", F_BOOL },
        { "mode", F_UINT },
        { "uid", F_UINT },
        { "gid", F_UINT },
        { "old", F_TEXT_OR_NULL },
        { "new", F_TEXT },
        { "xattrs", F_TEXT_OR_NULL },
        { "temp", F_TEXT },
        {},
};
static const Field mkdir_fields[] = { BEGIN_FIELDS, { "path", F_TEXT }, {} };
static const Field runtime_fields[] = {
        BEGIN_FIELDS, { "path", F_TEXT }, { "old", F_TEXT }, { "new", F_TEXT }, {},
};
static const Field kmod_fields[] = {
        BEGIN_FIELDS,
        { "module", F_TEXT },
        { "cannot_undo", F_TEXT },
        {},
};
static const Field unit_enable_fields[] = {
        BEGIN_FIELDS,
        { "unit", F_TEXT },
        { "previous", F_TEXT_OR_NULL },
        {},
};
static const Field unit_start_fields[] = {
        BEGIN_FIELDS, { "unit", F_TEXT }, { "previous", F_TEXT_OR_NULL }, { "cannot_undo", F_TEXT },
        {},
};
static const Field iscsi_update_fields[] = {
        BEGIN_FIELDS,
        { "command", F_TEXT },
        { "target", F_TEXT },
        { "portal", F_TEXT },
        { "key", F_TEXT },
        { "value", F_TEXT },
        { "previous", F_TEXT_OR_NULL },
        { "cannot_undo", F_TEXT_OR_NULL },
        {},
};
static const Field package_fields[] = {
        BEGIN_FIELDS,          { "command", F_TEXT },     { "tool", F_TEXT },
        { "package", F_TEXT }, { "cannot_undo", F_TEXT }, {},
};

/* The runtime kernel settings nodeprep writes, and the only values it writes there. */
static const struct {
        const char *path, *old, *new;
} runtime_writes[] = {
        { "/sys/fs/selinux/enforce", "1", "0" },
};

static int why(char **ret_why, const char *fmt, ...) _printf_(2, 3);
static int why(char **ret_why, const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        *ret_why = strvprintf(fmt, ap);
        va_end(ap);
        return *ret_why ? -EBADMSG : -ENOMEM;
}

static bool text_ok(const char *s)
{
        if (strlen(s) > 65536)
                return false;
        for (const unsigned char *p = (const unsigned char *)s; *p; p++)
                if (*p < ' ' || *p == 127)
                        return false;
        return true;
}

/* Exactly the fields of spec, each of its type. */
static int check_fields(json_object *o, const Field *spec, char **ret_why)
{
        size_t n = 0;

        for (const Field *f = spec; f->name; f++, n++) {
                json_object *v;

                if (!json_object_object_get_ex(o, f->name, &v))
                        return why(ret_why, "\"%s\" is missing", f->name);
                switch (f->type) {
                case F_TEXT_OR_NULL:
                case F_ANY_STRING:
                case F_TEXT:
                        if (!v && f->type != F_TEXT)
                                break;
                        if (!json_object_is_type(v, json_type_string) ||
                            (f->type != F_ANY_STRING && !text_ok(json_object_get_string(v))))
                                return why(ret_why, "\"%s\" is not a string of printable text",
                                           f->name);
                        break;
                case F_BOOL:
                        if (!json_object_is_type(v, json_type_boolean))
                                return why(ret_why, "\"%s\" is not true or false", f->name);
                        break;
                case F_UINT:
                        if (!json_object_is_type(v, json_type_int) || json_object_get_int64(v) < 0)
                                return why(ret_why, "\"%s\" is not a number >= 0", f->name);
                        break;
                case F_TEXTV:
                        if (!json_object_is_type(v, json_type_array))
                                return why(ret_why, "\"%s\" is not a list", f->name);
                        for (size_t i = 0; i < json_object_array_length(v); i++) {
                                json_object *e = json_object_array_get_idx(v, i);

                                if (!json_object_is_type(e, json_type_string) ||
                                    !text_ok(json_object_get_string(e)))
                                        return why(ret_why,
                                                   "\"%s\" holds something other than "
                                                   "text",
                                                   f->name);
                        }
                        break;
                }
        }
        json_object_object_foreach (o, key, val) {
                bool known = false;

                (void)val;
                for (const Field *f = spec; f->name && !known; f++)
                        known = streq(f->name, key);
                if (!known)
                        return why(ret_why, "unexpected field \"%s\"", key);
        }
        return json_object_object_length(o) == (int)n ? 0 : why(ret_why, "repeated fields");
}

static const char *str(json_object *o, const char *key)
{
        return json_object_get_string(json_object_object_get(o, key));
}

static int64_t num(json_object *o, const char *key)
{
        return json_object_get_int64(json_object_object_get(o, key));
}

/* Absolute and plain: "/etc/iscsi/iscsid.conf", never "..", ".", "//" or a trailing "/". Not
 * in nodeprep's own state directory, which no fix writes. */
static bool path_ok(const char *p)
{
        size_t n = strlen(p);

        if (n < 2 || n >= PATH_MAX || p[0] != '/' || p[n - 1] == '/' || strstr(p, "//") ||
            strstr(p, "/./") || strstr(p, "/../") || endswith(p, "/.") || endswith(p, "/..") ||
            !text_ok(p))
                return false;
        return !streq(p, NP_STATE_DIR) && !startswith(p, NP_STATE_DIR "/");
}

static bool name_ok(const char *s, const char *allowed, size_t max)
{
        size_t n = strlen(s);

        return n > 0 && n <= max && s[0] != '-' && s[0] != '.' && strspn(s, allowed) == n;
}

#define ALNUM "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

/* A unit name as systemd spells them, of a type nodeprep enables or starts. */
static bool unit_ok(const char *u)
{
        return name_ok(u, ALNUM ":_.\\@-", 255) &&
               (endswith(u, ".service") || endswith(u, ".socket") || endswith(u, ".target") ||
                endswith(u, ".path") || endswith(u, ".timer") || endswith(u, ".mount"));
}

/* "N.old", "N.new", "N.xattrs": the step's own saved files. */
static bool saved_name_ok(const char *s, int64_t n, const char *suffix)
{
        _cleanup_free_ char *want = strprintf("%" PRId64 ".%s", n, suffix);

        return want && streq(s, want);
}

static int check_edit(json_object *o, int64_t n, char **ret_why)
{
        const char *path = str(o, "path"), *old = str(o, "old"), *xattrs = str(o, "xattrs");
        bool existed = json_object_get_boolean(json_object_object_get(o, "existed"));

        if (!path_ok(path))
                return why(ret_why, "\"path\" is not a plain absolute path nodeprep edits");
        if (num(o, "mode") > 07777 || num(o, "uid") >= UINT32_MAX || num(o, "gid") >= UINT32_MAX)
                return why(ret_why, "\"mode\", \"uid\" or \"gid\" is out of range");
        if (existed ? !old || !saved_name_ok(old, n, "old") : old != NULL)
                return why(ret_why, "\"old\" is not this step's saved original");
        if (existed ? !xattrs || !saved_name_ok(xattrs, n, "xattrs") : xattrs != NULL)
                return why(ret_why, "\"xattrs\" is not this step's saved attributes");
        if (!saved_name_ok(str(o, "new"), n, "new"))
                return why(ret_why, "\"new\" is not this step's saved new contents");
        if (!np_temp_name_matches(path, str(o, "temp")))
                return why(ret_why, "\"temp\" is not a temporary name nodeprep gives %s", path);
        return 0;
}

static int check_runtime(json_object *o, char **ret_why)
{
        for (size_t i = 0; i < ELEMENTSOF(runtime_writes); i++)
                if (streq(str(o, "path"), runtime_writes[i].path))
                        return streq(str(o, "old"), runtime_writes[i].old) &&
                                       streq(str(o, "new"), runtime_writes[i].new)
                                   ? 0
                                   : why(ret_why, "not a value nodeprep writes to %s",
                                         runtime_writes[i].path);
        return why(ret_why, "\"path\" is not a kernel setting nodeprep writes");
}

static int check_command(json_object *o, char **ret_why)
{
        _cleanup_strv_free_ char **argv = NULL;
        int r;

        switch (np_command_from_string(str(o, "command"))) {
        case NP_COMMAND_ISCSI_NODE_UPDATE:
                r = check_fields(o, iscsi_update_fields, ret_why);
                if (r < 0)
                        return r;
                if (!np_iscsi_update_fields_valid(str(o, "target"), str(o, "portal"),
                                                  str(o, "key")) ||
                    !np_iscsi_value_valid(str(o, "value")) ||
                    (str(o, "previous") && !np_iscsi_value_valid(str(o, "previous"))))
                        return why(ret_why, "not a node record update nodeprep makes");
                if (!str(o, "previous") == !str(o, "cannot_undo"))
                        return why(ret_why, "\"previous\" and \"cannot_undo\" do not agree");
                return 0;
        case NP_COMMAND_PACKAGE_INSTALL:
                r = check_fields(o, package_fields, ret_why);
                if (r < 0)
                        return r;
                argv = np_package_install_argv(str(o, "tool"), str(o, "package"));
                return argv ? 0 : why(ret_why, "not a package install nodeprep runs");
        default:
                return why(ret_why, "\"command\" is not one nodeprep runs");
        }
}

static int check_begin(NpJournalCheck *c, json_object *o, char **ret_why)
{
        static const struct {
                const char *kind;
                const Field *fields;
        } kinds[] = {
                { "edit-file", edit_fields },
                { "mkdir", mkdir_fields },
                { "runtime-write", runtime_fields },
                { "kmod-load", kmod_fields },
                { "unit-enable", unit_enable_fields },
                { "unit-start", unit_start_fields },
                { "command", NULL },
        };
        const char *kind = str(o, "kind");
        int64_t n = num(o, "n");
        json_object **a;
        int r = -EBADMSG;

        if (n != (int64_t)c->last_begin + 1)
                return why(ret_why, "step %" PRId64 " after step %u", n, c->last_begin);
        for (size_t i = 0; i < ELEMENTSOF(kinds); i++) {
                if (!streq_ptr(kind, kinds[i].kind))
                        continue;
                r = kinds[i].fields ? check_fields(o, kinds[i].fields, ret_why)
                                    : check_command(o, ret_why);
                break;
        }
        if (r == -EBADMSG && !*ret_why)
                return why(ret_why, "\"kind\" is not a step nodeprep takes");
        if (r < 0)
                return r;
        if (json_object_array_length(json_object_object_get(o, "checks")) == 0)
                return why(ret_why, "a step that fixes no check");
        if (streq(kind, "edit-file"))
                r = check_edit(o, n, ret_why);
        else if (streq(kind, "mkdir"))
                r = path_ok(str(o, "path")) ? 0
                                            : why(ret_why, "\"path\" is not a plain absolute path");
        else if (streq(kind, "runtime-write"))
                r = check_runtime(o, ret_why);
        else if (streq(kind, "kmod-load"))
                r = name_ok(str(o, "module"), ALNUM "_-", 55) ? 0
                                                              : why(ret_why, "not a module name");
        else if (startswith(kind, "unit-"))
                r = unit_ok(str(o, "unit")) ? 0 : why(ret_why, "not a unit nodeprep manages");
        if (r < 0)
                return r;
        a = reallocarray(c->begins, c->n_begins + 1, sizeof(json_object *));
        if (!a)
                return -ENOMEM;
        c->begins = a;
        c->begins[c->n_begins++] = o;
        c->last_begin = (unsigned)n;
        c->last_ended = false;
        return 0;
}

/* A record cut short by a kill: a beginning of one (every record starts with its type). */
static bool torn_ok(const char *line)
{
        static const char start[] = "{\"type\":\"";
        size_t n = strlen(line);

        return n > 0 && strneq(line, start, MIN(n, sizeof(start) - 1)) && text_ok(line);
}

static int check_record(NpJournalCheck *c, json_object *o, char **ret_why)
{
        const char *type = str(o, "type"), *state = str(o, "state");
        int r;

        if (c->phase == PHASE_HEADER) {
                if (!streq_ptr(type, "change"))
                        return why(ret_why, "the first record is not the change record");
                if (!json_object_object_get(o, "format"))
                        return why(ret_why, "no journal format: written by an older nodeprep, "
                                            "whose journals this version does not roll back");
                r = check_fields(o, header_fields, ret_why);
                if (r < 0)
                        return r;
                if (num(o, "format") != NP_JOURNAL_FORMAT)
                        return why(ret_why,
                                   "journal format %" PRId64 "; this nodeprep reads format %d",
                                   num(o, "format"), NP_JOURNAL_FORMAT);
                if (!streq(str(o, "id"), c->id))
                        return why(ret_why, "the change id is not the directory's (%s)", c->id);
                if (str(o, "root")[0] != '/')
                        return why(ret_why, "\"root\" is not an absolute path");
                c->phase = PHASE_APPLY;
                return 0;
        }
        if (c->phase == PHASE_END)
                return why(ret_why, "a record after \"rolled-back\"");
        if (streq_ptr(type, "step") && streq_ptr(state, "begin")) {
                if (c->phase != PHASE_APPLY)
                        return why(ret_why, "a step after the apply ended");
                return check_begin(c, o, ret_why);
        }
        if (streq_ptr(type, "step")) {
                r = check_fields(o, end_fields, ret_why);
                if (r < 0)
                        return r;
                if (c->phase != PHASE_APPLY)
                        return why(ret_why, "a step after the apply ended");
                if (!STR_IN_SET(state, "done", "failed"))
                        return why(ret_why, "\"state\" is not begin, done or failed");
                if (num(o, "n") != c->last_begin || c->last_begin == 0 || c->last_ended)
                        return why(ret_why, "the end of step %" PRId64 ", which did not begin last",
                                   num(o, "n"));
                c->last_ended = true;
                return 0;
        }
        if (streq_ptr(type, "complete")) {
                r = check_fields(o, complete_fields, ret_why);
                if (r >= 0 && c->phase != PHASE_APPLY)
                        r = why(ret_why, "\"complete\" after the apply ended");
                c->phase = PHASE_ROLLBACK;
                return r;
        }
        if (streq_ptr(type, "undo-temp")) {
                json_object *b;

                r = check_fields(o, undo_temp_fields, ret_why);
                if (r < 0)
                        return r;
                b = num(o, "n") >= 1 && (size_t)num(o, "n") <= c->n_begins
                        ? c->begins[num(o, "n") - 1]
                        : NULL;
                if (!b || !streq(str(b, "kind"), "edit-file") ||
                    !np_temp_name_matches(str(b, "path"), str(o, "temp")))
                        return why(ret_why, "not a temporary name of a file step");
                c->phase = PHASE_ROLLBACK;
                return 0;
        }
        if (streq_ptr(type, "rolled-back")) {
                r = check_fields(o, rolled_back_fields, ret_why);
                c->phase = PHASE_END;
                return r;
        }
        return why(ret_why, "\"type\" is not a record nodeprep writes");
}

int np_journal_check_line(NpJournalCheck *c, const char *line, json_object *o, char **ret_why)
{
        *ret_why = NULL;
        if (!o) {
                /* Only a kill leaves a line that does not parse; after it, only rollback writes. */
                if (c->phase == PHASE_HEADER || c->phase == PHASE_END || !torn_ok(line))
                        return why(ret_why, "not a record nodeprep writes");
                c->phase = PHASE_ROLLBACK;
                return 0;
        }
        if (!json_object_is_type(o, json_type_object))
                return why(ret_why, "not a record nodeprep writes");
        return check_record(c, o, ret_why);
}

void np_journal_check_done(NpJournalCheck *c)
{
        free(c->begins);
        c->begins = NULL;
        c->n_begins = 0;
}
