/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Run the probes a request asks for. */

#include <stdlib.h>

#include "probe/area.h"
#include "probe/probe.h"
#include "util/strv.h"

int np_probe(const NpRoot *root, const NpProbeRequest *req, NpFacts **ret)
{
        _cleanup_(np_facts_freep) NpFacts *f = np_facts_new();
        int r;

        if (!f)
                return -ENOMEM;
        r = np_probe_areas(root, req, NP_AREAS_ALL, f);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(f);
        return 0;
}
