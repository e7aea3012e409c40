/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The peers on the data network (net.peers): from this host's address in DataCIDR, for each
 * Peers= entry, what an engineer checks by hand with `ip route get PEER from ADDR` and
 * `ping -M do -s 8972 PEER`:
 *
 *  - the kernel's route to it (rtnetlink RTM_GETROUTE): out of which link, through which gateway
 *    (none: the peer is on the data segment), and whether it is this host's own address;
 *  - ICMP echo: NP_PEER_SMALL_COUNT small requests for the round-trip time, and two of the data
 *    link's MTU with don't-fragment set; when no full-size answer comes back, rounds of sizes
 *    sent at once narrow down the largest size that does come back.
 *
 * Every peer is probed at once on non-blocking sockets in one poll() loop, the whole bounded by
 * PeerTimeout=. ICMP goes through the kernel's unprivileged ping sockets (SOCK_DGRAM with
 * IPPROTO_ICMP/ICMPV6, allowed to the groups in net.ipv4.ping_group_range, which systemd >= 243
 * opens to all) and through raw sockets (CAP_NET_RAW) where those are refused. Don't-fragment is
 * IP_PMTUDISC_PROBE / IPV6_PMTUDISC_PROBE + IPV6_DONTFRAG: DF set, sent at the link's MTU even
 * when the kernel has cached a smaller path MTU (IP_PMTUDISC_DO would fail at once on the cache,
 * measuring the past instead of the path). ICMP errors (unreachable, fragmentation needed)
 * arrive on the socket's error queue (IP_RECVERR), as ping(8) reads them.
 */

#include <arpa/inet.h>
#include <limits.h>
#include <linux/errqueue.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <netdb.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "probe/peers.h"
#include "probe/probe.h"
#include "util/strv.h"

#define ICMP4_ECHO_REPLY    0
#define ICMP4_DEST_UNREACH  3
#define ICMP4_FRAG_NEEDED   4 /* code of ICMP4_DEST_UNREACH */
#define ICMP4_ECHO_REQUEST  8
#define ICMP6_ECHO_REQ      128
#define ICMP6_ECHO_REP      129
#define ICMP6_TOO_BIG       2
#define ICMP4_FILTER_OPTION 1 /* SOL_RAW ICMP_FILTER, linux/icmp.h */

/* The ICMP echo header (RFC 792, RFC 4443). */
typedef struct EchoHeader {
        uint8_t type, code;
        uint16_t checksum, id, seq;
} EchoHeader;

unsigned np_peer_overhead(int family)
{
        return (family == AF_INET6 ? 40U : 20U) + (unsigned)sizeof(EchoHeader);
}

unsigned np_peer_small_size(int family)
{
        return np_peer_overhead(family) + 56U;
}

static int cmp_unsigned(const void *a, const void *b)
{
        unsigned x = *(const unsigned *)a, y = *(const unsigned *)b;

        return x < y ? -1 : x > y;
}

static int cmp_u64(const void *a, const void *b)
{
        uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

        return x < y ? -1 : x > y;
}

static bool contains(const unsigned *v, size_t n, unsigned x)
{
        for (size_t i = 0; i < n; i++)
                if (v[i] == x)
                        return true;
        return false;
}

size_t np_peer_search_sizes(unsigned lo, unsigned hi, bool first, unsigned *ret, size_t max)
{
        /* Ethernet, PPPoE, VXLAN/Geneve overlays, IPv6's minimum, jumbo frames as switches and
         * clouds set them. */
        static const unsigned common[] = { 1280, 1400, 1450, 1460, 1476, 1480, 1492, 1500, 1550,
                                           2000, 4000, 4470, 8000, 8950, 9000, 9001, 9198, 9216 };
        size_t n = 0;

        for (size_t i = 0; first && i < ELEMENTSOF(common) && n < max; i++)
                if (common[i] > lo && common[i] < hi)
                        ret[n++] = common[i];
        for (unsigned j = 1; j <= NP_PEER_SEARCH_WAYS && n < max && hi > lo; j++) {
                unsigned s = lo + (unsigned)((uint64_t)(hi - lo) * j / (NP_PEER_SEARCH_WAYS + 1));

                if (s > lo && s < hi && !contains(ret, n, s))
                        ret[n++] = s;
        }
        qsort(ret, n, sizeof(unsigned), cmp_unsigned);
        return n;
}

