/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Profile settings: the thresholds a profile sets and the site or --set may override. */

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "profile/profile.h"
#include "util/strv.h"

static const char *const severity_table[_NP_SEVERITY_MAX] = {
        [NP_SEVERITY_REQUIRED] = "required",
        [NP_SEVERITY_RECOMMENDED] = "recommended",
};

const char *np_severity_to_string(NpSeverity s)
{
        return s >= 0 && s < _NP_SEVERITY_MAX ? severity_table[s] : NULL;
}

NpSeverity np_severity_from_string(const char *s)
{
        for (NpSeverity i = 0; i < _NP_SEVERITY_MAX; i++)
                if (streq(s, severity_table[i]))
                        return i;
        return _NP_SEVERITY_INVALID;
}

typedef enum SettingKind {
        SETTING_COUNT,
        SETTING_SIZE,
        SETTING_SPEED,
        SETTING_CIDR,
        SETTING_BOOL,
        SETTING_TIMESPAN, /* microseconds; 0 is none */
} SettingKind;

static const struct {
        const char *name;
        SettingKind kind;
        size_t offset;
        uint64_t default_value;
} setting_table[_NP_SETTING_MAX] = {
        [NP_SETTING_MIN_FREE_SSD] = { "MinFreeSSD", SETTING_COUNT,
                                      offsetof(NpSettings, min_free_ssd), 1 },
        [NP_SETTING_MIN_FREE_HDD] = { "MinFreeHDD", SETTING_COUNT,
                                      offsetof(NpSettings, min_free_hdd), 1 },
        [NP_SETTING_MIN_DISK_SIZE] = { "MinDiskSize", SETTING_SIZE,
                                       offsetof(NpSettings, min_disk_size), 0 },
        [NP_SETTING_MIN_LINK_SPEED] = { "MinLinkSpeed", SETTING_SPEED,
                                        offsetof(NpSettings, min_link_speed), 10000 },
        [NP_SETTING_DATA_CIDR] = { "DataCIDR", SETTING_CIDR, offsetof(NpSettings, data_cidr), 0 },
        [NP_SETTING_INCLUDE_LOOP_DEVICES] = { "IncludeLoopDevices", SETTING_BOOL,
                                              offsetof(NpSettings, include_loop_devices), 0 },
        [NP_SETTING_USE_KATA] = { "UseKata", SETTING_BOOL, offsetof(NpSettings, use_kata), 0 },
        [NP_SETTING_MAX_LATENCY] = { "MaxLatency", SETTING_TIMESPAN,
                                     offsetof(NpSettings, max_latency_usec), 0 },
};

const char *np_setting_name(NpSettingId id)
{
        return id >= 0 && id < _NP_SETTING_MAX ? setting_table[id].name : NULL;
}

NpSettingId np_setting_from_name(const char *name)
{
        for (NpSettingId i = 0; i < _NP_SETTING_MAX; i++)
                if (streq(name, setting_table[i].name))
                        return i;
        return _NP_SETTING_INVALID;
}

void np_settings_init(NpSettings *s)
{
        memset(s, 0, sizeof(*s));
        for (NpSettingId i = 0; i < _NP_SETTING_MAX; i++)
                switch (setting_table[i].kind) {
                case SETTING_COUNT:
                case SETTING_SIZE:
                case SETTING_SPEED:
                case SETTING_TIMESPAN:
                        *(uint64_t *)((char *)s + setting_table[i].offset) =
                            setting_table[i].default_value;
                        break;
                case SETTING_BOOL:
                        *(bool *)((char *)s + setting_table[i].offset) =
                            setting_table[i].default_value != 0;
                        break;
                case SETTING_CIDR:
                        break;
                }
        np_cluster_settings_init(&s->cluster);
}

void np_settings_done(NpSettings *s)
{
        for (size_t i = 0; i < _NP_SETTING_MAX; i++)
                s->origin[i] = mfree(s->origin[i]);
        for (size_t k = 0; k < _NP_NAMED_KIND_MAX; k++) {
                for (size_t i = 0; i < s->n_named[k]; i++) {
                        free(s->named[k][i].name);
                        free(s->named[k][i].value);
                        free(s->named[k][i].origin);
                }
                s->named[k] = mfree(s->named[k]);
                s->n_named[k] = 0;
        }
        np_cluster_settings_done(&s->cluster);
}

