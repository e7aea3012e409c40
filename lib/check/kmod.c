/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kmod.loaded:NAME and kmod.persistent:NAME: a kernel module is there now and after a reboot. */

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "check/check.h"
#include "util/strv.h"

static int verify_module_name(const char *name, char **ret_error)
{
        for (const char *c = name; *c; c++)
                if (!isalnum((unsigned char)*c) && *c != '_' && *c != '-') {
                        *ret_error = strprintf("\"%s\" is not a kernel module name", name);
                        return -EINVAL;
                }
        return 0;
}

static int request_module(const NpCheckDef *def, const NpSettings *s, NpProbeRequest *req)
{
        (void)s;
        return strv_extend_unique(&req->modules, def->instance);
}

static int run_loaded(const NpCheckContext *ctx, const NpCheckDef *def, NpResult *r)
{
        const NpModuleFacts *m = np_facts_module(ctx->facts, def->instance);
        _cleanup_free_ char *observed = NULL;
        int k;

        if (!m)
                return np_result_set(r, NP_STATUS_UNKNOWN, NULL, "loaded or built in",
                                     "module %s was not probed", def->instance);
        if (m->unknown)
                return np_result_set(r, NP_STATUS_UNKNOWN, NULL, "loaded or built in", "%s",
                                     m->unknown);
        observed =
            strprintf("%s (%s)", np_module_state_to_string(m->state), strna(m->state_detail));
        if (!observed)
                return -ENOMEM;
        switch (m->state) {
        case NP_MODULE_LOADED:
        case NP_MODULE_BUILTIN:
                return np_result_set(r, NP_STATUS_PASS, observed, "loaded or built in",
                                     "%s is in the running kernel", m->canonical);
        case NP_MODULE_AVAILABLE:
                k = np_result_set(r, NP_STATUS_FAIL, observed, "loaded or built in",
                                  "%s is installed but not loaded", m->canonical);
                return k < 0 ? k : np_result_remedy(r, "modprobe %s", m->canonical);
        default:
                k = np_result_set(r, NP_STATUS_FAIL, observed, "loaded or built in",
                                  "%s is neither loaded nor installed for kernel %s", m->canonical,
                                  strna(ctx->facts->system.kernel));
                if (k < 0)
                        return k;
                switch (ctx->facts->system.distro) {
                case NP_DISTRO_DEBIAN:
                        return np_result_remedy(r,
                                                "apt-get install -y linux-modules-extra-$(uname "
                                                "-r) (Ubuntu) or the matching linux-image "
                                                "package, then modprobe %s",
                                                m->canonical);
                case NP_DISTRO_RHEL:
                        return np_result_remedy(r,
                                                "dnf install -y kernel-modules-$(uname -r) "
                                                "kernel-modules-extra-$(uname -r), then "
                                                "modprobe %s",
                                                m->canonical);
                default:
                        return np_result_remedy(r,
                                                "install the kernel modules package for "
                                                "kernel $(uname -r), then modprobe %s",
                                                m->canonical);
                }
        }
}

