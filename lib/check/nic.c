/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* nic.speed and nic.data-cidr: a fast enough link that is up, and the one in the data network. */

#include "check/check.h"
#include "util/strv.h"

static int request_links(const NpCheckDef *def, const NpSettings *s, NpProbeRequest *req)
{
        (void)def, (void)s;
        req->links = true;
        return 0;
}

static int run_speed(const NpCheckContext *ctx, const NpCheckDef *def, NpResult *r)
{
        _cleanup_free_ char *expected = strprintf("a link that is up at >= %llu Mb/s",
                                                  (unsigned long long)ctx->settings->min_link_speed);
        (void)def;

        if (!expected)
                return -ENOMEM;
        return np_result_set(r, NP_STATUS_UNKNOWN, NULL, expected, "%s",
                             ctx->facts->links_unknown ? ctx->facts->links_unknown
                                                       : "links were not probed");
}

static int run_data_cidr(const NpCheckContext *ctx, const NpCheckDef *def, NpResult *r)
{
        _cleanup_free_ char *cidr = NULL, *expected = NULL;
        (void)def;

        if (!ctx->settings->has_data_cidr)
                return np_result_set(r, NP_STATUS_SKIP, NULL, NULL,
                                     "DataCIDR= is not set (site file [Settings] or --set "
                                     "DataCIDR=...)");
        cidr = np_cidr_to_string(&ctx->settings->data_cidr);
        expected = strprintf("a link that is up at >= %llu Mb/s with an address in %s",
                             (unsigned long long)ctx->settings->min_link_speed, strna(cidr));
        if (!cidr || !expected)
                return -ENOMEM;
        return np_result_set(r, NP_STATUS_UNKNOWN, NULL, expected, "%s",
                             ctx->facts->links_unknown ? ctx->facts->links_unknown
                                                       : "links were not probed");
}

const NpCheckType np_check_nic_speed = {
        .name = "nic.speed",
        .params = "",
        .default_title = "A fast enough network link",
        .request = request_links,
        .run = run_speed,
};

const NpCheckType np_check_nic_data_cidr = {
        .name = "nic.data-cidr",
        .params = "",
        .default_title = "A link in the data network",
        .request = request_links,
        .run = run_data_cidr,
};
