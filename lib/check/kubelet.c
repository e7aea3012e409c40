/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kubelet.version: the kubelet on this node is within MinVersion=..MaxVersion= (inclusive). */

#include <stdlib.h>

#include "check/check.h"
#include "util/strv.h"

static int verify_kubelet(const NpCheckDef *def, char **ret_error)
{
        if (!def->has_min_version && !def->has_max_version) {
                *ret_error = strdup("needs MinVersion= and/or MaxVersion=");
                return -EINVAL;
        }
        if (def->has_min_version && def->has_max_version &&
            np_version_compare(&def->min_version, &def->max_version, true) > 0) {
                _cleanup_free_ char *a = np_version_to_string(&def->min_version),
                                    *b = np_version_to_string(&def->max_version);

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
        _cleanup_free_ char *a =
            def->has_min_version ? np_version_to_string(&def->min_version) : NULL;
        _cleanup_free_ char *b =
            def->has_max_version ? np_version_to_string(&def->max_version) : NULL;

        if (a && b)
                return strprintf("%s to %s.x", a, b);
        if (a)
                return strprintf(">= %s", a);
        return b ? strprintf("<= %s.x", b) : NULL;
}

static int run_kubelet(const NpCheckContext *ctx, const NpCheckDef *def, NpResult *r)
{
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
        low = def->has_min_version &&
              np_version_compare(&s->kubelet_version, &def->min_version, true) < 0;
        high = def->has_max_version &&
               np_version_compare(&s->kubelet_version, &def->max_version, true) > 0;
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
        .params = "MinVersion MaxVersion",
        .default_title = "kubelet version is supported",
        .verify = verify_kubelet,
        .request = request_kubelet,
        .run = run_kubelet,
};
