/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The check engine: the type table, [Check] parameters, and running one check. */

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "check/check.h"
#include "util/strv.h"

static const NpCheckType *const check_types[] = {
        &np_check_disk_free_ssd,   &np_check_disk_free_hdd,
        &np_check_nic_speed,       &np_check_nic_data_cidr,
        &np_check_fs_free,         &np_check_iscsi_installed,
        &np_check_iscsi_conf,      &np_check_iscsi_node_records,
        &np_check_kmod_loaded,     &np_check_kmod_persistent,
        &np_check_unit_enabled,    &np_check_unit_active,
        &np_check_selinux_runtime, &np_check_selinux_config,
        &np_check_kubelet_version, &np_check_sys_cpus,
        &np_check_sys_memory,      &np_check_net_reachable,
        &np_check_tool_version,    &np_check_dir_layout,
        &np_check_virt_kvm,        &np_check_runtime_kata,
};

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

/* --- parameters of [Check] sections --------------------------------------------------------- */

typedef enum ParamKind {
        PARAM_STRING,
        PARAM_U64,
        PARAM_SIZE,
        PARAM_VERSION,
        PARAM_WORDS,
        PARAM_PATH,
        PARAM_RELPATHS,
        PARAM_OWNER,
} ParamKind;

static const struct {
        const char *key;
        ParamKind kind;
        size_t offset;
        size_t has_offset; /* offset of the bool that says it was set, or 0 */
        const char *hint;
} params[] = {
        { "Expect", PARAM_STRING, offsetof(NpCheckDef, expect), 0, "the exact value" },
        { "Min", PARAM_U64, offsetof(NpCheckDef, min), offsetof(NpCheckDef, has_min),
          "a decimal number" },
        { "MinFree", PARAM_SIZE, offsetof(NpCheckDef, min_free), offsetof(NpCheckDef, has_min_free),
          "a size such as 100GB, 2GiB or 2Gi" },
        { "MinVersion", PARAM_VERSION, offsetof(NpCheckDef, min_version),
          offsetof(NpCheckDef, has_min_version), "a version such as 1.17" },
        { "MaxVersion", PARAM_VERSION, offsetof(NpCheckDef, max_version),
          offsetof(NpCheckDef, has_max_version), "a version such as 1.21" },
        { "Units", PARAM_WORDS, offsetof(NpCheckDef, units), 0, "unit names" },
        { "Path", PARAM_PATH, offsetof(NpCheckDef, path), 0, "an absolute path" },
        { "Owner", PARAM_OWNER, offsetof(NpCheckDef, owner_uid), offsetof(NpCheckDef, has_owner),
          "UID:GID, numeric (e.g. 886:886)" },
        { "Directories", PARAM_RELPATHS, offsetof(NpCheckDef, directories), 0,
          "relative paths separated by spaces" },
        { "Files", PARAM_RELPATHS, offsetof(NpCheckDef, files), 0,
          "relative paths separated by spaces" },
        { "Args", PARAM_WORDS, offsetof(NpCheckDef, args), 0, "arguments" },
        { "TimeoutSec", PARAM_U64, offsetof(NpCheckDef, timeout_sec),
          offsetof(NpCheckDef, has_timeout_sec), "a number of seconds" },
        { "MinSize", PARAM_SIZE, offsetof(NpCheckDef, min_size), offsetof(NpCheckDef, has_min_size),
          "a size such as 32GB or 32GiB" },
};

/* "886:886" */
static int parse_owner(const char *value, NpCheckDef *def)
{
        _cleanup_free_ char *uid = strndup(value, strcspn(value, ":"));
        const char *colon = strchr(value, ':');
        uint64_t u, g;

        if (!uid)
                return -ENOMEM;
        if (!colon || np_parse_u64(uid, &u) < 0 || np_parse_u64(colon + 1, &g) < 0 ||
            u >= UINT32_MAX || g >= UINT32_MAX)
                return -EINVAL;
        def->owner_uid = (uint32_t)u;
        def->owner_gid = (uint32_t)g;
        return 0;
}

