/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * nic.speed and nic.data-cidr: a link that is up at MinLinkSpeed or faster, and the link holding
 * the one address inside DataCIDR meets that rule. A VLAN or macvlan counts its parent's speed, a
 * bond the speed the kernel reports for it (its active members), a bridge its best port.
 * Loopback, veth (pod plumbing with a constant 10000 Mb/s), tun and other software links never
 * count, nor does a link that is down or whose speed is unknown.
 */

#include <stdlib.h>

#include "check/check.h"
#include "util/strv.h"

#define LIST_MAX  8
#define DEPTH_MAX 8

typedef enum Verdict {
        LINK_COUNTS,        /* up, speed known */
        LINK_SPEED_UNKNOWN, /* up and of a kind that counts, but no speed reported */
        LINK_NO,            /* down, or not a NIC */
} Verdict;

typedef struct LinkEval {
        Verdict verdict;
        int64_t mbps;
        char *detail; /* "up at 25000 Mb/s (tap)", "down (operstate down, no carrier)", ... */
} LinkEval;

static void link_eval_done(LinkEval *e)
{
        free(e->detail);
}

static int request_links(const NpCheckDef *def, const NpSettings *s, NpProbeRequest *req)
{
        (void)def, (void)s;
        req->links = true;
        return 0;
}

static int eval_set(LinkEval *e, Verdict v, int64_t mbps, char *detail)
{
        if (!detail)
                return -ENOMEM;
        e->verdict = v;
        e->mbps = mbps;
        free(e->detail);
        e->detail = detail;
        return 0;
}

static int eval_link(const NpFacts *f, const NpLink *l, unsigned depth, LinkEval *ret);

/* The best of the links named in members (bridge ports), as seen through the same rules. */
static int eval_ports(const NpFacts *f, const NpLink *l, unsigned depth, LinkEval *ret)
{
        LinkEval best = { .verdict = LINK_NO };
        const char *best_name = NULL;
        int r;

        STRV_FOREACH (m, l->members) {
                const NpLink *port = np_facts_link(f, *m);
                LinkEval e = {};

                if (!port)
                        continue;
                r = eval_link(f, port, depth + 1, &e);
                if (r < 0)
                        return r;
                if (e.verdict < best.verdict ||
                    (e.verdict == best.verdict && e.verdict == LINK_COUNTS && e.mbps > best.mbps)) {
                        link_eval_done(&best);
                        best = e;
                        best_name = port->name;
                } else
                        link_eval_done(&e);
        }
        if (!best_name) {
                link_eval_done(&best);
                return eval_set(
                    ret, LINK_NO, -1,
                    strprintf("bridge without a port that counts (%s)",
                              strv_length(l->members) ? "ports are down or virtual" : "no ports"));
        }
        r = eval_set(ret, best.verdict, best.mbps,
                     strprintf("bridge, via port %s: %s", best_name, best.detail));
        link_eval_done(&best);
        return r;
}

