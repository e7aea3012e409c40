/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Cluster readiness on hand-made data: net.peers on peer facts (one case per rule), the peer
 * probe's pure parts, [Cluster] and MinReadyNodes= parsing, the report fields `cluster` reads
 * (and their JSON round trip), the cluster verdict and its findings, the NFD expiry directive.
 */

#include "check/check.h"
#include "probe/peers.h"
#include "report/cluster.h"
#include "report/report.h"
#include "test.h"
#include "util/strv.h"

/* --- net.peers -------------------------------------------------------------------------------- */

static NpSettings settings;

static void settings_reset(const char *peers)
{
        np_settings_done(&settings);
        np_settings_init(&settings);
        ASSERT_OK(np_parse_cidr("10.77.0.0/24", &settings.data_cidr));
        settings.has_data_cidr = true;
        if (peers)
                ASSERT_OK(strv_split(peers, " ", &settings.cluster.peers));
}

/* Facts of a probe from 10.77.0.1 on eth1 (MTU 9000) in which every peer answered. */
static NpFacts *probed(void)
{
        NpFacts *f = np_facts_new();
        char **peers = settings.cluster.peers;

        ASSERT_TRUE(f);
        f->peers = (NpPeersFacts){ .probed = true, .ifindex = 3, .mtu = 9000 };
        f->peers.data_cidr = strdup("10.77.0.0/24");
        f->peers.address = strdup("10.77.0.1");
        f->peers.interface = strdup("eth1");
        f->peers.method = strdup("ping socket");
        f->peers.peers = calloc(strv_length(peers) + 1, sizeof(NpPeerFacts));
        ASSERT_TRUE(f->peers.data_cidr && f->peers.address && f->peers.interface && f->peers.peers);
        STRV_FOREACH (p, peers) {
                NpPeerFacts *e = &f->peers.peers[f->peers.n_peers++];

                *e = (NpPeerFacts){ .in_data_cidr = true,
                                    .route_ifindex = 3,
                                    .sent = 5,
                                    .received = 5,
                                    .rtt_median_usec = 120,
                                    .rtt_max_usec = 300,
                                    .full_size = 9000,
                                    .full_size_ok = true,
                                    .largest_ok = 9000,
                                    .largest_exact = true };
                e->peer = strdup(*p);
                e->address = strdup(*p);
                e->route_interface = strdup("eth1");
                ASSERT_TRUE(e->peer && e->address && e->route_interface);
        }
        return f;
}

static NpPeerFacts *peer(NpFacts *f, const char *name)
{
        FOREACH_ARRAY (p, f->peers.peers, f->peers.n_peers)
                if (streq(p->peer, name))
                        return p;
        abort();
}

static void expect(const NpFacts *f, NpStatus status, const char *needle)
{
        NpCheckDef def = { .id = (char *)"net.peers",
                           .title = (char *)"peers",
                           .type = &np_check_net_peers,
                           .severity = NP_SEVERITY_REQUIRED };
        NpCheckContext ctx = { .facts = f, .settings = &settings };
        NpResult r = {};
        _cleanup_free_ char *all = NULL;

        ASSERT_OK(np_check_run(&ctx, &def, &r));
        all = strprintf("%s | %s | %s", strna(r.observed), strna(r.message), strna(r.remedy));
        if (r.status != status || (needle && !strstr(all, needle))) {
                fprintf(stderr, "net.peers: %s (expected %s), wanted \"%s\" in: %s\n",
                        np_status_to_string(r.status), np_status_to_string(status), strna(needle),
                        all);
                abort();
        }
        np_result_done(&r);
}

TEST(peers_skip_without_cidr_or_peers)
{
        _cleanup_(np_facts_freep) NpFacts *f = np_facts_new();

        settings_reset(NULL);
        expect(f, NP_STATUS_SKIP, NULL);
        settings.has_data_cidr = false;
        settings.cluster.peers = strv_free(settings.cluster.peers);
        ASSERT_OK(strv_extend(&settings.cluster.peers, "10.77.0.2"));
        expect(f, NP_STATUS_SKIP, NULL);
}

