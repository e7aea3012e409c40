/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * unit.enabled:NAME and unit.active:NAME: a service (or the socket that activates it) is enabled
 * and running. Units= lists the units that count; the default is NAME.service and NAME.socket.
 */

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "check/check.h"
#include "util/strv.h"

static int verify_unit_name(const char *name, char **ret_error)
{
        for (const char *c = name; *c; c++)
                if (!isalnum((unsigned char)*c) && !strchr("_-.@:", *c)) {
                        *ret_error = strprintf("\"%s\" is not a unit name", name);
                        return -EINVAL;
                }
        return 0;
}

typedef struct UnitParams {
        char **units; /* Units=: any of them counts */
} UnitParams;

static const NpParam unit_params[] = {
        NP_PARAM("Units", NP_PARAM_NAMES, UnitParams, units, NP_PARAM_CONFLICT_DIFFERENT,
                 "unit names"),
};

/* The units that count for this check. */
static char **units_of(const NpCheckDef *def)
{
        const UnitParams *p = def->params;
        char **l = NULL;

        if (p->units)
                return strv_copy(p->units);
        if (strchr(def->instance, '.'))
                return strv_extend(&l, def->instance) < 0 ? NULL : l;
        if (strv_consume(&l, strprintf("%s.service", def->instance)) < 0 ||
            strv_consume(&l, strprintf("%s.socket", def->instance)) < 0)
                return strv_free(l);
        return l;
}

char **np_check_unit_names(const NpCheckDef *def)
{
        return units_of(def);
}

static int request_units(const NpCheckDef *def, const NpSettings *s, NpProbeRequest *req)
{
        _cleanup_strv_free_ char **units = units_of(def);
        (void)s;

        if (!units)
                return -ENOMEM;
        STRV_FOREACH (u, units) {
                int r = strv_extend_unique(&req->units, *u);
                if (r < 0)
                        return r;
        }
        return 0;
}

typedef enum UnitAspect {
        ASPECT_ENABLED,
        ASPECT_ACTIVE,
} UnitAspect;

/* "enabled-runtime" lives in /run: gone after a reboot. "reloading" is running. */
static bool unit_good(const NpUnitFacts *u, UnitAspect aspect)
{
        if (aspect == ASPECT_ENABLED)
                return streq_ptr(u->unit_file_state, "enabled");
        return STR_IN_SET(strempty(u->active_state), "active", "reloading");
}

/* A service among the units that makes its socket worthless: masked (the socket cannot start
 * it) or, for running, failed or not running and unable to start (the socket still listens,
 * the daemon is not there and will not come: probe/unit-exec.c). */
static const NpUnitFacts *blocking_service(const NpCheckContext *ctx, char **units,
                                           UnitAspect aspect)
{
        STRV_FOREACH (name, units) {
                const NpUnitFacts *u = np_facts_unit(ctx->facts, *name);

                if (!u || u->unknown || !endswith(u->name, ".service"))
                        continue;
                if (streq_ptr(u->load_state, "masked") || streq_ptr(u->unit_file_state, "masked"))
                        return u;
                if (aspect == ASPECT_ACTIVE && streq_ptr(u->active_state, "failed"))
                        return u;
                if (aspect == ASPECT_ACTIVE && u->start_fails && !unit_good(u, aspect))
                        return u;
        }
        return NULL;
}

static char *unit_describe(const NpUnitFacts *u, UnitAspect aspect)
{
        if (streq_ptr(u->load_state, "not-found"))
                return strprintf("%s: not found", u->name);
        if (aspect == ASPECT_ENABLED)
                return strprintf("%s: %s", u->name,
                                 isempty(u->unit_file_state) ? "no unit file state"
                                                             : u->unit_file_state);
        return strprintf("%s: %s (%s)", u->name, strna(u->active_state), strna(u->sub_state));
}