int np_settings_copy(NpSettings *dst, const NpSettings *src)
{
        *dst = *src;
        for (size_t i = 0; i < _NP_SETTING_MAX; i++)
                dst->origin[i] = NULL;
        for (size_t k = 0; k < _NP_NAMED_KIND_MAX; k++) {
                dst->named[k] = NULL;
                dst->n_named[k] = 0;
        }
        dst->cluster = (NpClusterSettings){};
        if (np_cluster_settings_copy(&dst->cluster, &src->cluster) < 0) {
                np_settings_done(dst);
                return -ENOMEM;
        }
        for (size_t i = 0; i < _NP_SETTING_MAX; i++)
                if (src->origin[i] && !(dst->origin[i] = strdup(src->origin[i]))) {
                        np_settings_done(dst);
                        return -ENOMEM;
                }
        for (size_t k = 0; k < _NP_NAMED_KIND_MAX; k++)
                for (size_t i = 0; i < src->n_named[k]; i++) {
                        const NpNamedValue *v = &src->named[k][i];
                        char *e = NULL;

                        if (np_settings_set_named(dst, k, v->name, v->value, v->origin, &e) < 0) {
                                free(e);
                                np_settings_done(dst);
                                return -ENOMEM;
                        }
                }
        return 0;
}

void np_cluster_settings_init(NpClusterSettings *c)
{
        *c = (NpClusterSettings){ .peer_timeout_usec = NP_PEER_TIMEOUT_USEC_DEFAULT,
                                  .peer_interval_usec = NP_PEER_INTERVAL_USEC_DEFAULT };
}

void np_cluster_settings_done(NpClusterSettings *c)
{
        c->peers = strv_free(c->peers);
        c->peers_origin = mfree(c->peers_origin);
}

int np_cluster_settings_copy(NpClusterSettings *dst, const NpClusterSettings *src)
{
        np_cluster_settings_done(dst);
        *dst = *src;
        dst->peers = NULL;
        dst->peers_origin = NULL;
        if ((src->peers && !(dst->peers = strv_copy(src->peers))) ||
            free_and_strdup(&dst->peers_origin, src->peers_origin) < 0) {
                np_cluster_settings_done(dst);
                return -ENOMEM;
        }
        return 0;
}

/* "500us", "2ms", "1s": the largest unit that divides the span, as systemd shows it. */
static char *format_timespan(uint64_t usec)
{
        if (usec == 0)
                return strdup("");
        if (usec % 1000000 == 0)
                return strprintf("%" PRIu64 "s", usec / 1000000);
        if (usec % 1000 == 0)
                return strprintf("%" PRIu64 "ms", usec / 1000);
        return strprintf("%" PRIu64 "us", usec);
}

static const char *const named_kind_table[_NP_NAMED_KIND_MAX] = {
        [NP_NAMED_ENDPOINT] = "Endpoint",
        [NP_NAMED_PATH] = "Path",
};

const char *np_named_kind_to_string(NpNamedKind k)
{
        return k >= 0 && k < _NP_NAMED_KIND_MAX ? named_kind_table[k] : NULL;
}

int np_endpoint_split(const char *address, char **ret_host, char **ret_port)
{
        _cleanup_free_ char *host = NULL;
        const char *colon, *port;
        uint64_t p;

        if (address[0] == '[') {
                const char *close = strchr(address, ']');

                if (!close || close[1] != ':')
                        return -EINVAL;
                host = strndup(address + 1, (size_t)(close - address - 1));
                port = close + 2;
        } else {
                colon = strrchr(address, ':');
                if (!colon || strchr(address, ':') != colon)
                        return -EINVAL; /* none, or a bare IPv6 address without brackets */
                host = strndup(address, (size_t)(colon - address));
                port = colon + 1;
        }
        if (!host)
                return -ENOMEM;
        if (isempty(host) || np_parse_u64(port, &p) < 0 || p == 0 || p > 65535)
                return -EINVAL;
        for (const char *c = host; *c; c++)
                if (*c <= ' ' || *c == '/' || *c == '@')
                        return -EINVAL;
        *ret_port = strdup(port);
        if (!*ret_port)
                return -ENOMEM;
        *ret_host = TAKE_PTR(host);
        return 0;
}

static bool named_name_valid(const char *name)
{
        return str_is_name(name, NULL) && strlen(name) <= 40;
}

int np_settings_set_named(NpSettings *s, NpNamedKind kind, const char *name, const char *value,
                          const char *origin, char **ret_error)
{
        NpNamedValue *a, *v = NULL;

        if (!named_name_valid(name)) {
                *ret_error = strprintf("\"%s\" is not a valid %s name (letters, digits, '-', "
                                       "'_')",
                                       name, np_named_kind_to_string(kind));
                return -EINVAL;
        }
        if (kind == NP_NAMED_ENDPOINT) {
                _cleanup_free_ char *host = NULL, *port = NULL;
                int r = np_endpoint_split(value, &host, &port);

                if (r == -ENOMEM)
                        return r;
                if (r < 0) {
                        *ret_error = strprintf("Endpoint %s: \"%s\" is not HOST:PORT (IPv6 as "
                                               "[ADDRESS]:PORT)",
                                               name, value);
                        return -EINVAL;
                }
        } else if (value[0] != '/' || strstr(value, "/../") || endswith(value, "/..")) {
                *ret_error = strprintf("Path %s: \"%s\" is not an absolute path", name, value);
                return -EINVAL;
        }
        for (size_t i = 0; i < s->n_named[kind]; i++)
                if (streq(s->named[kind][i].name, name))
                        v = &s->named[kind][i];
        if (!v) {
                a = reallocarray(s->named[kind], s->n_named[kind] + 1, sizeof(NpNamedValue));
                if (!a)
                        return -ENOMEM;
                s->named[kind] = a;
                v = &a[s->n_named[kind]++];
                *v = (NpNamedValue){ .name = strdup(name) };
                if (!v->name)
                        return -ENOMEM;
        }
        if (free_and_strdup(&v->value, value) < 0 || free_and_strdup(&v->origin, origin) < 0)
                return -ENOMEM;
        return 0;
}

