/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* iSCSI initiator: installed pieces, iscsid.conf as iscsid reads it, and the node database. */

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "probe/iscsid-conf.h"
#include "probe/probe.h"
#include "probe/unit-exec.h"
#include "util/strv.h"

#define ISCSID_CONF    "/etc/iscsi/iscsid.conf"
#define INITIATOR_NAME "/etc/iscsi/initiatorname.iscsi"

static const char *const iscsiadm_paths[] = {
        "/usr/sbin/iscsiadm",
        "/sbin/iscsiadm",
        "/usr/bin/iscsiadm",
        "/bin/iscsiadm",
};

static const char *const iscsid_units[] = { "iscsid.service", "iscsid.socket" };

/* open-iscsi's node database: /etc/iscsi up to 2.1.8 (Debian 12), /var/lib/iscsi from 2.1.9
 * (RHEL 9, SUSE, newer Debian). Whichever exist are read. */
static const char *const node_dirs[] = { "/etc/iscsi/nodes", "/var/lib/iscsi/nodes" };

static int probe_installed(const NpRoot *root, NpIscsiFacts *i)
{
        struct stat seen[ELEMENTSOF(np_unit_dirs) * ELEMENTSOF(iscsid_units)];
        size_t n_seen = 0;
        int r;

        for (size_t k = 0; k < ELEMENTSOF(iscsiadm_paths); k++) {
                struct stat st;

                r = np_root_stat(root, iscsiadm_paths[k], &st);
                if (r >= 0 && S_ISREG(st.st_mode) && (st.st_mode & 0111)) {
                        i->iscsiadm_path = strdup(iscsiadm_paths[k]);
                        if (!i->iscsiadm_path)
                                return -ENOMEM;
                        break;
                }
        }
        i->unit_files = calloc(1, sizeof(char *));
        if (!i->unit_files)
                return -ENOMEM;
        for (size_t d = 0; d < ELEMENTSOF(np_unit_dirs); d++)
                for (size_t u = 0; u < ELEMENTSOF(iscsid_units); u++) {
                        _cleanup_free_ char *path =
                            strprintf("%s/%s", np_unit_dirs[d], iscsid_units[u]);

                        struct stat st;
                        bool dup = false;

                        if (!path)
                                return -ENOMEM;
                        if (np_root_stat(root, path, &st) < 0)
                                continue;
                        /* Merged /usr: /lib/systemd/system is /usr/lib/systemd/system. One file
                         * is listed once, as systemd's lookup paths see it once. */
                        for (size_t k = 0; k < n_seen && !dup; k++)
                                dup = seen[k].st_dev == st.st_dev && seen[k].st_ino == st.st_ino;
                        if (dup)
                                continue;
                        seen[n_seen++] = st;
                        if (strv_consume(&i->unit_files, TAKE_PTR(path)) < 0)
                                return -ENOMEM;
                }
        return 0;
}

static int probe_conf(const NpRoot *root, NpIscsiFacts *i)
{
        _cleanup_free_ char *data = NULL;
        size_t size;
        int r;

        i->conf_path = strdup(ISCSID_CONF);
        if (!i->conf_path)
                return -ENOMEM;
        r = np_root_read_file(root, ISCSID_CONF, NP_READ_MAX_DEFAULT, &data, &size);
        if (r == -ENOMEM)
                return r;
        if (r == -ENOENT)
                return 0;
        if (r < 0) {
                i->conf_unknown = np_probe_reason(root, ISCSID_CONF, r);
                return i->conf_unknown ? 0 : -ENOMEM;
        }
        i->conf_present = true;
        r = np_iscsi_record_parse(data, size, &i->conf);
        if (r < 0)
                return r;
        if (i->conf.undefined) {
                i->conf_unknown = strprintf(ISCSID_CONF " %s: what iscsid and iscsiadm then do "
                                                        "is undefined (they may abort)",
                                            i->conf.undefined);
                return i->conf_unknown ? 0 : -ENOMEM;
        }
        return 0;
}

static int probe_initiator_name(const NpRoot *root, NpIscsiFacts *i)
{
        _cleanup_free_ char *data = NULL;
        _cleanup_strv_free_ char **lines = NULL;
        int r;

        r = np_root_read_file(root, INITIATOR_NAME, 64 * 1024, &data, NULL);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return 0; /* informational only */
        r = strv_split(data, "\n", &lines);
        if (r < 0)
                return r;
        STRV_FOREACH (l, lines) {
                const char *v = startswith(strstrip(*l), "InitiatorName=");

                if (v)
                        return free_and_strdup(&i->initiator_name, strstrip((char *)v));
        }
        return 0;
}