TEST(peers_pass)
{
        _cleanup_(np_facts_freep) NpFacts *f = NULL;

        settings_reset("10.77.0.1 10.77.0.2 10.77.0.3");
        f = probed();
        peer(f, "10.77.0.1")->self = true;
        expect(f, NP_STATUS_PASS, "10.77.0.2: 5 of 5 answered, 0.120 ms median, 0.300 ms max");
        expect(f, NP_STATUS_PASS, "10.77.0.1: this host");
}

TEST(peers_unknown)
{
        _cleanup_(np_facts_freep) NpFacts *f = np_facts_new();
        _cleanup_(np_facts_freep) NpFacts *g = NULL;

        settings_reset("10.77.0.2");
        expect(f, NP_STATUS_UNKNOWN, "not probed");
        g = probed();
        free(g->peers.data_cidr);
        g->peers.data_cidr = strdup("10.88.0.0/24");
        expect(g, NP_STATUS_UNKNOWN, "probed from 10.88.0.0/24");
        free(g->peers.data_cidr);
        g->peers.data_cidr = strdup("10.77.0.0/24");
        g->peers.unknown = strdup("cannot send ICMP echo requests: Operation not permitted");
        expect(g, NP_STATUS_UNKNOWN, "Operation not permitted");
        g->peers.unknown = mfree(g->peers.unknown);
        /* Added to Peers= after the probe. */
        settings_reset("10.77.0.2 10.77.0.4");
        expect(g, NP_STATUS_UNKNOWN, "10.77.0.4: not probed yet");
        /* The resolver timed out: cannot tell. */
        settings_reset("10.77.0.2");
        peer(g, "10.77.0.2")->resolve_error = strdup("resolving 10.77.0.2 timed out");
        peer(g, "10.77.0.2")->resolve_timeout = true;
        expect(g, NP_STATUS_UNKNOWN, "timed out");
}

TEST(peers_no_local_address)
{
        _cleanup_(np_facts_freep) NpFacts *f = NULL;

        settings_reset("10.77.0.2");
        f = probed();
        f->peers.address = mfree(f->peers.address);
        expect(f, NP_STATUS_FAIL, "this host has no address in the data network 10.77.0.0/24");
}

TEST(peers_off_segment)
{
        _cleanup_(np_facts_freep) NpFacts *f = NULL;

        settings_reset("10.77.0.2 10.77.1.4");
        f = probed();
        peer(f, "10.77.1.4")->route_gateway = strdup("10.77.0.254");
        expect(f, NP_STATUS_FAIL,
               "10.77.1.4 is reached through 10.77.0.254 on eth1, not on the "
               "data segment");
        expect(f, NP_STATUS_FAIL, "ip route get PEER from 10.77.0.1");
        peer(f, "10.77.1.4")->route_gateway = mfree(peer(f, "10.77.1.4")->route_gateway);
        peer(f, "10.77.1.4")->route_ifindex = 2;
        free(peer(f, "10.77.1.4")->route_interface);
        peer(f, "10.77.1.4")->route_interface = strdup("eth0");
        expect(f, NP_STATUS_FAIL, "10.77.1.4 is reached through eth0, not the data link eth1");
}

TEST(peers_unreachable)
{
        _cleanup_(np_facts_freep) NpFacts *f = NULL;

        settings_reset("10.77.0.2 10.77.0.9");
        f = probed();
        peer(f, "10.77.0.9")->received = 0;
        peer(f, "10.77.0.9")->full_size_ok = false;
        expect(f, NP_STATUS_FAIL, "10.77.0.9 does not answer from 10.77.0.1 on eth1");
        peer(f, "10.77.0.9")->error = strdup("No route to host (ICMP from 10.77.0.1)");
        expect(f, NP_STATUS_FAIL, "does not answer from 10.77.0.1 on eth1: No route to host");
        peer(f, "10.77.0.9")->route_error = strdup("an unreachable route");
        expect(f, NP_STATUS_FAIL, "10.77.0.9: an unreachable route");
}