static bool relpath_valid(const char *p)
{
        _cleanup_strv_free_ char **parts = NULL;

        if (p[0] == '/' || strv_split(p, "/", &parts) < 0)
                return false;
        STRV_FOREACH (c, parts)
                if (streq(*c, "..") || streq(*c, "."))
                        return false;
        return strv_length(parts) > 0;
}

int np_check_def_set_param(NpCheckDef *def, const char *key, const char *value, char **ret_error)
{
        _cleanup_strv_free_ char **allowed = NULL;
        void *field;
        int r;

        r = strv_split(def->type->params, " ", &allowed);
        if (r < 0)
                return r;
        if (!strv_contains(allowed, key)) {
                _cleanup_free_ char *list = strv_join(allowed, "=, ");

                if (strv_length(allowed) == 0)
                        *ret_error = strprintf("unknown key %s= (check type %s takes only Id=, "
                                               "Title=, Severity=, Source=, Remedy=)",
                                               key, def->type->name);
                else
                        *ret_error = strprintf("unknown key %s= (check type %s takes %s= besides "
                                               "Id=, Title=, Severity=, Source=, Remedy=)",
                                               key, def->type->name, strna(list));
                return -EINVAL;
        }

        for (size_t i = 0; i < ELEMENTSOF(params); i++) {
                if (!streq(params[i].key, key))
                        continue;
                field = (char *)def + params[i].offset;
                switch (params[i].kind) {
                case PARAM_STRING:
                        r = free_and_strdup(field, value);
                        break;
                case PARAM_U64:
                        r = np_parse_u64(value, field);
                        break;
                case PARAM_SIZE:
                        r = np_parse_size(value, field);
                        break;
                case PARAM_VERSION:
                        r = np_parse_version(value, field);
                        break;
                case PARAM_WORDS:
                case PARAM_RELPATHS: {
                        char ***l = field;

                        *l = strv_free(*l);
                        r = strv_split(value, " \t", l);
                        if (r >= 0 && strv_length(*l) == 0)
                                r = -EINVAL;
                        STRV_FOREACH (w, *l)
                                if (r >= 0 && params[i].kind == PARAM_RELPATHS &&
                                    !relpath_valid(*w))
                                        r = -EINVAL;
                        break;
                }
                case PARAM_PATH:
                        r = value[0] == '/' && !strstr(value, "/../")
                                ? free_and_strdup(field, value)
                                : -EINVAL;
                        break;
                case PARAM_OWNER:
                        r = parse_owner(value, def);
                        break;
                }
                if (r == -ENOMEM)
                        return r;
                if (r < 0) {
                        *ret_error = strprintf("%s=%s: expected %s", key, value, params[i].hint);
                        return -EINVAL;
                }
                if (params[i].has_offset)
                        *(bool *)((char *)def + params[i].has_offset) = true;
                return 0;
        }
        return -EINVAL;
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
                char *m;

                va_start(ap, message_fmt);
                m = strvprintf(message_fmt, ap);
                va_end(ap);
                if (!m)
                        return -ENOMEM;
                free_and_replace(&r->message, m);
        }
        return 0;
}

int np_result_remedy(NpResult *r, const char *fmt, ...)
{
        va_list ap;
        char *m;

        va_start(ap, fmt);
        m = strvprintf(fmt, ap);
        va_end(ap);
        if (!m)
                return -ENOMEM;
        free_and_replace(&r->remedy, m);
        return 0;
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

const char *np_check_path(const NpCheckDef *def, const NpSettings *s, const char **ret_origin)
{
        const NpNamedValue *v;

        if (def->instance && def->instance[0] == '/') {
                if (ret_origin)
                        *ret_origin = NULL;
                return def->instance;
        }
        v = np_settings_named(s, NP_NAMED_PATH, def->instance);
        if (ret_origin)
                *ret_origin = v ? v->origin : NULL;
        return v ? v->value : def->path;
}