static int add_node(const NpRoot *root, NpIscsiFacts *i, const char *target, const char *portal,
                    const char *path)
{
        _cleanup_free_ char *data = NULL;
        NpIscsiNode *a, *node;
        size_t size;
        int r;

        a = reallocarray(i->nodes, i->n_nodes + 1, sizeof(NpIscsiNode));
        if (!a)
                return -ENOMEM;
        i->nodes = a;
        node = &a[i->n_nodes++];
        *node = (NpIscsiNode){ .path = strdup(path),
                               .target = strdup(target),
                               .portal = strdup(portal) };
        if (!node->path || !node->target || !node->portal)
                return -ENOMEM;
        r = np_root_read_file(root, path, NP_READ_MAX_DEFAULT, &data, &size);
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                node->unknown = np_probe_reason(root, path, r);
                return node->unknown ? 0 : -ENOMEM;
        }
        r = np_iscsi_record_parse(data, size, &node->record);
        if (r < 0)
                return r;
        if (node->record.undefined) {
                node->unknown = strprintf("%s %s", path, node->record.undefined);
                return node->unknown ? 0 : -ENOMEM;
        }
        return 0;
}

/* nodes/<target>/<address,port,tpgt>/<iface> files, or the legacy nodes/<target>/<address,port>
 * file; iscsiadm reads every entry of a portal directory as a record, whatever its name. */
static int probe_nodes_dir(const NpRoot *root, NpIscsiFacts *i, const char *dir)
{
        _cleanup_strv_free_ char **targets = NULL;
        int r;

        r = np_root_list_dir(root, dir, &targets);
        if (r == -ENOENT || r == -ENOTDIR)
                return 0;
        if (r < 0) {
                i->nodes_unknown = np_probe_reason(root, dir, r);
                return i->nodes_unknown ? 0 : -ENOMEM;
        }
        r = strv_extend(&i->nodes_dirs, dir);
        if (r < 0)
                return r;
        STRV_FOREACH (t, targets) {
                _cleanup_free_ char *tdir = strprintf("%s/%s", dir, *t);
                _cleanup_strv_free_ char **portals = NULL;

                if (!tdir)
                        return -ENOMEM;
                r = np_root_list_dir(root, tdir, &portals);
                if (r == -ENOTDIR)
                        continue; /* a stray file next to target directories */
                if (r < 0) {
                        i->nodes_unknown = np_probe_reason(root, tdir, r);
                        return i->nodes_unknown ? 0 : -ENOMEM;
                }
                STRV_FOREACH (p, portals) {
                        _cleanup_free_ char *pdir = strprintf("%s/%s", tdir, *p);
                        _cleanup_strv_free_ char **ifaces = NULL;

                        if (!pdir)
                                return -ENOMEM;
                        r = np_root_list_dir(root, pdir, &ifaces);
                        if (r == -ENOTDIR) {
                                r = add_node(root, i, *t, *p, pdir); /* legacy layout */
                                if (r < 0)
                                        return r;
                                continue;
                        }
                        if (r < 0) {
                                i->nodes_unknown = np_probe_reason(root, pdir, r);
                                return i->nodes_unknown ? 0 : -ENOMEM;
                        }
                        STRV_FOREACH (f, ifaces) {
                                _cleanup_free_ char *fpath = strprintf("%s/%s", pdir, *f);

                                if (!fpath)
                                        return -ENOMEM;
                                r = add_node(root, i, *t, *p, fpath);
                                if (r < 0)
                                        return r;
                        }
                }
        }
        return 0;
}

/* data split at '\n', empty lines kept, so that index + 1 is the line number (strv_split()
 * drops empty fields). */
static int split_lines(char *data, char ***ret)
{
        _cleanup_strv_free_ char **lines = calloc(1, sizeof(char *));

        if (!lines)
                return -ENOMEM;
        for (char *l = data, *nl; l; l = nl ? nl + 1 : NULL) {
                nl = strchr(l, '\n');
                if (nl)
                        *nl = '\0';
                if ((nl || *l) && strv_extend(&lines, l) < 0)
                        return -ENOMEM;
        }
        *ret = TAKE_PTR(lines);
        return 0;
}

/* The lines of a file inside the root: 1; 0 when it does not exist; 0 with i->start_unknown
 * set (the first such reason) when it exists but cannot be read. */
static int read_lines(const NpRoot *root, NpIscsiFacts *i, const char *path, char ***ret)
{
        _cleanup_free_ char *data = NULL;
        int r = np_root_read_file(root, path, NP_READ_MAX_DEFAULT, &data, NULL);

        if (r == -ENOMEM)
                return r;
        if (r == -ENOENT || r == -ENOTDIR)
                return 0;
        if (r < 0) {
                if (!i->start_unknown && !(i->start_unknown = np_probe_reason(root, path, r)))
                        return -ENOMEM;
                return 0;
        }
        return split_lines(data, ret) < 0 ? -ENOMEM : 1;
}

