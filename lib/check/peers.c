/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * net.peers: every Peers= entry answers this host's data address on the data segment (the
 * kernel's route has no gateway and leaves through the data link) at full size (an echo of the
 * data link's MTU with don't-fragment comes back), and, with MaxLatency=, fast enough.
 */

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "check/check.h"
#include "util/strv.h"

/* What one peer's facts say, worst first. */
typedef enum PeerVerdict {
        PEER_OK,
        PEER_UNKNOWN,
        PEER_UNREACHABLE,
        PEER_OFF_SEGMENT,
        PEER_SMALL_MTU,
        PEER_SLOW,
        PEER_OUTSIDE,
        PEER_UNRESOLVED,
} PeerVerdict;

static int request_peers(const NpCheckDef *def, const NpSettings *s, NpProbeRequest *req)
{
        (void)def;
        if (!s->has_data_cidr || strv_length(s->cluster.peers) == 0)
                return 0; /* the check skips */
        return np_probe_request_add_peers(req, s->cluster.peers, &s->data_cidr,
                                          s->cluster.peer_timeout_usec);
}

static char *ms(uint64_t usec)
{
        return strprintf("%" PRIu64 ".%03" PRIu64 " ms", usec / 1000, usec % 1000);
}

/* One peer: its verdict, a short observation and, when it is not right, why. */
static int judge_peer(const NpPeersFacts *f, const NpPeerFacts *p, const NpSettings *s,
                      PeerVerdict *ret, char **ret_observed, char **ret_message)
{
        _cleanup_free_ char *median = NULL, *max = NULL, *limit = NULL;
        const char *a = p->address ? p->address : p->peer;

        *ret_message = NULL;
        if (p->self) {
                *ret = PEER_OK;
                *ret_observed = strprintf("%s: this host", p->peer);
                return *ret_observed ? 0 : -ENOMEM;
        }
        if (p->resolve_error) {
                *ret = p->resolve_timeout ? PEER_UNKNOWN : PEER_UNRESOLVED;
                *ret_observed = strprintf("%s: %s", p->peer, p->resolve_error);
                *ret_message = strdup(p->resolve_error);
        } else if (!p->in_data_cidr) {
                *ret = PEER_OUTSIDE;
                *ret_observed = strprintf("%s: %s, outside %s", p->peer, a, f->data_cidr);
                *ret_message = strprintf("%s is %s, outside the data network %s: list the "
                                         "peer's data address",
                                         p->peer, a, f->data_cidr);
        } else if (p->route_error) {
                *ret = PEER_UNREACHABLE;
                *ret_observed = strprintf("%s: %s", a, p->route_error);
                *ret_message = strprintf("%s: %s", a, p->route_error);
        } else if (p->route_gateway) {
                *ret = PEER_OFF_SEGMENT;
                *ret_observed =
                    strprintf("%s: via %s on %s", a, p->route_gateway, strna(p->route_interface));
                *ret_message = strprintf("%s is reached through %s on %s, not on the data "
                                         "segment",
                                         a, p->route_gateway, strna(p->route_interface));
        } else if (p->route_ifindex != f->ifindex) {
                *ret = PEER_OFF_SEGMENT;
                *ret_observed = strprintf("%s: on %s", a, strna(p->route_interface));
                *ret_message = strprintf("%s is reached through %s, not the data link %s", a,
                                         strna(p->route_interface), f->interface);
        } else if (p->unknown) {
                *ret = PEER_UNKNOWN;
                *ret_observed = strprintf("%s: %s", a, p->unknown);
                *ret_message = strprintf("%s: %s", a, p->unknown);
        } else if (p->received == 0) {
                *ret = PEER_UNREACHABLE;
                *ret_observed = strprintf("%s: no answer to %u echo requests%s%s", a, p->sent,
                                          p->error ? ": " : "", strempty(p->error));
                *ret_message = strprintf("%s does not answer from %s on %s%s%s", a, f->address,
                                         f->interface, p->error ? ": " : "", strempty(p->error));
        } else if (!p->full_size_ok) {
                _cleanup_free_ char *path = p->path_mtu ? strprintf("; the network names a path "
                                                                    "MTU of %u",
                                                                    p->path_mtu)
                                                        : strdup("");

                *ret = PEER_SMALL_MTU;
                *ret_observed = strprintf("%s: %u-byte echo lost, %s%u passed", a, p->full_size,
                                          p->largest_exact ? "" : "at least ", p->largest_ok);
                *ret_message =
                    path ? strprintf("%s: a full-size echo (%u bytes, this host's MTU on %s) "
                                     "with don't-fragment gets no answer; the largest that "
                                     "passed is %s%u bytes%s",
                                     a, p->full_size, f->interface,
                                     p->largest_exact ? "" : "at least ", p->largest_ok, path)
                         : NULL;
        } else {
                median = ms(p->rtt_median_usec);
                max = ms(p->rtt_max_usec);
                if (!median || !max)
                        return -ENOMEM;
                *ret_observed = strprintf("%s: %u of %u answered, %s median, %s max, %u bytes ok",
                                          a, p->received, p->sent, median, max, p->full_size);
                if (s->max_latency_usec > 0 && p->rtt_median_usec > s->max_latency_usec) {
                        limit = ms(s->max_latency_usec);
                        *ret = PEER_SLOW;
                        *ret_message = limit ? strprintf("%s: the median round trip is %s, above "
                                                         "MaxLatency=%s",
                                                         a, median, limit)
                                             : NULL;
                        if (!*ret_message)
                                return -ENOMEM;
                } else
                        *ret = PEER_OK;
        }
        if (!*ret_observed || (*ret != PEER_OK && !*ret_message))
                return -ENOMEM;
        return 0;
}

