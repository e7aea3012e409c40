/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* sys.cpus and sys.memory: sizing references (online CPUs, MemTotal). */

#include <stdlib.h>

#include "check/check.h"
#include "util/strv.h"

typedef struct CpusParams {
        NpParamU64 min; /* Min= */
} CpusParams;

static const NpParam cpus_params[] = {
        NP_PARAM("Min", NP_PARAM_U64, CpusParams, min, NP_PARAM_CONFLICT_DIFFERENT,
                 "a decimal number"),
};

typedef struct MemoryParams {
        NpParamU64 min_size; /* MinSize= */
} MemoryParams;

static const NpParam memory_params[] = {
        NP_PARAM("MinSize", NP_PARAM_SIZE, MemoryParams, min_size, NP_PARAM_CONFLICT_DIFFERENT,
                 "a size such as 32GB or 32GiB"),
};

static int request_system(const NpCheckDef *def, const NpSettings *s, NpProbeRequest *req)
{
        (void)def, (void)s;
        req->system = true;
        return 0;
}

static int verify_cpus(const NpCheckDef *def, char **ret_error)
{
        const CpusParams *p = def->params;

        if (!p->min.set || p->min.value == 0) {
                *ret_error = strdup("needs Min= (a number of CPUs)");
                return -EINVAL;
        }
        return 0;
}

static int run_cpus(const NpCheckContext *ctx, const NpCheckDef *def, NpResult *r)
{
        const unsigned long long min = ((const CpusParams *)def->params)->min.value;
        unsigned n = ctx->facts->system.cpus;
        _cleanup_free_ char *expected = strprintf(">= %llu CPUs", min),
                            *observed = strprintf("%u online CPUs", n);

        if (!expected || !observed)
                return -ENOMEM;
        if (n == 0)
                return np_result_set(r, NP_STATUS_UNKNOWN, NULL, expected,
                                     "cannot read /sys/devices/system/cpu/online");
        if (n >= min)
                return np_result_set(r, NP_STATUS_PASS, observed, expected, NULL);
        {
                int k = np_result_set(r, NP_STATUS_FAIL, observed, expected,
                                      "%u CPUs is below the sizing reference of %llu", n, min);
                return k < 0 ? k
                             : np_result_remedy(r,
                                                "run this workload on a node with at "
                                                "least %llu CPUs",
                                                min);
        }
}

static int verify_memory(const NpCheckDef *def, char **ret_error)
{
        const MemoryParams *p = def->params;

        if (!p->min_size.set) {
                *ret_error = strdup("needs MinSize= (e.g. MinSize=32GB)");
                return -EINVAL;
        }
        return 0;
}

static int run_memory(const NpCheckContext *ctx, const NpCheckDef *def, NpResult *r)
{
        const uint64_t min = ((const MemoryParams *)def->params)->min_size.value;
        uint64_t have = ctx->facts->system.memory_bytes;
        _cleanup_free_ char *want = np_format_bytes(min), *got = np_format_bytes(have),
                            *expected = NULL, *observed = NULL;

        if (!want || !got)
                return -ENOMEM;
        expected = strprintf(">= %s memory", want);
        /* MemTotal is the RAM the kernel manages: a "32 GB" machine shows a little less than
         * 32 GiB, which is why sizing thresholds are written in GB. */
        observed = strprintf("%s (MemTotal)", got);
        if (!expected || !observed)
                return -ENOMEM;
        if (have == 0)
                return np_result_set(r, NP_STATUS_UNKNOWN, NULL, expected,
                                     "cannot read MemTotal from /proc/meminfo");
        if (have >= min)
                return np_result_set(r, NP_STATUS_PASS, observed, expected, NULL);
        {
                int k = np_result_set(r, NP_STATUS_FAIL, observed, expected,
                                      "%s is below the sizing reference of %s", got, want);
                return k < 0 ? k
                             : np_result_remedy(r,
                                                "run this workload on a node with at "
                                                "least %s of memory",
                                                want);
        }
}

const NpCheckType np_check_sys_cpus = {
        .name = "sys.cpus",
        NP_CHECK_PARAMS(cpus_params, CpusParams),
        .default_title = "Enough CPUs",
        .verify = verify_cpus,
        .request = request_system,
        .run = run_cpus,
};

const NpCheckType np_check_sys_memory = {
        .name = "sys.memory",
        NP_CHECK_PARAMS(memory_params, MemoryParams),
        .default_title = "Enough memory",
        .verify = verify_memory,
        .request = request_system,
        .run = run_memory,
};