uint64_t np_median_usec(uint64_t *v, size_t n)
{
        if (n == 0)
                return 0;
        qsort(v, n, sizeof(uint64_t), cmp_u64);
        return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

uint64_t np_peer_grace_usec(uint64_t rtt_max_usec)
{
        uint64_t g = 3 * rtt_max_usec + 20000;

        return MIN(MAX(g, 50000ULL), 1000000ULL);
}

/* --- addresses ------------------------------------------------------------------------------- */

typedef union SockAddr {
        struct sockaddr sa;
        struct sockaddr_in in;
        struct sockaddr_in6 in6;
        struct sockaddr_storage storage;
} SockAddr;

static socklen_t sockaddr_len(int family)
{
        return family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
}

static const void *sockaddr_addr(const SockAddr *a)
{
        return a->sa.sa_family == AF_INET6 ? (const void *)&a->in6.sin6_addr
                                           : (const void *)&a->in.sin_addr;
}

static size_t addr_len(int family)
{
        return family == AF_INET6 ? 16 : 4;
}

static void sockaddr_set(SockAddr *a, int family, const void *addr)
{
        *a = (SockAddr){};
        a->sa.sa_family = (sa_family_t)family;
        memcpy((void *)sockaddr_addr(a), addr, addr_len(family));
}

static bool sockaddr_same(const SockAddr *a, const SockAddr *b)
{
        return a->sa.sa_family == b->sa.sa_family &&
               memcmp(sockaddr_addr(a), sockaddr_addr(b), addr_len(a->sa.sa_family)) == 0;
}

static char *addr_text(int family, const void *addr)
{
        char buf[INET6_ADDRSTRLEN];

        return inet_ntop(family, addr, buf, sizeof(buf)) ? strdup(buf) : NULL;
}

/* --- rtnetlink ------------------------------------------------------------------------------- */

typedef struct Rtnl {
        int fd;
        uint32_t seq;
} Rtnl;

static int rtnl_open(Rtnl *nl)
{
        struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
        int one = 1;

        nl->fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
        if (nl->fd < 0)
                return -errno;
        /* Errors come with the request they answer; ask the kernel to check strictly. */
        (void)setsockopt(nl->fd, SOL_NETLINK, NETLINK_GET_STRICT_CHK, &one, sizeof(one));
        if (bind(nl->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
                return -errno;
        return 0;
}

typedef int (*RtnlHandler)(const struct nlmsghdr *h, void *userdata);

/* Send a request and feed every answer to handler until the end of the dump (or the one answer);
 * -errno from the kernel's NLMSG_ERROR, -ETIME when it does not answer within a second. */
static int rtnl_call(Rtnl *nl, struct nlmsghdr *req, RtnlHandler handler, void *userdata)
{
        char buf[32768];
        bool dump = req->nlmsg_flags & NLM_F_DUMP;

        req->nlmsg_seq = ++nl->seq;
        if (send(nl->fd, req, req->nlmsg_len, 0) < 0)
                return -errno;
        for (;;) {
                struct pollfd p = { .fd = nl->fd, .events = POLLIN };
                ssize_t n;
                int k = poll(&p, 1, 1000);

                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0)
                        return -errno;
                if (k == 0)
                        return -ETIME;
                n = recv(nl->fd, buf, sizeof(buf), 0);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -errno;
                for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, (size_t)n);
                     h = NLMSG_NEXT(h, n)) {
                        if (h->nlmsg_seq != nl->seq)
                                continue;
                        if (h->nlmsg_type == NLMSG_DONE)
                                return 0;
                        if (h->nlmsg_type == NLMSG_ERROR) {
                                const struct nlmsgerr *e = NLMSG_DATA(h);

                                return e->error; /* 0 is an acknowledgement */
                        }
                        k = handler(h, userdata);
                        if (k < 0)
                                return k;
                        if (!dump)
                                return 0;
                }
        }
}

static void rtnl_add_attr(struct nlmsghdr *h, unsigned short type, const void *data, size_t len)
{
        struct rtattr *a = (struct rtattr *)((char *)h + NLMSG_ALIGN(h->nlmsg_len));

        a->rta_type = type;
        a->rta_len = (unsigned short)RTA_LENGTH(len);
        memcpy(RTA_DATA(a), data, len);
        h->nlmsg_len = NLMSG_ALIGN(h->nlmsg_len) + RTA_ALIGN(a->rta_len);
}

/* This host's addresses in the data CIDR. */
typedef struct LocalAddresses {
        const NpCidr *cidr;
        int ifindex;
        unsigned char addr[16];
        bool found;
        char **others;
} LocalAddresses;

static int on_address(const struct nlmsghdr *h, void *userdata)
{
        LocalAddresses *l = userdata;
        const struct ifaddrmsg *ifa = NLMSG_DATA(h);
        const unsigned char *local = NULL, *address = NULL;
        uint32_t flags = ifa->ifa_flags;
        int len = (int)IFA_PAYLOAD(h);

        if (h->nlmsg_type != RTM_NEWADDR || ifa->ifa_family != l->cidr->family)
                return 0;
        for (struct rtattr *a = IFA_RTA(ifa); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
                if (a->rta_type == IFA_LOCAL)
                        local = RTA_DATA(a);
                else if (a->rta_type == IFA_ADDRESS)
                        address = RTA_DATA(a);
                else if (a->rta_type == IFA_FLAGS && RTA_PAYLOAD(a) >= sizeof(uint32_t))
                        memcpy(&flags, RTA_DATA(a), sizeof(flags));
        }
        /* IFA_LOCAL is the address itself (IFA_ADDRESS the peer's on point-to-point links). */
        if (local)
                address = local;
        /* An address that failed or has not finished duplicate address detection carries no
         * traffic (as nic.data-cidr). */
        if (!address || (flags & (IFA_F_TENTATIVE | IFA_F_DADFAILED)) ||
            !np_cidr_contains(l->cidr, ifa->ifa_family, address))
                return 0;
        if (!l->found) {
                l->found = true;
                l->ifindex = (int)ifa->ifa_index;
                memcpy(l->addr, address, addr_len(ifa->ifa_family));
                return 0;
        }
        return strv_consume(&l->others, addr_text(ifa->ifa_family, address));
}

static int find_local_address(Rtnl *nl, LocalAddresses *l)
{
        struct {
                struct nlmsghdr h;
                struct ifaddrmsg ifa;
        } req = {
                .h = { .nlmsg_len = NLMSG_LENGTH(sizeof(struct ifaddrmsg)),
                       .nlmsg_type = RTM_GETADDR,
                       .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP },
                .ifa = { .ifa_family = (unsigned char)l->cidr->family },
        };

        return rtnl_call(nl, &req.h, on_address, l);
}

typedef struct Route {
        int family;
        unsigned char type;
        int ifindex;
        bool has_gateway, has_prefsrc;
        unsigned char gateway[16], prefsrc[16];
        int gateway_family;
        unsigned mtu;
} Route;

