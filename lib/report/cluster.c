/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The cluster verdict (see cluster.h). A worker counts as ready for a profile when its own report
 * says so and no failing cluster finding names it. Findings are what needs two reports to see:
 *
 *   fail  duplicate machine-id, DMI product UUID, host name or data address (cloned images, a
 *         copied network configuration); data-network MTUs or DataCIDRs that differ (the hosts
 *         off the majority are held back, all of them on a tie); a worker whose Peers= leaves
 *         out another worker's data address (that path is not checked);
 *   warn  kernel or open-iscsi versions that differ; reports that disagree on MinReadyNodes=;
 *         a Peers= entry no report is about; no Peers= anywhere (nothing between the hosts is
 *         checked).
 */

#include <stdlib.h>
#include <string.h>

#include "report/cluster.h"
#include "util/strv.h"

static const char *const verdict_table[_NP_CLUSTER_VERDICT_MAX] = {
        [NP_CLUSTER_READY] = "ready",
        [NP_CLUSTER_NOT_READY] = "not-ready",
        [NP_CLUSTER_UNDECIDED] = "undecided",
};

const char *np_cluster_verdict_to_string(NpClusterVerdict v)
{
        return v >= 0 && v < _NP_CLUSTER_VERDICT_MAX ? verdict_table[v] : NULL;
}

NpCluster *np_cluster_free(NpCluster *c)
{
        if (!c)
                return NULL;
        FOREACH_ARRAY (h, c->hosts, c->n_hosts)
                free(h->name);
        free(c->hosts);
        FOREACH_ARRAY (p, c->profiles, c->n_profiles)
                free(p->name);
        free(c->profiles);
        FOREACH_ARRAY (r, c->rows, c->n_rows) {
                free(r->profile);
                free(r->check);
                free(r->status);
                free(r->ignored);
                for (size_t i = 0; r->messages && i < c->n_hosts; i++)
                        free(r->messages[i]);
                free(r->messages);
        }
        free(c->rows);
        FOREACH_ARRAY (f, c->findings, c->n_findings) {
                free(f->kind);
                free(f->message);
                strv_free(f->hosts);
        }
        free(c->findings);
        free(c);
        return NULL;
}

static const NpProfileReport *host_profile(const NpClusterHost *h, const char *name)
{
        for (size_t i = 0; i < h->report->n_profiles; i++)
                if (streq(h->report->profiles[i].name, name))
                        return &h->report->profiles[i];
        return NULL;
}

/* --- findings -------------------------------------------------------------------------------- */

static int add_finding(NpCluster *c, bool fail, const char *kind, char *message, char **hosts)
{
        NpClusterFinding *a = reallocarray(c->findings, c->n_findings + 1, sizeof(*a));

        if (!a || !message) {
                free(message);
                strv_free(hosts);
                return -ENOMEM;
        }
        c->findings = a;
        a[c->n_findings] = (NpClusterFinding){ .fail = fail, .message = message, .hosts = hosts };
        a[c->n_findings].kind = strdup(kind);
        c->n_findings++;
        return a[c->n_findings - 1].kind ? 0 : -ENOMEM;
}

typedef char *(*HostKey)(const NpClusterHost *h);

/* The distinct values of key over the hosts that have one, each with its hosts, in order of first
 * appearance. */
typedef struct Group {
        char *value;
        size_t *hosts;
        size_t n;
} Group;

static void groups_free(Group *g, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                free(g[i].value);
                free(g[i].hosts);
        }
        free(g);
}

static int group_hosts(const NpCluster *c, HostKey key, Group **ret, size_t *ret_n)
{
        Group *g = calloc(c->n_hosts + 1, sizeof(Group));
        size_t n = 0;

        if (!g)
                return -ENOMEM;
        for (size_t i = 0; i < c->n_hosts; i++) {
                _cleanup_free_ char *v = key(&c->hosts[i]);
                Group *x = NULL;

                if (!v)
                        continue;
                for (size_t k = 0; k < n && !x; k++)
                        if (streq(g[k].value, v))
                                x = &g[k];
                if (!x) {
                        x = &g[n++];
                        x->value = TAKE_PTR(v);
                        x->hosts = calloc(c->n_hosts, sizeof(size_t));
                        if (!x->hosts) {
                                groups_free(g, n);
                                return -ENOMEM;
                        }
                }
                x->hosts[x->n++] = i;
        }
        *ret = g;
        *ret_n = n;
        return 0;
}

