/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Build a report: run each profile's checks and work out the verdicts. */

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "report/report.h"
#include "util/strv.h"

static void profile_report_done(NpProfileReport *p)
{
        free(p->name);
        free(p->description);
        free(p->source);
        strv_free(p->settings);
        for (size_t i = 0; i < p->n_results; i++)
                np_result_done(&p->results[i]);
        free(p->results);
}

NpReport *np_report_free(NpReport *r)
{
        if (!r)
                return NULL;
        free(r->hostname);
        free(r->os_id);
        free(r->os_version);
        free(r->os_pretty_name);
        free(r->kernel);
        free(r->machine_id);
        free(r->product_uuid);
        free(r->open_iscsi_version);
        free(r->cluster.data_cidr);
        free(r->cluster.data_address);
        free(r->cluster.data_interface);
        strv_free(r->cluster.peers);
        for (size_t i = 0; i < r->n_profiles; i++)
                profile_report_done(&r->profiles[i]);
        free(r->profiles);
        strv_free(r->warnings);
        np_facts_free(r->facts);
        free(r);
        return NULL;
}

static int profile_source(const NpProfile *p, char **ret)
{
        _cleanup_strv_free_ char **l = NULL;

        if (strv_extend(&l, p->path) < 0)
                return -ENOMEM;
        STRV_FOREACH (d, p->dropins)
                if (strv_extend(&l, *d) < 0)
                        return -ENOMEM;
        *ret = strv_join(l, " + ");
        return *ret ? 0 : -ENOMEM;
}

static int profile_settings(const NpProfile *p, char ***ret)
{
        _cleanup_strv_free_ char **l = calloc(1, sizeof(char *));

        if (!l)
                return -ENOMEM;
        for (NpSettingId id = 0; id < _NP_SETTING_MAX; id++) {
                _cleanup_free_ char *v = np_settings_format(&p->settings, id);

                if (!v || strv_consume(&l, strprintf("%s=%s%s%s%s", np_setting_name(id), v,
                                                     p->settings.origin[id] ? " (" : "",
                                                     strempty(p->settings.origin[id]),
                                                     p->settings.origin[id] ? ")" : "")) < 0)
                        return -ENOMEM;
        }
        *ret = TAKE_PTR(l);
        return 0;
}

static int evaluate_profile(const NpProfile *p, const NpFacts *facts, NpProfileReport *out)
{
        NpCheckContext ctx = { .facts = facts, .profile = p, .settings = &p->settings };
        bool fail = false, unknown = false;
        int r;

        out->name = strdup(p->name);
        out->description = p->description ? strdup(p->description) : NULL;
        if (!out->name || (p->description && !out->description))
                return -ENOMEM;
        r = profile_source(p, &out->source);
        if (r < 0)
                return r;
        r = profile_settings(p, &out->settings);
        if (r < 0)
                return r;
        out->results = calloc(p->n_checks, sizeof(NpResult));
        if (!out->results)
                return -ENOMEM;
        for (size_t i = 0; i < p->n_checks; i++) {
                NpResult *res = &out->results[i];

                r = np_check_run(&ctx, &p->checks[i], res);
                if (r < 0)
                        return r;
                out->n_results++;
                out->summary[res->status]++;
                if (np_result_counts(res)) {
                        fail = fail || res->status == NP_STATUS_FAIL;
                        unknown = unknown || res->status == NP_STATUS_UNKNOWN;
                }
        }
        out->ready = !fail && !unknown;
        out->min_ready_nodes = p->min_ready_nodes > 0 ? (unsigned)p->min_ready_nodes : 1;
        return 0;
}

/* This host on the data network: the first DataCIDR= the profiles set, the address the peer
 * probe used (or the first usable one in the links' facts), its link and MTU, and Peers=. */