static int on_route(const struct nlmsghdr *h, void *userdata)
{
        Route *rt = userdata;
        const struct rtmsg *m = NLMSG_DATA(h);
        int len = (int)RTM_PAYLOAD(h);

        if (h->nlmsg_type != RTM_NEWROUTE)
                return 0;
        rt->type = m->rtm_type;
        for (struct rtattr *a = RTM_RTA(m); RTA_OK(a, len); a = RTA_NEXT(a, len))
                switch (a->rta_type) {
                case RTA_OIF:
                        if (RTA_PAYLOAD(a) >= sizeof(uint32_t)) {
                                uint32_t i;

                                memcpy(&i, RTA_DATA(a), sizeof(i));
                                rt->ifindex = (int)i;
                        }
                        break;
                case RTA_GATEWAY:
                        if (RTA_PAYLOAD(a) == addr_len(rt->family)) {
                                rt->has_gateway = true;
                                rt->gateway_family = rt->family;
                                memcpy(rt->gateway, RTA_DATA(a), RTA_PAYLOAD(a));
                        }
                        break;
                case RTA_VIA: { /* an IPv4 route through an IPv6 next hop (RFC 5549) */
                        const struct rtvia *v = RTA_DATA(a);

                        if (RTA_PAYLOAD(a) >= sizeof(*v) + addr_len(v->rtvia_family) &&
                            (v->rtvia_family == AF_INET || v->rtvia_family == AF_INET6)) {
                                rt->has_gateway = true;
                                rt->gateway_family = v->rtvia_family;
                                memcpy(rt->gateway, v->rtvia_addr, addr_len(v->rtvia_family));
                        }
                        break;
                }
                case RTA_PREFSRC:
                        if (RTA_PAYLOAD(a) == addr_len(rt->family)) {
                                rt->has_prefsrc = true;
                                memcpy(rt->prefsrc, RTA_DATA(a), RTA_PAYLOAD(a));
                        }
                        break;
                case RTA_METRICS: {
                        int mlen = (int)RTA_PAYLOAD(a);

                        for (struct rtattr *x = RTA_DATA(a); RTA_OK(x, mlen); x = RTA_NEXT(x, mlen))
                                if (x->rta_type == RTAX_MTU && RTA_PAYLOAD(x) >= sizeof(uint32_t)) {
                                        uint32_t mtu;

                                        memcpy(&mtu, RTA_DATA(x), sizeof(mtu));
                                        rt->mtu = mtu;
                                }
                        break;
                }
                default:
                        break;
                }
        return 0;
}

/* `ip route get DST from SRC`: the route traffic from the data address to the peer takes (policy
 * routing by source included). */
static int get_route(Rtnl *nl, int family, const void *dst, const void *src, Route *ret)
{
        struct {
                struct nlmsghdr h;
                struct rtmsg rt;
                char attrs[64];
        } req = {
                .h = { .nlmsg_len = NLMSG_LENGTH(sizeof(struct rtmsg)),
                       .nlmsg_type = RTM_GETROUTE,
                       .nlmsg_flags = NLM_F_REQUEST },
                .rt = { .rtm_family = (unsigned char)family,
                        .rtm_dst_len = (unsigned char)(addr_len(family) * 8),
                        .rtm_src_len = (unsigned char)(addr_len(family) * 8) },
        };

        *ret = (Route){ .family = family };
        rtnl_add_attr(&req.h, RTA_DST, dst, addr_len(family));
        rtnl_add_attr(&req.h, RTA_SRC, src, addr_len(family));
        return rtnl_call(nl, &req.h, on_route, ret);
}

static char *ifindex_name(int ifindex)
{
        char buf[IF_NAMESIZE];

        if (if_indextoname((unsigned)ifindex, buf))
                return strdup(buf);
        return strprintf("ifindex %d", ifindex);
}

static unsigned link_mtu(int ifindex)
{
        struct ifreq ifr = {};
        _cleanup_close_ int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

        if (fd < 0 || !if_indextoname((unsigned)ifindex, ifr.ifr_name) ||
            ioctl(fd, SIOCGIFMTU, &ifr) < 0)
                return 0;
        return (unsigned)ifr.ifr_mtu;
}

/* --- ICMP ------------------------------------------------------------------------------------ */

typedef struct Probe {
        uint16_t seq;
        unsigned size;
        unsigned round; /* 0: the first (echo) round */
        uint64_t sent_usec;
        uint64_t rtt_usec;
        bool small, answered, failed;
} Probe;

typedef enum Phase {
        PHASE_ECHO,
        PHASE_SEARCH,
        PHASE_DONE,
} Phase;

typedef struct Peer {
        NpPeerFacts *facts;
        int fd;
        uint16_t id; /* raw sockets: the echo identifier (ping sockets: the kernel's) */
        SockAddr addr;
        Phase phase;
        Probe *probes;
        size_t n_probes, allocated;
        uint16_t next_seq;
        unsigned small_sent;
        uint64_t next_small_usec;
        unsigned round;
        uint64_t round_end_usec;
        unsigned lo, hi; /* sizes known to come back / not to */
} Peer;

typedef struct Engine {
        int family;
        bool raw;
        SockAddr source;
        unsigned full_size;
        uint64_t deadline_usec;
        Peer *peers;
        size_t n_peers;
} Engine;

static uint16_t checksum(const void *data, size_t len)
{
        const uint8_t *p = data;
        uint32_t sum = 0;

        for (size_t i = 0; i + 1 < len; i += 2)
                sum += (uint32_t)(p[i] << 8 | p[i + 1]);
        if (len % 2)
                sum += (uint32_t)(p[len - 1] << 8);
        while (sum >> 16)
                sum = (sum & 0xffff) + (sum >> 16);
        return htons((uint16_t)~sum);
}

