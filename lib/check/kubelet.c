/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kubelet.version: the kubelet on this node is within MinVersion=..MaxVersion= (inclusive). */

#include <stdlib.h>

#include "check/check.h"
#include "util/strv.h"

typedef struct KubeletParams {
        NpParamVersion min_version; /* MinVersion= */
        NpParamVersion max_version; /* MaxVersion=: inclusive, as far as it is written */
} KubeletParams;

static const NpParam kubelet_params[] = {
        NP_PARAM("MinVersion", NP_PARAM_VERSION, KubeletParams, min_version,
                 NP_PARAM_CONFLICT_DIFFERENT, "a version such as 1.17"),
        NP_PARAM("MaxVersion", NP_PARAM_VERSION, KubeletParams, max_version,
                 NP_PARAM_CONFLICT_DIFFERENT, "a version such as 1.21"),
};

static int verify_kubelet(const NpCheckDef *def, char **ret_error)
{
        const KubeletParams *p = def->params;

        if (!p->min_version.set && !p->max_version.set) {
                *ret_error = strdup("needs MinVersion= and/or MaxVersion=");
                return -EINVAL;
        }
        if (p->min_version.set && p->max_version.set &&
            np_version_compare(&p->min_version.value, &p->max_version.value, true) > 0) {
                _cleanup_free_ char *a = np_version_to_string(&p->min_version.value),
                                    *b = np_version_to_string(&p->max_version.value);

                *ret_error = strprintf("bad version range: MinVersion=%s is above MaxVersion=%s",
                                       strna(a), strna(b));
                return -EINVAL;
        }
        return 0;
}

static int request_kubelet(const NpCheckDef *def, const NpSettings *s, NpProbeRequest *req)
{
        (void)def, (void)s;
        req->kubelet = true;
        return 0;
}

static char *range_text(const NpCheckDef *def)
{
        const KubeletParams *p = def->params;
        _cleanup_free_ char *a =
            p->min_version.set ? np_version_to_string(&p->min_version.value) : NULL;
        _cleanup_free_ char *b =
            p->max_version.set ? np_version_to_string(&p->max_version.value) : NULL;

        if (a && b)
                return strprintf("%s to %s.x", a, b);
        if (a)
                return strprintf(">= %s", a);
        return b ? strprintf("<= %s.x", b) : NULL;
}

static int run_kubelet(const NpCheckContext *ctx, const NpCheckDef *def, NpResult *r)
{
        const KubeletParams *p = def->params;
        const NpSystemFacts *s = &ctx->facts->system;
        _cleanup_free_ char *expected = range_text(def), *have = NULL, *observed = NULL;
        bool low, high;

        if (!expected)
                return -ENOMEM;
        if (s->kubelet_unknown)
                return np_result_set(r, NP_STATUS_UNKNOWN, s->kubelet_path, expected, "%s",
                                     s->kubelet_unknown);
        if (!s->kubelet_path)
                return np_result_set(r, NP_STATUS_SKIP, "no kubelet", expected,
                                     "no kubelet binary on this host: the version is checked "
                                     "once it is installed");
        have = np_version_to_string(&s->kubelet_version);
        observed = strprintf("%s (%s)", strna(have), s->kubelet_path);
        if (!have || !observed)
                return -ENOMEM;
        /* MaxVersion=1.21 admits 1.21.14: compare only as far as the bound is written. */
        low = p->min_version.set &&
              np_version_compare(&s->kubelet_version, &p->min_version.value, true) < 0;
        high = p->max_version.set &&
               np_version_compare(&s->kubelet_version, &p->max_version.value, true) > 0;
        if (!low && !high)
                return np_result_set(r, NP_STATUS_PASS, observed, expected, NULL);
        {
                int k = np_result_set(r, NP_STATUS_FAIL, observed, expected,
                                      "kubelet %s is %s the supported range %s", have,
                                      low ? "below" : "above", expected);
                return k < 0 ? k
                             : np_result_remedy(r,
                                                "run a Kubernetes version in the range %s on "
                                                "this node",
                                                expected);
        }
}

const NpCheckType np_check_kubelet_version = {
        .name = "kubelet.version",
        NP_CHECK_PARAMS(kubelet_params, KubeletParams),
        .default_title = "kubelet version is supported",
        .verify = verify_kubelet,
        .request = request_kubelet,
        .run = run_kubelet,
};
