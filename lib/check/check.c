/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The check engine: the type table, [Check] parameters, and running one check. */

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "check/check.h"
#include "util/strv.h"

/*
 * Every check type: one line here and its file in lib/check/. The list declares the types as it
 * registers them, so a new type needs no line in check.h (look it up with np_check_type_find());
 * check.h declares the older ones that the fixes and the tests name.
 */
#define CHECK_TYPES(X)        \
        X(disk_free_ssd)      \
        X(disk_free_hdd)      \
        X(nic_speed)          \
        X(nic_data_cidr)      \
        X(fs_free)            \
        X(mount_propagation)  \
        X(iscsi_installed)    \
        X(iscsi_conf)         \
        X(iscsi_node_records) \
        X(kmod_loaded)        \
        X(kmod_persistent)    \
        X(unit_enabled)       \
        X(unit_active)        \
        X(selinux_runtime)    \
        X(selinux_config)     \
        X(kubelet_version)    \
        X(sys_cpus)           \
        X(sys_memory)         \
        X(net_reachable)      \
        X(tool_version)       \
        X(dir_layout)         \
        X(virt_kvm)           \
        X(runtime_kata)       \
        X(net_peers)

#define CHECK_TYPE_DECLARE(name) extern const NpCheckType np_check_##name;
CHECK_TYPES(CHECK_TYPE_DECLARE)

#define CHECK_TYPE_ROW(name) &np_check_##name,
static const NpCheckType *const check_types[] = { CHECK_TYPES(CHECK_TYPE_ROW) };

const NpCheckType *np_check_type_find(const char *name)
{
        for (size_t i = 0; i < ELEMENTSOF(check_types); i++)
                if (streq(check_types[i]->name, name))
                        return check_types[i];
        return NULL;
}

const NpCheckType *const *np_check_types(size_t *ret_n)
{
        *ret_n = ELEMENTSOF(check_types);
        return check_types;
}

static const char *const status_table[_NP_STATUS_MAX] = {
        [NP_STATUS_PASS] = "pass",       [NP_STATUS_FAIL] = "fail", [NP_STATUS_WARN] = "warn",
        [NP_STATUS_UNKNOWN] = "unknown", [NP_STATUS_SKIP] = "skip",
};

const char *np_status_to_string(NpStatus s)
{
        return s >= 0 && s < _NP_STATUS_MAX ? status_table[s] : NULL;
}

NpStatus np_status_from_string(const char *s)
{
        for (NpStatus i = 0; i < _NP_STATUS_MAX; i++)
                if (streq(s, status_table[i]))
                        return i;
        return _NP_STATUS_INVALID;
}

bool np_result_counts(const NpResult *res)
{
        return res->severity == NP_SEVERITY_REQUIRED && !res->ignored;
}

void np_result_done(NpResult *r)
{
        free(r->id);
        free(r->title);
        free(r->observed);
        free(r->expected);
        free(r->message);
        free(r->remedy);
        free(r->source);
        free(r->override);
        *r = (NpResult){};
}

int np_probe_request_add_profile(NpProbeRequest *req, const NpProfile *p)
{
        req->system = true; /* remedies depend on the distribution */
        if (p->settings.use_kata)
                req->virt = true;
        if (p->settings.include_loop_devices)
                req->include_loop_devices = true;
        FOREACH_ARRAY (c, p->checks, p->n_checks) {
                int r;

                if (!c->type->request)
                        continue;
                r = c->type->request(c, &p->settings, req);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* --- running ------------------------------------------------------------------------------- */

int np_result_set(NpResult *r, NpStatus status, const char *observed, const char *expected,
                  const char *message_fmt, ...)
{
        r->status = status;
        if (free_and_strdup(&r->observed, observed) < 0 ||
            free_and_strdup(&r->expected, expected) < 0)
                return -ENOMEM;
        if (message_fmt) {
                va_list ap;
                int k;

                va_start(ap, message_fmt);
                k = free_and_vprintf(&r->message, message_fmt, ap);
                va_end(ap);
                return k;
        }
        return 0;
}

int np_result_remedy(NpResult *r, const char *fmt, ...)
{
        va_list ap;
        int k;

        va_start(ap, fmt);
        k = free_and_vprintf(&r->remedy, fmt, ap);
        va_end(ap);
        return k;
}

int np_result_skip_no_data_cidr(NpResult *r)
{
        return np_result_set(r, NP_STATUS_SKIP, NULL, NULL,
                             "DataCIDR= is not set (site file [Settings] or --set DataCIDR=...)");
}

char *np_remedy_install(NpDistroFamily d, const char *deb, const char *rpm, const char *suse)
{
        switch (d) {
        case NP_DISTRO_DEBIAN:
                return strprintf("apt-get install -y %s", deb);
        case NP_DISTRO_RHEL:
                return strprintf("dnf install -y %s", rpm);
        case NP_DISTRO_SUSE:
                return strprintf("zypper install -y %s", suse);
        default:
                return strprintf("install %s (Debian/Ubuntu: apt-get install -y %s; "
                                 "RHEL/Fedora: dnf install -y %s; SUSE: zypper install -y %s)",
                                 deb, deb, rpm, suse);
        }
}

int np_check_run(const NpCheckContext *ctx, const NpCheckDef *def, NpResult *ret)
{
        NpResult r = {
                .severity = def->severity,
                .status = NP_STATUS_UNKNOWN,
                .fix = def->type->fix,
                .ignored = def->ignored,
        };
        int k;

        r.id = strdup(def->id);
        r.title = strdup(def->title);
        r.source = def->source ? strdup(def->source) : NULL;
        r.override = def->override ? strdup(def->override) : NULL;
        if (!r.id || !r.title || (def->source && !r.source) || (def->override && !r.override)) {
                np_result_done(&r);
                return -ENOMEM;
        }

        k = def->type->run(ctx, def, &r);
        if (k < 0) {
                np_result_done(&r);
                return k;
        }
        /* A recommended check that fails is a warning; it never makes a host not ready. */
        if (r.status == NP_STATUS_FAIL && def->severity == NP_SEVERITY_RECOMMENDED)
                r.status = NP_STATUS_WARN;
        if (r.status == NP_STATUS_PASS || r.status == NP_STATUS_SKIP) {
                r.remedy = mfree(r.remedy);
                r.fix = NULL;
        } else if (def->remedy && free_and_strdup(&r.remedy, def->remedy) < 0) {
                np_result_done(&r);
                return -ENOMEM;
        }
        *ret = r;
        return 0;
}

int np_check_verify_name(const char *name, const char *what, char **ret_error)
{
        if (str_is_name(name, NULL))
                return 0;
        *ret_error = strprintf("\"%s\" is not %s", name, what);
        return -EINVAL;
}

const char *np_check_path(const NpCheckDef *def, const NpSettings *s, const char **ret_origin)
{
        char *const *path = np_check_def_param(def, "Path");
        const NpNamedValue *v;

        if (def->instance && def->instance[0] == '/') {
                if (ret_origin)
                        *ret_origin = NULL;
                return def->instance;
        }
        v = np_settings_named(s, NP_NAMED_PATH, def->instance);
        if (ret_origin)
                *ret_origin = v ? v->origin : NULL;
        return v ? v->value : path ? *path : NULL;
}