/* A socket for echo requests to peers from the data address: a ping socket, or a raw one when the
 * kernel refuses ping sockets to this group. -errno when neither can be had. */
static int icmp_socket(Engine *e)
{
        int proto = e->family == AF_INET6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP;
        _cleanup_close_ int fd = -EBADF;
        int one = 1, pmtu;

        if (!e->raw) {
                fd = socket(e->family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, proto);
                if (fd < 0 && (errno == EACCES || errno == EPERM || errno == EPROTONOSUPPORT))
                        e->raw = true; /* and for the other peers too */
                else if (fd < 0)
                        return -errno;
        }
        if (e->raw) {
                fd = socket(e->family, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, proto);
                if (fd < 0)
                        return -errno;
                if (e->family == AF_INET) {
                        /* Only echo replies in the receive queue (errors come in the error
                         * queue): the bits set are the types blocked. */
                        uint32_t filter = ~(1U << ICMP4_ECHO_REPLY);

                        (void)setsockopt(fd, SOL_RAW, ICMP4_FILTER_OPTION, &filter, sizeof(filter));
                } else {
                        struct icmp6_filter filter;

                        ICMP6_FILTER_SETBLOCKALL(&filter);
                        ICMP6_FILTER_SETPASS(ICMP6_ECHO_REP, &filter);
                        (void)setsockopt(fd, IPPROTO_ICMPV6, ICMP6_FILTER, &filter, sizeof(filter));
                }
        }
        if (e->family == AF_INET) {
                pmtu = IP_PMTUDISC_PROBE;
                if (setsockopt(fd, IPPROTO_IP, IP_MTU_DISCOVER, &pmtu, sizeof(pmtu)) < 0 ||
                    setsockopt(fd, IPPROTO_IP, IP_RECVERR, &one, sizeof(one)) < 0)
                        return -errno;
        } else {
                pmtu = IPV6_PMTUDISC_PROBE;
                if (setsockopt(fd, IPPROTO_IPV6, IPV6_MTU_DISCOVER, &pmtu, sizeof(pmtu)) < 0 ||
                    setsockopt(fd, IPPROTO_IPV6, IPV6_DONTFRAG, &one, sizeof(one)) < 0 ||
                    setsockopt(fd, IPPROTO_IPV6, IPV6_RECVERR, &one, sizeof(one)) < 0)
                        return -errno;
        }
        /* From the data address, as storage traffic leaves. */
        if (bind(fd, &e->source.sa, sockaddr_len(e->family)) < 0)
                return -errno;
        return TAKE_FD(fd);
}

static Probe *peer_find_probe(Peer *p, uint16_t seq)
{
        FOREACH_ARRAY (x, p->probes, p->n_probes)
                if (x->seq == seq)
                        return x;
        return NULL;
}

static int peer_set_error(Peer *p, const char *fmt, ...) _printf_(2, 3);
static int peer_set_error(Peer *p, const char *fmt, ...)
{
        va_list ap;
        int r;

        if (p->facts->error)
                return 0; /* the first one says most */
        va_start(ap, fmt);
        r = free_and_vprintf(&p->facts->error, fmt, ap);
        va_end(ap);
        return r;
}

static int peer_send(Engine *e, Peer *p, unsigned size, bool small, uint64_t now)
{
        unsigned overhead = np_peer_overhead(e->family);
        _cleanup_free_ uint8_t *buf = NULL;
        size_t len = size > overhead ? size - overhead + sizeof(EchoHeader) : sizeof(EchoHeader);
        EchoHeader h = {
                .type = e->family == AF_INET6 ? ICMP6_ECHO_REQ : ICMP4_ECHO_REQUEST,
                .id = htons(p->id),
                .seq = htons(p->next_seq),
        };
        Probe *x;

        if (!GREEDY_REALLOC(p->probes, p->allocated, p->n_probes + 1))
                return -ENOMEM;
        buf = malloc(len);
        if (!buf)
                return -ENOMEM;
        for (size_t i = sizeof(h); i < len; i++)
                buf[i] = (uint8_t)i;
        memcpy(buf, &h, sizeof(h));
        /* The kernel sums ping sockets and ICMPv6; a raw IPv4 socket sends what it is given. */
        if (e->raw && e->family == AF_INET) {
                h.checksum = checksum(buf, len);
                memcpy(buf, &h, sizeof(h));
        }
        x = &p->probes[p->n_probes++];
        *x = (Probe){ .seq = p->next_seq++,
                      .size = size,
                      .round = p->round,
                      .sent_usec = now,
                      .small = small };
        if (sendto(p->fd, buf, len, 0, &p->addr.sa, sockaddr_len(e->family)) < 0) {
                x->failed = true;
                if (errno == EMSGSIZE)
                        /* Larger than the MTU of the route it takes: it never left. */
                        return 0;
                return peer_set_error(p, "sending to %s: %s", p->facts->address, strerror(errno));
        }
        return 0;
}

