/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The peers on the data network (net.peers), probed by nodeprepd in a thread of their own, apart
 * from the evaluations: a peer that does not answer costs PeerTimeout= (2 s), and no other change
 * may wait for that. A probe runs
 *
 *   - when the configuration changes what is probed (Peers=, DataCIDR=, PeerTimeout=): the
 *     evaluation of the new configuration waits for it, so no report says "not probed yet";
 *   - after a link or an address changes (rtnetlink), without holding up the evaluation of that
 *     change: the peers' new facts follow in the next one. Bounded, since every probe sends
 *     echoes to every peer and a flapping link sends events without end: the changes arm a
 *     one-shot timer (later ones merge into it) that starts the probe at
 *
 *         max(first change + 1 s, the last but one link-caused probe's start + PeerInterval/2)
 *
 *     The 1 s lets a burst settle (link down, its addresses and routes going, up again: a dozen
 *     messages) and keeps a pulled cable's verdict about 1 s behind the cable. Two probes per
 *     PeerInterval/2 window, not one: a cable pulled and plugged back are both seen within ~1 s;
 *     a link flapping without end costs at most 2 probes per PeerInterval/2 (4 a minute at the
 *     default 60 s) however many events it sends;
 *   - PeerInterval= (60 s) after the last one ended: the only periodic wake-up, armed only while
 *     Peers= is set (an idle host without Peers= wakes nodeprepd never).
 *
 * One probe at a time; a configuration change during a probe asks for one more after it, a link
 * change during one re-arms the link timer after it. Any probe that starts serves the changes
 * before it.
 *
 * Until the re-probe after a change to a link the last probe used (its source link, a peer's
 * route) has ended, the facts say so (facts.peers_probe.stale): net.peers turns a pass into
 * unknown ("link data0 changed since the peers were probed") and keeps a failure with a note.
 * Answers from before a cable was pulled are no proof the peers answer now; nic.data-cidr
 * reflects the link's own state at once (it is re-probed on the same event). A change to any
 * other link (a container's veth) re-probes, bounded alike, but leaves the verdict alone.
 *
 * The facts a probe found wait in m->peers_result for the next evaluation, which takes them
 * (NP_AREA_PEERS); facts.peers_probe.serial numbers the probes since the daemon started.
 */

#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>

#include "daemon/log.h"
#include "daemon/manager.h"
#include "probe/probe.h"
#include "util/compat.h"
#include "util/strv.h"

struct PeersJob {
        pthread_t thread;
        NpPeersRequest request; /* a copy: the manager's may change while this runs */
        NpFacts *facts;
        uint64_t serial;
        int result;
        int efd;
};

static PeersJob *peers_job_free(PeersJob *j)
{
        if (!j)
                return NULL;
        np_peers_request_done(&j->request);
        np_facts_free(j->facts);
        free(j);
        return NULL;
}

static void *peers_run(void *userdata)
{
        PeersJob *j = userdata;
        uint64_t one = 1;
        manager_probe_thread_signals();
        j->result = np_probe_peers(&j->request, j->facts);
        (void)!write(j->efd, &one, sizeof(one)); /* wakes the loop; cannot overflow */
        return NULL;
}

static bool request_same(const NpPeersRequest *a, const NpPeersRequest *b)
{
        size_t n = strv_length(a->peers);

        if (n != strv_length(b->peers) || a->timeout_usec != b->timeout_usec ||
            a->data_cidr.family != b->data_cidr.family ||
            a->data_cidr.prefixlen != b->data_cidr.prefixlen ||
            memcmp(a->data_cidr.addr, b->data_cidr.addr, sizeof(a->data_cidr.addr)) != 0)
                return false;
        for (size_t i = 0; i < n; i++)
                if (!streq(a->peers[i], b->peers[i]))
                        return false;
        return true;
}

static uint64_t interval_usec(Manager *m)
{
        return m->config ? m->config->site->cluster.peer_interval_usec
                         : NP_PEER_INTERVAL_USEC_DEFAULT;
}

/* How long a burst of link or address changes may settle before the peers are probed. */
#define PEERS_SETTLE_USEC 1000000ULL

/* The link timer after a change: see the rule at the top. */
static void link_arm(Manager *m)
{
        uint64_t due;

        if (!m->peers_link_since || m->peers_job)
                return; /* the probe's end arms it */
        due = m->peers_link_since + PEERS_SETTLE_USEC;
        if (m->peers_link_starts[0])
                due = MAX(due, m->peers_link_starts[0] + interval_usec(m) / 2);
        (void)sd_event_source_set_time(m->peers_link_timer, due);
        (void)sd_event_source_set_enabled(m->peers_link_timer, SD_EVENT_ONESHOT);
}

static void peers_start(Manager *m, bool wait, bool link)
{
        PeersJob *j;
        uint64_t now = 0;
        int r;

        if (!m->request.peers.peers)
                return;
        if (m->peers_job) {
                if (!link) {
                        m->peers_again = true;
                        m->peers_wait_again = m->peers_wait_again || wait;
                }
                return;
        }
        (void)sd_event_source_set_enabled(m->peers_timer, SD_EVENT_OFF);
        j = calloc(1, sizeof(*j));
        if (!j || !(j->facts = np_facts_new()) ||
            np_peers_request_copy(&j->request, &m->request.peers) < 0) {
                peers_job_free(j);
                log_error("Out of memory starting the peer probe");
                return;
        }
        j->efd = m->peers_efd;
        r = pthread_create(&j->thread, NULL, peers_run, j);
        if (r != 0) {
                log_error_errno(-r, "Cannot start the peer probe thread: %m");
                peers_job_free(j);
                return;
        }
        m->peers_job = j;
        m->peers_wait = wait;
        j->serial = ++m->peers_serial;
        /* This probe sees every change before it. */
        (void)sd_event_source_set_enabled(m->peers_link_timer, SD_EVENT_OFF);
        if (link) {
                (void)sd_event_now(m->event, CLOCK_MONOTONIC, &now);
                m->peers_link_starts[0] = m->peers_link_starts[1];
                m->peers_link_starts[1] = now;
        }
        m->peers_link_since = 0;
        m->peers_stale = mfree(m->peers_stale);
        log_debug("Probing %zu peer(s) (probe %" PRIu64 ")%s", strv_length(j->request.peers),
                  j->serial,
                  wait   ? " before the next evaluation"
                  : link ? " after a link change"
                         : "");
}

static int on_peers_done(sd_event_source *source, int fd, uint32_t revents, void *userdata)
{
        Manager *m = userdata;
        PeersJob *j = TAKE_PTR(m->peers_job);
        bool current, again = m->peers_again, wait_again = m->peers_wait_again;
        uint64_t v, now = 0;

        (void)source, (void)revents;
        (void)!read(fd, &v, sizeof(v)); /* reset the counter */
        pthread_join(j->thread, NULL);
        m->peers_again = m->peers_wait_again = false;
        m->peers_wait = false;
        /* A configuration loaded meanwhile may ask for other peers: these facts are stale. */
        current = m->request.peers.peers && request_same(&j->request, &m->request.peers);
        if (j->result < 0)
                log_error_errno(j->result, "Probing the peers failed: %m");
        else if (current) {
                np_facts_free(m->peers_result);
                m->peers_result = TAKE_PTR(j->facts);
                m->peers_result->peers.serial = j->serial;
                /* A change to a link it used came while it ran. */
                if (m->peers_stale &&
                    free_and_strdup(&m->peers_result->peers.stale, m->peers_stale) < 0)
                        log_error("Out of memory marking the peers' facts stale");
                log_debug("Peers probed in %" PRIu64 " us", m->peers_result->peers.elapsed_usec);
                manager_schedule(m, NP_AREA_MASK(NP_AREA_PEERS));
        }
        peers_job_free(j);
        if (!current && m->request.peers.peers)
                peers_start(m, true, false);
        else if (again)
                peers_start(m, wait_again, false);
        else if (m->request.peers.peers) {
                (void)sd_event_now(m->event, CLOCK_MONOTONIC, &now);
                (void)sd_event_source_set_time(m->peers_timer, now + interval_usec(m));
                (void)sd_event_source_set_enabled(m->peers_timer, SD_EVENT_ONESHOT);
        }
        link_arm(m); /* changes that came while it ran */
        if (!m->peers_job)
                /* An evaluation held back for this probe may start now. */
                manager_schedule(m, 0);
        return 0;
}

static int on_peers_timer(sd_event_source *source, uint64_t usec, void *userdata)
{
        (void)source, (void)usec;
        peers_start(userdata, false, false);
        return 0;
}

static int on_peers_link_timer(sd_event_source *source, uint64_t usec, void *userdata)
{
        (void)source, (void)usec;
        peers_start(userdata, false, true);
        return 0;
}

void manager_peers_configure(Manager *m, const NpPeersRequest *old)
{
        if (!m->request.peers.peers) {
                /* Peers= gone: no timer, and the next evaluation drops the old facts. */
                (void)sd_event_source_set_enabled(m->peers_timer, SD_EVENT_OFF);
                (void)sd_event_source_set_enabled(m->peers_link_timer, SD_EVENT_OFF);
                m->peers_again = m->peers_wait_again = false;
                m->peers_link_since = 0;
                m->peers_stale = mfree(m->peers_stale);
                if (old && old->peers) {
                        np_facts_free(m->peers_result);
                        m->peers_result = np_facts_new();
                        if (!m->peers_result)
                                log_error("Out of memory dropping the peers' facts");
                }
                return;
        }
        if (!old || !request_same(old, &m->request.peers) || !m->report)
                peers_start(m, true, false);
}

/* Did the newest facts use link ifindex: the source link, a peer's route, or (no data address
 * then) any link, which may bring it? */
static bool link_used(const NpPeersFacts *f, int ifindex)
{
        if (ifindex <= 0 || !f->address)
                return true;
        if (f->ifindex == ifindex)
                return true;
        FOREACH_ARRAY (p, f->peers, f->n_peers)
                if (p->route_ifindex == ifindex)
                        return true;
        return false;
}

static void mark_stale(NpPeersFacts *f, const char *why)
{
        if (f && f->probed && !f->stale && free_and_strdup(&f->stale, why) < 0)
                log_error("Out of memory marking the peers' facts stale");
}

void manager_peers_changed(Manager *m, int ifindex)
{
        NpPeersFacts *f = m->peers_result                 ? &m->peers_result->peers
                          : m->report && m->report->facts ? &m->report->facts->peers
                                                          : NULL;
        char name[IF_NAMESIZE] = "";
        uint64_t now = 0;

        if (!m->request.peers.peers ||
            !(np_fact_areas_for_events(NP_AREA_EVENT_RTNL) & NP_AREA_MASK(NP_AREA_PEERS)))
                return;
        if (!m->peers_link_since) {
                (void)sd_event_now(m->event, CLOCK_MONOTONIC, &now);
                m->peers_link_since = now;
                link_arm(m);
        }
        /* The verdict must not rest on answers from before a change to a link they used. */
        if (m->peers_stale || (f && !link_used(f, ifindex)))
                return;
        if (ifindex <= 0)
                m->peers_stale = strdup("rtnetlink events were lost");
        else if (if_indextoname((unsigned)ifindex, name))
                m->peers_stale = strprintf("link %s changed", name);
        else
                m->peers_stale = strprintf("link %d (gone now) changed", ifindex);
        if (!m->peers_stale) {
                log_error("Out of memory marking the peers' facts stale");
                return;
        }
        mark_stale(f, m->peers_stale);
        /* The published facts, if the newest probe's wait to be taken: the next evaluation
         * (the change's own) judges with them. */
        if (m->peers_result && m->report && m->report->facts)
                mark_stale(&m->report->facts->peers, m->peers_stale);
}

bool manager_peers_blocking(Manager *m)
{
        return m->peers_job && m->peers_wait;
}

bool manager_peers_take(Manager *m, NpFacts *facts)
{
        if (!m->peers_result)
                return false;
        np_facts_move_area(facts, m->peers_result, NP_AREA_PEERS);
        m->peers_result = np_facts_free(m->peers_result);
        return true;
}

int manager_peers_init(Manager *m)
{
        int r;

        m->peers_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (m->peers_efd < 0)
                return -errno;
        r = sd_event_add_io(m->event, &m->peers_source, m->peers_efd, EPOLLIN, on_peers_done, m);
        if (r >= 0)
                r = sd_event_add_time(m->event, &m->peers_timer, CLOCK_MONOTONIC, UINT64_MAX,
                                      1000000ULL, on_peers_timer, m);
        if (r >= 0)
                r = sd_event_source_set_enabled(m->peers_timer, SD_EVENT_OFF);
        /* Accuracy 1 ms: the 1 s settle time is the point (see the rule at the top). */
        if (r >= 0)
                r = sd_event_add_time(m->event, &m->peers_link_timer, CLOCK_MONOTONIC, UINT64_MAX,
                                      1000ULL, on_peers_link_timer, m);
        if (r >= 0)
                r = sd_event_source_set_enabled(m->peers_link_timer, SD_EVENT_OFF);
        return r;
}

void manager_peers_done(Manager *m)
{
        if (m->peers_job) {
                pthread_join(m->peers_job->thread, NULL);
                m->peers_job = peers_job_free(m->peers_job);
        }
        m->peers_result = np_facts_free(m->peers_result);
        m->peers_source = sd_event_source_disable_unref(m->peers_source);
        m->peers_timer = sd_event_source_disable_unref(m->peers_timer);
        m->peers_link_timer = sd_event_source_disable_unref(m->peers_link_timer);
        m->peers_stale = mfree(m->peers_stale);
        m->peers_efd = safe_close(m->peers_efd);
}