static int eval_link(const NpFacts *f, const NpLink *l, unsigned depth, LinkEval *ret)
{
        const char *kind = np_link_kind_to_string(l->kind);

        if (depth > DEPTH_MAX)
                return eval_set(ret, LINK_NO, -1, strdup("too deeply stacked"));
        if (l->kind == NP_LINK_LOOPBACK)
                return eval_set(ret, LINK_NO, -1, strdup("loopback"));
        if (!np_link_is_up(l))
                return eval_set(ret, LINK_NO, -1,
                                strprintf("down (%s%s, operstate %s)",
                                          l->admin_up ? "admin up" : "admin down",
                                          l->carrier ? "" : ", no carrier", strna(l->operstate)));
        switch (l->kind) {
        case NP_LINK_PHYSICAL:
        case NP_LINK_BOND:
        case NP_LINK_TEAM:
        case NP_LINK_TAP:
                if (l->speed_mbps < 0)
                        return eval_set(ret, LINK_SPEED_UNKNOWN, -1,
                                        strprintf("up, speed unknown (%s; the driver reports no "
                                                  "speed: ethtool %s)",
                                                  kind, l->name));
                return eval_set(ret, LINK_COUNTS, l->speed_mbps,
                                strprintf("up at %lld Mb/s (%s)", (long long)l->speed_mbps, kind));
        case NP_LINK_VLAN:
        case NP_LINK_MACVLAN: {
                const NpLink *p = l->parent ? np_facts_link(f, l->parent) : NULL;
                LinkEval e = {};
                int r;

                if (!p)
                        return eval_set(ret, LINK_SPEED_UNKNOWN, -1,
                                        strprintf("up, %s whose parent link is not visible in "
                                                  "this network namespace",
                                                  kind));
                r = eval_link(f, p, depth + 1, &e);
                if (r >= 0)
                        r = eval_set(ret, e.verdict, e.mbps,
                                     strprintf("%s on %s: %s", kind, p->name, e.detail));
                link_eval_done(&e);
                return r;
        }
        case NP_LINK_BRIDGE:
                return eval_ports(f, l, depth, ret);
        case NP_LINK_VETH:
                return eval_set(ret, LINK_NO, -1,
                                strdup("veth: a virtual pair (container plumbing), its speed "
                                       "says nothing about the wire"));
        case NP_LINK_TUN:
                return eval_set(ret, LINK_NO, -1, strdup("tun: a layer-3 tunnel device"));
        case NP_LINK_VXLAN:
                return eval_set(ret, LINK_NO, -1,
                                strdup("vxlan overlay: only the link underneath counts"));
        default:
                return eval_set(ret, LINK_NO, -1,
                                strprintf("%s%s%s: a software device, not a NIC", kind,
                                          l->kind_detail ? " " : "", strempty(l->kind_detail)));
        }
}

int np_link_counted_speed(const NpFacts *f, const NpLink *l, int64_t *ret_mbps)
{
        _cleanup_(link_eval_done) LinkEval e = {};
        int r = eval_link(f, l, 0, &e);

        if (r < 0)
                return r;
        *ret_mbps = e.verdict == LINK_COUNTS ? e.mbps : -1;
        return e.verdict == LINK_COUNTS;
}

static char *capped_join(char **l, size_t n, const char *sep)
{
        _cleanup_free_ char *s = strv_join(l, sep);

        if (!s)
                return NULL;
        if (n > LIST_MAX)
                return strprintf("%s%s... and %zu more", s, sep, n - LIST_MAX);
        return TAKE_PTR(s);
}

