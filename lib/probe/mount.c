/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Mount propagation (the "mounts" fact area, whole: probe, destructors, JSON, text and row): the
 * mount that holds a path in PID 1's mount table and whether it is shared, slave or private.
 *
 * A CSI node plugin's Bidirectional mounts (mountPropagation: Bidirectional under
 * /var/lib/kubelet) need that mount to be shared: the container runtimes refuse the container
 * otherwise ("path ... is mounted on ... but it is not a shared mount": containerd's and CRI-O's
 * ensureShared(), which look for a "shared:" optional field of the mount holding the path;
 * HostToContainer takes "shared:" or "master:", ensureSharedOrSlave()).
 *
 * PID 1's table, not ours: nodeprepd runs in a mount namespace of its own (PrivateMounts=,
 * ProtectSystem=), whose copies of the host's mounts systemd makes slave and then shared, so
 * that /proc/self/mountinfo says nothing reliable of the host's propagation. Under --root,
 * ROOT/proc/1/mountinfo (a copy); the path is resolved inside the root.
 */

#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "probe/area.h"
#include "probe/probe.h"
#include "util/json-util.h"
#include "util/strv.h"

#define MOUNT_TABLE "/proc/1/mountinfo"

/* Is path the directory dir or below it (whole components)? */
static bool path_under(const char *path, const char *dir)
{
        const char *rest = startswith(path, dir);

        if (streq(dir, "/"))
                return path[0] == '/';
        return rest && (*rest == '\0' || *rest == '/');
}

/* The path fd was opened as, as on the described host (the root's prefix taken off). */
static int fd_host_path(const NpRoot *root, int fd, char **ret)
{
        char proc[64], buf[PATH_MAX];
        const char *rest;
        ssize_t n;

        snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
        n = readlink(proc, buf, sizeof(buf) - 1);
        if (n < 0)
                return -errno;
        buf[n] = '\0';
        rest = root->host ? buf : startswith(buf, root->path);
        if (!rest || (*rest != '\0' && *rest != '/'))
                return -EXDEV;
        *ret = strdup(*rest ? rest : "/");
        return *ret ? 0 : -ENOMEM;
}

/*
 * m->path, its symlinks resolved inside the root, or its nearest existing ancestor when it does
 * not exist yet (kubelet creates /var/lib/kubelet on its first start): 1, or 0 with m->unknown.
 */
static int resolve_path(const NpRoot *root, NpMountFacts *m)
{
        _cleanup_free_ char *found = NULL;
        _cleanup_close_ int fd = -EBADF;
        int r;

        r = np_probe_open_nearest(root, m->path, &fd, &found, &m->unknown);
        if (r <= 0)
                return r;
        m->exists = streq(found, m->path);
        r = fd_host_path(root, fd, &m->probed_path);
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                m->unknown =
                    strprintf("%s: cannot tell where it resolves to: %s", found, strerror(-r));
                return m->unknown ? 0 : -ENOMEM;
        }
        return 1;
}

/*
 * One mountinfo line (proc(5)): "36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root
 * rw": its id, its mount point (unescaped) and its optional fields (from the 7th to "-", in any
 * order, any number). -EBADMSG when it is not such a line.
 */
typedef struct MountLine {
        int id;
        char *mount_point;
        char **optional;
} MountLine;

static void mount_line_done(MountLine *l)
{
        free(l->mount_point);
        strv_free(l->optional);
        *l = (MountLine){};
}

static int mount_line_parse(const char *line, MountLine *ret)
{
        _cleanup_strv_free_ char **w = NULL;
        MountLine l = {};
        uint64_t id;
        size_t sep;
        int r;

        r = strv_split(line, " ", &w);
        if (r < 0)
                return r;
        for (sep = 6; sep < strv_length(w) && !streq(w[sep], "-"); sep++)
                ;
        if (strv_length(w) < 7 || sep + 2 >= strv_length(w) || np_parse_u64(w[0], &id) < 0 ||
            id > INT_MAX || w[4][0] != '/')
                return -EBADMSG;
        l.id = (int)id;
        l.mount_point = strdup(w[4]);
        if (!l.mount_point || !str_unescape_octal(l.mount_point))
                return -ENOMEM;
        for (size_t i = 6; i < sep; i++)
                if (strv_extend(&l.optional, w[i]) < 0) {
                        mount_line_done(&l);
                        return -ENOMEM;
                }
        *ret = l;
        return 0;
}

