/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* disk.free-ssd and disk.free-hdd: enough free disks of each kind (MinFreeSSD/MinFreeHDD). */

#include "check/check.h"
#include "util/strv.h"

static int request_disks(const NpCheckDef *def, const NpSettings *s, NpProbeRequest *req)
{
        (void)def, (void)s;
        req->disks = true;
        return 0;
}

static int run_free(const NpCheckContext *ctx, const NpCheckDef *def, NpResult *r, bool ssd)
{
        uint64_t want = ssd ? ctx->settings->min_free_ssd : ctx->settings->min_free_hdd;
        _cleanup_free_ char *size = np_format_bytes(ctx->settings->min_disk_size),
                            *expected = NULL;
        (void)def;

        if (!size)
                return -ENOMEM;
        expected = strprintf(">= %llu free %s of >= %s", (unsigned long long)want,
                             ssd ? "SSD(s)" : "HDD(s)", size);
        if (!expected)
                return -ENOMEM;
        if (want == 0)
                return np_result_set(r, NP_STATUS_SKIP, NULL, expected, "%s=0",
                                     ssd ? "MinFreeSSD" : "MinFreeHDD");
        /* The disk probe fills disks_unknown until it can say which disks are free. */
        return np_result_set(r, NP_STATUS_UNKNOWN, NULL, expected, "%s",
                             ctx->facts->disks_unknown ? ctx->facts->disks_unknown
                                                       : "disks were not probed");
}

static int run_ssd(const NpCheckContext *ctx, const NpCheckDef *def, NpResult *r)
{
        return run_free(ctx, def, r, true);
}

static int run_hdd(const NpCheckContext *ctx, const NpCheckDef *def, NpResult *r)
{
        return run_free(ctx, def, r, false);
}

const NpCheckType np_check_disk_free_ssd = {
        .name = "disk.free-ssd",
        .params = "",
        .default_title = "Free SSDs",
        .request = request_disks,
        .run = run_ssd,
};

const NpCheckType np_check_disk_free_hdd = {
        .name = "disk.free-hdd",
        .params = "",
        .default_title = "Free HDDs",
        .request = request_disks,
        .run = run_hdd,
};
