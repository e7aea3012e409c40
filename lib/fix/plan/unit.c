/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * unit.enabled and unit.active: EnableUnitFiles + Reload, and StartUnit waiting for the job,
 * over systemd's D-Bus API. Of the units a check accepts, the socket is chosen where the
 * distribution ships one (Debian's iscsid is socket-activated).
 */

#include <stdlib.h>
#include <string.h>

#include "fix/engine/fix-internal.h"
#include "util/strv.h"

/* The unit exists: systemd knows it, or (under --root, with no systemd to ask) the probe found
 * its file. */
static bool unit_exists(const NpFixContext *c, const char *name, const NpUnitFacts **ret)
{
        const NpUnitFacts *u = np_facts_unit(c->facts, name);

        *ret = u && !u->unknown ? u : NULL;
        if (*ret)
                return !streq_ptr(u->load_state, "not-found");
        return u && u->file;
}

static int choose_unit(const NpFixContext *c, const NpCheckDef *def, char **ret,
                       const NpUnitFacts **ret_facts)
{
        _cleanup_strv_free_ char **names = np_check_unit_names(def);
        const NpUnitFacts *chosen_facts = NULL;
        const char *chosen = NULL;

        if (!names)
                return -ENOMEM;
        STRV_FOREACH (n, names) {
                const NpUnitFacts *u;

                if (!unit_exists(c, *n, &u))
                        continue;
                if (!chosen || (endswith(*n, ".socket") && !endswith(chosen, ".socket"))) {
                        chosen = *n;
                        chosen_facts = u;
                }
        }
        *ret_facts = chosen_facts;
        *ret = chosen ? strdup(chosen) : NULL;
        return chosen && !*ret ? -ENOMEM : 0;
}

static int plan_unit(NpFixContext *c, const NpCheckDef *def, const NpResult *res, NpFixEntry *e,
                     bool enable)
{
        _cleanup_free_ char *unit = NULL;
        const NpUnitFacts *u = NULL;
        NpStep s = {
                .kind = enable ? NP_STEP_UNIT_ENABLE : NP_STEP_UNIT_START,
                .phase = enable ? NP_PHASE_UNIT_ENABLE : NP_PHASE_UNIT_START,
                .running_system = true,
                .timeout_sec = 90,
        };
        int r;

        r = choose_unit(c, def, &unit, &u);
        if (r < 0)
                return r;
        if (!unit)
                return np_fix_entry_manual(e, res->remedy, "%s", strna(res->message));
        if (enable && u && STR_IN_SET(strempty(u->unit_file_state), "masked", "masked-runtime"))
                return np_fix_entry_manual(e, NULL,
                                           "%s is masked; nodeprep does not unmask what "
                                           "an administrator masked (systemctl unmask %s)",
                                           unit, unit);
        if (enable && u && STR_IN_SET(strempty(u->unit_file_state), "static", "indirect"))
                return np_fix_entry_manual(e, res->remedy,
                                           "%s is %s: it has nothing to enable itself", unit,
                                           u->unit_file_state);
        s.unit = TAKE_PTR(unit);
        s.unit_previous =
            u ? strdup(strempty(enable ? u->unit_file_state : u->active_state)) : NULL;
        if (enable)
                s.summary = strprintf("enable %s (systemctl enable: EnableUnitFiles, then "
                                      "Reload)",
                                      s.unit);
        else {
                s.summary = strprintf("start %s and wait for the job to finish (systemctl "
                                      "start)",
                                      s.unit);
                s.cannot_undo = strprintf("nodeprep leaves a unit it started running (stopping "
                                          "iscsid can break iSCSI sessions): systemctl stop %s",
                                          s.unit);
        }
        if (!s.summary || (u && !s.unit_previous) || (!enable && !s.cannot_undo)) {
                np_step_done(&s);
                return -ENOMEM;
        }
        return np_fix_add_step(c, e, &s);
}

static int plan_enable(NpFixContext *c, const NpCheckDef *def, const NpResult *res, NpFixEntry *e)
{
        return plan_unit(c, def, res, e, true);
}

static int plan_start(NpFixContext *c, const NpCheckDef *def, const NpResult *res, NpFixEntry *e)
{
        return plan_unit(c, def, res, e, false);
}

const NpFixType np_fix_unit_enable = {
        .id = "unit-enable",
        .running_system = true,
        .plan = plan_enable,
};

const NpFixType np_fix_unit_start = {
        .id = "unit-start",
        .running_system = true,
        .plan = plan_start,
};
