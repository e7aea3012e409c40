/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A versioned program (facts.tools[]) is installed, at a version in MinVersion..MaxVersion
 * (inclusive). One implementation, two rows of the check type table, so that both ids stay:
 *   tool.version:NAME  any program; missing fails by default (Missing=fail)
 *   kubelet.version    the node's kubelet (RKE2's, k3s, MicroK8s); missing skips by default
 *                      (Missing=skip: the version is checked once it is installed); needs a range
 */

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
        char **args;                /* Args=: what makes the program print its version */
        NpParamVersion min_version; /* MinVersion= */
        NpParamVersion max_version; /* MaxVersion=: inclusive, as far as it is written */
        char *missing;              /* Missing=: "skip" or "fail"; NULL: the row's default */
} ToolParams;

static const NpParam tool_params[] = {
        NP_PARAM("Args", NP_PARAM_ARGS, ToolParams, args, NP_PARAM_CONFLICT_DIFFERENT, "arguments"),
        NP_PARAM("MinVersion", NP_PARAM_VERSION, ToolParams, min_version,
                 NP_PARAM_CONFLICT_DIFFERENT, "a version such as 1.17"),
        NP_PARAM("MaxVersion", NP_PARAM_VERSION, ToolParams, max_version,
                 NP_PARAM_CONFLICT_DIFFERENT, "a version such as 1.21"),
        NP_PARAM("Missing", NP_PARAM_STRING, ToolParams, missing, NP_PARAM_CONFLICT_DIFFERENT,
                 "skip or fail"),
};

/* What differs between the two rows. */
typedef struct ToolRow {
        const char *program;    /* the program checked; NULL: the instance */
        bool missing_skips;     /* Missing= when the profile does not say */
        bool needs_range;       /* MinVersion= and/or MaxVersion= are required */
        bool name_in_expected;  /* "helm >= 3.8" (tool.version) or ">= 1.25" (kubelet.version) */
        bool kubernetes_remedy; /* "run a Kubernetes version in the range ..." */
} ToolRow;

static const ToolRow tool_row = { .name_in_expected = true };
static const ToolRow kubelet_row = {
        .program = "kubelet",
        .missing_skips = true,
        .needs_range = true,
        .kubernetes_remedy = true,
};

/* The row a definition is of: its check type says. */
static const ToolRow *row_of(const NpCheckDef *def)
{
        return def->type == &np_check_kubelet_version ? &kubelet_row : &tool_row;
}

static const char *program(const ToolRow *row, const NpCheckDef *def)
{
        return row->program ? row->program : def->instance;
}

static int verify_tool(const NpCheckDef *def, char **ret_error)
{
        const ToolRow *row = row_of(def);
        const ToolParams *p = def->params;

        if (p->missing && !STR_IN_SET(p->missing, "skip", "fail")) {
                *ret_error = strprintf("Missing=%s: expected skip or fail", p->missing);
                return -EINVAL;
        }
        if (row->needs_range && !p->min_version.set && !p->max_version.set) {
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

static int request_tool(const NpCheckDef *def, const NpSettings *s, NpProbeRequest *req)
{
        const ToolParams *p = def->params;

        (void)s;
        return np_probe_request_add_tool(req, program(row_of(def), def), p->args);
}

/* "helm 3.8 to 3.12.x", "helm >= 3.8", "helm installed"; without the name for kubelet.version */
static char *range_text(const ToolRow *row, const NpCheckDef *def)
{
        const ToolParams *p = def->params;
        const char *name = row->name_in_expected ? program(row, def) : "",
                   *sep = row->name_in_expected ? " " : "";
        _cleanup_free_ char *a =
            p->min_version.set ? np_version_to_string(&p->min_version.value) : NULL;
        _cleanup_free_ char *b =
            p->max_version.set ? np_version_to_string(&p->max_version.value) : NULL;

        if (a && b)
                return streq(a, b) ? strprintf("%s%s%s.x", name, sep, a)
                                   : strprintf("%s%s%s to %s.x", name, sep, a, b);
        if (a)
                return strprintf("%s%s>= %s", name, sep, a);
        if (b)
                return strprintf("%s%s<= %s.x", name, sep, b);
        return strprintf("%s installed", program(row, def));
}

static int run_missing(const ToolRow *row, const NpCheckDef *def, const char *expected, NpResult *r)
{
        const ToolParams *p = def->params;
        const char *name = program(row, def);
        bool skip = p->missing ? streq(p->missing, "skip") : row->missing_skips;
        int k;

        if (skip) {
                _cleanup_free_ char *observed = strprintf("no %s", name);

                return observed ? np_result_set(r, NP_STATUS_SKIP, observed, expected,
                                                "no %s binary on this host: the version is "
                                                "checked once it is installed",
                                                name)
                                : -ENOMEM;
        }
        k = np_result_set(r, NP_STATUS_FAIL, "not found in PATH", expected,
                          "%s is not installed on this machine", name);
        return k < 0 ? k : np_result_remedy(r, "install %s and put it in PATH", name);
}

static int run_tool(const NpCheckContext *ctx, const NpCheckDef *def, NpResult *r)
{
        const ToolRow *row = row_of(def);
        const ToolParams *p = def->params;
        const char *name = program(row, def);
        const NpToolFacts *t = np_facts_tool(ctx->facts, name);
        _cleanup_free_ char *expected = range_text(row, def), *have = NULL, *observed = NULL;
        bool low, high;
        int k;

        if (!expected)
                return -ENOMEM;
        if (!t)
                return np_result_set(r, NP_STATUS_UNKNOWN, NULL, expected, "%s was not probed",
                                     name);
        if (t->unknown)
                return np_result_set(r, NP_STATUS_UNKNOWN, t->path, expected, "%s", t->unknown);
        if (!t->path)
                return run_missing(row, def, expected, r);
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
        /* MaxVersion=1.21 admits 1.21.14: compare only as far as the bound is written. */
        low =
            p->min_version.set && np_version_compare(&t->version, &p->min_version.value, true) < 0;
        high =
            p->max_version.set && np_version_compare(&t->version, &p->max_version.value, true) > 0;
        if (!low && !high)
                return np_result_set(r, NP_STATUS_PASS, observed, expected, NULL);
        k = np_result_set(r, NP_STATUS_FAIL, observed, expected, "%s %s is %s the range (%s)", name,
                          have, low ? "below" : "above", expected);
        if (k < 0)
                return k;
        return row->kubernetes_remedy
                   ? np_result_remedy(r, "run a Kubernetes version in the range %s on this node",
                                      expected)
                   : np_result_remedy(r, "install %s", expected);
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

const NpCheckType np_check_kubelet_version = {
        .name = "kubelet.version",
        NP_CHECK_PARAMS(tool_params, ToolParams),
        .default_title = "kubelet version is supported",
        .verify = verify_tool,
        .request = request_tool,
        .run = run_tool,
};