static int run_units(const NpCheckContext *ctx, const NpCheckDef *def, NpResult *r,
                     UnitAspect aspect)
{
        _cleanup_strv_free_ char **units = units_of(def), **seen = NULL, **unknown = NULL;
        _cleanup_free_ char *expected = NULL, *observed = NULL, *unknown_text = NULL, *names = NULL;
        bool good = false, any_found = false;
        const char *prefer = NULL;
        int k;

        if (!units)
                return -ENOMEM;
        names = strv_join(units, " or ");
        expected =
            strprintf("%s %s", strna(names), aspect == ASPECT_ENABLED ? "enabled" : "active");
        if (!names || !expected)
                return -ENOMEM;

        STRV_FOREACH (name, units) {
                const NpUnitFacts *u = np_facts_unit(ctx->facts, *name);

                if (!u || u->unknown) {
                        if (strv_extend_unique(&unknown, u ? u->unknown : "not probed") < 0)
                                return -ENOMEM;
                        continue;
                }
                if (!streq_ptr(u->load_state, "not-found")) {
                        any_found = true;
                        /* The socket is the one to enable where it exists (Debian's iscsid). */
                        if (!prefer || endswith(u->name, ".socket"))
                                prefer = u->name;
                }
                if (unit_good(u, aspect))
                        good = true;
                if (strv_consume(&seen, unit_describe(u, aspect)) < 0)
                        return -ENOMEM;
        }
        observed = strv_join(seen, "; ");
        if (!observed)
                return -ENOMEM;
        if (good && strv_length(units) > 1) {
                const NpUnitFacts *b = blocking_service(ctx, units, aspect);

                if (b) {
                        bool masked = streq_ptr(b->load_state, "masked") ||
                                      streq_ptr(b->unit_file_state, "masked");

                        if (masked)
                                k = np_result_set(r, NP_STATUS_FAIL, observed, expected,
                                                  "%s is masked: nothing, not even its socket, "
                                                  "can start it",
                                                  b->name);
                        else if (streq_ptr(b->active_state, "failed"))
                                k = np_result_set(r, NP_STATUS_FAIL, observed, expected,
                                                  "%s has failed: its socket still listens, but "
                                                  "the daemon is not running",
                                                  b->name);
                        else
                                k = np_result_set(r, NP_STATUS_FAIL, observed, expected,
                                                  "%s is not running and cannot start: %s; its "
                                                  "socket listens, but the daemon will not come",
                                                  b->name, b->start_fails);
                        if (k < 0)
                                return k;
                        if (masked)
                                return np_result_remedy(r, "systemctl unmask %s", b->name);
                        if (streq_ptr(b->active_state, "failed"))
                                return np_result_remedy(r,
                                                        "journalctl -u %s; then systemctl "
                                                        "restart %s",
                                                        b->name, b->name);
                        return np_result_remedy(r,
                                                "correct the line named, then systemctl "
                                                "restart %s",
                                                b->name);
                }
        }
        if (good)
                return np_result_set(r, NP_STATUS_PASS, observed, expected, NULL);
        if (strv_length(unknown) > 0) {
                unknown_text = strv_join(unknown, "; ");
                return unknown_text ? np_result_set(r, NP_STATUS_UNKNOWN, observed, expected, "%s",
                                                    unknown_text)
                                    : -ENOMEM;
        }
        if (!any_found) {
                k = np_result_set(r, NP_STATUS_FAIL, observed, expected, "none of %s is installed",
                                  names);
                return k < 0 ? k
                             : np_result_remedy(r, "install the package that provides %s", names);
        }
        STRV_FOREACH (name, units) {
                const NpUnitFacts *u = np_facts_unit(ctx->facts, *name);

                if (aspect == ASPECT_ACTIVE && u && u->start_fails) {
                        k = np_result_set(r, NP_STATUS_FAIL, observed, expected,
                                          "not running, and %s cannot start: %s", u->name,
                                          u->start_fails);
                        return k < 0 ? k
                                     : np_result_remedy(r,
                                                        "correct the line named, then "
                                                        "systemctl start %s",
                                                        prefer);
                }
        }
        k = np_result_set(r, NP_STATUS_FAIL, observed, expected, "%s",
                          aspect == ASPECT_ENABLED ? "not enabled: it will not start at boot"
                                                   : "not running");
        if (k < 0)
                return k;
        return np_result_remedy(r, "systemctl %s %s",
                                aspect == ASPECT_ENABLED ? "enable --now" : "start", prefer);
}

static int run_enabled(const NpCheckContext *ctx, const NpCheckDef *def, NpResult *r)
{
        return run_units(ctx, def, r, ASPECT_ENABLED);
}

static int run_active(const NpCheckContext *ctx, const NpCheckDef *def, NpResult *r)
{
        return run_units(ctx, def, r, ASPECT_ACTIVE);
}

const NpCheckType np_check_unit_enabled = {
        .name = "unit.enabled",
        .instance = true,
        .what = "a unit or service name",
        NP_CHECK_PARAMS(unit_params, UnitParams),
        .default_title = "Service is enabled",
        .verify_instance = verify_unit_name,
        .request = request_units,
        .run = run_enabled,
        .fix = "unit-enable",
};

const NpCheckType np_check_unit_active = {
        .name = "unit.active",
        .instance = true,
        .what = "a unit or service name",
        NP_CHECK_PARAMS(unit_params, UnitParams),
        .default_title = "Service is running",
        .verify_instance = verify_unit_name,
        .request = request_units,
        .run = run_active,
        .fix = "unit-start",
};
