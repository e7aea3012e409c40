/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A report read back from its JSON (schema_version 1), as nodeprepd sends it: clients render it
 * with the same text code as a local check. Facts are not read back; "fix" ids are dropped (the
 * text shows remedies, not fix ids).
 */

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "report/report.h"
#include "util/compat.h"
#include "util/strv.h"

static int dup_field(json_object *o, const char *key, char **ret)
{
        json_object *v = json_object_object_get(o, key);

        if (!v || json_object_is_type(v, json_type_null))
                return 0;
        if (!json_object_is_type(v, json_type_string))
                return -EBADMSG;
        *ret = strdup(json_object_get_string(v));
        return *ret ? 0 : -ENOMEM;
}

static bool get_bool(json_object *o, const char *key)
{
        json_object *v = json_object_object_get(o, key);

        return v && json_object_get_boolean(v);
}

static json_object *get_type(json_object *o, const char *key, json_type t)
{
        json_object *v = json_object_object_get(o, key);

        return v && json_object_is_type(v, t) ? v : NULL;
}

/* A non-negative integer, 0 when absent or not one. */
static unsigned get_unsigned(json_object *o, const char *key)
{
        json_object *v = json_object_object_get(o, key);
        int64_t i = v && json_object_is_type(v, json_type_int) ? json_object_get_int64(v) : 0;

        return i > 0 && i <= UINT32_MAX ? (unsigned)i : 0;
}

/* An array of strings (others are left out); NULL when absent. */
static int get_strv(json_object *o, const char *key, char ***ret)
{
        json_object *a = get_type(o, key, json_type_array);

        if (!a)
                return 0;
        *ret = calloc(1, sizeof(char *));
        if (!*ret)
                return -ENOMEM;
        for (size_t i = 0; i < json_object_array_length(a); i++) {
                json_object *v = json_object_array_get_idx(a, i);

                if (json_object_is_type(v, json_type_string) &&
                    strv_extend(ret, json_object_get_string(v)) < 0)
                        return -ENOMEM;
        }
        return 0;
}

/* The report's "cluster" object (added in schema 1 for `nodeprepctl cluster`; absent before). */
static int cluster_from_json(json_object *o, NpReportCluster *c)
{
        int r;

        if (!o)
                return 0;
        r = dup_field(o, "data_cidr", &c->data_cidr);
        if (r >= 0)
                r = dup_field(o, "data_address", &c->data_address);
        if (r >= 0)
                r = dup_field(o, "data_interface", &c->data_interface);
        if (r >= 0)
                r = get_strv(o, "peers", &c->peers);
        c->data_mtu = get_unsigned(o, "data_mtu");
        return r;
}

static int result_from_json(json_object *o, NpResult *res)
{
        const char *severity = json_object_get_string(json_object_object_get(o, "severity"));
        const char *status = json_object_get_string(json_object_object_get(o, "status"));
        int r;

        if (!json_object_is_type(o, json_type_object) || !severity || !status)
                return -EBADMSG;
        res->severity = np_severity_from_string(severity);
        res->status = np_status_from_string(status);
        if (res->severity < 0 || res->status < 0)
                return -EBADMSG;
        res->ignored = get_bool(o, "ignored");
        r = dup_field(o, "id", &res->id);
        if (r >= 0)
                r = dup_field(o, "title", &res->title);
        if (r >= 0)
                r = dup_field(o, "observed", &res->observed);
        if (r >= 0)
                r = dup_field(o, "expected", &res->expected);
        if (r >= 0)
                r = dup_field(o, "message", &res->message);
        if (r >= 0)
                r = dup_field(o, "remedy", &res->remedy);
        if (r >= 0)
                r = dup_field(o, "source", &res->source);
        if (r >= 0)
                r = dup_field(o, "override", &res->override);
        if (r >= 0 && !res->id)
                r = -EBADMSG;
        if (r >= 0 && !res->title && !(res->title = strdup("")))
                r = -ENOMEM;
        return r;
}

