/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Directory layouts: which of the expected entries below a directory exist, and who owns them. */

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "probe/probe.h"
#include "util/strv.h"

static int probe_entry(const NpRoot *root, const char *dir, const char *rel, NpLayoutFacts *l)
{
        _cleanup_free_ char *path = isempty(rel) ? strdup(dir) : strprintf("%s/%s", dir, rel);
        NpLayoutEntry *a, *e;
        struct stat st;
        int r;

        if (!path)
                return -ENOMEM;
        a = reallocarray(l->entries, l->n_entries + 1, sizeof(NpLayoutEntry));
        if (!a)
                return -ENOMEM;
        l->entries = a;
        e = &a[l->n_entries++];
        *e = (NpLayoutEntry){ .path = strdup(rel) };
        if (!e->path)
                return -ENOMEM;
        r = np_root_stat(root, path, &st);
        if (r == -ENOENT || r == -ENOTDIR)
                return 0;
        if (r < 0) {
                e->unknown = np_probe_reason(root, path, r);
                return e->unknown ? 0 : -ENOMEM;
        }
        e->exists = true;
        /* A symlink below the directory: a pod that mounts the directory does not see its
         * target (the directory itself may be one: the kubelet resolves a hostPath). */
        if (rel[0] != '\0') {
                _cleanup_close_ int fd = np_root_open(root, path, O_PATH | O_NOFOLLOW);
                struct stat lst;

                e->is_symlink = fd >= 0 && fstat(fd, &lst) == 0 && S_ISLNK(lst.st_mode);
        }
        e->is_dir = S_ISDIR(st.st_mode);
        e->is_regular = S_ISREG(st.st_mode);
        e->uid = st.st_uid;
        e->gid = st.st_gid;
        e->size = (uint64_t)st.st_size;
        return 0;
}

int np_probe_layouts(const NpRoot *root, const NpProbeRequest *req, NpFacts *f)
{
        FOREACH_ARRAY (lr, req->layouts, req->n_layouts) {
                NpLayoutFacts *l = np_facts_add_layout(f, lr->path);
                int r;

                if (!l)
                        return -ENOMEM;
                if (l->n_entries > 0)
                        continue;
                r = probe_entry(root, lr->path, "", l);
                STRV_FOREACH (e, lr->entries)
                        if (r >= 0)
                                r = probe_entry(root, lr->path, *e, l);
                if (r < 0)
                        return r;
        }
        return 0;
}
