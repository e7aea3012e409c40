/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* tool.version:NAME: a command-line tool is installed, at a version in MinVersion..MaxVersion. */

#include <stdlib.h>
#include <string.h>

#include "check/check.h"
#include "util/strv.h"

static int verify_tool_name(const char *name, char **ret_error)
{
        if (strchr(name, '/') || name[0] == '.') {
                *ret_error = strprintf("\"%s\" is not a command name", name);
                return -EINVAL;
        }
        return 0;
}

typedef struct ToolParams {
        char **args;                /* Args=: what makes the tool print its version */
        NpParamVersion min_version; /* MinVersion= */
        NpParamVersion max_version; /* MaxVersion=: inclusive, as far as it is written */
} ToolParams;

static const NpParam tool_params[] = {
        NP_PARAM("Args", NP_PARAM_ARGS, ToolParams, args, NP_PARAM_CONFLICT_DIFFERENT, "arguments"),
        NP_PARAM("MinVersion", NP_PARAM_VERSION, ToolParams, min_version,
                 NP_PARAM_CONFLICT_DIFFERENT, "a version such as 1.17"),
        NP_PARAM("MaxVersion", NP_PARAM_VERSION, ToolParams, max_version,
                 NP_PARAM_CONFLICT_DIFFERENT, "a version such as 1.21"),
};

static int verify_tool(const NpCheckDef *def, char **ret_error)
{
        const ToolParams *p = def->params;

        if (p->min_version.set && p->max_version.set &&
            np_version_compare(&p->min_version.value, &p->max_version.value, true) > 0) {
                *ret_error = strdup("bad version range: MinVersion= is above MaxVersion=");
                return -EINVAL;
        }
        return 0;
}

static int request_tool(const NpCheckDef *def, const NpSettings *s, NpProbeRequest *req)
{
        const ToolParams *p = def->params;

        (void)s;
        return np_probe_request_add_tool(req, def->instance,
                                         p->args ? p->args : STRV_MAKE("--version"));
}

static char *range_text(const NpCheckDef *def)
{
        const ToolParams *p = def->params;
        _cleanup_free_ char *a =
            p->min_version.set ? np_version_to_string(&p->min_version.value) : NULL;
        _cleanup_free_ char *b =
            p->max_version.set ? np_version_to_string(&p->max_version.value) : NULL;

        if (a && b)
                return streq(a, b) ? strprintf("%s %s.x", def->instance, a)
                                   : strprintf("%s %s to %s.x", def->instance, a, b);
        if (a)
                return strprintf("%s >= %s", def->instance, a);
        if (b)
                return strprintf("%s <= %s.x", def->instance, b);
        return strprintf("%s installed", def->instance);
}

static int run_tool(const NpCheckContext *ctx, const NpCheckDef *def, NpResult *r)
{
        const ToolParams *p = def->params;
        const NpToolFacts *t = np_facts_tool(ctx->facts, def->instance);
        _cleanup_free_ char *expected = range_text(def), *have = NULL, *observed = NULL;
        bool low, high;
        int k;

        if (!expected)
                return -ENOMEM;
        if (!t)
                return np_result_set(r, NP_STATUS_UNKNOWN, NULL, expected, "%s was not probed",
                                     def->instance);
        if (t->unknown)
                return np_result_set(r, NP_STATUS_UNKNOWN, t->path, expected, "%s", t->unknown);
        if (!t->path) {
                k = np_result_set(r, NP_STATUS_FAIL, "not found in PATH", expected,
                                  "%s is not installed on this machine", def->instance);
                return k < 0 ? k
                             : np_result_remedy(r, "install %s and put it in PATH", def->instance);
        }
        if (!p->min_version.set && !p->max_version.set) {
                observed = strprintf("%s (%s)", t->path, strna(t->output));
                return observed ? np_result_set(r, NP_STATUS_PASS, observed, expected, NULL)
                                : -ENOMEM;
        }
        if (!t->has_version)
                return np_result_set(r, NP_STATUS_UNKNOWN, t->path, expected,
                                     "%s printed no version: \"%s\"", t->path, strna(t->output));
        have = np_version_to_string(&t->version);
        observed = strprintf("%s (%s)", strna(have), t->path);
        if (!have || !observed)
                return -ENOMEM;
        low =
            p->min_version.set && np_version_compare(&t->version, &p->min_version.value, true) < 0;
        high =
            p->max_version.set && np_version_compare(&t->version, &p->max_version.value, true) > 0;
        if (!low && !high)
                return np_result_set(r, NP_STATUS_PASS, observed, expected, NULL);
        k = np_result_set(r, NP_STATUS_FAIL, observed, expected, "%s %s is %s the range (%s)",
                          def->instance, have, low ? "below" : "above", expected);
        return k < 0 ? k : np_result_remedy(r, "install %s", expected);
}

const NpCheckType np_check_tool_version = {
        .name = "tool.version",
        .instance = true,
        .what = "a command name",
        NP_CHECK_PARAMS(tool_params, ToolParams),
        .default_title = "Tool installed",
        .verify_instance = verify_tool_name,
        .verify = verify_tool,
        .request = request_tool,
        .run = run_tool,
};