/* Echo replies waiting on the peer's socket. */
static void peer_receive(Engine *e, Peer *p)
{
        uint8_t buf[65536];

        for (;;) {
                SockAddr from = {};
                socklen_t from_len = sizeof(from);
                ssize_t n = recvfrom(p->fd, buf, sizeof(buf), MSG_DONTWAIT, &from.sa, &from_len);
                uint64_t now = np_probe_now_usec();
                const uint8_t *icmp = buf;
                EchoHeader h;
                Probe *x;

                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return;
                /* A raw IPv4 socket gets the IP header too. */
                if (e->raw && e->family == AF_INET) {
                        size_t ihl = n > 0 ? (size_t)(buf[0] & 0x0f) * 4 : 0;

                        if (ihl < 20 || (size_t)n < ihl + sizeof(h))
                                continue;
                        icmp += ihl;
                        n -= (ssize_t)ihl;
                }
                if ((size_t)n < sizeof(h) || !sockaddr_same(&from, &p->addr))
                        continue;
                memcpy(&h, icmp, sizeof(h));
                if (h.type != (e->family == AF_INET6 ? ICMP6_ECHO_REP : ICMP4_ECHO_REPLY))
                        continue;
                /* Raw sockets see every echo reply to this host: ours carry our id. */
                if (e->raw && ntohs(h.id) != p->id)
                        continue;
                x = peer_find_probe(p, ntohs(h.seq));
                if (!x || x->answered)
                        continue;
                x->answered = true;
                x->failed = false;
                x->rtt_usec = now - MIN(now, x->sent_usec);
        }
}

/* ICMP errors (and local ones) about the peer's echo requests, from the socket's error queue. */
static int peer_receive_errors(Engine *e, Peer *p)
{
        for (;;) {
                uint8_t data[512], control[512];
                SockAddr dest = {};
                struct iovec iov = { .iov_base = data, .iov_len = sizeof(data) };
                struct msghdr msg = { .msg_name = &dest,
                                      .msg_namelen = sizeof(dest),
                                      .msg_iov = &iov,
                                      .msg_iovlen = 1,
                                      .msg_control = control,
                                      .msg_controllen = sizeof(control) };
                const struct sock_extended_err *ee = NULL;
                ssize_t n = recvmsg(p->fd, &msg, MSG_ERRQUEUE | MSG_DONTWAIT);
                _cleanup_free_ char *offender = NULL;
                Probe *x = NULL;
                bool too_big;
                int r;

                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return 0;
                for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c))
                        if ((c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_RECVERR) ||
                            (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_RECVERR))
                                ee = (const struct sock_extended_err *)CMSG_DATA(c);
                /* A raw socket hears about every raw ICMP socket's packets: only ours count. */
                if (!ee || (msg.msg_namelen > 0 && !sockaddr_same(&dest, &p->addr)))
                        continue;
                /* The data is the echo request the error is about (its ICMP header first). */
                if ((size_t)n >= sizeof(EchoHeader)) {
                        EchoHeader h;

                        memcpy(&h, data, sizeof(h));
                        if (!e->raw || ntohs(h.id) == p->id)
                                x = peer_find_probe(p, ntohs(h.seq));
                        else
                                continue;
                }
                too_big = (ee->ee_origin == SO_EE_ORIGIN_ICMP &&
                           ee->ee_type == ICMP4_DEST_UNREACH && ee->ee_code == ICMP4_FRAG_NEEDED) ||
                          (ee->ee_origin == SO_EE_ORIGIN_ICMP6 && ee->ee_type == ICMP6_TOO_BIG) ||
                          ee->ee_errno == EMSGSIZE;
                if (x && !x->answered)
                        x->failed = true;
                if (too_big) {
                        if (ee->ee_info > 0 &&
                            (p->facts->path_mtu == 0 || ee->ee_info < p->facts->path_mtu))
                                p->facts->path_mtu = ee->ee_info;
                        continue;
                }
                {
                        const struct sockaddr *o = SO_EE_OFFENDER(ee);

                        if (o->sa_family == AF_INET || o->sa_family == AF_INET6)
                                offender =
                                    addr_text(o->sa_family, sockaddr_addr((const SockAddr *)o));
                }
                r = peer_set_error(p, "%s%s%s%s", strerror((int)ee->ee_errno),
                                   offender ? " (ICMP from " : "", strempty(offender),
                                   offender ? ")" : "");
                if (r < 0)
                        return r;
        }
}

static unsigned largest_answered(const Peer *p)
{
        unsigned best = 0;

        FOREACH_ARRAY (x, p->probes, p->n_probes)
                if (x->answered && x->size > best)
                        best = x->size;
        return best;
}

static bool size_answered(const Peer *p, unsigned size)
{
        FOREACH_ARRAY (x, p->probes, p->n_probes)
                if (x->answered && x->size == size)
                        return true;
        return false;
}

/* The smallest size above lo that failed: every probe of it failed, or went unanswered in a round
 * up to last_over (rounds that are over). */
static unsigned smallest_failed(const Peer *p, unsigned lo, unsigned hi, unsigned last_over)
{
        unsigned best = hi;

        FOREACH_ARRAY (x, p->probes, p->n_probes)
                if (!x->small && !x->answered && (x->failed || x->round <= last_over) &&
                    x->size > lo && x->size < best && !size_answered(p, x->size))
                        best = x->size;
        return best;
}

static uint64_t rtt_max(const Peer *p)
{
        uint64_t m = 0;

        FOREACH_ARRAY (x, p->probes, p->n_probes)
                if (x->answered && x->small)
                        m = MAX(m, x->rtt_usec);
        return m;
}

static bool round_settled(const Peer *p)
{
        FOREACH_ARRAY (x, p->probes, p->n_probes)
                if (x->round == p->round && !x->answered && !x->failed)
                        return false;
        return true;
}

static int peer_start_round(Engine *e, Peer *p, uint64_t now)
{
        unsigned sizes[64] = {};
        size_t n;
        int r;

        n = np_peer_search_sizes(p->lo, p->hi, p->round == 0, sizes, ELEMENTSOF(sizes));
        p->round++;
        if (n == 0) {
                p->phase = PHASE_DONE;
                return 0;
        }
        p->phase = PHASE_SEARCH;
        /* Each size twice: one lost packet must not make a size look too big. */
        for (size_t i = 0; i < n; i++)
                for (int copy = 0; copy < 2; copy++) {
                        r = peer_send(e, p, sizes[i], false, now);
                        if (r < 0)
                                return r;
                }
        p->round_end_usec = now + np_peer_grace_usec(rtt_max(p));
        return 0;
}