static int profile_from_json(json_object *o, NpProfileReport *p)
{
        json_object *checks = get_type(o, "checks", json_type_array),
                    *summary = get_type(o, "summary", json_type_object),
                    *settings = get_type(o, "settings", json_type_object);
        int r;

        if (!checks)
                return -EBADMSG;
        p->ready = get_bool(o, "ready");
        p->min_ready_nodes = get_unsigned(o, "min_ready_nodes");
        r = dup_field(o, "name", &p->name);
        if (r >= 0)
                r = dup_field(o, "description", &p->description);
        if (r >= 0)
                r = dup_field(o, "source", &p->source);
        if (r >= 0 && !p->name)
                r = -EBADMSG;
        if (r < 0)
                return r;
        for (NpStatus s = 0; summary && s < _NP_STATUS_MAX; s++) {
                json_object *v = json_object_object_get(summary, np_status_to_string(s));

                p->summary[s] = v ? (unsigned)json_object_get_uint64(v) : 0;
        }
        if (settings) {
                json_object_object_foreach (settings, k, v) {
                        if (strv_consume(
                                &p->settings,
                                strprintf("%s=%s", k, strempty(json_object_get_string(v)))) < 0)
                                return -ENOMEM;
                }
        }
        p->results = calloc(json_object_array_length(checks) + 1, sizeof(NpResult));
        if (!p->results)
                return -ENOMEM;
        for (size_t i = 0; i < json_object_array_length(checks); i++) {
                r = result_from_json(json_object_array_get_idx(checks, i), &p->results[i]);
                p->n_results++;
                if (r < 0)
                        return r;
        }
        return 0;
}

static uint64_t parse_timestamp(const char *s)
{
        struct tm tm = {};
        const char *end = s ? strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm) : NULL;
        time_t t;

        if (!end || *end)
                return 0;
        t = timegm(&tm);
        return t < 0 ? 0 : (uint64_t)t * 1000000ULL;
}

int np_report_from_json(json_object *o, NpReport **ret)
{
        _cleanup_(np_report_freep) NpReport *rep = calloc(1, sizeof(NpReport));
        json_object *host = get_type(o, "host", json_type_object),
                    *profiles = get_type(o, "profiles", json_type_array),
                    *warnings = get_type(o, "warnings", json_type_array), *v;
        int r = 0;

        if (!rep)
                return -ENOMEM;
        v = json_object_object_get(o, "schema_version");
        if (!json_object_is_type(o, json_type_object) || !profiles || !v ||
            json_object_get_int(v) != NP_REPORT_SCHEMA_VERSION)
                return -EBADMSG;
        if (host) {
                r = dup_field(host, "hostname", &rep->hostname);
                if (r >= 0)
                        r = dup_field(host, "os_id", &rep->os_id);
                if (r >= 0)
                        r = dup_field(host, "os_version", &rep->os_version);
                if (r >= 0)
                        r = dup_field(host, "kernel", &rep->kernel);
                if (r >= 0)
                        r = dup_field(host, "machine_id", &rep->machine_id);
                if (r >= 0)
                        r = dup_field(host, "product_uuid", &rep->product_uuid);
                if (r >= 0)
                        r = dup_field(host, "open_iscsi_version", &rep->open_iscsi_version);
                if (r < 0)
                        return r;
        }
        rep->generated_at_usec =
            parse_timestamp(json_object_get_string(json_object_object_get(o, "generated_at")));
        rep->ready = get_bool(o, "ready");
        r = cluster_from_json(get_type(o, "cluster", json_type_object), &rep->cluster);
        if (r < 0)
                return r;
        rep->warnings = calloc(1, sizeof(char *));
        rep->profiles = calloc(json_object_array_length(profiles) + 1, sizeof(NpProfileReport));
        if (!rep->warnings || !rep->profiles)
                return -ENOMEM;
        for (size_t i = 0; warnings && i < json_object_array_length(warnings); i++)
                if (strv_extend(&rep->warnings, strempty(json_object_get_string(
                                                    json_object_array_get_idx(warnings, i)))) < 0)
                        return -ENOMEM;
        for (size_t i = 0; i < json_object_array_length(profiles); i++) {
                r = profile_from_json(json_object_array_get_idx(profiles, i), &rep->profiles[i]);
                rep->n_profiles++;
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(rep);
        return 0;
}