TEST(peers_mtu)
{
        _cleanup_(np_facts_freep) NpFacts *f = NULL;

        settings_reset("10.77.0.2");
        f = probed();
        peer(f, "10.77.0.2")->full_size_ok = false;
        peer(f, "10.77.0.2")->largest_ok = 1500;
        expect(f, NP_STATUS_FAIL,
               "10.77.0.2: a full-size echo (9000 bytes, this host's MTU on eth1) with "
               "don't-fragment gets no answer; the largest that passed is 1500 bytes");
        expect(f, NP_STATUS_FAIL, "ping -M do -s 8972 -I 10.77.0.1 PEER");
        peer(f, "10.77.0.2")->largest_exact = false;
        peer(f, "10.77.0.2")->path_mtu = 1400;
        expect(f, NP_STATUS_FAIL, "at least 1500 bytes; the network names a path MTU of 1400");
}

TEST(peers_outside_and_unresolved)
{
        _cleanup_(np_facts_freep) NpFacts *f = NULL;

        settings_reset("worker-2");
        f = probed();
        free(peer(f, "worker-2")->address);
        peer(f, "worker-2")->address = strdup("192.168.1.2");
        peer(f, "worker-2")->in_data_cidr = false;
        expect(f, NP_STATUS_FAIL, "worker-2 is 192.168.1.2, outside the data network");
        peer(f, "worker-2")->resolve_error = strdup("worker-2 does not resolve: Name or service "
                                                    "not known");
        expect(f, NP_STATUS_FAIL, "does not resolve");
}

TEST(peers_max_latency)
{
        _cleanup_(np_facts_freep) NpFacts *f = NULL;

        settings_reset("10.77.0.2");
        f = probed();
        settings.max_latency_usec = 1000;
        expect(f, NP_STATUS_PASS, NULL);
        peer(f, "10.77.0.2")->rtt_median_usec = 2500;
        expect(f, NP_STATUS_FAIL, "the median round trip is 2.500 ms, above MaxLatency=1.000 ms");
}

/* --- the probe's pure parts --------------------------------------------------------------------
 */

TEST(search_sizes)
{
        unsigned v[64];
        size_t n;

        n = np_peer_search_sizes(84, 9000, true, v, ELEMENTSOF(v));
        ASSERT_TRUE(n > NP_PEER_SEARCH_WAYS);
        for (size_t i = 0; i < n; i++) {
                ASSERT_TRUE(v[i] > 84 && v[i] < 9000);
                ASSERT_TRUE(i == 0 || v[i] > v[i - 1]);
        }
        /* The common MTUs are tried in the first round only. */
        ASSERT_TRUE(memmem(v, n * sizeof(unsigned), &(unsigned){ 1500 }, sizeof(unsigned)));
        n = np_peer_search_sizes(84, 9000, false, v, ELEMENTSOF(v));
        ASSERT_EQ(n, NP_PEER_SEARCH_WAYS);
        ASSERT_EQ(np_peer_search_sizes(1500, 1502, false, v, ELEMENTSOF(v)), 1);
        ASSERT_EQ(v[0], 1501);
        ASSERT_EQ(np_peer_search_sizes(1500, 1501, true, v, ELEMENTSOF(v)), 0);
        ASSERT_EQ(np_peer_search_sizes(84, 9000, true, v, 3), 3);

        ASSERT_EQ(np_peer_overhead(AF_INET), 28);
        ASSERT_EQ(np_peer_overhead(AF_INET6), 48);
        ASSERT_EQ(np_peer_small_size(AF_INET), 84);
}

TEST(median_and_grace)
{
        uint64_t a[] = { 500, 100, 300 }, b[] = { 400, 100, 300, 200 };

        ASSERT_EQ(np_median_usec(a, 3), 300);
        ASSERT_EQ(np_median_usec(b, 4), 250);
        ASSERT_EQ(np_median_usec(NULL, 0), 0);
        ASSERT_EQ(np_peer_grace_usec(0), 50000);
        ASSERT_EQ(np_peer_grace_usec(100000), 320000);
        ASSERT_EQ(np_peer_grace_usec(10000000), 1000000);
}

