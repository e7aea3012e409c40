/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* iSCSI initiator: installed pieces, iscsid.conf as iscsid reads it, and the node database. */

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "probe/iscsid-conf.h"
#include "probe/probe.h"
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

/*
 * Does the script (inside the root, read, never run) end with "exit 1" when iscsid.conf does
 * not exist? Debian's and Ubuntu's open-iscsi (2.1.8-1 in bookworm:
 * /lib/open-iscsi/startup-checks.sh) has
 *     CONFIGFILE=/etc/iscsi/iscsid.conf
 *     if [ ! -e "$CONFIGFILE" ]; then ... exit 1
 * Matched as written there ($CONFIGFILE or the path itself, -e or -f, quoted or not).
 * *ret_line: the line of the test.
 */
static int script_requires_conf(const NpRoot *root, NpIscsiFacts *i, const char *script,
                                unsigned *ret_line)
{
        static const char *const tests[] = {
                "if [ ! -e \"$CONFIGFILE\" ]",     "if [ ! -e $CONFIGFILE ]",
                "if [ ! -f \"$CONFIGFILE\" ]",     "if [ ! -f $CONFIGFILE ]",
                "if [ ! -e \"" ISCSID_CONF "\" ]", "if [ ! -e " ISCSID_CONF " ]",
                "if [ ! -f \"" ISCSID_CONF "\" ]", "if [ ! -f " ISCSID_CONF " ]",
        };
        _cleanup_strv_free_ char **lines = NULL;
        bool var = false;
        unsigned at = 0;
        int r;

        r = read_lines(root, i, script, &lines);
        if (r <= 0)
                return r;
        for (size_t n = 0; lines[n]; n++) {
                const char *l = strstrip(lines[n]);

                if (streq(l, "CONFIGFILE=" ISCSID_CONF))
                        var = true;
                for (size_t t = 0; !at && t < ELEMENTSOF(tests); t++)
                        if (startswith(l, tests[t]) && (var || !strstr(tests[t], "$CONFIGFILE")))
                                at = (unsigned)n + 1;
                if (at && streq(l, "fi"))
                        return 0;
                if (at && streq(l, "exit 1")) {
                        *ret_line = at;
                        return 1;
                }
        }
        return 0;
}

/*
 * Will iscsid.service refuse to start without iscsid.conf? Its unit file's ExecStartPre= (a
 * failing one fails the start unless prefixed with '-'; systemd.service(5)) runs a check that
 * exits 1 when the file is missing. Only the unit file is read, not drop-ins. A unit file or
 * check script that exists and cannot be read leaves i->start_unknown: whether iscsid starts
 * without iscsid.conf is then not known (iscsid's defaults are still its defaults).
 */
static int probe_start_requires_conf(const NpRoot *root, NpIscsiFacts *i)
{
        _cleanup_strv_free_ char **lines = NULL;
        const char *unit = NULL;
        int r;

        STRV_FOREACH (u, i->unit_files)
                if (endswith(*u, "/iscsid.service")) {
                        unit = *u;
                        break;
                }
        if (!unit)
                return 0;
        r = read_lines(root, i, unit, &lines);
        if (r <= 0)
                return r;
        for (size_t n = 0; lines[n]; n++) {
                const char *v = startswith(strstrip(lines[n]), "ExecStartPre=");
                _cleanup_free_ char *script = NULL;
                bool ignore = false;
                unsigned at = 0;

                if (!v)
                        continue;
                for (; *v && strchr("-@:+!", *v); v++)
                        ignore = ignore || *v == '-';
                if (ignore || *v != '/')
                        continue;
                script = strndup(v, strcspn(v, " \t"));
                if (!script)
                        return -ENOMEM;
                r = script_requires_conf(root, i, script, &at);
                if (r < 0)
                        return r;
                if (r > 0) {
                        i->start_requires_conf =
                            strprintf("%s:%zu: ExecStartPre=%s exits 1 when " ISCSID_CONF
                                      " does not exist (%s:%u), so iscsid.service does not start",
                                      unit, n + 1, script, script, at);
                        return i->start_requires_conf ? 0 : -ENOMEM;
                }
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
        r = probe_start_requires_conf(root, i);
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