static int remedy(NpResult *r, PeerVerdict worst, const NpPeersFacts *f, const NpSettings *s)
{
        unsigned payload = f->mtu > 28 ? f->mtu - 28 : 0;

        switch (worst) {
        case PEER_UNRESOLVED:
        case PEER_OUTSIDE:
                return np_result_remedy(r,
                                        "list each worker's data address (in %s) in [Cluster] "
                                        "Peers= (%s)",
                                        f->data_cidr, strna(s->cluster.peers_origin));
        case PEER_OFF_SEGMENT:
                return np_result_remedy(r,
                                        "put every worker's data address on one segment in %s "
                                        "(same subnet and VLAN, no router between); see the "
                                        "route with: ip route get PEER from %s",
                                        f->data_cidr, f->address);
        case PEER_SMALL_MTU:
                return np_result_remedy(r,
                                        "give every data-network link and switch port the same "
                                        "MTU (ip link set DEV mtu N on each worker; the switch "
                                        "must carry N too), then test: ping -M do -s %u -I %s "
                                        "PEER",
                                        payload, f->address);
        case PEER_SLOW:
                return np_result_remedy(r, "find what delays the data network (a congested or "
                                           "routed path, a busy peer); compare: ping -I ADDRESS "
                                           "PEER");
        case PEER_UNREACHABLE:
                return np_result_remedy(r,
                                        "check the peer's data address and link, and the "
                                        "switch or VLAN between (ping -I %s PEER; ip neigh)",
                                        f->address);
        default:
                return 0;
        }
}