/* --- site file and profile ---------------------------------------------------------------------
 */

static int parse_site(const char *text, NpSite **ret, char **ret_error)
{
        return np_site_parse_buffer("nodeprep.conf", text, strlen(text), ret, ret_error);
}

TEST(site_cluster_section)
{
        _cleanup_(np_site_freep) NpSite *s = NULL;
        _cleanup_free_ char *error = NULL;

        ASSERT_OK(parse_site("[Cluster]\nPeers=10.77.0.2 worker-3.example.com\n"
                             "Peers=fd00::3, 10.77.0.2\nPeerTimeout=500ms\nPeerInterval=5min\n",
                             &s, &error));
        ASSERT_EQ(strv_length(s->cluster.peers), 3);
        ASSERT_STREQ(s->cluster.peers[2], "fd00::3");
        ASSERT_STREQ(s->cluster.peers_origin, "nodeprep.conf:3");
        ASSERT_EQ(s->cluster.peer_timeout_usec, 500000);
        ASSERT_EQ(s->cluster.peer_interval_usec, 300000000ULL);
        s = np_site_free(s);

        /* Defaults; an empty Peers= resets what came before (drop-ins add, as systemd lists). */
        ASSERT_OK(parse_site("[Cluster]\nPeers=a b\nPeers=\nPeers=c\n", &s, &error));
        ASSERT_EQ(strv_length(s->cluster.peers), 1);
        ASSERT_EQ(s->cluster.peer_timeout_usec, 2000000);
        ASSERT_EQ(s->cluster.peer_interval_usec, 60000000);
        s = np_site_free(s);

        ASSERT_TRUE(parse_site("[Cluster]\nPeers=10.0.0.2/24\n", &s, &error) < 0);
        ASSERT_CONTAINS(error, "\"10.0.0.2/24\" is neither an IP address nor a host name");
        error = mfree(error);
        ASSERT_TRUE(parse_site("[Cluster]\nPeers=-bad\n", &s, &error) < 0);
        error = mfree(error);
        ASSERT_TRUE(parse_site("[Cluster]\nPeerTimeout=10ms\n", &s, &error) < 0);
        ASSERT_CONTAINS(error, "PeerTimeout=10ms: expected a time span from 100ms to 1min");
        error = mfree(error);
        ASSERT_TRUE(parse_site("[Cluster]\nPeerInterval=0\n", &s, &error) < 0);
        error = mfree(error);
        ASSERT_TRUE(parse_site("[Cluster]\nPeer=10.0.0.2\n", &s, &error) < 0);
        ASSERT_CONTAINS(error, "unknown key Peer= in [Cluster]");
}

TEST(profile_min_ready_nodes_and_max_latency)
{
        _cleanup_(np_profile_freep) NpProfile *p = NULL;
        _cleanup_free_ char *error = NULL, *v = NULL;
        const char *text = "[Profile]\nMinReadyNodes=3\n[Settings]\nMaxLatency=500us\n"
                           "[Check]\nId=net.peers\n";

        ASSERT_OK(np_profile_parse_buffer("t", text, strlen(text), &p, &error));
        ASSERT_EQ(p->min_ready_nodes, 3);
        ASSERT_EQ(p->settings.max_latency_usec, 500);
        v = np_settings_format(&p->settings, NP_SETTING_MAX_LATENCY);
        ASSERT_STREQ(v, "500us");
        p = np_profile_free(p);
        text = "[Profile]\nMinReadyNodes=0\n[Check]\nId=net.peers\n";
        ASSERT_TRUE(np_profile_parse_buffer("t", text, strlen(text), &p, &error) < 0);
        ASSERT_CONTAINS(error, "MinReadyNodes=0: expected a number of workers");
}

/* --- reports and the cluster verdict -----------------------------------------------------------
 */