/* Propagation from the optional fields (mount_namespaces(7), "/proc/PID/mountinfo"). */
static int set_propagation(NpMountFacts *m, char **optional)
{
        bool unbindable = false;
        const char *p;
        uint64_t n;

        STRV_FOREACH (o, optional) {
                if ((p = startswith(*o, "shared:")))
                        m->peer_group = np_parse_u64(p, &n) >= 0 && n <= UINT_MAX ? (unsigned)n : 0;
                else if ((p = startswith(*o, "master:")))
                        m->master = np_parse_u64(p, &n) >= 0 && n <= UINT_MAX ? (unsigned)n : 0;
                else if (streq(*o, "unbindable"))
                        unbindable = true;
                /* propagate_from:N names where a slave's events come from: still a slave */
        }
        if (m->peer_group && m->master)
                p = "shared,slave";
        else if (m->peer_group)
                p = "shared";
        else if (m->master)
                p = "slave";
        else
                p = unbindable ? "unbindable" : "private";
        return free_and_strdup(&m->propagation, p);
}

/*
 * The mount holding m->probed_path: the longest mount point above it; of several mounts on one
 * point the last listed, the one on top (util-linux's mnt_table_find_mountpoint() searches the
 * table backwards, as findmnt --target does).
 */
static int find_holder(char **lines, const char *table, NpMountFacts *m)
{
        size_t best_len = 0, n = 0;
        const char *best = NULL;
        _cleanup_(mount_line_done) MountLine hold = {};

        STRV_FOREACH (l, lines) {
                MountLine ml = {};
                int r;

                n++;
                if (isempty(*l))
                        continue;
                r = mount_line_parse(*l, &ml);
                if (r == -ENOMEM)
                        return r;
                if (r < 0) {
                        m->unknown = strprintf("%s:%zu: not a mountinfo line", table, n);
                        return m->unknown ? 0 : -ENOMEM;
                }
                if (path_under(m->probed_path, ml.mount_point) &&
                    strlen(ml.mount_point) >= best_len) {
                        best_len = strlen(ml.mount_point);
                        best = *l;
                        mount_line_done(&hold);
                        hold = ml;
                } else
                        mount_line_done(&ml);
        }
        if (!best) {
                m->unknown = strprintf("%s: no mount holds %s", table, m->probed_path);
                return m->unknown ? 0 : -ENOMEM;
        }
        m->mount_id = hold.id;
        m->mount_point = TAKE_PTR(hold.mount_point);
        m->line = strdup(best);
        return m->line ? set_propagation(m, hold.optional) : -ENOMEM;
}

static int probe_mounts(const NpRoot *root, const NpProbeRequest *req, NpFacts *f)
{
        _cleanup_free_ char *data = NULL, *table = NULL, *table_unknown = NULL;
        _cleanup_strv_free_ char **lines = NULL;
        int r;

        if (strv_length(req->mount_paths) == 0)
                return 0;
        table = np_root_prefix(root, MOUNT_TABLE);
        if (!table)
                return -ENOMEM;
        r = np_root_read_file(root, MOUNT_TABLE, NP_READ_MAX_DEFAULT, &data, NULL);
        if (r == -ENOMEM)
                return r;
        if (r < 0 && !(table_unknown = np_root_read_error(root, MOUNT_TABLE, r)))
                return -ENOMEM;
        if (r >= 0 && strv_split(data, "\n", &lines) < 0)
                return -ENOMEM;
        STRV_FOREACH (p, req->mount_paths) {
                NpMountFacts *m = reallocarray(f->mounts, f->n_mounts + 1, sizeof(*m));

                if (!m)
                        return -ENOMEM;
                f->mounts = m;
                m = &f->mounts[f->n_mounts++];
                *m = (NpMountFacts){};
                if (!(m->path = strdup(*p)) || !(m->table = strdup(table)))
                        return -ENOMEM;
                if (table_unknown) {
                        m->unknown = strdup(table_unknown);
                        if (!m->unknown)
                                return -ENOMEM;
                        continue;
                }
                r = resolve_path(root, m);
                if (r > 0)
                        r = find_holder(lines, table, m);
                if (r < 0)
                        return r;
        }
        return 0;
}