static int run_peers(const NpCheckContext *ctx, const NpCheckDef *def, NpResult *r)
{
        const NpSettings *s = ctx->settings;
        const NpPeersFacts *f = &ctx->facts->peers;
        _cleanup_free_ char *cidr = NULL, *expected = NULL, *observed = NULL, *message = NULL;
        _cleanup_strv_free_ char **observations = NULL, **problems = NULL;
        PeerVerdict worst = PEER_OK;
        bool unknown = false;
        int k;
        (void)def;

        if (!s->has_data_cidr)
                return np_result_skip_no_data_cidr(r);
        if (strv_length(s->cluster.peers) == 0)
                return np_result_set(r, NP_STATUS_SKIP, NULL, NULL,
                                     "no peers to check: add the other workers' data addresses "
                                     "to the site file, [Cluster] Peers=ADDRESS...");
        cidr = np_cidr_to_string(&s->data_cidr);
        expected = cidr ? strprintf("every peer in Peers= answers on the data segment %s (no "
                                    "gateway) at full size with don't-fragment%s%s",
                                    cidr, s->max_latency_usec ? ", median round trip <= " : "",
                                    s->max_latency_usec ? "MaxLatency=" : "")
                        : NULL;
        if (!expected)
                return -ENOMEM;
        if (!f->probed || !streq_ptr(f->data_cidr, cidr))
                return np_result_set(r, NP_STATUS_UNKNOWN, NULL, expected,
                                     f->probed ? "the peers were probed from %s (another "
                                                 "profile's DataCIDR=), not %s"
                                               : "the peers were not probed%s%s",
                                     f->probed ? f->data_cidr : "", f->probed ? cidr : "");
        if (f->unknown)
                return np_result_set(r, NP_STATUS_UNKNOWN, NULL, expected, "%s", f->unknown);
        if (!f->address) {
                k = np_result_set(r, NP_STATUS_FAIL, NULL, expected,
                                  "this host has no address in the data network %s (see "
                                  "nic.data-cidr): no peer can be reached on it",
                                  cidr);
                return k < 0 ? k
                             : np_result_remedy(r,
                                                "assign this host an address in %s on its "
                                                "storage NIC",
                                                cidr);
        }

        STRV_FOREACH (peer, s->cluster.peers) {
                const NpPeerFacts *p = np_facts_peer(ctx->facts, *peer);
                _cleanup_free_ char *obs = NULL, *why = NULL;
                PeerVerdict v;

                if (!p) {
                        unknown = true;
                        k = strv_consume(&observations,
                                         strprintf("%s: not probed yet (added since)", *peer));
                        if (k < 0)
                                return k;
                        continue;
                }
                k = judge_peer(f, p, s, &v, &obs, &why);
                if (k < 0)
                        return k;
                if (v == PEER_UNKNOWN)
                        unknown = true;
                else if (v > worst)
                        worst = v;
                if (strv_consume(&observations, TAKE_PTR(obs)) < 0 ||
                    (why && strv_consume(&problems, TAKE_PTR(why)) < 0))
                        return -ENOMEM;
        }
        observed = strv_join(observations, "; ");
        message = problems ? strv_join(problems, "; ") : NULL;
        if (!observed || (problems && !message))
                return -ENOMEM;
        if (worst != PEER_OK) {
                /* A stale failure stays one (not ready either way), saying a re-probe is due. */
                k = np_result_set(r, NP_STATUS_FAIL, observed, expected, "%s%s%s%s", message,
                                  f->stale ? " (probed before: " : "", strempty(f->stale),
                                  f->stale ? "; probing again)" : "");
                return k < 0 ? k : remedy(r, worst, f, s);
        }
        /* nodeprepd: a link the probe used changed since (daemon/peers.c). The last answers are
         * no proof that the peers answer now (a cable pulled): never a pass on them. */
        if (f->stale)
                return np_result_set(r, NP_STATUS_UNKNOWN, observed, expected,
                                     "%s since the peers were probed (%s); probing them again",
                                     f->stale,
                                     unknown ? "a peer was not probed" : "every peer answered");
        if (unknown)
                return np_result_set(r, NP_STATUS_UNKNOWN, observed, expected, "%s",
                                     message ? message : "a peer was not probed yet");
        return np_result_set(r, NP_STATUS_PASS, observed, expected, NULL);
}

const NpCheckType np_check_net_peers = {
        .name = "net.peers",
        .default_title = "The other workers answer on the data network",
        .request = request_peers,
        .run = run_peers,
};
