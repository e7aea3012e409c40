/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * dir.layout: create what is missing of a directory layout (The Things Stack's local blob
 * volume): the directory, its subdirectories (0755) and empty files (0644), owned as Owner=
 * says. Nothing that exists is touched: an existing file keeps its contents whatever they are,
 * and an entry with the wrong owner or type is left to a person, with the command to run.
 */

#include <stdlib.h>
#include <string.h>

#include "fix/engine/fix-internal.h"
#include "util/strv.h"

/* An empty file where there is none; an existing file, whatever it holds, stays as it is. */
static int edit_create_empty(const char *data, size_t size, void *userdata, char **ret,
                             size_t *ret_size, char **ret_where, char **ret_error)
{
        (void)size, (void)userdata, (void)ret_error;
        if (data)
                return 0;
        *ret = strdup("");
        *ret_size = 0;
        *ret_where = strdup("");
        return *ret && *ret_where ? 1 : -ENOMEM;
}

static int add_mkdir(NpFixContext *c, NpFixEntry *e, const char *path, const NpCheckDef *def)
{
        const NpDirLayoutParams *p = def->params;
        uid_t uid = p->owner.set ? p->owner.uid : 0;
        gid_t gid = p->owner.set ? p->owner.gid : 0;
        NpStep s = {
                .kind = NP_STEP_MKDIR,
                .phase = NP_PHASE_MKDIR,
                .mode = 0755,
                .uid = uid,
                .gid = gid,
        };

        s.path = strdup(path);
        s.summary =
            strprintf("create directory %s (%u:%u, 0755)", path, (unsigned)uid, (unsigned)gid);
        if (!s.path || !s.summary) {
                np_step_done(&s);
                return -ENOMEM;
        }
        return np_fix_add_step(c, e, &s);
}

/* What a person must do about an entry that exists but is not as the layout wants. */
static int misfit(const NpCheckDef *def, const NpLayoutEntry *le, const char *path, bool dir,
                  char ***problems, bool *symlinks)
{
        const NpDirLayoutParams *p = def->params;

        /* First: the owner and type stat() reports are the link target's, not the entry's. */
        if (le->is_symlink) {
                *symlinks = true;
                return strv_consume(problems,
                                    strprintf("%s is a symbolic link (a pod that mounts the "
                                              "directory does not see its target)",
                                              path));
        }
        if (dir && !le->is_dir)
                return strv_consume(problems, strprintf("%s is not a directory", path));
        if (!dir && !le->is_regular)
                return strv_consume(problems, strprintf("%s is not a regular file", path));
        if (p->owner.set && (le->uid != p->owner.uid || le->gid != p->owner.gid))
                return strv_consume(problems,
                                    strprintf("%s is owned by %u:%u", path, le->uid, le->gid));
        return 0;
}

static int add_create_file(NpFixContext *c, NpFixEntry *e, const char *path, const NpCheckDef *def)
{
        const NpDirLayoutParams *p = def->params;
        uid_t uid = p->owner.set ? p->owner.uid : 0;
        gid_t gid = p->owner.set ? p->owner.gid : 0;
        _cleanup_free_ char *fmt = strprintf("create an empty file %s (%u:%u, 0644)%%s", path,
                                             (unsigned)uid, (unsigned)gid);

        if (!fmt)
                return -ENOMEM;
        return np_fix_edit_file_owned(c, e, path, 0644, uid, gid, edit_create_empty, NULL, fmt);
}

static int plan_layout(NpFixContext *c, const NpCheckDef *def, const NpResult *res, NpFixEntry *e)
{
        const NpDirLayoutParams *p = def->params;
        const char *dir = np_check_path(def, &c->profile->settings, NULL);
        const NpLayoutFacts *l = dir ? np_facts_layout(c->facts, dir) : NULL;
        const NpLayoutEntry *top = l ? np_layout_entry(l, "") : NULL;
        _cleanup_strv_free_ char **problems = NULL, **mkdirs = NULL, **files = NULL;
        _cleanup_free_ char *list = NULL, *remedy = NULL;
        bool symlinks = false;
        int r;

        if (!dir || !top)
                return np_fix_entry_manual(e, res->remedy, "%s", strna(res->message));
        if (top->unknown)
                return np_fix_entry_manual(e, res->remedy, "%s", top->unknown);

        /* First what exists and what is missing; existing entries are someone's data. */
        if (!top->exists)
                r = strv_extend(&mkdirs, dir);
        else
                r = misfit(def, top, dir, true, &problems, &symlinks);
        if (r < 0)
                return r;
        STRV_FOREACH (d, p->directories) {
                const NpLayoutEntry *le = np_layout_entry(l, *d);
                _cleanup_free_ char *path = strprintf("%s/%s", dir, *d);

                if (!path)
                        return -ENOMEM;
                if (le && le->unknown)
                        return np_fix_entry_manual(e, res->remedy, "%s", le->unknown);
                r = !le || !le->exists ? strv_extend(&mkdirs, path)
                                       : misfit(def, le, path, true, &problems, &symlinks);
                if (r < 0)
                        return r;
        }
        STRV_FOREACH (f, p->files) {
                const NpLayoutEntry *le = np_layout_entry(l, *f);
                _cleanup_free_ char *path = strprintf("%s/%s", dir, *f);

                if (!path)
                        return -ENOMEM;
                if (le && le->unknown)
                        return np_fix_entry_manual(e, res->remedy, "%s", le->unknown);
                r = !le || !le->exists ? strv_extend(&files, path)
                                       : misfit(def, le, path, false, &problems, &symlinks);
                if (r < 0)
                        return r;
        }

        /* An entry of the wrong owner or type needs a person first (chown -R of a volume that
         * may hold pictures is theirs to run); then apply creates the rest. */
        if (strv_length(problems) > 0) {
                list = strv_join(problems, "; ");
                if (symlinks && p->owner.set)
                        remedy = strprintf("replace each symbolic link by the directory or file "
                                           "itself, chown -R %u:%u %s, then nodeprepctl apply "
                                           "creates what is missing",
                                           p->owner.uid, p->owner.gid, dir);
                else if (symlinks)
                        remedy = strdup("replace each symbolic link by the directory or file "
                                        "itself; then nodeprepctl apply creates what is missing");
                else
                        remedy = p->owner.set ? strprintf("chown -R %u:%u %s, then nodeprepctl "
                                                          "apply creates what is missing",
                                                          p->owner.uid, p->owner.gid, dir)
                                              : strdup(strna(res->remedy));
                if (!list || !remedy)
                        return -ENOMEM;
                return np_fix_entry_manual(e, remedy,
                                           "nodeprep does not change existing entries: %s", list);
        }
        STRV_FOREACH (d, mkdirs) {
                r = add_mkdir(c, e, *d, def);
                if (r < 0)
                        return r;
        }
        STRV_FOREACH (f, files) {
                r = add_create_file(c, e, *f, def);
                if (r < 0)
                        return r;
        }
        return 0;
}

const NpFixType np_fix_dir_layout = {
        .id = "dir-layout-create",
        .plan = plan_layout,
};