static char *group_names(const NpCluster *c, const Group *g, char ***hosts)
{
        _cleanup_strv_free_ char **names = NULL;

        for (size_t i = 0; i < g->n; i++)
                if (strv_extend(&names, c->hosts[g->hosts[i]].name) < 0 ||
                    (hosts && strv_extend(hosts, c->hosts[g->hosts[i]].name) < 0))
                        return NULL;
        return strv_join(names, ", ");
}

static void hold_back(NpCluster *c, const Group *g)
{
        for (size_t i = 0; i < g->n; i++)
                c->hosts[g->hosts[i]].held_back = true;
}

/* Hosts that share a value that must be unique. */
static int find_duplicates(NpCluster *c, HostKey key, const char *kind, const char *what)
{
        Group *g = NULL;
        size_t n = 0;
        int r;

        r = group_hosts(c, key, &g, &n);
        for (size_t i = 0; r >= 0 && i < n; i++) {
                _cleanup_strv_free_ char **hosts = NULL;
                _cleanup_free_ char *names = NULL;

                if (g[i].n < 2)
                        continue;
                names = group_names(c, &g[i], &hosts);
                if (!names) {
                        r = -ENOMEM;
                        break;
                }
                hold_back(c, &g[i]);
                r = add_finding(
                    c, true, kind,
                    strprintf("%s %s is on %zu hosts: %s", what, g[i].value, g[i].n, names),
                    TAKE_PTR(hosts));
        }
        groups_free(g, n);
        return r;
}

/* Hosts that should agree on a value and do not. When fail, the hosts off the largest group are
 * held back (all of them when no group is the largest). */
static int find_differences(NpCluster *c, HostKey key, const char *kind, const char *what,
                            bool fail)
{
        _cleanup_strv_free_ char **parts = NULL, **hosts = NULL;
        _cleanup_free_ char *text = NULL;
        Group *g = NULL;
        size_t n = 0, largest = 0, n_largest = 0;
        int r;

        r = group_hosts(c, key, &g, &n);
        if (r < 0 || n < 2) {
                groups_free(g, n);
                return r;
        }
        for (size_t i = 0; i < n; i++)
                if (g[i].n > g[largest].n)
                        largest = i;
        for (size_t i = 0; i < n; i++)
                n_largest += g[i].n == g[largest].n;
        for (size_t i = 0; r >= 0 && i < n; i++) {
                bool off = n_largest > 1 || i != largest;
                _cleanup_free_ char *names = group_names(c, &g[i], off ? &hosts : NULL);

                r = names ? strv_consume(&parts, strprintf("%s on %s", g[i].value, names))
                          : -ENOMEM;
                if (fail && off)
                        hold_back(c, &g[i]);
        }
        groups_free(g, n);
        if (r < 0)
                return r;
        text = strv_join(parts, "; ");
        if (!text)
                return -ENOMEM;
        return add_finding(c, fail, kind, strprintf("%s differ: %s", what, text), TAKE_PTR(hosts));
}

static char *key_machine_id(const NpClusterHost *h)
{
        return h->report->machine_id ? strdup(h->report->machine_id) : NULL;
}

static char *key_product_uuid(const NpClusterHost *h)
{
        return h->report->product_uuid ? strdup(h->report->product_uuid) : NULL;
}

static char *key_hostname(const NpClusterHost *h)
{
        return h->report->hostname ? strdup(h->report->hostname) : NULL;
}

static char *key_data_address(const NpClusterHost *h)
{
        return h->report->cluster.data_address ? strdup(h->report->cluster.data_address) : NULL;
}

