/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Kernel module fixes: load it now (libkmod, as systemd-modules-load does) and at every boot
 * (/etc/modules-load.d/nodeprep.conf: one file nodeprep owns, listing every module it
 * persists; never modprobe.d). When the configuration keeps the module out of the kernel (a
 * blacklist, an install command such as /bin/true, module_blacklist= on the command line, a
 * modprobe.d alias to something else, no module for the next kernel), neither fix claims a
 * change: both are manual, naming the line that prevents it.
 */

#include <stdlib.h>
#include <string.h>

#include "fix/engine/fix-internal.h"
#include "fix/plan/conf-edit.h"
#include "util/strv.h"

#define MODULES_LOAD_DIR  "/etc/modules-load.d"
#define MODULES_LOAD_FILE MODULES_LOAD_DIR "/nodeprep.conf"

static int module_manual_reason(const NpModuleFacts *m, const NpResult *res, NpFixEntry *e)
{
        if (!m)
                return np_fix_entry_manual(e, res->remedy, "the module was not probed");
        if (m->unknown)
                return np_fix_entry_manual(e, res->remedy, "%s", m->unknown);
        return 0;
}

/* The configuration keeps the module out of the kernel: the fix would claim a change that does
 * not happen, so it is manual, naming the line (file:line or the command-line word). */
static const char *not_overridden(const char *why)
{
        return strstr(why, ": blacklist ")
                   ? "nodeprep does not override an administrator's blacklist"
                   : "nodeprep does not override an administrator's "
                     "modprobe.d or kernel command line";
}

static int load_manual_reason(const NpModuleFacts *m, const NpResult *res, NpFixEntry *e)
{
        if (m->load_prevented)
                return np_fix_entry_manual(e, res->remedy, "%s; %s", m->load_prevented,
                                           not_overridden(m->load_prevented));
        if (m->load_prevented_unknown)
                return np_fix_entry_manual(e, res->remedy, "%s", m->load_prevented_unknown);
        return 0;
}

static int persist_manual_reason(const NpFacts *f, const NpModuleFacts *m, const NpResult *res,
                                 NpFixEntry *e)
{
        if (m->next_unknown)
                return np_fix_entry_manual(e, res->remedy, "%s", m->next_unknown);
        if (m->next_state == NP_MODULE_MISSING)
                return np_fix_entry_manual(e, res->remedy,
                                           "%s is %s, which the next boot runs: listing it "
                                           "would load nothing",
                                           m->canonical, strna(m->next_detail));
        if (m->prevented)
                return np_fix_entry_manual(e, res->remedy, "%s; %s", m->prevented,
                                           not_overridden(m->prevented));
        if (m->prevented_unknown)
                return np_fix_entry_manual(e, res->remedy, "%s", m->prevented_unknown);
        if (f->modules_load_masked)
                return np_fix_entry_manual(e, res->remedy,
                                           "systemd-modules-load.service is masked (%s): nothing "
                                           "in modules-load.d is loaded at boot",
                                           f->modules_load_masked);
        return 0;
}

static int plan_kmod_load(NpFixContext *c, const NpCheckDef *def, const NpResult *res,
                          NpFixEntry *e)
{
        const NpModuleFacts *m = np_facts_module(c->facts, def->instance);
        NpStep s = {
                .kind = NP_STEP_KMOD_LOAD,
                .phase = NP_PHASE_KERNEL,
                .running_system = true,
        };
        int r;

        r = module_manual_reason(m, res, e);
        if (r < 0 || e->outcome == NP_FIX_MANUAL)
                return r;
        r = load_manual_reason(m, res, e);
        if (r < 0 || e->outcome == NP_FIX_MANUAL)
                return r;
        if (m->state == NP_MODULE_MISSING)
                return np_fix_entry_manual(e, res->remedy,
                                           "%s is not installed for kernel %s, so there is "
                                           "nothing to load",
                                           m->canonical, strna(c->facts->system.kernel));
        s.module = strdup(m->canonical);
        s.summary = strprintf("load kernel module %s with its dependencies (libkmod, as "
                              "modprobe: modprobe.d options and blacklists apply)",
                              m->canonical);
        s.cannot_undo = strprintf("nodeprep does not unload kernel modules (iSCSI sessions may "
                                  "be using %s): modprobe -r %s if nothing does",
                                  m->canonical, m->canonical);
        if (!s.module || !s.summary || !s.cannot_undo) {
                np_step_done(&s);
                return -ENOMEM;
        }
        return np_fix_add_step(c, e, &s);
}

