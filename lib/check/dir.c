/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * dir.layout:NAME: a directory (from [Path NAME] in the site file, or Path=) has the expected
 * subdirectories and files, owned by Owner=UID:GID. Skipped when no path is configured.
 */

#include <stdlib.h>
#include <string.h>

#include "check/check.h"
#include "util/strv.h"

static int verify_name(const char *name, char **ret_error)
{
        return np_check_verify_name(name, "a path name", ret_error);
}

static const NpParam layout_params[] = {
        NP_PARAM("Path", NP_PARAM_ABS_PATH, NpDirLayoutParams, path, NP_PARAM_CONFLICT_DIFFERENT,
                 "an absolute path"),
        NP_PARAM("Owner", NP_PARAM_OWNER, NpDirLayoutParams, owner, NP_PARAM_CONFLICT_DIFFERENT,
                 "UID:GID, numeric (e.g. 886:886)"),
        NP_PARAM("Directories", NP_PARAM_RELPATHS, NpDirLayoutParams, directories,
                 NP_PARAM_CONFLICT_DIFFERENT, "relative paths separated by spaces"),
        NP_PARAM("Files", NP_PARAM_RELPATHS, NpDirLayoutParams, files, NP_PARAM_CONFLICT_DIFFERENT,
                 "relative paths separated by spaces"),
};

static int verify_layout(const NpCheckDef *def, char **ret_error)
{
        const NpDirLayoutParams *p = def->params;

        if (!p->directories && !p->files && !p->owner.set) {
                *ret_error = strdup("needs Directories=, Files= or Owner=");
                return -EINVAL;
        }
        return 0;
}

static int request_layout(const NpCheckDef *def, const NpSettings *s, NpProbeRequest *req)
{
        const NpDirLayoutParams *p = def->params;
        const char *path = np_check_path(def, s, NULL);
        _cleanup_strv_free_ char **entries = NULL;

        if (!path)
                return 0;
        STRV_FOREACH (d, p->directories)
                if (strv_extend(&entries, *d) < 0)
                        return -ENOMEM;
        STRV_FOREACH (f, p->files)
                if (strv_extend(&entries, *f) < 0)
                        return -ENOMEM;
        return np_probe_request_add_layout(req, path, entries);
}

/* Add "what is wrong with rel" to problems, or nothing. */
static int judge(const NpCheckDef *def, const NpLayoutEntry *e, const char *rel, bool dir,
                 char ***problems, bool *unknown)
{
        const NpDirLayoutParams *p = def->params;
        const char *shown = isempty(rel) ? "." : rel;

        if (!e || e->unknown) {
                *unknown = true;
                return strv_consume(problems,
                                    strprintf("%s: %s", shown, e ? e->unknown : "not probed"));
        }
        if (!e->exists)
                return strv_consume(problems, strprintf("%s%s missing", shown, dir ? "/" : ""));
        if (e->is_symlink)
                return strv_consume(problems,
                                    strprintf("%s is a symbolic link (a pod that mounts the "
                                              "directory does not see its target)",
                                              shown));
        if (dir && !e->is_dir)
                return strv_consume(problems, strprintf("%s is not a directory", shown));
        if (!dir && !e->is_regular)
                return strv_consume(problems, strprintf("%s is not a regular file", shown));
        if (p->owner.set && (e->uid != p->owner.uid || e->gid != p->owner.gid))
                return strv_consume(problems,
                                    strprintf("%s owned by %u:%u", shown, e->uid, e->gid));
        return 0;
}

static int run_layout(const NpCheckContext *ctx, const NpCheckDef *def, NpResult *r)
{
        const NpDirLayoutParams *p = def->params;
        const char *origin = NULL, *path = np_check_path(def, ctx->settings, &origin);
        _cleanup_strv_free_ char **problems = NULL, **want = NULL;
        _cleanup_free_ char *expected = NULL, *list = NULL, *observed = NULL;
        const NpLayoutFacts *l;
        bool unknown = false;
        int k;

        if (!path)
                return np_result_set(r, NP_STATUS_SKIP, NULL, NULL,
                                     "no path \"%s\" configured ([Path %s] Path=/DIR in "
                                     "nodeprep.conf, or --set Path.%s=/DIR)",
                                     def->instance, def->instance, def->instance);
        STRV_FOREACH (d, p->directories)
                if (strv_consume(&want, strprintf("%s/", *d)) < 0)
                        return -ENOMEM;
        STRV_FOREACH (f, p->files)
                if (strv_extend(&want, *f) < 0)
                        return -ENOMEM;
        list = strv_join(want, " ");
        expected = p->owner.set ? strprintf("%s with %s, owned by %u:%u", path, strna(list),
                                            p->owner.uid, p->owner.gid)
                                : strprintf("%s with %s", path, strna(list));
        if (!list || !expected)
                return -ENOMEM;

        l = np_facts_layout(ctx->facts, path);
        if (!l)
                return np_result_set(r, NP_STATUS_UNKNOWN, NULL, expected, "%s was not probed",
                                     path);
        k = judge(def, np_layout_entry(l, ""), "", true, &problems, &unknown);
        if (k >= 0 && np_layout_entry(l, "") && np_layout_entry(l, "")->exists) {
                STRV_FOREACH (d, p->directories)
                        if (k >= 0)
                                k = judge(def, np_layout_entry(l, *d), *d, true, &problems,
                                          &unknown);
                STRV_FOREACH (f, p->files)
                        if (k >= 0)
                                k = judge(def, np_layout_entry(l, *f), *f, false, &problems,
                                          &unknown);
        }
        if (k < 0)
                return k;
        if (strv_length(problems) == 0)
                return np_result_set(r, NP_STATUS_PASS, path, expected, "the layout is complete");
        free(list);
        list = strv_join(problems, "; ");
        observed = strprintf("%s: %s", path, strna(list));
        if (!list || !observed)
                return -ENOMEM;
        if (unknown)
                return np_result_set(r, NP_STATUS_UNKNOWN, observed, expected,
                                     "some entries could not be read");
        k = np_result_set(r, NP_STATUS_FAIL, observed, expected,
                          "the layout of %s is incomplete%s%s%s", path,
                          origin ? " (path from " : "", strempty(origin), origin ? ")" : "");
        if (k < 0)
                return k;
        if (p->owner.set)
                return np_result_remedy(r,
                                        "create the missing entries below %s, then chown -R "
                                        "%u:%u %s",
                                        path, p->owner.uid, p->owner.gid, path);
        return np_result_remedy(r, "create the missing entries below %s", path);
}

const NpCheckType np_check_dir_layout = {
        .name = "dir.layout",
        .instance = true,
        .what = "a path name ([Path NAME] in the site file)",
        NP_CHECK_PARAMS(layout_params, NpDirLayoutParams),
        .default_title = "Directory layout",
        .verify_instance = verify_name,
        .verify = verify_layout,
        .request = request_layout,
        .run = run_layout,
        .fix = "dir-layout-create",
};