static char *key_data_cidr(const NpClusterHost *h)
{
        return h->report->cluster.data_cidr ? strdup(h->report->cluster.data_cidr) : NULL;
}

static char *key_data_mtu(const NpClusterHost *h)
{
        const NpReportCluster *x = &h->report->cluster;

        return x->data_mtu > 0 && x->data_address ? strprintf("MTU %u", x->data_mtu) : NULL;
}

static char *key_kernel(const NpClusterHost *h)
{
        return h->report->kernel ? strdup(h->report->kernel) : NULL;
}

static char *key_open_iscsi(const NpClusterHost *h)
{
        return h->report->open_iscsi_version ? strdup(h->report->open_iscsi_version) : NULL;
}

/* Does a Peers= entry name host h (its data address, its host name, or its name's first label)? */
static bool peer_names(const char *entry, const NpClusterHost *h)
{
        const char *name = h->report->hostname;
        size_t n;

        if (h->report->cluster.data_address && strcaseeq(entry, h->report->cluster.data_address))
                return true;
        if (!name)
                return false;
        if (strcaseeq(entry, name))
                return true;
        /* "worker-1" for "worker-1.example.com", and the other way round. */
        n = strcspn(name, ".");
        if (strlen(entry) == n && strncasecmp(entry, name, n) == 0)
                return true;
        n = strcspn(entry, ".");
        return strlen(name) == n && strncasecmp(entry, name, n) == 0;
}

static bool any_host_named(const NpCluster *c, const char *entry)
{
        FOREACH_ARRAY (h, c->hosts, c->n_hosts)
                if (peer_names(entry, h))
                        return true;
        return false;
}

/* Every worker with a data address lists every other one in Peers=: else that path is not
 * checked by anyone's net.peers. */
static int find_peer_gaps(NpCluster *c)
{
        bool any = false;
        size_t with_data = 0;
        int r;

        FOREACH_ARRAY (h, c->hosts, c->n_hosts) {
                any = any || strv_length(h->report->cluster.peers) > 0;
                with_data += h->report->cluster.data_address != NULL;
        }
        if (!any)
                return with_data < 2 ? 0
                                     : add_finding(c, false, "no-peers",
                                                   strdup("no host sets [Cluster] Peers=: the data "
                                                          "network between the workers is not "
                                                          "checked (net.peers)"),
                                                   NULL);
        FOREACH_ARRAY (a, c->hosts, c->n_hosts) {
                _cleanup_strv_free_ char **missing = NULL, **hosts = NULL;

                if (!a->report->cluster.data_address)
                        continue;
                FOREACH_ARRAY (b, c->hosts, c->n_hosts) {
                        bool listed = false;

                        if (b == a || !b->report->cluster.data_address)
                                continue;
                        STRV_FOREACH (e, a->report->cluster.peers)
                                listed = listed || peer_names(*e, b);
                        if (!listed &&
                            strv_consume(&missing, strprintf("%s (%s)", b->name,
                                                             b->report->cluster.data_address)) < 0)
                                return -ENOMEM;
                }
                if (missing) {
                        _cleanup_free_ char *list = strv_join(missing, ", ");

                        a->held_back = true;
                        if (!list || strv_extend(&hosts, a->name) < 0)
                                return -ENOMEM;
                        r = add_finding(c, true, "peers-missing",
                                        strprintf("%s's Peers= does not list %s: that path is "
                                                  "not checked",
                                                  a->name, list),
                                        TAKE_PTR(hosts));
                        if (r < 0)
                                return r;
                }
                STRV_FOREACH (e, a->report->cluster.peers) {
                        if (peer_names(*e, a) || any_host_named(c, *e))
                                continue;
                        if (strv_extend(&hosts, a->name) < 0)
                                return -ENOMEM;
                        r = add_finding(c, false, "unknown-peer",
                                        strprintf("%s lists %s in Peers=, which no report is "
                                                  "about (a worker left out of this run?)",
                                                  a->name, *e),
                                        TAKE_PTR(hosts));
                        if (r < 0)
                                return r;
                }
        }
        return 0;
}