/* Debian's and Ubuntu's start check (open-iscsi debian/extra/startup-checks.sh), recognised by
 * its path: bookworm ships it in /lib/open-iscsi, trixie in /usr/lib/open-iscsi. */
static const char *const startup_checks[] = {
        "/lib/open-iscsi/startup-checks.sh",
        "/usr/lib/open-iscsi/startup-checks.sh",
};

/* The line (1-based) of lines[] where "if [ ! -OP FILE ]" (FILE as "$VAR" with VAR=FILE set
 * before, or FILE itself; quoted or not) is followed by "exit 1" before "fi"; 0 when not there. */
static unsigned exit1_unless(char **lines, char op, const char *var, const char *file)
{
        bool assigned = false;
        unsigned at = 0;

        for (size_t n = 0; lines[n]; n++) {
                _cleanup_free_ char *assign = strprintf("%s=%s", var, file);
                const char *l = strstrip(lines[n]), *w;
                char test[] = "if [ ! -X ";

                if (!assign)
                        return 0;
                if (streq(l, assign))
                        assigned = true;
                test[8] = op;
                if (!at && (w = startswith(l, test))) {
                        size_t len = strcspn(w, " ");
                        bool quoted = len >= 2 && w[0] == '"' && w[len - 1] == '"';
                        const char *o = quoted ? w + 1 : w;
                        size_t olen = quoted ? len - 2 : len;

                        if (streq(w + len, " ]; then") &&
                            ((assigned && olen == strlen(var) + 1 && o[0] == '$' &&
                              strneq(o + 1, var, olen - 1)) ||
                             (olen == strlen(file) && strneq(o, file, olen))))
                                at = (unsigned)n + 1;
                        continue;
                }
                if (at && streq(l, "fi"))
                        at = 0;
                else if (at && streq(l, "exit 1"))
                        return at;
        }
        return 0;
}

/* The first line of lines[] that contains text, 0 when none. */
static unsigned line_with(char **lines, const char *text)
{
        for (size_t n = 0; lines[n]; n++)
                if (strstr(lines[n], text))
                        return (unsigned)n + 1;
        return 0;
}

/*
 * Debian's startup-checks.sh (read, never run), its tests in order, evaluated against the root:
 *   13: [ ! -e "$CONFIGFILE" ] -> exit 1: iscsid does not start without iscsid.conf
 *       (i->start_requires_conf; the check uses it only where the file is missing);
 *   21: [ ! -f $NAMEFILE ] -> exit 1: initiatorname.iscsi must be a regular file (i->start_fails);
 *   30: GenerateName=yes in it runs /usr/sbin/iscsi-iname (not run: i->start_unknown);
 *   53: no line "InitiatorName=X" (grep "^InitiatorName=[^ \t\n]", where the bracket excludes
 *       ' ', '\', 't' and 'n') -> exit 1 (i->start_fails).
 * A script at that path without these tests is not the one modelled: i->start_unknown.
 */
