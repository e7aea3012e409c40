/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* fs.free:PATH: the file system that holds PATH (or will hold it) has MinFree= available. */

#include <stdlib.h>
#include <string.h>

#include "check/check.h"
#include "util/strv.h"

/* fs.free:/abs/path, or fs.free:NAME with Path= and [Path NAME] in the site file. */
static int verify_path(const char *path, char **ret_error)
{
        if (path[0] == '/') {
                if (strstr(path, "/../") || endswith(path, "/..")) {
                        *ret_error = strprintf("\"%s\" is not a clean absolute path", path);
                        return -EINVAL;
                }
                return 0;
        }
        if (!str_is_name(path, NULL)) {
                *ret_error = strprintf("\"%s\" is neither an absolute path nor a path name", path);
                return -EINVAL;
        }
        return 0;
}

typedef struct FsParams {
        NpParamU64 min_free; /* MinFree= */
        char *path;          /* Path=: the directory when the site file names none */
} FsParams;

static const NpParam fs_params[] = {
        NP_PARAM("MinFree", NP_PARAM_SIZE, FsParams, min_free, NP_PARAM_CONFLICT_DIFFERENT,
                 "a size such as 100GB, 2GiB or 2Gi"),
        NP_PARAM("Path", NP_PARAM_ABS_PATH, FsParams, path, NP_PARAM_CONFLICT_DIFFERENT,
                 "an absolute path"),
};

static int verify_fs(const NpCheckDef *def, char **ret_error)
{
        const FsParams *p = def->params;

        if (!p->min_free.set) {
                *ret_error = strdup("needs MinFree= (e.g. MinFree=100GB)");
                return -EINVAL;
        }
        return 0;
}

static int request_fs(const NpCheckDef *def, const NpSettings *s, NpProbeRequest *req)
{
        const char *path = np_check_path(def, s, NULL);

        return path ? strv_extend_unique(&req->fs_paths, path) : 0;
}

static int run_fs(const NpCheckContext *ctx, const NpCheckDef *def, NpResult *r)
{
        const char *path = np_check_path(def, ctx->settings, NULL);
        const NpFsFacts *fs = path ? np_facts_fs(ctx->facts, path) : NULL;
        const uint64_t min_free = ((const FsParams *)def->params)->min_free.value;
        _cleanup_free_ char *want = np_format_bytes(min_free), *have = NULL, *total = NULL,
                            *expected = NULL, *observed = NULL, *where = NULL;
        int k;

        if (!want)
                return -ENOMEM;
        expected = strprintf(">= %s free", want);
        if (!expected)
                return -ENOMEM;
        if (!path)
                return np_result_set(r, NP_STATUS_SKIP, NULL, expected,
                                     "no path \"%s\" configured ([Path %s] Path=/DIR in "
                                     "nodeprep.conf, or --set Path.%s=/DIR)",
                                     def->instance, def->instance, def->instance);
        if (!fs)
                return np_result_set(r, NP_STATUS_UNKNOWN, NULL, expected, "%s was not probed",
                                     path);
        if (fs->unknown)
                return np_result_set(r, NP_STATUS_UNKNOWN, NULL, expected, "%s", fs->unknown);

        have = np_format_bytes(fs->free_bytes);
        total = np_format_bytes(fs->total_bytes);
        if (!streq(fs->probed_path, fs->path))
                where = strprintf("%s does not exist yet; %s", fs->path, fs->probed_path);
        else
                where = strdup(fs->path);
        if (!have || !total || !where)
                return -ENOMEM;
        observed = strprintf("%s free of %s on %s (%s%s%s)", have, total,
                             fs->mount_point ? fs->mount_point : "?", where,
                             fs->fs_type ? ", " : "", strempty(fs->fs_type));
        if (!observed)
                return -ENOMEM;
        if (fs->free_bytes >= min_free)
                return np_result_set(r, NP_STATUS_PASS, observed, expected, NULL);
        k = np_result_set(r, NP_STATUS_FAIL, observed, expected,
                          "the file system holding %s has %s available, %s is needed", path, have,
                          want);
        if (k < 0)
                return k;
        return np_result_remedy(r,
                                "free space on %s, or mount a file system of at least %s at "
                                "%s",
                                fs->mount_point ? fs->mount_point : fs->probed_path, want, path);
}

const NpCheckType np_check_fs_free = {
        .name = "fs.free",
        .instance = true,
        .what = "an absolute path or a path name",
        NP_CHECK_PARAMS(fs_params, FsParams),
        .default_title = "Enough free space",
        .verify_instance = verify_path,
        .verify = verify_fs,
        .request = request_fs,
        .run = run_fs,
};