typedef struct HostSpec {
        const char *name, *machine_id, *uuid, *kernel, *iscsi, *address;
        unsigned mtu;
        const char *peers;   /* space-separated, NULL: no Peers= */
        const char *failing; /* a required check that fails, NULL: ready */
        const char *unknown; /* a required check that is unknown */
        unsigned min_ready;
} HostSpec;

static json_object *str_or_null(const char *s)
{
        return s ? json_object_new_string(s) : NULL;
}

static json_object *check_json(const char *id, const char *status, const char *message)
{
        json_object *c = json_object_new_object();

        json_object_object_add(c, "id", json_object_new_string(id));
        json_object_object_add(c, "title", json_object_new_string(id));
        json_object_object_add(c, "severity", json_object_new_string("required"));
        json_object_object_add(c, "status", json_object_new_string(status));
        json_object_object_add(c, "message", str_or_null(message));
        json_object_object_add(c, "ignored", json_object_new_boolean(false));
        return c;
}

/* A `check --json` report as a worker would print it. */
static json_object *report_json(const HostSpec *h)
{
        json_object *o = json_object_new_object(), *host = json_object_new_object(),
                    *cluster = json_object_new_object(), *profile = json_object_new_object(),
                    *checks = json_object_new_array(), *profiles = json_object_new_array(),
                    *peers = json_object_new_array();
        _cleanup_strv_free_ char **words = NULL;

        ASSERT_TRUE(o && host && cluster && profile && checks && profiles && peers);
        json_object_object_add(o, "schema_version", json_object_new_int(1));
        json_object_object_add(host, "hostname", str_or_null(h->name));
        json_object_object_add(host, "kernel",
                               json_object_new_string(h->kernel ? h->kernel : "6.1.0-28-amd64"));
        json_object_object_add(host, "machine_id", str_or_null(h->machine_id));
        json_object_object_add(host, "product_uuid", str_or_null(h->uuid));
        json_object_object_add(host, "open_iscsi_version",
                               str_or_null(h->iscsi ? h->iscsi : "2.1.8"));
        json_object_object_add(o, "host", host);
        json_object_object_add(o, "ready", json_object_new_boolean(!h->failing && !h->unknown));
        json_object_object_add(cluster, "data_cidr", json_object_new_string("10.77.0.0/24"));
        json_object_object_add(cluster, "data_address", str_or_null(h->address));
        json_object_object_add(cluster, "data_interface", json_object_new_string("eth1"));
        if (h->mtu)
                json_object_object_add(cluster, "data_mtu", json_object_new_int(h->mtu));
        if (h->peers) {
                ASSERT_OK(strv_split(h->peers, " ", &words));
                STRV_FOREACH (w, words)
                        json_object_array_add(peers, json_object_new_string(*w));
        }
        json_object_object_add(cluster, "peers", peers);
        json_object_object_add(o, "cluster", cluster);
        json_object_array_add(checks, check_json("nic.data-cidr", "pass", NULL));
        json_object_array_add(checks,
                              check_json("kubelet.version", "skip", "kubelet not installed"));
        if (h->failing)
                json_object_array_add(checks, check_json(h->failing, "fail", "it fails"));
        if (h->unknown)
                json_object_array_add(checks, check_json(h->unknown, "unknown", "cannot tell"));
        json_object_object_add(profile, "name", json_object_new_string("iomesh"));
        json_object_object_add(profile, "ready",
                               json_object_new_boolean(!h->failing && !h->unknown));
        json_object_object_add(profile, "min_ready_nodes",
                               json_object_new_int(h->min_ready ? (int)h->min_ready : 3));
        json_object_object_add(profile, "checks", checks);
        json_object_array_add(profiles, profile);
        json_object_object_add(o, "profiles", profiles);
        return o;
}

#define PEERS4 "10.77.0.1 10.77.0.2 10.77.0.3 10.77.0.4"

static const HostSpec good[4] = {
        { "w1", "11111111111111111111111111111111", "u1", NULL, NULL, "10.77.0.1", 1500, PEERS4 },
        { "w2", "22222222222222222222222222222222", "u2", NULL, NULL, "10.77.0.2", 1500, PEERS4 },
        { "w3", "33333333333333333333333333333333", "u3", NULL, NULL, "10.77.0.3", 1500, PEERS4 },
        { "w4", "44444444444444444444444444444444", "u4", NULL, NULL, "10.77.0.4", 1500, PEERS4 },
};

