/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* One evaluation: probe what the profiles need, run their checks, make the report. */

#include <time.h>

#include "evaluate.h"
#include "probe/probe.h"

uint64_t np_now_usec(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_REALTIME, &ts);
        return (uint64_t)ts.tv_sec * 1000000ULL + (uint64_t)ts.tv_nsec / 1000ULL;
}

int np_config_probe_request(const NpConfig *config, NpProbeRequest *ret)
{
        NpProbeRequest req = {};

        for (size_t i = 0; i < config->n_profiles; i++) {
                int r = np_probe_request_add_profile(&req, config->profiles[i]);

                if (r < 0) {
                        np_probe_request_done(&req);
                        return r;
                }
        }
        *ret = req;
        return 0;
}

int np_evaluate(const NpRoot *root, const NpConfig *config, uint64_t now_usec, NpReport **ret)
{
        _cleanup_(np_probe_request_done) NpProbeRequest req = {};
        NpFacts *facts = NULL;
        int r;

        r = np_config_probe_request(config, &req);
        if (r < 0)
                return r;
        r = np_probe(root, &req, &facts);
        if (r < 0)
                return r;
        return np_report_build(config, facts, now_usec, ret);
}
