/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * SELinux fixes: permissive now (write 0 to /sys/fs/selinux/enforce, which is what
 * setenforce 0 does) and after the next boot (SELINUX=permissive in /etc/selinux/config).
 * Never "disabled": a host that boots without a policy creates unlabelled files, and turning
 * SELinux back on then needs a relabel of the whole file system.
 */

#include <stdlib.h>
#include <string.h>

#include "fix/engine/fix-internal.h"
#include "fix/plan/conf-edit.h"
#include "util/strv.h"

#define SELINUX_ENFORCE "/sys/fs/selinux/enforce"
#define SELINUX_CONFIG  "/etc/selinux/config"
#define NOT_DISABLED                                                                            \
        "permissive, not disabled: switching back from disabled needs a relabel of every file " \
        "at the next boot"

/* A fixture root's enforce file is a plain file: "1" (maybe with a newline) becomes "0". */
static int edit_enforce_file(const char *data, size_t size, void *userdata, char **ret,
                             size_t *ret_size, char **ret_where, char **ret_error)
{
        (void)userdata;
        if (!data || size == 0 || data[0] != '1') {
                *ret_error = strdup("does not read \"1\"");
                return -EINVAL;
        }
        *ret = malloc(size + 1);
        if (!*ret)
                return -ENOMEM;
        memcpy(*ret, data, size);
        (*ret)[0] = '0';
        (*ret)[size] = '\0';
        *ret_size = size;
        *ret_where = strdup("was 1");
        return *ret_where ? 1 : -ENOMEM;
}

static int plan_runtime(NpFixContext *c, const NpCheckDef *def, const NpResult *res, NpFixEntry *e)
{
        NpStep s = {
                .kind = NP_STEP_RUNTIME_WRITE,
                .phase = NP_PHASE_KERNEL,
        };
        (void)def;

        if (c->facts->selinux.runtime != NP_SELINUX_ENFORCING)
                return np_fix_entry_manual(e, res->remedy, "%s", strna(res->message));
        if (!c->root->host) {
                /* Under --root the "kernel setting" is a file in the tree: edit it like one. */
                int r =
                    np_fix_edit_file(c, e, SELINUX_ENFORCE, 0644, edit_enforce_file, NULL,
                                     "switch SELinux to permissive now: write 0 to " SELINUX_ENFORCE
                                     " (what setenforce 0 does; %s)");
                return r < 0 ? r : 0;
        }
        s.path = strdup(SELINUX_ENFORCE);
        s.value = strdup("0");
        s.old_value = strdup("1");
        s.summary = strdup("switch SELinux to permissive now: write 0 to " SELINUX_ENFORCE
                           " (what setenforce 0 does)");
        if (!s.path || !s.value || !s.old_value || !s.summary) {
                np_step_done(&s);
                return -ENOMEM;
        }
        return np_fix_add_step(c, e, &s);
}

const NpFixType np_fix_selinux_runtime = {
        .id = "selinux-permissive-now",
        .plan = plan_runtime,
};

static int edit_config(const char *data, size_t size, void *userdata, char **ret, size_t *ret_size,
                       char **ret_where, char **ret_error)
{
        (void)userdata;
        if (!data) {
                *ret_error = strdup("the file does not exist");
                return -ENOENT;
        }
        return np_selinux_config_set(data, size, NP_SELINUX_PERMISSIVE, ret, ret_size, ret_where,
                                     ret_error);
}

static int plan_config(NpFixContext *c, const NpCheckDef *def, const NpResult *res, NpFixEntry *e)
{
        const NpSelinuxFacts *s = &c->facts->selinux;
        int r;
        (void)def;

        if (s->config_unknown)
                return np_fix_entry_manual(e, res->remedy, "%s", s->config_unknown);
        if (!(s->config_set && s->config == NP_SELINUX_ENFORCING))
                /* The kernel command line's enforcing=1: the boot loader, not a file we own. */
                return np_fix_entry_manual(e, res->remedy, "%s", strna(res->message));
        r = np_fix_edit_file(c, e, SELINUX_CONFIG, 0644, edit_config, NULL,
                             "set SELINUX=permissive in " SELINUX_CONFIG " (%s); " NOT_DISABLED);
        if (r < 0)
                return r;
        if (s->cmdline_enforcing > 0)
                return np_fix_entry_note(e,
                                         "the kernel command line has enforcing=%d as well, "
                                         "which wins at boot: remove it from the boot loader "
                                         "configuration",
                                         s->cmdline_enforcing);
        return 0;
}

const NpFixType np_fix_selinux_config = {
        .id = "selinux-permissive-config",
        .plan = plan_config,
};