typedef struct Judged {
        NpReport *reports[8];
        char **origins;
        size_t n;
        NpCluster *c;
        char *text;
} Judged;

static void judged_done(Judged *j)
{
        for (size_t i = 0; i < j->n; i++)
                np_report_free(j->reports[i]);
        strv_free(j->origins);
        np_cluster_free(j->c);
        free(j->text);
}

static void judge(const HostSpec *hosts, size_t n, Judged *j)
{
        *j = (Judged){};
        for (size_t i = 0; i < n; i++) {
                json_object *o = report_json(&hosts[i]);

                ASSERT_OK(np_report_from_json(o, &j->reports[i]));
                json_object_put(o);
                ASSERT_OK(strv_consume(&j->origins, strprintf("r%zu.json", i + 1)));
                j->n++;
        }
        ASSERT_OK(np_cluster_analyze(j->reports, j->origins, n, &j->c));
        j->text = np_cluster_to_text(j->c, false);
        ASSERT_TRUE(j->text);
}

static const NpClusterFinding *finding(const NpCluster *c, const char *kind)
{
        FOREACH_ARRAY (f, c->findings, c->n_findings)
                if (streq(f->kind, kind))
                        return f;
        return NULL;
}

TEST(report_fields_round_trip)
{
        _cleanup_(np_report_freep) NpReport *r = NULL, *back = NULL;
        json_object *o = report_json(&good[0]), *again = NULL;

        ASSERT_OK(np_report_from_json(o, &r));
        ASSERT_STREQ(r->machine_id, "11111111111111111111111111111111");
        ASSERT_STREQ(r->product_uuid, "u1");
        ASSERT_STREQ(r->open_iscsi_version, "2.1.8");
        ASSERT_STREQ(r->cluster.data_address, "10.77.0.1");
        ASSERT_EQ(r->cluster.data_mtu, 1500);
        ASSERT_EQ(strv_length(r->cluster.peers), 4);
        ASSERT_EQ(r->profiles[0].min_ready_nodes, 3);
        ASSERT_OK(np_report_to_json(r, false, &again));
        ASSERT_OK(np_report_from_json(again, &back));
        ASSERT_STREQ(back->cluster.data_cidr, "10.77.0.0/24");
        ASSERT_STREQ(back->cluster.peers[3], "10.77.0.4");
        ASSERT_EQ(back->profiles[0].min_ready_nodes, 3);
        ASSERT_STREQ(back->machine_id, r->machine_id);
        json_object_put(o);
        json_object_put(again);
}

TEST(cluster_ready)
{
        _cleanup_(judged_done) Judged j = {};
        json_object *o = NULL;

        judge(good, 4, &j);
        ASSERT_CONTAINS(j.text, "iomesh: 4 of 4 workers ready (at least 3 needed): READY\n");
        ASSERT_EQ(np_cluster_exit_code(j.c), 0);
        ASSERT_NULL(finding(j.c, "peers-missing"));
        ASSERT_NULL(finding(j.c, "mtu-mismatch"));
        /* kubelet.version skips everywhere: not pass, so in the matrix. */
        ASSERT_EQ(j.c->n_rows, 1);
        ASSERT_STREQ(j.c->rows[0].check, "kubelet.version");
        ASSERT_OK(np_cluster_to_json(j.c, &o));
        ASSERT_STREQ(json_object_get_string(json_object_object_get(o, "verdict")), "ready");
        json_object_put(o);
}

