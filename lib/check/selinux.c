/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* selinux.runtime and selinux.config: SELinux must not enforce, now or after a reboot. */

#include <stdlib.h>

#include "check/check.h"
#include "util/strv.h"

static int request_selinux(const NpCheckDef *def, const NpSettings *s, NpProbeRequest *req)
{
        (void)def, (void)s;
        req->selinux = true;
        return 0;
}

static int run_runtime(const NpCheckContext *ctx, const NpCheckDef *def, NpResult *r)
{
        const NpSelinuxFacts *s = &ctx->facts->selinux;
        const char *mode = np_selinux_mode_to_string(s->runtime);
        _cleanup_free_ char *observed = NULL;
        (void)def;

        if (s->runtime_unknown)
                return np_result_set(r, NP_STATUS_UNKNOWN, NULL, "permissive or disabled",
                                     "cannot read the SELinux mode: %s", s->runtime_unknown);
        observed = strprintf("%s (%s)", mode, strna(s->runtime_detail));
        if (!observed)
                return -ENOMEM;
        if (s->runtime == NP_SELINUX_ENFORCING) {
                int k = np_result_set(r, NP_STATUS_FAIL, observed, "permissive or disabled",
                                      "SELinux is enforcing now");
                return k < 0 ? k : np_result_remedy(r, "setenforce 0");
        }
        return np_result_set(r, NP_STATUS_PASS, observed, "permissive or disabled",
                             "SELinux is not enforcing");
}

static int run_config(const NpCheckContext *ctx, const NpCheckDef *def, NpResult *r)
{
        const NpSelinuxFacts *s = &ctx->facts->selinux;
        const char *expected = "SELINUX=permissive or disabled (or no SELinux)";
        _cleanup_free_ char *observed = NULL;
        int k;
        (void)def;

        if (s->config_unknown)
                return np_result_set(r, NP_STATUS_UNKNOWN, NULL, expected,
                                     "cannot read /etc/selinux/config: %s", s->config_unknown);
        if (!s->config_present)
                observed = strdup("no /etc/selinux/config");
        else if (s->config_set)
                observed = strprintf("SELINUX=%s (/etc/selinux/config:%u)", s->config_value,
                                     s->config_line);
        else if (s->config_value)
                observed = strprintf("no valid SELINUX= line (line %u \"SELINUX=%s\" is not "
                                     "understood by libselinux)",
                                     s->config_line, s->config_value);
        else
                observed = strdup("no SELINUX= line in /etc/selinux/config");
        if (!observed)
                return -ENOMEM;

        if (s->config_set && s->config == NP_SELINUX_ENFORCING) {
                k = np_result_set(r, NP_STATUS_FAIL, observed, expected,
                                  "/etc/selinux/config makes SELinux enforce after the next "
                                  "boot");
                if (k < 0)
                        return k;
                return np_result_remedy(r, "sed -i 's/^SELINUX=.*/SELINUX=permissive/' "
                                           "/etc/selinux/config");
        }
        /* The kernel command line wins over the file at boot; it only matters when the SELinux
         * LSM is active, i.e. when /sys/fs/selinux exists. */
        if (s->cmdline_unknown)
                return np_result_set(r, NP_STATUS_UNKNOWN, observed, expected,
                                     "cannot read the kernel command line, whose enforcing= "
                                     "overrides the file: %s",
                                     s->cmdline_unknown);
        if (s->cmdline_enforcing > 0 &&
            !(s->runtime == NP_SELINUX_DISABLED && !s->runtime_unknown && s->runtime_detail &&
              startswith(s->runtime_detail, "no /sys/fs/selinux"))) {
                k = np_result_set(r, NP_STATUS_FAIL, observed, expected,
                                  "the kernel command line has enforcing=%d, which overrides "
                                  "/etc/selinux/config at boot",
                                  s->cmdline_enforcing);
                if (k < 0)
                        return k;
                return np_result_remedy(r,
                                        "remove enforcing=%d from the boot loader's kernel "
                                        "command line (GRUB_CMDLINE_LINUX in /etc/default/grub, "
                                        "then update-grub or grub2-mkconfig)",
                                        s->cmdline_enforcing);
        }
        if (!s->config_present)
                return np_result_set(r, NP_STATUS_PASS, observed, expected,
                                     "SELinux is not configured on this host");
        if (!s->config_set)
                return np_result_set(r, NP_STATUS_PASS, observed, expected,
                                     "with no valid SELINUX= line the boot falls back to "
                                     "permissive");
        return np_result_set(r, NP_STATUS_PASS, observed, expected,
                             "SELinux will not enforce after a reboot");
}

const NpCheckType np_check_selinux_runtime = {
        .name = "selinux.runtime",
        .default_title = "SELinux is not enforcing",
        .request = request_selinux,
        .run = run_runtime,
        .fix = "selinux-permissive-now",
};

const NpCheckType np_check_selinux_config = {
        .name = "selinux.config",
        .default_title = "SELinux stays non-enforcing after a reboot",
        .request = request_selinux,
        .run = run_config,
        .fix = "selinux-permissive-config",
};