static int run_speed(const NpCheckContext *ctx, const NpCheckDef *def, NpResult *r)
{
        uint64_t min = ctx->settings->min_link_speed;
        _cleanup_free_ char *expected = NULL, *observed = NULL;
        _cleanup_strv_free_ char **seen = NULL, **passing = NULL, **unknown = NULL;
        size_t n_seen = 0, n_passing = 0, n_unknown = 0;
        const NpLink *fastest_slow = NULL;
        int64_t fastest_slow_mbps = -1;
        int k;
        (void)def;

        expected = strprintf("a link that is up at >= %llu Mb/s", (unsigned long long)min);
        if (!expected)
                return -ENOMEM;
        if (ctx->facts->links_unknown)
                return np_result_set(r, NP_STATUS_UNKNOWN, NULL, expected, "%s",
                                     ctx->facts->links_unknown);

        FOREACH_ARRAY (l, ctx->facts->links, ctx->facts->n_links) {
                _cleanup_(link_eval_done) LinkEval e = {};
                char *text;

                if (l->kind == NP_LINK_LOOPBACK)
                        continue;
                k = eval_link(ctx->facts, l, 0, &e);
                if (k < 0)
                        return k;
                text = strprintf("%s %s", l->name, e.detail);
                if (!text)
                        return -ENOMEM;
                k = 0;
                if (e.verdict == LINK_COUNTS && (uint64_t)e.mbps >= min) {
                        if (n_passing++ < LIST_MAX)
                                k = strv_extend(&passing, text);
                } else if (e.verdict == LINK_SPEED_UNKNOWN) {
                        if (n_unknown++ < LIST_MAX)
                                k = strv_extend(&unknown, text);
                } else if (e.verdict == LINK_COUNTS && e.mbps > fastest_slow_mbps) {
                        fastest_slow = l;
                        fastest_slow_mbps = e.mbps;
                }
                if (k >= 0 && n_seen++ < LIST_MAX)
                        k = strv_consume(&seen, text);
                else
                        free(text);
                if (k < 0)
                        return k;
        }

        if (n_passing > 0) {
                observed = capped_join(passing, n_passing, "; ");
                return observed ? np_result_set(r, NP_STATUS_PASS, observed, expected, NULL)
                                : -ENOMEM;
        }
        observed = n_seen ? capped_join(seen, n_seen, "; ") : strdup("no links besides loopback");
        if (!observed)
                return -ENOMEM;
        if (n_unknown > 0)
                return np_result_set(r, NP_STATUS_UNKNOWN, observed, expected,
                                     "no link is up at >= %llu Mb/s, but %zu up link(s) report no "
                                     "speed and might be fast enough",
                                     (unsigned long long)min, n_unknown);
        k = np_result_set(r, NP_STATUS_FAIL, observed, expected, "no link is up at >= %llu Mb/s",
                          (unsigned long long)min);
        if (k < 0)
                return k;
        if (fastest_slow)
                return np_result_remedy(r,
                                        "%s is up at %lld Mb/s: connect a NIC of >= %llu Mb/s "
                                        "(or check cable, transceiver and switch port: ethtool "
                                        "%s), then bring it up (ip link set DEV up)",
                                        fastest_slow->name, (long long)fastest_slow_mbps,
                                        (unsigned long long)min, fastest_slow->name);
        return np_result_remedy(r,
                                "connect a NIC of >= %llu Mb/s and bring it up (ip link set DEV "
                                "up; check the cable: ethtool DEV)",
                                (unsigned long long)min);
}