static int report_cluster(const NpConfig *config, const NpFacts *facts, NpReportCluster *c)
{
        const NpSettings *s = NULL;

        for (size_t i = 0; i < config->n_profiles && !s; i++)
                if (config->profiles[i]->settings.has_data_cidr)
                        s = &config->profiles[i]->settings;
        if (config->site->cluster.peers && !(c->peers = strv_copy(config->site->cluster.peers)))
                return -ENOMEM;
        if (!s)
                return 0;
        c->data_cidr = np_cidr_to_string(&s->data_cidr);
        if (!c->data_cidr)
                return -ENOMEM;
        if (facts->peers.address && streq_ptr(facts->peers.data_cidr, c->data_cidr)) {
                c->data_mtu = facts->peers.mtu;
                return free_and_strdup(&c->data_address, facts->peers.address) < 0 ||
                               free_and_strdup(&c->data_interface, facts->peers.interface) < 0
                           ? -ENOMEM
                           : 0;
        }
        FOREACH_ARRAY (l, facts->links, facts->n_links)
                FOREACH_ARRAY (a, l->addresses, l->n_addresses)
                        if (!a->unusable &&
                            np_cidr_contains(&s->data_cidr, a->cidr.family, a->cidr.addr)) {
                                _cleanup_free_ char *text = np_cidr_to_string(&a->cidr);
                                char *slash = text ? strchr(text, '/') : NULL;

                                if (!text)
                                        return -ENOMEM;
                                if (slash)
                                        *slash = '\0';
                                c->data_mtu = l->mtu;
                                c->data_address = TAKE_PTR(text);
                                c->data_interface = strdup(l->name);
                                return c->data_interface ? 0 : -ENOMEM;
                        }
        return 0;
}

int np_report_build(const NpConfig *config, NpFacts *facts, uint64_t now_usec, NpReport **ret)
{
        _cleanup_(np_report_freep) NpReport *r = calloc(1, sizeof(NpReport));
        const NpSystemFacts *s = &facts->system;
        int k;

        if (!r) {
                np_facts_free(facts);
                return -ENOMEM;
        }
        r->facts = facts;
        r->generated_at_usec = now_usec;
        if (free_and_strdup(&r->hostname, s->hostname) < 0 ||
            free_and_strdup(&r->os_id, s->os_id) < 0 ||
            free_and_strdup(&r->os_version, s->os_version_id) < 0 ||
            free_and_strdup(&r->os_pretty_name, s->os_pretty_name) < 0 ||
            free_and_strdup(&r->kernel, s->kernel) < 0 ||
            free_and_strdup(&r->machine_id, s->machine_id) < 0 ||
            free_and_strdup(&r->product_uuid, s->product_uuid) < 0 ||
            free_and_strdup(&r->open_iscsi_version, facts->iscsi.version) < 0)
                return -ENOMEM;
        k = report_cluster(config, facts, &r->cluster);
        if (k < 0)
                return k;
        r->warnings = strv_copy(config->warnings);
        r->profiles = calloc(config->n_profiles, sizeof(NpProfileReport));
        if (!r->warnings || !r->profiles)
                return -ENOMEM;
        r->ready = true;
        for (size_t i = 0; i < config->n_profiles; i++) {
                k = evaluate_profile(config->profiles[i], facts, &r->profiles[i]);
                r->n_profiles++;
                if (k < 0)
                        return k;
                r->ready = r->ready && r->profiles[i].ready;
        }
        *ret = TAKE_PTR(r);
        return 0;
}

int np_report_exit_code(const NpReport *r)
{
        bool unknown = false;

        for (size_t p = 0; p < r->n_profiles; p++)
                FOREACH_ARRAY (res, r->profiles[p].results, r->profiles[p].n_results) {
                        if (!np_result_counts(res))
                                continue;
                        if (res->status == NP_STATUS_FAIL)
                                return 1;
                        if (res->status == NP_STATUS_UNKNOWN)
                                unknown = true;
                }
        return unknown ? 2 : 0;
}

char *np_format_timestamp(uint64_t usec)
{
        time_t t = (time_t)(usec / 1000000);
        struct tm tm;
        char buf[64];

        if (!gmtime_r(&t, &tm) || strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
                return NULL;
        return strdup(buf);
}