/* Move the peer's probe on: send what is due, end rounds whose time is up. */
static int peer_advance(Engine *e, Peer *p, uint64_t now)
{
        int r;

        if (p->phase == PHASE_ECHO) {
                while (p->small_sent < NP_PEER_SMALL_COUNT && now >= p->next_small_usec) {
                        r = peer_send(e, p, np_peer_small_size(e->family), true, now);
                        if (r < 0)
                                return r;
                        p->small_sent++;
                        p->next_small_usec += NP_PEER_SMALL_SPACING_USEC;
                }
                if (size_answered(p, e->full_size)) {
                        /* Full size came back: wait only for the small ones still due. */
                        if (p->small_sent == NP_PEER_SMALL_COUNT &&
                            (round_settled(p) ||
                             now >= p->next_small_usec + np_peer_grace_usec(rtt_max(p))))
                                p->phase = PHASE_DONE;
                        return 0;
                }
                if (p->small_sent < NP_PEER_SMALL_COUNT || largest_answered(p) == 0)
                        return 0; /* nothing back yet: wait (until the deadline) */
                /* Small ones come back, the full size does not (yet): search once it had the
                 * time a small one needs, and more. */
                if (now < p->next_small_usec + np_peer_grace_usec(rtt_max(p)) && !round_settled(p))
                        return 0;
                p->lo = largest_answered(p);
                p->hi = e->full_size;
                return peer_start_round(e, p, now);
        }
        if (p->phase == PHASE_SEARCH) {
                if (!round_settled(p) && now < p->round_end_usec)
                        return 0;
                p->lo = MAX(p->lo, largest_answered(p));
                p->hi = smallest_failed(p, p->lo, p->hi, p->round);
                if (p->hi <= p->lo + 1) {
                        p->phase = PHASE_DONE;
                        return 0;
                }
                return peer_start_round(e, p, now);
        }
        return 0;
}

static uint64_t peer_next_event(const Engine *e, const Peer *p)
{
        if (p->phase == PHASE_DONE || p->fd < 0)
                return UINT64_MAX;
        if (p->phase == PHASE_ECHO && p->small_sent < NP_PEER_SMALL_COUNT)
                return p->next_small_usec;
        if (p->phase == PHASE_ECHO) {
                if (largest_answered(p) == 0)
                        return e->deadline_usec;
                return p->next_small_usec + np_peer_grace_usec(rtt_max(p));
        }
        return p->round_end_usec;
}

/* Fill the peer's facts from its probes. */
static void peer_finish(Engine *e, Peer *p)
{
        NpPeerFacts *f = p->facts;
        uint64_t rtts[NP_PEER_SMALL_COUNT];
        size_t n = 0;

        FOREACH_ARRAY (x, p->probes, p->n_probes)
                if (x->small) {
                        f->sent++;
                        if (x->answered && n < ELEMENTSOF(rtts)) {
                                rtts[n++] = x->rtt_usec;
                                f->rtt_max_usec = MAX(f->rtt_max_usec, x->rtt_usec);
                        }
                }
        f->received = (unsigned)n;
        f->rtt_median_usec = np_median_usec(rtts, n);
        f->full_size = e->full_size;
        f->full_size_ok = size_answered(p, e->full_size);
        f->largest_ok = largest_answered(p);
        if (f->full_size_ok)
                f->largest_exact = true;
        else if (f->largest_ok > 0)
                /* At the deadline every round is over. */
                f->largest_exact =
                    smallest_failed(p, f->largest_ok, e->full_size, UINT_MAX) <= f->largest_ok + 1;
}

static int run_engine(Engine *e)
{
        _cleanup_free_ struct pollfd *fds = calloc(MAX(e->n_peers, 1), sizeof(struct pollfd));
        uint64_t now = np_probe_now_usec();
        int r;

        if (!fds)
                return -ENOMEM;
        FOREACH_ARRAY (p, e->peers, e->n_peers) {
                if (p->fd < 0)
                        continue;
                p->next_small_usec = now;
                /* The full size twice at once; the small ones follow NP_PEER_SMALL_SPACING_USEC
                 * apart. */
                for (int copy = 0; copy < 2; copy++) {
                        r = peer_send(e, p, e->full_size, false, now);
                        if (r < 0)
                                return r;
                }
                r = peer_advance(e, p, now);
                if (r < 0)
                        return r;
        }
        for (;;) {
                uint64_t next = e->deadline_usec;
                size_t n = 0;
                int k;

                FOREACH_ARRAY (p, e->peers, e->n_peers) {
                        if (p->fd < 0 || p->phase == PHASE_DONE)
                                continue;
                        next = MIN(next, peer_next_event(e, p));
                        fds[n++] = (struct pollfd){ .fd = p->fd, .events = POLLIN };
                }
                now = np_probe_now_usec();
                if (n == 0 || now >= e->deadline_usec)
                        break;
                k = poll(fds, n, next > now ? (int)((next - now + 999) / 1000) : 0);
                if (k < 0 && errno != EINTR)
                        return -errno;
                FOREACH_ARRAY (p, e->peers, e->n_peers) {
                        if (p->fd < 0 || p->phase == PHASE_DONE)
                                continue;
                        peer_receive(e, p);
                        r = peer_receive_errors(e, p);
                        if (r >= 0)
                                r = peer_advance(e, p, np_probe_now_usec());
                        if (r < 0)
                                return r;
                }
        }
        FOREACH_ARRAY (p, e->peers, e->n_peers)
                if (p->fd >= 0)
                        peer_finish(e, p);
        return 0;
}