TEST(cluster_two_of_four)
{
        HostSpec h[4];
        _cleanup_(judged_done) Judged j = {};

        memcpy(h, good, sizeof(h));
        h[2].failing = "net.peers";
        h[3].failing = "iscsi.installed";
        judge(h, 4, &j);
        ASSERT_CONTAINS(j.text, "iomesh: 2 of 4 workers ready (at least 3 needed): NOT READY\n");
        ASSERT_EQ(np_cluster_exit_code(j.c), 1);
        /* The matrix: net.peers fails on w3 only, iscsi.installed on w4 only. */
        ASSERT_CONTAINS(j.text, "w3 net.peers FAIL: it fails");
        ASSERT_CONTAINS(j.text, "w4 iscsi.installed FAIL: it fails");
}

TEST(cluster_undecided)
{
        HostSpec h[3];
        _cleanup_(judged_done) Judged j = {};

        memcpy(h, good, sizeof(h));
        h[0].peers = h[1].peers = h[2].peers = "10.77.0.1 10.77.0.2 10.77.0.3";
        h[2].unknown = "unit.active:iscsid";
        judge(h, 3, &j);
        ASSERT_CONTAINS(j.text, "2 of 3 workers ready (at least 3 needed; 1 undecided): "
                                "UNDECIDED");
        ASSERT_EQ(np_cluster_exit_code(j.c), 2);
}

TEST(cluster_mtu_mismatch)
{
        HostSpec h[4];
        _cleanup_(judged_done) Judged j = {};
        const NpClusterFinding *f;

        memcpy(h, good, sizeof(h));
        h[1].mtu = 9000;
        judge(h, 4, &j);
        f = finding(j.c, "mtu-mismatch");
        ASSERT_TRUE(f && f->fail);
        ASSERT_CONTAINS(f->message, "data-network MTUs differ: MTU 1500 on w1, w3, w4; MTU 9000 on "
                                    "w2");
        ASSERT_EQ(strv_length(f->hosts), 1);
        ASSERT_STREQ(f->hosts[0], "w2");
        ASSERT_CONTAINS(j.text, "3 of 4 workers ready (at least 3 needed; 1 more held back by a "
                                "cluster finding): READY");
        ASSERT_CONTAINS(j.text, "FAIL  mtu-mismatch:");
        judged_done(&j);
        /* A tie: no majority to trust, every host held back. */
        h[3].mtu = 9000;
        judge(h, 4, &j);
        ASSERT_EQ(strv_length(finding(j.c, "mtu-mismatch")->hosts), 4);
        ASSERT_EQ(np_cluster_exit_code(j.c), 1);
}

TEST(cluster_duplicates)
{
        HostSpec h[4];
        _cleanup_(judged_done) Judged j = {};

        memcpy(h, good, sizeof(h));
        h[1].machine_id = h[0].machine_id;
        h[3].uuid = h[2].uuid;
        judge(h, 4, &j);
        ASSERT_TRUE(finding(j.c, "duplicate-machine-id")->fail);
        ASSERT_CONTAINS(finding(j.c, "duplicate-machine-id")->message,
                        "machine-id 11111111111111111111111111111111 is on 2 hosts: w1, w2");
        ASSERT_CONTAINS(finding(j.c, "duplicate-product-uuid")->message,
                        "DMI product UUID u3 is on 2 hosts: w3, w4");
        ASSERT_CONTAINS(j.text, "0 of 4 workers ready (at least 3 needed; 4 more held back");
        judged_done(&j);

        memcpy(h, good, sizeof(h));
        h[3].address = "10.77.0.3";
        h[3].name = "w3";
        judge(h, 4, &j);
        ASSERT_CONTAINS(finding(j.c, "duplicate-data-address")->message,
                        "data address 10.77.0.3 is on 2 hosts: w3 (r3.json), w3 (r4.json)");
        ASSERT_TRUE(finding(j.c, "duplicate-hostname"));
}

