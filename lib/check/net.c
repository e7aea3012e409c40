/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* net.reachable:NAME: a TCP connection from this node to the endpoint the site file names. */

#include <stdlib.h>
#include <string.h>

#include "check/check.h"
#include "util/strv.h"

static int verify_name(const char *name, char **ret_error)
{
        return np_check_verify_name(name, "an endpoint name", ret_error);
}

typedef struct EndpointParams {
        NpParamU64
            timeout_sec; /* TimeoutSec=: how long to try; 5 s when not given, 600 s at most */
} EndpointParams;

static const NpParam endpoint_params[] = {
        /* How long to wait is not what the endpoint must be: never a conflict. */
        NP_PARAM("TimeoutSec", NP_PARAM_SECONDS, EndpointParams, timeout_sec,
                 NP_PARAM_CONFLICT_NEVER, "a number of seconds"),
};

static unsigned timeout_ms(const NpCheckDef *def)
{
        const NpParamU64 *t = &((const EndpointParams *)def->params)->timeout_sec;

        return t->set ? (unsigned)MIN(t->value, 600ULL) * 1000U : 5000U;
}

static int request_endpoint(const NpCheckDef *def, const NpSettings *s, NpProbeRequest *req)
{
        const NpNamedValue *v = np_settings_named(s, NP_NAMED_ENDPOINT, def->instance);

        if (!v)
                return 0; /* not configured: the check skips */
        return np_probe_request_add_endpoint(req, def->instance, v->value, timeout_ms(def));
}

static const char *kind_text(const char *kind)
{
        if (streq_ptr(kind, "dns"))
                return "the name does not resolve";
        if (streq_ptr(kind, "refused"))
                return "connection refused: nothing listens there, or a firewall rejects it";
        if (streq_ptr(kind, "timeout"))
                return "no answer: a firewall drops the packets, or the host is down";
        if (streq_ptr(kind, "no-route"))
                return "no route to the host from this node";
        return "the connection failed";
}

static int run_reachable(const NpCheckContext *ctx, const NpCheckDef *def, NpResult *r)
{
        const NpNamedValue *v = np_settings_named(ctx->settings, NP_NAMED_ENDPOINT, def->instance);
        const NpEndpointFacts *e;
        _cleanup_free_ char *expected = NULL, *observed = NULL;
        int k;

        if (!v)
                return np_result_set(
                    r, NP_STATUS_SKIP, NULL, NULL,
                    "no endpoint \"%s\" configured ([Endpoint %s] Address=HOST:PORT "
                    "in nodeprep.conf, or --set Endpoint.%s=HOST:PORT)",
                    def->instance, def->instance, def->instance);
        expected =
            strprintf("a TCP connection to %s within %u s", v->value, timeout_ms(def) / 1000);
        if (!expected)
                return -ENOMEM;
        e = np_facts_endpoint(ctx->facts, def->instance);
        if (!e || !streq_ptr(e->address, v->value))
                return np_result_set(r, NP_STATUS_UNKNOWN, NULL, expected,
                                     "endpoint %s was not probed", def->instance);
        if (e->reachable) {
                observed = strprintf("connected to %s in %llu ms", strna(e->connected),
                                     (unsigned long long)e->elapsed_ms);
                return observed ? np_result_set(r, NP_STATUS_PASS, observed, expected, NULL)
                                : -ENOMEM;
        }
        observed = strprintf("%s: %s", strna(e->error_kind), strna(e->error));
        if (!observed)
                return -ENOMEM;
        k = np_result_set(r, NP_STATUS_FAIL, observed, expected, "%s (%s, from %s)",
                          kind_text(e->error_kind), v->value, strna(v->origin));
        if (k < 0)
                return k;
        if (streq_ptr(e->error_kind, "dns"))
                return np_result_remedy(r,
                                        "check the name in %s and this node's resolver "
                                        "(/etc/resolv.conf): getent ahosts %s",
                                        strna(v->origin), v->value);
        return np_result_remedy(r,
                                "check the service at %s and any firewall between this node "
                                "and it (e.g. nc -vz with the host and port)",
                                v->value);
}

const NpCheckType np_check_net_reachable = {
        .name = "net.reachable",
        .instance = true,
        .what = "an endpoint name ([Endpoint NAME] in the site file)",
        NP_CHECK_PARAMS(endpoint_params, EndpointParams),
        .default_title = "Endpoint reachable from this node",
        .verify_instance = verify_name,
        .request = request_endpoint,
        .run = run_reachable,
};