/* --- the probe ------------------------------------------------------------------------------- */

/* Resolve names (numeric addresses need no resolver), preferring an address in the data CIDR:
 * a name for the management network is a common mistake and must show as such. */
static int resolve_peers(const NpPeersRequest *req, NpPeersFacts *pf, uint64_t deadline,
                         SockAddr *addrs)
{
        size_t n = pf->n_peers, k = 0;
        _cleanup_free_ struct gaicb *cbs = calloc(MAX(n, 1), sizeof(struct gaicb));
        _cleanup_free_ struct gaicb **list = calloc(MAX(n, 1), sizeof(struct gaicb *));
        _cleanup_free_ size_t *which = calloc(MAX(n, 1), sizeof(size_t));
        _cleanup_free_ bool *timed_out = calloc(MAX(n, 1), sizeof(bool));
        struct addrinfo hints = { .ai_socktype = SOCK_RAW };
        int r, gai = 0;

        if (!cbs || !list || !which || !timed_out)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                unsigned char a[16];
                NpPeerFacts *p = &pf->peers[i];

                if (inet_pton(req->data_cidr.family, p->peer, a) == 1) {
                        sockaddr_set(&addrs[i], req->data_cidr.family, a);
                        continue;
                }
                if (inet_pton(req->data_cidr.family == AF_INET ? AF_INET6 : AF_INET, p->peer, a) ==
                    1) {
                        p->resolve_error =
                            strprintf("%s is an IPv%c address; the data CIDR %s is "
                                      "IPv%c",
                                      p->peer, req->data_cidr.family == AF_INET ? '6' : '4',
                                      pf->data_cidr, req->data_cidr.family == AF_INET ? '4' : '6');
                        if (!p->resolve_error)
                                return -ENOMEM;
                        continue;
                }
                cbs[k] = (struct gaicb){ .ar_name = p->peer, .ar_request = &hints };
                list[k] = &cbs[k];
                which[k++] = i;
        }
        r = np_resolve(list, k, deadline, timed_out, &gai);
        for (size_t j = 0; j < k; j++) {
                NpPeerFacts *p = &pf->peers[which[j]];
                const struct addrinfo *best = NULL;
                int err = r < 0 ? EAI_SYSTEM : gai_error(list[j]);

                if (r >= 0 && timed_out[j]) {
                        p->resolve_timeout = true;
                        p->resolve_error = strprintf("resolving %s timed out", p->peer);
                } else if (r < 0 || err != 0)
                        p->resolve_error = strprintf("%s does not resolve: %s", p->peer,
                                                     gai_strerror(r < 0 ? gai : err));
                else {
                        for (const struct addrinfo *ai = list[j]->ar_result; ai; ai = ai->ai_next) {
                                const void *a = sockaddr_addr((const SockAddr *)ai->ai_addr);

                                if (ai->ai_family != req->data_cidr.family)
                                        continue;
                                if (!best)
                                        best = ai;
                                if (np_cidr_contains(&req->data_cidr, ai->ai_family, a)) {
                                        best = ai;
                                        break;
                                }
                        }
                        if (best)
                                sockaddr_set(&addrs[which[j]], best->ai_family,
                                             sockaddr_addr((const SockAddr *)best->ai_addr));
                        else
                                p->resolve_error =
                                    strprintf("%s has no IPv%c address", p->peer,
                                              req->data_cidr.family == AF_INET ? '4' : '6');
                        freeaddrinfo(list[j]->ar_result);
                }
                if (!addrs[which[j]].sa.sa_family && !p->resolve_error)
                        return -ENOMEM;
        }
        return 0;
}

static const char *route_type_text(unsigned char type)
{
        switch (type) {
        case RTN_UNREACHABLE:
                return "an unreachable route";
        case RTN_BLACKHOLE:
                return "a blackhole route";
        case RTN_PROHIBIT:
                return "a prohibit route";
        case RTN_THROW:
                return "a throw route";
        default:
                return "a route that does not deliver";
        }
}

/* The route to each peer; peers that are this host, or without a route, are not sent anything. */
static int route_peers(Rtnl *nl, NpPeersFacts *pf, const SockAddr *source, const SockAddr *addrs,
                       bool *ret_send)
{
        for (size_t i = 0; i < pf->n_peers; i++) {
                NpPeerFacts *p = &pf->peers[i];
                Route rt;
                int r;

                ret_send[i] = false;
                if (!addrs[i].sa.sa_family)
                        continue;
                r = get_route(nl, source->sa.sa_family, sockaddr_addr(&addrs[i]),
                              sockaddr_addr(source), &rt);
                if (r == -ENOMEM)
                        return r;
                if (r < 0) {
                        p->route_error =
                            strprintf("no route from %s: %s", pf->address, strerror(-r));
                        if (!p->route_error)
                                return -ENOMEM;
                        continue;
                }
                if (rt.type == RTN_LOCAL) {
                        p->self = true;
                        continue;
                }
                if (rt.type != RTN_UNICAST) {
                        p->route_error = strdup(route_type_text(rt.type));
                        if (!p->route_error)
                                return -ENOMEM;
                        continue;
                }
                p->route_ifindex = rt.ifindex;
                p->route_interface = ifindex_name(rt.ifindex);
                p->route_gateway = rt.has_gateway ? addr_text(rt.gateway_family, rt.gateway) : NULL;
                p->route_source = rt.has_prefsrc ? addr_text(rt.family, rt.prefsrc) : NULL;
                p->route_mtu = rt.mtu;
                if (!p->route_interface || (rt.has_gateway && !p->route_gateway) ||
                    (rt.has_prefsrc && !p->route_source))
                        return -ENOMEM;
                ret_send[i] = true;
        }
        return 0;
}

