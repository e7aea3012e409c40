/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Run the probes a request asks for. */

#include <stdlib.h>

#include "probe/probe.h"
#include "util/strv.h"

int np_probe(const NpRoot *root, const NpProbeRequest *req, NpFacts **ret)
{
        _cleanup_(np_facts_freep) NpFacts *f = np_facts_new();
        int r;

        if (!f)
                return -ENOMEM;
        f->root = strdup(root->path);
        if (!f->root)
                return -ENOMEM;

        /* System first: the kernel release and distribution feed the other probes. */
        r = np_probe_system(root, req->kubelet, f);
        if (r >= 0 && req->selinux)
                r = np_probe_selinux(root, f);
        if (r >= 0 && req->iscsi)
                r = np_probe_iscsi(root, req->iscsi_nodes, f);
        if (r >= 0)
                r = np_probe_modules(root, req->modules, f);
        if (r >= 0)
                r = np_probe_units(req->units, f);
        if (r >= 0)
                r = np_probe_fs(root, req->fs_paths, f);
        if (r >= 0 && req->disks)
                r = np_probe_disks(req, f);
        if (r >= 0 && req->links)
                r = np_probe_links(f);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(f);
        return 0;
}