static int debian_start_check(const NpRoot *root, NpIscsiFacts *i, const NpExecCommand *c)
{
        _cleanup_strv_free_ char **lines = NULL, **names = NULL;
        _cleanup_free_ char *data = NULL;
        unsigned conf_at, name_at, gen_at, valid_at;
        struct stat st;
        bool valid = false;
        int r;

        r = read_lines(root, i, c->path, &lines);
        if (r < 0 || i->start_unknown)
                return r;
        conf_at = r > 0 ? exit1_unless(lines, 'e', "CONFIGFILE", ISCSID_CONF) : 0;
        name_at = r > 0 ? exit1_unless(lines, 'f', "NAMEFILE", INITIATOR_NAME) : 0;
        gen_at = r > 0 ? line_with(lines, "^GenerateName=yes") : 0;
        valid_at = r > 0 ? line_with(lines, "^InitiatorName=[^ \\t\\n]") : 0;
        if (!conf_at || !name_at || !gen_at || !valid_at)
                return (i->start_unknown = strprintf(
                            "%s:%u: ExecStartPre=%s: not the startup-checks.sh nodeprep models "
                            "(its tests of " ISCSID_CONF " and " INITIATOR_NAME " not found)",
                            c->file, c->line, c->path))
                           ? 0
                           : -ENOMEM;
        if (!i->start_requires_conf &&
            !(i->start_requires_conf = strprintf("%s:%u: ExecStartPre=%s exits 1 when " ISCSID_CONF
                                                 " does not exist (%s:%u), so iscsid.service does "
                                                 "not start",
                                                 c->file, c->line, c->path, c->path, conf_at)))
                return -ENOMEM;
        r = np_root_stat(root, INITIATOR_NAME, &st);
        if (r == -ENOMEM)
                return r;
        if (r < 0 && r != -ENOENT && r != -ENOTDIR)
                return (i->start_unknown = np_probe_reason(root, INITIATOR_NAME, r)) ? 0 : -ENOMEM;
        if (r < 0 || !S_ISREG(st.st_mode))
                return (i->start_fails = strprintf(
                            "%s:%u: ExecStartPre=%s exits 1: " INITIATOR_NAME " is %s%s (%s:%u: "
                            "[ ! -f ]), so iscsid.service does not start",
                            c->file, c->line, c->path, r < 0 ? "missing" : "not a regular file: ",
                            r < 0 ? "" : np_file_type_name(st.st_mode), c->path, name_at))
                           ? 0
                           : -ENOMEM;
        r = np_root_read_file(root, INITIATOR_NAME, 64 * 1024, &data, NULL);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return (i->start_unknown = np_probe_reason(root, INITIATOR_NAME, r)) ? 0 : -ENOMEM;
        if (split_lines(data, &names) < 0)
                return -ENOMEM;
        STRV_FOREACH (l, names) {
                const char *v = startswith(*l, "InitiatorName=");

                if (startswith(*l, "GenerateName=yes"))
                        return (i->start_unknown = strprintf(
                                    INITIATOR_NAME
                                    " has GenerateName=yes: %s:%u runs "
                                    "iscsi-iname to write a new name, which nodeprep does not run",
                                    c->path, gen_at))
                                   ? 0
                                   : -ENOMEM;
                if (v && *v && !strchr(" \\tn", *v))
                        valid = true;
        }
        if (!valid)
                return (i->start_fails = strprintf(
                            "%s:%u: ExecStartPre=%s exits 1: " INITIATOR_NAME " has no valid "
                            "InitiatorName= line (%s:%u), so iscsid.service does not start",
                            c->file, c->line, c->path, c->path, valid_at))
                           ? 0
                           : -ENOMEM;
        return 0;
}

/*
 * Will iscsid.service start, and without iscsid.conf? Its ExecStartPre= commands as systemd
 * takes them from the unit file and its drop-ins (probe/unit-exec.c): one systemd cannot run
 * (no '-') fails every start (i->start_fails); Debian's startup-checks.sh, recognised by its
 * path, is evaluated against the root (debian_start_check()); any other command without '-' is
 * a program nodeprep does not run: whether iscsid starts is unknown (i->start_unknown), never
 * guessed. A file that exists and cannot be read leaves i->start_unknown as well. A command with
 * '-' cannot stop the start (systemd ignores its failure).
 */
static int probe_start(const NpRoot *root, NpIscsiFacts *i)
{
        _cleanup_(np_exec_start_pre_done) NpExecStartPre e = {};
        int r;

        r = np_unit_exec_start_pre(root, "iscsid.service", &e);
        if (r < 0)
                return r;
        if (e.unknown) {
                i->start_unknown = TAKE_PTR(e.unknown);
                return 0;
        }
        if (e.fails) {
                i->start_fails = TAKE_PTR(e.fails);
                return 0;
        }
        FOREACH_ARRAY (c, e.commands, e.n_commands) {
                bool debian = false;

                if (c->ignore)
                        continue; /* a failure the unit ignores does not stop it */
                for (size_t k = 0; k < ELEMENTSOF(startup_checks); k++)
                        debian = debian || streq(c->path, startup_checks[k]);
                if (debian)
                        r = debian_start_check(root, i, c);
                else
                        r = (i->start_unknown = strprintf(
                                 "%s:%u: ExecStartPre=%s: a program nodeprep does not run or "
                                 "model; its exit status decides whether iscsid.service starts",
                                 c->file, c->line, c->path))
                                ? 0
                                : -ENOMEM;
                if (r < 0 || i->start_unknown || i->start_fails)
                        return r;
        }
        return 0;
}

int np_probe_iscsi(const NpRoot *root, bool nodes, NpFacts *f)
{
        NpIscsiFacts *i = &f->iscsi;
        int r;

        r = probe_installed(root, i);
        if (r < 0)
                return r;
        r = probe_conf(root, i);
        if (r < 0)
                return r;
        r = probe_start(root, i);
        if (r < 0)
                return r;
        r = probe_initiator_name(root, i);
        if (r < 0)
                return r;
        if (!nodes)
                return 0;
        for (size_t d = 0; d < ELEMENTSOF(node_dirs) && !i->nodes_unknown; d++) {
                r = probe_nodes_dir(root, i, node_dirs[d]);
                if (r < 0)
                        return r;
        }
        return 0;
}