/* --- hosts, profiles, rows ------------------------------------------------------------------- */

static int add_hosts(NpCluster *c, NpReport *const *reports, char *const *origins, size_t n)
{
        c->hosts = calloc(n, sizeof(NpClusterHost));
        if (!c->hosts)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                const char *name = reports[i]->hostname;
                bool shared = false;

                for (size_t k = 0; k < n && name; k++)
                        shared = shared || (k != i && streq_ptr(reports[k]->hostname, name));
                c->hosts[i] = (NpClusterHost){ .report = reports[i], .origin = origins[i] };
                c->hosts[i].name = !name    ? strdup(origins[i])
                                   : shared ? strprintf("%s (%s)", name, origins[i])
                                            : strdup(name);
                c->n_hosts++;
                if (!c->hosts[i].name)
                        return -ENOMEM;
        }
        return 0;
}

static int add_profiles(NpCluster *c)
{
        _cleanup_strv_free_ char **names = NULL;

        FOREACH_ARRAY (h, c->hosts, c->n_hosts)
                for (size_t i = 0; i < h->report->n_profiles; i++)
                        if (strv_extend_unique(&names, h->report->profiles[i].name) < 0)
                                return -ENOMEM;
        c->profiles = calloc(strv_length(names) + 1, sizeof(NpClusterProfile));
        if (!c->profiles)
                return -ENOMEM;
        STRV_FOREACH (name, names) {
                NpClusterProfile *p = &c->profiles[c->n_profiles++];
                unsigned min_seen = 0;

                p->name = strdup(*name);
                if (!p->name)
                        return -ENOMEM;
                FOREACH_ARRAY (h, c->hosts, c->n_hosts) {
                        const NpProfileReport *pr = host_profile(h, *name);
                        unsigned m;

                        if (!pr)
                                continue;
                        m = MAX(pr->min_ready_nodes, 1U);
                        p->min_disagree = p->min_disagree || (min_seen > 0 && m != min_seen);
                        min_seen = m;
                        p->min_ready = MAX(p->min_ready, m);
                }
                p->min_ready = MAX(p->min_ready, 1U);
        }
        return 0;
}

static void count_profiles(NpCluster *c)
{
        FOREACH_ARRAY (p, c->profiles, c->n_profiles) {
                FOREACH_ARRAY (h, c->hosts, c->n_hosts) {
                        const NpProfileReport *pr = host_profile(h, p->name);
                        bool fails = false;

                        if (!pr)
                                continue;
                        p->hosts++;
                        FOREACH_ARRAY (res, pr->results, pr->n_results)
                                fails = fails ||
                                        (np_result_counts(res) && res->status == NP_STATUS_FAIL);
                        if (pr->ready && h->held_back)
                                p->held_back++;
                        else if (pr->ready)
                                p->ready++;
                        else if (!fails && !h->held_back)
                                p->undecided++;
                }
                p->verdict = p->ready >= p->min_ready                  ? NP_CLUSTER_READY
                             : p->ready + p->undecided >= p->min_ready ? NP_CLUSTER_UNDECIDED
                                                                       : NP_CLUSTER_NOT_READY;
        }
}

static const NpResult *profile_result(const NpProfileReport *pr, const char *id)
{
        FOREACH_ARRAY (res, pr->results, pr->n_results)
                if (streq(res->id, id))
                        return res;
        return NULL;
}