const NpFixType np_fix_kmod_load = {
        .id = "kmod-load",
        .running_system = true,
        .plan = plan_kmod_load,
};

static int edit_modules_load(const char *data, size_t size, void *userdata, char **ret,
                             size_t *ret_size, char **ret_where, char **ret_error)
{
        int r = np_modules_load_conf_add(data, size, userdata, ret, ret_size, ret_error);

        if (r > 0 && !(*ret_where = strdup(data ? "appended" : "new file")))
                return -ENOMEM;
        return r;
}

static int plan_persist(NpFixContext *c, const NpCheckDef *def, const NpResult *res, NpFixEntry *e)
{
        const NpModuleFacts *m = np_facts_module(c->facts, def->instance);
        _cleanup_free_ char *fmt = NULL, *shown = NULL;
        int r;

        r = module_manual_reason(m, res, e);
        if (r < 0 || e->outcome == NP_FIX_MANUAL)
                return r;
        if (m->persist_unknown)
                return np_fix_entry_manual(e, res->remedy, "%s", m->persist_unknown);
        if (!m->canonical)
                return np_fix_entry_manual(e, res->remedy, "the module's name is unknown");
        r = persist_manual_reason(c->facts, m, res, e);
        if (r < 0 || e->outcome == NP_FIX_MANUAL)
                return r;

        if (c->facts->modules_load_etc_missing) {
                /* A directory another step of this plan already creates is not created twice. */
                bool planned = false;
                NpStep s = {
                        .kind = NP_STEP_MKDIR,
                        .phase = NP_PHASE_MKDIR,
                        .mode = 0755,
                };

                FOREACH_ARRAY (other, c->run->steps, c->run->n_steps)
                        if (other->kind == NP_STEP_MKDIR && streq(other->path, MODULES_LOAD_DIR)) {
                                planned = true;
                                r = strv_extend_unique(&other->checks, e->id);
                                if (r < 0)
                                        return r;
                        }
                if (!planned) {
                        s.path = strdup(MODULES_LOAD_DIR);
                        s.summary =
                            strdup("create directory " MODULES_LOAD_DIR " (root:root, 0755)");
                        if (!s.path || !s.summary) {
                                np_step_done(&s);
                                return -ENOMEM;
                        }
                        r = np_fix_add_step(c, e, &s);
                        if (r < 0)
                                return r;
                }
        } else if (c->facts->modules_load_etc_unusable) {
                shown = np_root_prefix(c->root, MODULES_LOAD_DIR);
                return np_fix_entry_failed(e, "%s is not a directory nodeprep can use: %s",
                                           strna(shown), c->facts->modules_load_etc_unusable);
        }

        fmt = strprintf("add %s to " MODULES_LOAD_FILE " (%%s), which systemd-modules-load "
                        "reads at every boot",
                        m->canonical);
        if (!fmt)
                return -ENOMEM;
        /* A missing directory makes the file new: the mkdir step runs before file steps. */
        r = np_fix_edit_file(c, e, MODULES_LOAD_FILE, 0644, edit_modules_load, (void *)m->canonical,
                             fmt);
        return r < 0 ? r : 0;
}

const NpFixType np_fix_modules_load_persist = {
        .id = "modules-load-persist",
        .plan = plan_persist,
};