const NpNamedValue *np_settings_named(const NpSettings *s, NpNamedKind kind, const char *name)
{
        for (size_t i = 0; i < s->n_named[kind]; i++)
                if (streq(s->named[kind][i].name, name))
                        return &s->named[kind][i];
        return NULL;
}

int np_settings_set(NpSettings *s, NpSettingId id, const char *value, const char *origin,
                    char **ret_error)
{
        void *field = (char *)s + setting_table[id].offset;
        uint64_t u;
        int r;

        switch (setting_table[id].kind) {
        case SETTING_COUNT:
                r = np_parse_u64(value, &u);
                if (r < 0 || u > 1000000) {
                        *ret_error = strprintf("%s=%s: expected a count (0-1000000)",
                                               setting_table[id].name, value);
                        return -EINVAL;
                }
                *(uint64_t *)field = u;
                break;
        case SETTING_SPEED:
                /* Mb/s as ethtool prints it; accept an explicit G suffix for 10G/25G/100G. */
                if (endswith(value, "G") || endswith(value, "g")) {
                        _cleanup_free_ char *n = strndup(value, strlen(value) - 1);

                        r = n ? np_parse_u64(n, &u) : -ENOMEM;
                        if (r >= 0)
                                u *= 1000;
                } else
                        r = np_parse_u64(value, &u);
                if (r < 0 || u > 10000000) {
                        *ret_error = strprintf("%s=%s: expected a speed in Mb/s such as 10000 "
                                               "(or 10G)",
                                               setting_table[id].name, value);
                        return -EINVAL;
                }
                *(uint64_t *)field = u;
                break;
        case SETTING_SIZE:
                r = np_parse_size(value, &u);
                if (r < 0) {
                        *ret_error = strprintf("%s=%s: bad size (use e.g. 60GB, 100GiB, 2Gi)",
                                               setting_table[id].name, value);
                        return -EINVAL;
                }
                *(uint64_t *)field = u;
                break;
        case SETTING_BOOL: {
                bool b;

                r = np_parse_boolean(value, &b);
                if (r < 0) {
                        *ret_error =
                            strprintf("%s=%s: expected yes or no", setting_table[id].name, value);
                        return -EINVAL;
                }
                *(bool *)field = b;
                break;
        }
        case SETTING_CIDR:
                /* An empty value unsets it, so a site can undo a profile's default. */
                if (isempty(value)) {
                        s->has_data_cidr = false;
                        break;
                }
                r = np_parse_cidr(value, field);
                if (r < 0) {
                        *ret_error = strprintf("%s=%s: not a valid CIDR (e.g. 10.20.0.0/24 or "
                                               "fd00:10::/64)",
                                               setting_table[id].name, value);
                        return -EINVAL;
                }
                s->has_data_cidr = true;
                break;
        case SETTING_TIMESPAN:
                /* Empty: no limit, so a site can undo a profile's. */
                if (isempty(value)) {
                        *(uint64_t *)field = 0;
                        break;
                }
                r = np_parse_timespan(value, &u);
                if (r < 0 || u == UINT64_MAX) {
                        *ret_error = strprintf("%s=%s: expected a time span such as 500us, 2ms or "
                                               "1s",
                                               setting_table[id].name, value);
                        return -EINVAL;
                }
                *(uint64_t *)field = u;
                break;
        }
        return free_and_strdup(&s->origin[id], origin);
}

char *np_settings_format(const NpSettings *s, NpSettingId id)
{
        const void *field = (const char *)s + setting_table[id].offset;

        switch (setting_table[id].kind) {
        case SETTING_COUNT:
        case SETTING_SPEED:
                return strprintf("%" PRIu64, *(const uint64_t *)field);
        case SETTING_SIZE:
                return np_format_bytes(*(const uint64_t *)field);
        case SETTING_BOOL:
                return strdup(yes_no(*(const bool *)field));
        case SETTING_CIDR:
                return s->has_data_cidr ? np_cidr_to_string(field) : strdup("");
        case SETTING_TIMESPAN:
                return format_timespan(*(const uint64_t *)field);
        }
        return NULL;
}