static int add_row(NpCluster *c, const char *profile, const char *check)
{
        NpClusterRow *a = reallocarray(c->rows, c->n_rows + 1, sizeof(*a)), *row;
        bool keep = false;

        if (!a)
                return -ENOMEM;
        c->rows = a;
        row = &a[c->n_rows++];
        *row = (NpClusterRow){ .profile = strdup(profile), .check = strdup(check) };
        row->status = calloc(c->n_hosts, sizeof(NpStatus));
        row->ignored = calloc(c->n_hosts, sizeof(bool));
        row->messages = calloc(c->n_hosts, sizeof(char *));
        if (!row->profile || !row->check || !row->status || !row->ignored || !row->messages)
                return -ENOMEM;
        for (size_t i = 0; i < c->n_hosts; i++) {
                const NpProfileReport *pr = host_profile(&c->hosts[i], profile);
                const NpResult *res = pr ? profile_result(pr, check) : NULL;

                row->status[i] = res ? res->status : _NP_STATUS_INVALID;
                row->ignored[i] = res && res->ignored;
                if (!res || res->status == NP_STATUS_PASS)
                        continue;
                keep = true;
                if (res->message && !(row->messages[i] = strdup(res->message)))
                        return -ENOMEM;
        }
        if (!keep) {
                /* Passes (or is absent) everywhere: not in the matrix. */
                free(row->profile);
                free(row->check);
                free(row->status);
                free(row->ignored);
                free(row->messages);
                c->n_rows--;
        }
        return 0;
}

static int add_rows(NpCluster *c)
{
        FOREACH_ARRAY (p, c->profiles, c->n_profiles) {
                _cleanup_strv_free_ char **checks = NULL;

                FOREACH_ARRAY (h, c->hosts, c->n_hosts) {
                        const NpProfileReport *pr = host_profile(h, p->name);

                        for (size_t i = 0; pr && i < pr->n_results; i++)
                                if (strv_extend_unique(&checks, pr->results[i].id) < 0)
                                        return -ENOMEM;
                }
                STRV_FOREACH (id, checks) {
                        int r = add_row(c, p->name, *id);

                        if (r < 0)
                                return r;
                }
        }
        return 0;
}

int np_cluster_analyze(NpReport *const *reports, char *const *origins, size_t n, NpCluster **ret)
{
        _cleanup_(np_cluster_freep) NpCluster *c = calloc(1, sizeof(NpCluster));
        int r;

        if (!c)
                return -ENOMEM;
        if (n == 0)
                return -EINVAL;
        r = add_hosts(c, reports, origins, n);
        if (r >= 0)
                r = add_profiles(c);
        if (r >= 0)
                r = find_duplicates(c, key_machine_id, "duplicate-machine-id", "machine-id");
        if (r >= 0)
                r = find_duplicates(c, key_product_uuid, "duplicate-product-uuid",
                                    "DMI product UUID");
        if (r >= 0)
                r = find_duplicates(c, key_hostname, "duplicate-hostname", "host name");
        if (r >= 0)
                r = find_duplicates(c, key_data_address, "duplicate-data-address", "data address");
        if (r >= 0)
                r = find_differences(c, key_data_cidr, "data-cidr-mismatch", "DataCIDRs", true);
        if (r >= 0)
                r = find_differences(c, key_data_mtu, "mtu-mismatch", "data-network MTUs", true);
        if (r >= 0)
                r = find_peer_gaps(c);
        if (r >= 0)
                r = find_differences(c, key_kernel, "kernel-versions", "kernel versions", false);
        if (r >= 0)
                r = find_differences(c, key_open_iscsi, "open-iscsi-versions",
                                     "open-iscsi versions", false);
        FOREACH_ARRAY (p, c->profiles, c->n_profiles)
                if (r >= 0 && p->min_disagree)
                        r = add_finding(c, false, "min-ready-nodes",
                                        strprintf("the reports disagree on %s's MinReadyNodes= "
                                                  "(profile versions differ?): using %u",
                                                  p->name, p->min_ready),
                                        NULL);
        if (r >= 0)
                r = add_rows(c);
        if (r < 0)
                return r;
        count_profiles(c);
        *ret = TAKE_PTR(c);
        return 0;
}

int np_cluster_exit_code(const NpCluster *c)
{
        bool undecided = false;

        FOREACH_ARRAY (p, c->profiles, c->n_profiles) {
                if (p->verdict == NP_CLUSTER_NOT_READY)
                        return 1;
                undecided = undecided || p->verdict == NP_CLUSTER_UNDECIDED;
        }
        return undecided ? 2 : 0;
}
