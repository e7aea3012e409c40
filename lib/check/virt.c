/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* virt.kvm and runtime.kata: what Kata containers need on a node, checked when UseKata=yes. */

#include "check/check.h"
#include "util/strv.h"

static int request_virt(const NpCheckDef *def, const NpSettings *s, NpProbeRequest *req)
{
        (void)def;
        if (s->use_kata)
                req->virt = true;
        return 0;
}

static int skip_unless_kata(const NpCheckContext *ctx, NpResult *r)
{
        if (ctx->settings->use_kata)
                return 0;
        return np_result_set(r, NP_STATUS_SKIP, NULL, NULL,
                             "Kata containers not requested (UseKata=no; set UseKata=yes in "
                             "[Settings] of nodeprep.conf to check for them)") < 0
                   ? -ENOMEM
                   : 1;
}

static int run_kvm(const NpCheckContext *ctx, const NpCheckDef *def, NpResult *r)
{
        const NpVirtFacts *v = &ctx->facts->virt;
        const char *expected = "/dev/kvm and a CPU with vmx or svm";
        _cleanup_free_ char *observed = NULL;
        int k;
        (void)def;

        k = skip_unless_kata(ctx, r);
        if (k != 0)
                return k < 0 ? k : 0;
        observed = strprintf("/dev/kvm %s; CPU flag %s", v->kvm_device ? "present" : "missing",
                             v->cpu_flag      ? v->cpu_flag
                             : v->cpu_unknown ? "unknown"
                                              : "none");
        if (!observed)
                return -ENOMEM;
        /* Both: systemd creates /dev/kvm from kmod's static nodes before any vendor module
         * loads, and paravirtual KVMs give a /dev/kvm without VT-x/AMD-V; Kata's own host
         * check wants the CPU flag. */
        if (v->kvm_device && v->cpu_flag)
                return np_result_set(r, NP_STATUS_PASS, observed, expected, NULL);
        if (v->kvm_device && v->cpu_unknown)
                return np_result_set(r, NP_STATUS_UNKNOWN, observed, expected, "%s",
                                     v->cpu_unknown);
        if (v->kvm_device) {
                k = np_result_set(r, NP_STATUS_FAIL, observed, expected,
                                  "/dev/kvm exists, but the CPU shows neither vmx nor svm: no "
                                  "hardware virtualisation for Kata's VMs");
                return k < 0 ? k
                             : np_result_remedy(r, "enable VT-x/AMD-V in the firmware, or nested "
                                                   "virtualisation in the hypervisor running this "
                                                   "node");
        }
        if (v->cpu_flag) {
                k = np_result_set(r, NP_STATUS_FAIL, observed, expected,
                                  "the CPU supports %s but /dev/kvm is missing", v->cpu_flag);
                return k < 0
                           ? k
                           : np_result_remedy(r, "modprobe %s",
                                              streq(v->cpu_flag, "vmx") ? "kvm_intel" : "kvm_amd");
        }
        if (v->cpu_unknown)
                return np_result_set(r, NP_STATUS_UNKNOWN, observed, expected, "%s",
                                     v->cpu_unknown);
        k = np_result_set(r, NP_STATUS_FAIL, observed, expected,
                          "no hardware virtualisation: the CPU shows neither vmx nor svm");
        return k < 0 ? k
                     : np_result_remedy(r, "enable VT-x/AMD-V in the firmware, or nested "
                                           "virtualisation in the hypervisor running this node");
}

static int run_kata(const NpCheckContext *ctx, const NpCheckDef *def, NpResult *r)
{
        const char *expected = "kata-runtime or containerd-shim-kata-v2 installed";
        int k;
        (void)def;

        k = skip_unless_kata(ctx, r);
        if (k != 0)
                return k < 0 ? k : 0;
        if (ctx->facts->virt.kata_path)
                return np_result_set(r, NP_STATUS_PASS, ctx->facts->virt.kata_path, expected, NULL);
        k = np_result_set(r, NP_STATUS_FAIL, "not found", expected,
                          "no Kata runtime in /usr/bin, /usr/local/bin or /opt/kata/bin");
        return k < 0 ? k
                     : np_result_remedy(r, "install Kata Containers (kata-containers package or "
                                           "kata-deploy) and configure containerd's runtime "
                                           "class");
}

const NpCheckType np_check_virt_kvm = {
        .name = "virt.kvm",
        .default_title = "Hardware virtualisation for Kata",
        .request = request_virt,
        .run = run_kvm,
};

const NpCheckType np_check_runtime_kata = {
        .name = "runtime.kata",
        .default_title = "Kata containers runtime installed",
        .request = request_virt,
        .run = run_kata,
};