static int run_data_cidr(const NpCheckContext *ctx, const NpCheckDef *def, NpResult *r)
{
        const NpSettings *s = ctx->settings;
        _cleanup_free_ char *cidr = NULL, *expected = NULL, *observed = NULL;
        _cleanup_strv_free_ char **matches = NULL, **all = NULL;
        _cleanup_(link_eval_done) LinkEval e = {};
        const NpLink *match = NULL;
        const NpLinkAddress *match_addr = NULL, *unusable_addr = NULL;
        const NpLink *unusable_link = NULL;
        size_t n_matches = 0, n_all = 0;
        int k;
        (void)def;

        if (!s->has_data_cidr)
                return np_result_skip_no_data_cidr(r);
        cidr = np_cidr_to_string(&s->data_cidr);
        expected = strprintf("exactly one address in %s, on a link that is up at >= %llu Mb/s",
                             strna(cidr), (unsigned long long)s->min_link_speed);
        if (!cidr || !expected)
                return -ENOMEM;
        if (ctx->facts->links_unknown)
                return np_result_set(r, NP_STATUS_UNKNOWN, NULL, expected, "%s",
                                     ctx->facts->links_unknown);

        FOREACH_ARRAY (l, ctx->facts->links, ctx->facts->n_links)
                FOREACH_ARRAY (a, l->addresses, l->n_addresses) {
                        char *text = a->unusable
                                         ? strprintf("%s %s (%s)", l->name, a->text, a->unusable)
                                         : strprintf("%s %s", l->name, a->text);

                        if (!text)
                                return -ENOMEM;
                        /* A failed or tentative IPv6 address carries no traffic: listed, not
                         * matched. */
                        if (a->unusable &&
                            np_cidr_contains(&s->data_cidr, a->cidr.family, a->cidr.addr)) {
                                unusable_link = l;
                                unusable_addr = a;
                        }
                        if (!a->unusable &&
                            np_cidr_contains(&s->data_cidr, a->cidr.family, a->cidr.addr)) {
                                n_matches++;
                                match = l;
                                match_addr = a;
                                k = strv_extend(&matches, text);
                        } else
                                k = 0;
                        if (k >= 0 && l->kind != NP_LINK_LOOPBACK && n_all++ < LIST_MAX)
                                k = strv_consume(&all, text);
                        else
                                free(text);
                        if (k < 0)
                                return k;
                }

        if (n_matches == 0) {
                _cleanup_free_ char *list = n_all ? capped_join(all, n_all, ", ") : strdup("none");

                observed = list ? strprintf("no address in %s; addresses: %s", cidr, list) : NULL;
                if (!observed)
                        return -ENOMEM;
                if (unusable_addr) {
                        k = np_result_set(r, NP_STATUS_FAIL, observed, expected,
                                          "%s holds %s in the data network %s, but the kernel "
                                          "does not use it: %s",
                                          unusable_link->name, unusable_addr->text, cidr,
                                          streq(unusable_addr->unusable, "dadfailed")
                                              ? "duplicate address detection failed (another "
                                                "host has this address)"
                                              : "duplicate address detection has not finished");
                        return k < 0 ? k
                                     : np_result_remedy(r,
                                                        "give %s an address in %s that no other "
                                                        "host uses (ip -6 addr show dadfailed)",
                                                        unusable_link->name, cidr);
                }
                k = np_result_set(r, NP_STATUS_FAIL, observed, expected,
                                  "no link holds an address in the data network %s", cidr);
                return k < 0 ? k
                             : np_result_remedy(r,
                                                "assign an address in %s to the storage NIC (the "
                                                "one at >= %llu Mb/s) in the network "
                                                "configuration, or correct DataCIDR= (site file "
                                                "[Settings] or --set DataCIDR=)",
                                                cidr, (unsigned long long)s->min_link_speed);
        }
        if (n_matches > 1) {
                observed = strv_join(matches, ", ");
                if (!observed)
                        return -ENOMEM;
                /* IOMesh's node check refuses a node with several addresses in the data CIDR. */
                k = np_result_set(r, NP_STATUS_FAIL, observed, expected,
                                  "%zu addresses are in %s; IOMesh needs exactly one per node",
                                  n_matches, cidr);
                return k < 0 ? k
                             : np_result_remedy(r,
                                                "keep one address in %s and remove the others "
                                                "(ip addr del ADDRESS dev LINK, and from the "
                                                "network configuration)",
                                                cidr);
        }

        k = eval_link(ctx->facts, match, 0, &e);
        if (k < 0)
                return k;
        observed = strprintf("%s %s: %s", match->name, match_addr->text, e.detail);
        if (!observed)
                return -ENOMEM;
        if (e.verdict == LINK_COUNTS && (uint64_t)e.mbps >= s->min_link_speed)
                return np_result_set(r, NP_STATUS_PASS, observed, expected, NULL);
        if (e.verdict == LINK_SPEED_UNKNOWN)
                return np_result_set(r, NP_STATUS_UNKNOWN, observed, expected,
                                     "%s holds %s but its speed is unknown", match->name,
                                     match_addr->text);
        if (e.verdict == LINK_COUNTS)
                k = np_result_set(r, NP_STATUS_FAIL, observed, expected,
                                  "%s holds %s but runs at %lld Mb/s, below %llu Mb/s", match->name,
                                  match_addr->text, (long long)e.mbps,
                                  (unsigned long long)s->min_link_speed);
        else
                k = np_result_set(r, NP_STATUS_FAIL, observed, expected,
                                  "%s holds %s but does not carry storage traffic: %s", match->name,
                                  match_addr->text, e.detail);
        if (k < 0)
                return k;
        return np_result_remedy(r,
                                "move %s to a NIC that is up at >= %llu Mb/s (or bring %s up "
                                "and check its cable: ethtool %s)",
                                match_addr->text, (unsigned long long)s->min_link_speed,
                                match->name, match->name);
}

const NpCheckType np_check_nic_speed = {
        .name = "nic.speed",
        .default_title = "A fast enough network link",
        .request = request_links,
        .run = run_speed,
};

const NpCheckType np_check_nic_data_cidr = {
        .name = "nic.data-cidr",
        .default_title = "A link in the data network",
        .request = request_links,
        .run = run_data_cidr,
};
