/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * mount.propagation:PATH: the mount that holds PATH in PID 1's mount table propagates as
 * Expect= says (shared by default: what a CSI node plugin's Bidirectional mounts under
 * /var/lib/kubelet need). Judged as the container runtimes judge it (containerd's and CRI-O's
 * ensureShared() and ensureSharedOrSlave()): "shared" is a "shared:" optional field, "slave"
 * (what HostToContainer needs) is "shared:" or "master:", "private" is neither.
 */

#include <stdlib.h>
#include <string.h>

#include "check/check.h"
#include "util/strv.h"

typedef struct MountParams {
        char *expect; /* Expect=: shared, slave or private; NULL: shared */
} MountParams;

static const NpParam mount_params[] = {
        NP_PARAM("Expect", NP_PARAM_STRING, MountParams, expect, NP_PARAM_CONFLICT_DIFFERENT,
                 "shared, slave or private"),
};

static const char *expected_of(const NpCheckDef *def)
{
        const MountParams *p = def->params;

        return p->expect ? p->expect : "shared";
}

static int verify_instance(const char *path, char **ret_error)
{
        if (path[0] != '/' || strstr(path, "/../") || endswith(path, "/..")) {
                *ret_error = strprintf("\"%s\" is not a clean absolute path", path);
                return -EINVAL;
        }
        return 0;
}

static int verify_mount(const NpCheckDef *def, char **ret_error)
{
        const char *e = expected_of(def);

        if (streq(e, "shared") || streq(e, "slave") || streq(e, "private"))
                return 0;
        *ret_error = strprintf("Expect=%s: expected shared, slave or private", e);
        return -EINVAL;
}

static int request_mount(const NpCheckDef *def, _unused_ const NpSettings *s, NpProbeRequest *req)
{
        return strv_extend_unique(&req->mount_paths, def->instance);
}

static const NpMountFacts *facts_mount(const NpFacts *f, const char *path)
{
        FOREACH_ARRAY (m, f->mounts, f->n_mounts)
                if (streq(m->path, path))
                        return m;
        return NULL;
}

static bool propagation_meets(const NpMountFacts *m, const char *expect)
{
        if (streq(expect, "shared"))
                return m->peer_group > 0;
        if (streq(expect, "slave"))
                return m->peer_group > 0 || m->master > 0;
        return m->peer_group == 0 && m->master == 0;
}

static int remedy(NpResult *r, const NpMountFacts *m, const char *expect)
{
        const char *flag = streq(expect, "shared")  ? "rshared"
                           : streq(expect, "slave") ? "rslave"
                                                    : "rprivate";

        return np_result_remedy(
            r,
            "mount --make-%s %s (now; mount_namespaces(7)). To keep it across reboots:%s for a "
            "file system of its own add \"%s\" to its options in /etc/fstab (mount(8), "
            "util-linux 2.23 and later); else a oneshot unit ordered before kubelet.service that "
            "runs mount --make-%s %s",
            flag, m->mount_point,
            streq(expect, "shared") ? " systemd makes / shared at every boot outside a container "
                                      "(src/shared/mount-setup.c): find what makes it private (a "
                                      "unit or script running mount --make-private or "
                                      "--make-rprivate, a container manager);"
                                    : "",
            flag, flag, m->mount_point);
}

static int run_mount(const NpCheckContext *ctx, const NpCheckDef *def, NpResult *r)
{
        const NpMountFacts *m = facts_mount(ctx->facts, def->instance);
        const char *expect = expected_of(def);
        _cleanup_free_ char *observed = NULL, *where = NULL;
        int k;

        if (!m)
                return np_result_set(r, NP_STATUS_UNKNOWN, NULL, expect, "%s was not probed",
                                     def->instance);
        if (m->unknown)
                return np_result_set(r, NP_STATUS_UNKNOWN, NULL, expect, "%s", m->unknown);
        where = m->exists
                    ? strdup("")
                    : strprintf("; %s does not exist yet, %s looked at", m->path, m->probed_path);
        if (!where)
                return -ENOMEM;
        observed =
            strprintf("%s (mount %d on %s%s)", m->propagation, m->mount_id, m->mount_point, where);
        if (!observed)
                return -ENOMEM;
        if (propagation_meets(m, expect))
                return np_result_set(r, NP_STATUS_PASS, observed, expect, NULL);
        k = np_result_set(r, NP_STATUS_FAIL, observed, expect,
                          "%s is on the mount %s, which is %s, not %s%s", m->path, m->mount_point,
                          m->propagation, expect,
                          streq(expect, "shared") ? ": Bidirectional mount propagation (CSI node "
                                                    "plugins) fails there"
                                                  : "");
        return k < 0 ? k : remedy(r, m, expect);
}

const NpCheckType np_check_mount_propagation = {
        .name = "mount.propagation",
        .instance = true,
        .what = "an absolute path",
        NP_CHECK_PARAMS(mount_params, MountParams),
        .default_title = "Mount propagation",
        .verify_instance = verify_instance,
        .verify = verify_mount,
        .request = request_mount,
        .run = run_mount,
};
