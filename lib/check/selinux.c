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

        if (s->next_unknown)
                return np_result_set(r, NP_STATUS_UNKNOWN, observed, expected,
                                     "cannot tell the mode after the next boot: %s",
                                     s->next_unknown);
        if (s->next_mode != NP_SELINUX_ENFORCING) {
                _cleanup_free_ char *obs = strprintf("%s; after the next boot: %s", observed,
                                                     np_selinux_mode_to_string(s->next_mode));

                return obs ? np_result_set(r, NP_STATUS_PASS, obs, expected,
                                           "SELinux will not enforce after a reboot: %s",
                                           strna(s->next_detail))
                           : -ENOMEM;
        }
        /* Enforcing after the next boot: say which setting makes it so. */
        {
                _cleanup_free_ char *obs =
                    strprintf("%s; after the next boot: enforcing", observed);

                if (!obs)
                        return -ENOMEM;
                k = np_result_set(r, NP_STATUS_FAIL, obs, expected,
                                  "SELinux enforces after the next boot: %s (%s)",
                                  strna(s->next_detail), strna(s->next_lsm_detail));
                if (k < 0)
                        return k;
        }
        if (s->cmdline_enforcing > 0)
                return np_result_remedy(r,
                                        "remove enforcing=%d from the boot loader's kernel "
                                        "command line (GRUB_CMDLINE_LINUX in /etc/default/grub, "
                                        "then update-grub or grub2-mkconfig)",
                                        s->cmdline_enforcing);
        if (s->config_set && s->config == NP_SELINUX_ENFORCING)
                return np_result_remedy(r, "sed -i 's/^SELINUX=.*/SELINUX=permissive/' "
                                           "/etc/selinux/config");
        return np_result_remedy(r, "set SELINUX=permissive in /etc/selinux/config");
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