static int run_persistent(const NpCheckContext *ctx, const NpCheckDef *def, NpResult *r)
{
        const NpModuleFacts *m = np_facts_module(ctx->facts, def->instance);
        const NpBootFacts *b = &ctx->facts->boot;
        const char *expected = "loaded at boot (built in, or listed where systemd-modules-load "
                               "reads it, with nothing in the way)";
        _cleanup_free_ char *observed = NULL, *where = NULL, *why_not = NULL, *notes = NULL;
        int k;

        if (!m)
                return np_result_set(r, NP_STATUS_UNKNOWN, NULL, expected,
                                     "module %s was not probed", def->instance);
        if (!m->canonical)
                return np_result_set(r, NP_STATUS_UNKNOWN, NULL, expected, "%s", strna(m->unknown));
        if (m->next_unknown)
                return np_result_set(r, NP_STATUS_UNKNOWN, NULL, expected, "%s", m->next_unknown);
        if (m->persist_unknown)
                return np_result_set(r, NP_STATUS_UNKNOWN, NULL, expected, "%s",
                                     m->persist_unknown);
        if (m->next_state == NP_MODULE_BUILTIN)
                return np_result_set(r, NP_STATUS_PASS, "built in", expected,
                                     "%s is %s, the kernel the next boot runs (%s)", m->canonical,
                                     strna(m->next_detail), strna(b->kernel_source));
        where = strv_join(m->persisted_in, ", ");
        why_not = strv_join(m->not_applied, "; ");
        notes = strv_join(m->notes, "; ");
        if (!where || !why_not || !notes)
                return -ENOMEM;
        if (m->next_state == NP_MODULE_MISSING) {
                observed = strprintf("%s%s; not installed for kernel %s",
                                     isempty(where) ? "not listed" : "listed in ", where,
                                     strna(b->kernel));
                k = observed
                        ? np_result_set(r, NP_STATUS_FAIL, observed, expected,
                                        "%s is %s, which the next boot runs (%s)", m->canonical,
                                        strna(m->next_detail), strna(b->kernel_source))
                        : -ENOMEM;
                return k < 0 ? k
                             : np_result_remedy(r,
                                                "install the modules package of kernel %s (the "
                                                "next boot's), or make the boot loader boot a "
                                                "kernel that has %s",
                                                strna(b->kernel), m->canonical);
        }
        if (strv_length(m->persisted_in) == 0) {
                k = np_result_set(r, NP_STATUS_FAIL,
                                  isempty(why_not) ? "not listed in any modules-load.d file"
                                                   : "not listed where the next boot reads it",
                                  expected, "%s will not be loaded at boot%s%s", m->canonical,
                                  isempty(why_not) ? "" : ": ", why_not);
                if (k < 0)
                        return k;
                return np_result_remedy(r, "echo %s > /etc/modules-load.d/%s.conf", m->canonical,
                                        m->canonical);
        }
        if (m->prevented) {
                observed = strprintf("listed in %s; prevented by %s", where, m->prevented);
                k = observed ? np_result_set(r, NP_STATUS_FAIL, observed, expected,
                                             "%s will not be in the kernel after a reboot: %s",
                                             m->canonical, m->prevented)
                             : -ENOMEM;
                if (k < 0)
                        return k;
                if (m->blacklisted && strstr(m->prevented, ": blacklist "))
                        return np_result_remedy(r,
                                                "remove \"blacklist %s\" from /etc/modprobe.d "
                                                "(%s)",
                                                m->canonical, m->prevented);
                return np_result_remedy(r, "remove what prevents it: %s", m->prevented);
        }
        if (m->prevented_unknown)
                return np_result_set(r, NP_STATUS_UNKNOWN, where, expected, "%s",
                                     m->prevented_unknown);
        if (ctx->facts->modules_load_masked) {
                observed = strprintf("listed in %s; systemd-modules-load.service is masked (%s)",
                                     where, ctx->facts->modules_load_masked);
                k = observed ? np_result_set(r, NP_STATUS_FAIL, observed, expected,
                                             "systemd-modules-load.service is masked: neither "
                                             "modules-load.d nor modules_load= is read at boot")
                             : -ENOMEM;
                return k < 0 ? k
                             : np_result_remedy(r, "systemctl unmask systemd-modules-load.service");
        }
        observed = strprintf("listed in %s", where);
        return observed
                   ? np_result_set(r, NP_STATUS_PASS, observed, expected,
                                   "systemd-modules-load loads %s at boot into kernel %s%s%s%s%s",
                                   m->canonical, strna(b->kernel),
                                   isempty(why_not) ? "" : "; note: ", why_not,
                                   isempty(notes) ? "" : "; ", notes)
                   : -ENOMEM;
}

const NpCheckType np_check_kmod_loaded = {
        .name = "kmod.loaded",
        .instance = true,
        .what = "a module name",
        .default_title = "Kernel module is loaded",
        .verify_instance = verify_module_name,
        .request = request_module,
        .run = run_loaded,
        .fix = "kmod-load",
};

const NpCheckType np_check_kmod_persistent = {
        .name = "kmod.persistent",
        .instance = true,
        .what = "a module name",
        .default_title = "Kernel module is loaded at boot",
        .verify_instance = verify_module_name,
        .request = request_module,
        .run = run_persistent,
        .fix = "modules-load-persist",
};