static void engine_done(Engine *e)
{
        FOREACH_ARRAY (p, e->peers, e->n_peers) {
                safe_close(p->fd);
                free(p->probes);
        }
        free(e->peers);
}

static void rtnl_close(Rtnl *nl)
{
        nl->fd = safe_close(nl->fd);
}

static void local_addresses_done(LocalAddresses *l)
{
        l->others = strv_free(l->others);
}

/* Where this host's data address is: the source of every probe, its link's MTU the full size.
 * 0 with pf->address NULL when the host has none (nic.data-cidr says why). */
static int find_source(Rtnl *nl, const NpPeersRequest *req, NpPeersFacts *pf, Engine *e)
{
        _cleanup_(local_addresses_done) LocalAddresses local = { .cidr = &req->data_cidr };
        int r;

        r = rtnl_open(nl);
        if (r >= 0)
                r = find_local_address(nl, &local);
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                pf->unknown =
                    strprintf("cannot read this host's addresses (rtnetlink): %s", strerror(-r));
                return pf->unknown ? 0 : -ENOMEM;
        }
        if (!local.found)
                return 0;
        sockaddr_set(&e->source, e->family, local.addr);
        if (e->family == AF_INET6 && IN6_IS_ADDR_LINKLOCAL(&e->source.in6.sin6_addr))
                e->source.in6.sin6_scope_id = (uint32_t)local.ifindex;
        pf->ifindex = local.ifindex;
        pf->interface = ifindex_name(local.ifindex);
        pf->mtu = link_mtu(local.ifindex);
        pf->other_addresses = local.others ? strv_join(local.others, ", ") : NULL;
        if (!pf->interface || (local.others && !pf->other_addresses))
                return -ENOMEM;
        if (pf->mtu == 0) {
                pf->unknown = strprintf("cannot read the MTU of %s", pf->interface);
                return pf->unknown ? 0 : -ENOMEM;
        }
        pf->address = addr_text(e->family, local.addr);
        return pf->address ? 0 : -ENOMEM;
}

static int probe_peers(const NpPeersRequest *req, NpPeersFacts *pf, uint64_t start,
                       uint64_t timeout)
{
        _cleanup_(engine_done)
            Engine e = { .family = req->data_cidr.family, .deadline_usec = start + timeout };
        _cleanup_(rtnl_close) Rtnl nl = { .fd = -EBADF };
        _cleanup_free_ SockAddr *addrs = NULL;
        _cleanup_free_ bool *send = NULL;
        size_t n = strv_length(req->peers);
        int r;

        pf->peers = calloc(MAX(n, 1), sizeof(NpPeerFacts));
        addrs = calloc(MAX(n, 1), sizeof(SockAddr));
        send = calloc(MAX(n, 1), sizeof(bool));
        e.peers = calloc(MAX(n, 1), sizeof(Peer));
        if (!pf->peers || !addrs || !send || !e.peers)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                pf->peers[i].peer = strdup(req->peers[i]);
                if (!pf->peers[i].peer)
                        return -ENOMEM;
                pf->n_peers++;
        }

        r = find_source(&nl, req, pf, &e);
        if (r < 0 || !pf->address || pf->unknown)
                return r;
        e.full_size = pf->mtu;

        /* Names get at most half the time: the echo needs the other half. */
        r = resolve_peers(req, pf, start + timeout / 2, addrs);
        if (r >= 0)
                r = route_peers(&nl, pf, &e.source, addrs, send);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++) {
                Peer *p = &e.peers[e.n_peers++];

                *p = (Peer){ .facts = &pf->peers[i], .fd = -EBADF, .addr = addrs[i] };
                if (addrs[i].sa.sa_family) {
                        pf->peers[i].address = addr_text(e.family, sockaddr_addr(&addrs[i]));
                        if (!pf->peers[i].address)
                                return -ENOMEM;
                        pf->peers[i].in_data_cidr =
                            np_cidr_contains(&req->data_cidr, e.family, sockaddr_addr(&addrs[i]));
                }
                if (!send[i])
                        continue;
                r = icmp_socket(&e);
                if (r < 0) {
                        pf->unknown = strprintf(
                            "cannot send ICMP echo requests: %s (allow ping sockets to the "
                            "daemon's group with sysctl net.ipv4.ping_group_range=\"0 "
                            "2147483647\" (upstream systemd >= 243's default, not Debian's), or "
                            "give it "
                            "CAP_NET_RAW)",
                            strerror(-r));
                        return pf->unknown ? 0 : -ENOMEM;
                }
                p->fd = r;
                p->id = (uint16_t)(((unsigned)getpid() << 4) + i);
        }
        pf->method = strdup(e.raw ? "raw socket" : "ping socket");
        if (!pf->method)
                return -ENOMEM;
        return run_engine(&e);
}

int np_probe_peers(const NpPeersRequest *req, NpFacts *f)
{
        NpPeersFacts *pf = &f->peers;
        uint64_t start = np_probe_now_usec(),
                 timeout = req->timeout_usec ? req->timeout_usec : 2000000ULL;
        int r;

        np_peers_facts_done(pf);
        pf->probed = true;
        pf->timeout_usec = timeout;
        pf->data_cidr = np_cidr_to_string(&req->data_cidr);
        if (!pf->data_cidr)
                return -ENOMEM;
        r = probe_peers(req, pf, start, timeout);
        pf->elapsed_usec = np_probe_now_usec() - start;
        return r;
}