TEST(cluster_peers_coverage)
{
        HostSpec h[4];
        _cleanup_(judged_done) Judged j = {};
        const NpClusterFinding *f;

        memcpy(h, good, sizeof(h));
        h[0].peers = "10.77.0.2 w3 10.77.0.9"; /* names count; w4 left out; a stranger */
        judge(h, 4, &j);
        f = finding(j.c, "peers-missing");
        ASSERT_TRUE(f && f->fail);
        ASSERT_CONTAINS(f->message, "w1's Peers= does not list w4 (10.77.0.4): that path is not "
                                    "checked");
        ASSERT_STREQ(f->hosts[0], "w1");
        f = finding(j.c, "unknown-peer");
        ASSERT_TRUE(f && !f->fail);
        ASSERT_CONTAINS(f->message, "w1 lists 10.77.0.9 in Peers=, which no report is about");
        ASSERT_CONTAINS(j.text, "3 of 4 workers ready");
        judged_done(&j);

        for (size_t i = 0; i < 4; i++)
                h[i].peers = NULL;
        judge(h, 4, &j);
        f = finding(j.c, "no-peers");
        ASSERT_TRUE(f && !f->fail);
        ASSERT_CONTAINS(j.text, "4 of 4 workers ready");
}

TEST(cluster_version_warnings)
{
        HostSpec h[4];
        _cleanup_(judged_done) Judged j = {};

        memcpy(h, good, sizeof(h));
        h[0].kernel = "6.1.0-30-amd64";
        h[1].iscsi = "2.1.11";
        h[2].min_ready = 5;
        judge(h, 4, &j);
        ASSERT_CONTAINS(
            finding(j.c, "kernel-versions")->message,
            "kernel versions differ: 6.1.0-30-amd64 on w1; 6.1.0-28-amd64 on w2, w3, w4");
        ASSERT_TRUE(!finding(j.c, "kernel-versions")->fail);
        ASSERT_CONTAINS(finding(j.c, "open-iscsi-versions")->message, "2.1.11 on w2");
        ASSERT_CONTAINS(finding(j.c, "min-ready-nodes")->message, "using 5");
        ASSERT_CONTAINS(j.text, "4 of 4 workers ready (at least 5 needed): NOT READY");
}

/* --- NFD expiry ----------------------------------------------------------------------------------
 */

TEST(nfd_expiry)
{
        _cleanup_(np_report_freep) NpReport *r = NULL;
        _cleanup_free_ char *text = NULL, *rest = NULL, *plain = NULL, *plain_rest = NULL;
        json_object *o = report_json(&good[0]);
        uint64_t expiry = 1;

        ASSERT_OK(np_report_from_json(o, &r));
        json_object_put(o);
        /* 2030-07-29T11:22:33Z */
        ASSERT_OK(np_report_to_nfd(r, 1911554553ULL * 1000000ULL, &text, NULL));
        ASSERT_CONTAINS(text, "do not edit.\n# +expiry-time=2030-07-29T11:22:33Z\n"
                              "nodeprep.io/iomesh.ready=true\n");
        ASSERT_OK(np_nfd_split_expiry(text, strlen(text), &expiry, &rest));
        ASSERT_EQ(expiry, 1911554553ULL * 1000000ULL);
        ASSERT_OK(np_report_to_nfd(r, 0, &plain, NULL));
        ASSERT_TRUE(!strstr(plain, "expiry"));
        ASSERT_STREQ(rest, plain);
        ASSERT_OK(np_nfd_split_expiry(plain, strlen(plain), &expiry, &plain_rest));
        ASSERT_EQ(expiry, 0);
        ASSERT_STREQ(plain_rest, plain);
}

static const TestCase tests[] = {
        T(peers_skip_without_cidr_or_peers),
        T(peers_pass),
        T(peers_unknown),
        T(peers_no_local_address),
        T(peers_off_segment),
        T(peers_unreachable),
        T(peers_mtu),
        T(peers_outside_and_unresolved),
        T(peers_max_latency),
        T(search_sizes),
        T(median_and_grace),
        T(site_cluster_section),
        T(profile_min_ready_nodes_and_max_latency),
        T(report_fields_round_trip),
        T(cluster_ready),
        T(cluster_two_of_four),
        T(cluster_undecided),
        T(cluster_mtu_mismatch),
        T(cluster_duplicates),
        T(cluster_peers_coverage),
        T(cluster_version_warnings),
        T(nfd_expiry),
};

RUN_TESTS(tests)