static void mounts_done(NpFacts *f)
{
        FOREACH_ARRAY (m, f->mounts, f->n_mounts) {
                free(m->path);
                free(m->probed_path);
                free(m->mount_point);
                free(m->propagation);
                free(m->line);
                free(m->table);
                free(m->unknown);
        }
        free(f->mounts);
}

static void mounts_request_done(NpProbeRequest *req)
{
        strv_free(req->mount_paths);
}

static int mounts_to_json(const NpFacts *f, json_object *o)
{
        _cleanup_(json_object_putp) json_object *a = json_object_new_array();

        if (!a)
                return -ENOMEM;
        FOREACH_ARRAY (m, f->mounts, f->n_mounts) {
                _cleanup_(json_object_putp) json_object *e = json_object_new_object();
                bool known = !m->unknown;

                if (!e ||
                    ADD_ALL(json_add_str(e, "path", m->path),
                            json_add_str(e, "probed_path", m->probed_path),
                            json_add_bool(e, "exists", m->exists),
                            json_add_str(e, "mount_point", m->mount_point),
                            known ? json_add_int(e, "mount_id", m->mount_id)
                                  : json_add_null(e, "mount_id"),
                            json_add_str(e, "propagation", m->propagation),
                            m->peer_group ? json_add_u64(e, "peer_group", m->peer_group)
                                          : json_add_null(e, "peer_group"),
                            m->master ? json_add_u64(e, "master", m->master)
                                      : json_add_null(e, "master"),
                            json_add_str(e, "mountinfo", m->line),
                            json_add_str(e, "table", m->table),
                            json_add_str(e, "unknown", m->unknown)) < 0 ||
                    json_array_push(a, TAKE_PTR(e)) < 0)
                        return -ENOMEM;
        }
        return json_add(o, "mount_propagation", TAKE_PTR(a));
}

static void mounts_to_text(const NpFacts *facts, FILE *f)
{
        if (facts->n_mounts > 0)
                fprintf(f, "\nMount propagation\n");
        FOREACH_ARRAY (m, facts->mounts, facts->n_mounts) {
                if (m->unknown)
                        fprintf(f, "  %-22s unknown: %s\n", m->path, m->unknown);
                else
                        fprintf(f, "  %-22s %s on %s (mount %d%s%s)\n", m->path, m->propagation,
                                m->mount_point, m->mount_id,
                                m->exists ? "" : "; does not exist yet, looked at ",
                                m->exists ? "" : m->probed_path);
        }
}

const NpFactArea np_area_mounts = {
        .name = "mounts",
        .area = NP_AREA_MOUNTS,
        .probe = probe_mounts,
        NP_FACTS_SPAN(mounts, n_mounts),
        .done = mounts_done,
        .to_json = mounts_to_json,
        .to_text = mounts_to_text,
        .request_done = mounts_request_done,
        /* A mount or unmount above the path: nodeprepd polls its own namespace's table, which
         * host mounts reach by propagation. A change of propagation alone wakes no poller
         * there (mount(2)'s MS_SHARED/MS_PRIVATE, do_change_type(), bumps no namespace's event
         * count; mount_setattr(), util-linux 2.39 and later, only the host's own): it is seen
         * at the safety re-scan. */
        .events = NP_AREA_EVENT_MOUNT_TABLE,
        .unwatched =
            (const NpUnwatchedInput[]){
                { "/proc/1/mountinfo", NP_AREA_EVENT_MOUNT_TABLE,
                  "/proc/self/mountinfo (EPOLLPRI): mounts and unmounts; a change of propagation "
                  "alone at the safety re-scan" },
                {} },
};
