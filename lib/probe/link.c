/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The link probe: network links and their addresses from rtnetlink (libnl-route), speed and
 * duplex from the ethtool generic-netlink family (LINKMODES_GET), falling back to the
 * SIOCETHTOOL ioctl and then /sys/class/net/X/speed on kernels without it. Reads the network
 * namespace the process runs in; --root does not change it.
 *
 * As the disk probe: a record per link (what reading that link gives: rtnetlink, its addresses,
 * its speed) kept in an NpLinkCache, and the facts made from all records (master, members and
 * parent by name). A full probe reads every link with three dumps; an update re-reads the links
 * an event named with one request each.
 */

#include <arpa/inet.h>
#include <limits.h>
#include <linux/ethtool.h>
#include <linux/ethtool_netlink.h>
#include <linux/if.h>
#include <linux/if_arp.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sockios.h>
#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "probe/probe.h"
#include "util/strv.h"

#ifndef NETLINK_GET_STRICT_CHK
#define NETLINK_GET_STRICT_CHK 12
#endif

DEFINE_TRIVIAL_CLEANUP_FUNC(struct nl_sock *, nl_socket_free);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct nl_cache *, nl_cache_free);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct nl_msg *, nlmsg_free);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct rtnl_link *, rtnl_link_put);

/* What reading one link gives: every NpLink field but master, parent and members (names of
 * other links), and the ifindexes those come from. */
typedef struct LinkRecord {
        NpLink link;
        int master; /* IFLA_MASTER, 0 for none */
        int lower;  /* a VLAN's or macvlan's IFLA_LINK in this namespace, 0 for none */
} LinkRecord;

struct NpLinkCache {
        LinkRecord *recs; /* sorted by ifindex */
        size_t n_recs, allocated;
        bool filled;
        char *unknown;   /* rtnetlink cannot be read */
        unsigned reread; /* links read by the last probe */
        /* Kept between updates: an event costs a request, not a socket and a family lookup. */
        struct nl_sock *rtnl, *genl;
        int ethtool_family; /* 0: not looked up yet, < 0: the kernel has none */
};

static void record_done(LinkRecord *rec)
{
        np_link_done(&rec->link);
        *rec = (LinkRecord){};
}

static int rec_cmp(const void *a, const void *b)
{
        int x = ((const LinkRecord *)a)->link.ifindex, y = ((const LinkRecord *)b)->link.ifindex;

        return (x > y) - (x < y);
}

static LinkRecord *cache_find(NpLinkCache *c, int ifindex)
{
        LinkRecord key = { .link.ifindex = ifindex };

        return c->n_recs > 0 ? bsearch(&key, c->recs, c->n_recs, sizeof(LinkRecord), rec_cmp)
                             : NULL;
}

static NpLinkKind kind_from(const char *type, unsigned flags, unsigned arptype, const char *name)
{
        static const struct {
                const char *type;
                NpLinkKind kind;
        } kinds[] = {
                { "bond", NP_LINK_BOND },       { "team", NP_LINK_TEAM },
                { "vlan", NP_LINK_VLAN },       { "bridge", NP_LINK_BRIDGE },
                { "veth", NP_LINK_VETH },       { "macvlan", NP_LINK_MACVLAN },
                { "macvtap", NP_LINK_MACVLAN }, { "ipvlan", NP_LINK_MACVLAN },
                { "ipvtap", NP_LINK_MACVLAN },  { "vxlan", NP_LINK_VXLAN },
        };
        _cleanup_free_ char *dev = NULL;

        if (flags & IFF_LOOPBACK)
                return NP_LINK_LOOPBACK;
        if (streq_ptr(type, "tun"))
                return arptype == ARPHRD_ETHER ? NP_LINK_TAP : NP_LINK_TUN;
        for (size_t i = 0; type && i < ELEMENTSOF(kinds); i++)
                if (streq(type, kinds[i].type))
                        return kinds[i].kind;
        if (type)
                return NP_LINK_VIRTUAL;
        /* No rtnetlink kind: hardware, if sysfs shows the device behind it. */
        dev = strprintf("/sys/class/net/%s/device", name);
        return dev && access(dev, F_OK) == 0 ? NP_LINK_PHYSICAL : NP_LINK_VIRTUAL;
}

/* The record of one rtnetlink link (its addresses and speed come later). */
static int record_from(struct rtnl_link *rl, LinkRecord *ret)
{
        struct nl_addr *mac = rtnl_link_get_addr(rl);
        const char *type = rtnl_link_get_type(rl);
        unsigned flags = rtnl_link_get_flags(rl);
        int32_t netnsid;
        char buf[128];
        LinkRecord rec = {
                .link = {
                        .ifindex = rtnl_link_get_ifindex(rl),
                        .admin_up = flags & IFF_UP,
                        .carrier = flags & IFF_LOWER_UP,
                        .mtu = rtnl_link_get_mtu(rl),
                        .speed_mbps = -1,
                },
                .master = rtnl_link_get_master(rl) > 0 ? (int)rtnl_link_get_master(rl) : 0,
        };
        NpLink *l = &rec.link;

        l->name = strdup(strempty(rtnl_link_get_name(rl)));
        l->kind = kind_from(type, flags, rtnl_link_get_arptype(rl), strempty(l->name));
        l->operstate =
            strdup(rtnl_link_operstate2str(rtnl_link_get_operstate(rl), buf, sizeof(buf)));
        if (!l->name || !l->operstate || (type && !(l->kind_detail = strdup(type))) ||
            (mac && nl_addr_get_len(mac) > 0 && nl_addr2str(mac, buf, sizeof(buf)) &&
             !(l->mac = strdup(buf)))) {
                record_done(&rec);
                return -ENOMEM;
        }
        /* IFLA_LINK is the lower device of a VLAN or macvlan (a veth's is its peer); with a
         * link netnsid it lives in another namespace. */
        if ((l->kind == NP_LINK_VLAN || l->kind == NP_LINK_MACVLAN) && rtnl_link_get_link(rl) > 0 &&
            rtnl_link_get_link_netnsid(rl, &netnsid) != 0)
                rec.lower = rtnl_link_get_link(rl);
        *ret = rec;
        return 0;
}

/* Append one rtnetlink address to its link's record, when it is one of ours. */
static int add_address(struct rtnl_addr *ra, NpLink *l)
{
        struct nl_addr *local = rtnl_addr_get_local(ra);
        int family = rtnl_addr_get_family(ra);
        char text[INET6_ADDRSTRLEN];
        NpLinkAddress *a;
        size_t len;

        if (!local || (family != AF_INET && family != AF_INET6))
                return 0;
        len = nl_addr_get_len(local);
        if (len != (family == AF_INET ? 4u : 16u))
                return 0;
        a = reallocarray(l->addresses, l->n_addresses + 1, sizeof(*a));
        if (!a)
                return -ENOMEM;
        l->addresses = a;
        a = &a[l->n_addresses];
        *a = (NpLinkAddress){
                .cidr.family = family,
                .cidr.prefixlen = (unsigned)rtnl_addr_get_prefixlen(ra),
                /* IPv6 duplicate address detection: a failed address is never used, a tentative
                 * one not until DAD passes (a new RTM_NEWADDR says when). */
                .unusable = rtnl_addr_get_flags(ra) & IFA_F_DADFAILED   ? "dadfailed"
                            : rtnl_addr_get_flags(ra) & IFA_F_TENTATIVE ? "tentative"
                                                                        : NULL,
        };
        memcpy(a->cidr.addr, nl_addr_get_binary_addr(local), len);
        if (!inet_ntop(family, a->cidr.addr, text, sizeof(text)))
                return 0;
        a->text = strprintf("%s/%u", text, a->cidr.prefixlen);
        if (!a->text)
                return -ENOMEM;
        l->n_addresses++;
        return 0;
}

/* --- speed ----------------------------------------------------------------------------------- */

static void set_speed(NpLink *l, uint32_t speed, int duplex, const char *source)
{
        /* SPEED_UNKNOWN is (u32)-1; 0 means the same to ethtool. */
        if (speed == 0 || speed == (uint32_t)SPEED_UNKNOWN || speed > INT32_MAX)
                return;
        l->speed_mbps = speed;
        l->duplex = duplex == DUPLEX_FULL   ? strdup("full")
                    : duplex == DUPLEX_HALF ? strdup("half")
                                            : NULL;
        l->speed_source = strdup(source);
}

static void cache_close_sockets(NpLinkCache *c)
{
        nl_socket_free(c->rtnl);
        c->rtnl = NULL;
        nl_socket_free(c->genl);
        c->genl = NULL;
        c->ethtool_family = 0;
}

static int linkmodes_reply(struct nl_msg *msg, void *arg)
{
        NpLinkCache *c = arg;
        struct nlattr *tb[ETHTOOL_A_LINKMODES_MAX + 1] = {}, *hdr[ETHTOOL_A_HEADER_MAX + 1] = {};
        LinkRecord *rec;

        if (genlmsg_parse(nlmsg_hdr(msg), 0, tb, ETHTOOL_A_LINKMODES_MAX, NULL) < 0 ||
            !tb[ETHTOOL_A_LINKMODES_HEADER] ||
            nla_parse_nested(hdr, ETHTOOL_A_HEADER_MAX, tb[ETHTOOL_A_LINKMODES_HEADER], NULL) < 0 ||
            !hdr[ETHTOOL_A_HEADER_DEV_INDEX])
                return NL_SKIP;
        rec = cache_find(c, (int)nla_get_u32(hdr[ETHTOOL_A_HEADER_DEV_INDEX]));
        if (rec && rec->link.speed_mbps < 0 && tb[ETHTOOL_A_LINKMODES_SPEED])
                set_speed(&rec->link, nla_get_u32(tb[ETHTOOL_A_LINKMODES_SPEED]),
                          tb[ETHTOOL_A_LINKMODES_DUPLEX]
                              ? nla_get_u8(tb[ETHTOOL_A_LINKMODES_DUPLEX])
                              : DUPLEX_UNKNOWN,
                          "ethtool-netlink");
        return NL_OK;
}

/* LINKMODES_GET for one link (ifindex > 0) or a dump of all; false when the ethtool family is
 * not there. A link the driver gives no link modes for is left without a speed. */
static bool speeds_from_netlink(NpLinkCache *c, int ifindex)
{
        _cleanup_(nlmsg_freep) struct nl_msg *msg = NULL;
        struct nl_sock *sk;
        struct nlattr *nest;
        int family, r;

        if (c->ethtool_family < 0)
                return false;
        if (!c->genl) {
                c->genl = nl_socket_alloc();
                if (!c->genl || genl_connect(c->genl) < 0) {
                        nl_socket_free(c->genl);
                        c->genl = NULL;
                        return false;
                }
                nl_socket_enable_msg_peek(c->genl);
                /* The socket serves request after request: an acknowledgement left after a
                 * reply would be read as the answer to the next one. */
                nl_socket_disable_auto_ack(c->genl);
        }
        sk = c->genl;
        if (c->ethtool_family == 0) {
                family = genl_ctrl_resolve(sk, ETHTOOL_GENL_NAME);
                c->ethtool_family = family > 0 ? family : -1;
                if (family <= 0)
                        return false;
        }
        family = c->ethtool_family;
        msg = nlmsg_alloc();
        if (!msg ||
            !genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, family, 0, ifindex > 0 ? 0 : NLM_F_DUMP,
                         ETHTOOL_MSG_LINKMODES_GET, ETHTOOL_GENL_VERSION))
                return false;
        nest = nla_nest_start(msg, ETHTOOL_A_LINKMODES_HEADER);
        if (!nest || nla_put_u32(msg, ETHTOOL_A_HEADER_FLAGS, ETHTOOL_FLAG_COMPACT_BITSETS) < 0 ||
            (ifindex > 0 && nla_put_u32(msg, ETHTOOL_A_HEADER_DEV_INDEX, (uint32_t)ifindex) < 0))
                return false;
        nla_nest_end(msg, nest);
        if (nl_socket_modify_cb(sk, NL_CB_VALID, NL_CB_CUSTOM, linkmodes_reply, c) < 0 ||
            nl_send_auto(sk, msg) < 0) {
                nl_socket_free(c->genl);
                c->genl = NULL; /* a fresh one next time */
                return false;
        }
        r = nl_recvmsgs_default(sk);
        /* One link: EOPNOTSUPP and the like mean no speed, as a dump leaves such a link out;
         * the acknowledgement of such an error is consumed with it. */
        if (r < 0 && ifindex <= 0)
                return false;
        return true;
}

static void speed_from_ioctl(int fd, NpLink *l)
{
        /* struct ethtool_link_settings ends in a flexible array: room for 3 masks of up to
         * SCHAR_MAX words each after it. */
        _Alignas(struct ethtool_link_settings) uint8_t
            buf[sizeof(struct ethtool_link_settings) + 3 * SCHAR_MAX * sizeof(uint32_t)] = {};
        struct ethtool_link_settings *req = (struct ethtool_link_settings *)buf;
        struct ifreq ifr = {};

        if (strlen(l->name) >= sizeof(ifr.ifr_name))
                return;
        memcpy(ifr.ifr_name, l->name, strlen(l->name) + 1); /* length checked above */
        req->cmd = ETHTOOL_GLINKSETTINGS;
        ifr.ifr_data = (void *)req;
        /* First call: the kernel answers with the negated number of mask words it wants. */
        if (ioctl(fd, SIOCETHTOOL, &ifr) < 0 || req->link_mode_masks_nwords >= 0 ||
            req->cmd != ETHTOOL_GLINKSETTINGS)
                return;
        req->link_mode_masks_nwords = (int8_t)-req->link_mode_masks_nwords;
        if (ioctl(fd, SIOCETHTOOL, &ifr) < 0 || req->link_mode_masks_nwords <= 0)
                return;
        set_speed(l, req->speed, req->duplex, "ioctl");
}

static void speed_from_sysfs(NpLink *l)
{
        _cleanup_free_ char *path = strprintf("/sys/class/net/%s/speed", l->name);
        _cleanup_fclose_ FILE *file = path ? fopen(path, "re") : NULL;
        long speed;

        /* Reading it fails (EINVAL) while the link is down. */
        if (file && fscanf(file, "%ld", &speed) == 1 && speed > 0 && speed <= INT32_MAX)
                set_speed(l, (uint32_t)speed, DUPLEX_UNKNOWN, "sysfs");
}

/* The speed of one link (ifindex > 0) or of every link in the cache. */
static int probe_speeds(NpLinkCache *c, int ifindex)
{
        /* Tests force a fallback: NODEPREP_LINK_SPEED_SOURCE=ioctl or sysfs. */
        const char *force = secure_getenv("NODEPREP_LINK_SPEED_SOURCE");
        _cleanup_close_ int fd = -EBADF;

        if (force || !speeds_from_netlink(c, ifindex)) {
                fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
                FOREACH_ARRAY (rec, c->recs, c->n_recs) {
                        if (ifindex > 0 && rec->link.ifindex != ifindex)
                                continue;
                        if (fd >= 0 && (!force || streq(force, "ioctl")))
                                speed_from_ioctl(fd, &rec->link);
                        if (rec->link.speed_mbps < 0 && (!force || streq(force, "sysfs")))
                                speed_from_sysfs(&rec->link);
                }
        }
        /* set_speed() runs in callbacks: an allocation failure shows as a missing source. */
        FOREACH_ARRAY (rec, c->recs, c->n_recs)
                if ((ifindex <= 0 || rec->link.ifindex == ifindex) && rec->link.speed_mbps >= 0 &&
                    !rec->link.speed_source)
                        return -ENOMEM;
        return 0;
}

/* --- the cache ------------------------------------------------------------------------------- */

NpLinkCache *np_link_cache_new(void)
{
        return calloc(1, sizeof(NpLinkCache));
}

static void cache_clear(NpLinkCache *c)
{
        FOREACH_ARRAY (rec, c->recs, c->n_recs)
                record_done(rec);
        free(c->recs);
        free(c->unknown);
        cache_close_sockets(c);
        *c = (NpLinkCache){};
}

NpLinkCache *np_link_cache_free(NpLinkCache *c)
{
        if (c) {
                cache_clear(c);
                free(c);
        }
        return NULL;
}

unsigned np_link_cache_reread(const NpLinkCache *c)
{
        return c->reread;
}

/* Every link: three dumps (links, addresses, speeds). */
static int cache_fill(NpLinkCache *c)
{
        _cleanup_(nl_socket_freep) struct nl_sock *sk = nl_socket_alloc();
        _cleanup_(nl_cache_freep) struct nl_cache *links = NULL, *addrs = NULL;
        int r;

        cache_clear(c);
        if (!sk)
                return -ENOMEM;
        r = nl_connect(sk, NETLINK_ROUTE);
        if (r >= 0)
                r = rtnl_link_alloc_cache(sk, AF_UNSPEC, &links);
        if (r >= 0)
                r = rtnl_addr_alloc_cache(sk, &addrs);
        if (r < 0) {
                c->unknown = strprintf("cannot read links over rtnetlink: %s", nl_geterror(r));
                return c->unknown ? 0 : -ENOMEM;
        }
        for (struct nl_object *o = nl_cache_get_first(links); o; o = nl_cache_get_next(o)) {
                if (!GREEDY_REALLOC(c->recs, c->allocated, c->n_recs + 1))
                        return -ENOMEM;
                r = record_from((struct rtnl_link *)o, &c->recs[c->n_recs]);
                if (r < 0)
                        return r;
                c->n_recs++;
        }
        if (c->n_recs > 1)
                qsort(c->recs, c->n_recs, sizeof(LinkRecord), rec_cmp);
        for (struct nl_object *o = nl_cache_get_first(addrs); o; o = nl_cache_get_next(o)) {
                LinkRecord *rec = cache_find(c, rtnl_addr_get_ifindex((struct rtnl_addr *)o));

                if (rec && (r = add_address((struct rtnl_addr *)o, &rec->link)) < 0)
                        return r;
        }
        c->filled = true;
        c->reread = (unsigned)c->n_recs;
        return probe_speeds(c, 0);
}

static void addr_object(struct nl_object *o, void *arg)
{
        LinkRecord *rec = arg;
        struct rtnl_addr *ra = (struct rtnl_addr *)o;

        /* Older kernels ignore the dump filter: leave other links' addresses out here. */
        if (rtnl_addr_get_ifindex(ra) == rec->link.ifindex && add_address(ra, &rec->link) < 0)
                rec->link.ifindex = -ENOMEM; /* reported by read_addresses() */
}

static int addr_message(struct nl_msg *msg, void *arg)
{
        (void)nl_msg_parse(msg, addr_object, arg); /* not an address: nothing to add */
        return NL_OK;
}

/* The addresses of one link: a dump the kernel filters by ifindex (strict checking, 4.20). */
static int read_addresses(struct nl_sock *sk, LinkRecord *rec)
{
        _cleanup_(nlmsg_freep) struct nl_msg *msg = nlmsg_alloc_simple(RTM_GETADDR, NLM_F_DUMP);
        struct ifaddrmsg ifa = { .ifa_family = AF_UNSPEC,
                                 .ifa_index = (unsigned)rec->link.ifindex };
        int ifindex = rec->link.ifindex, r;
        struct nl_cb *cb, *clone;

        if (!msg || nlmsg_append(msg, &ifa, sizeof(ifa), NLMSG_ALIGNTO) < 0)
                return -ENOMEM;
        cb = nl_socket_get_cb(sk); /* a reference */
        clone = cb ? nl_cb_clone(cb) : NULL;
        nl_cb_put(cb);
        cb = clone;
        if (!cb)
                return -ENOMEM;
        r = nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, addr_message, rec);
        if (r >= 0)
                r = nl_send_auto(sk, msg);
        if (r >= 0)
                r = nl_recvmsgs(sk, cb);
        nl_cb_put(cb);
        if (rec->link.ifindex == -ENOMEM)
                return -ENOMEM;
        rec->link.ifindex = ifindex;
        return r < 0 ? -EIO : 0;
}

/* The rtnetlink socket updates use: strict checking, so that dumps can be filtered. */
static struct nl_sock *cache_rtnl(NpLinkCache *c)
{
        int one = 1;

        if (c->rtnl)
                return c->rtnl;
        c->rtnl = nl_socket_alloc();
        if (!c->rtnl || nl_connect(c->rtnl, NETLINK_ROUTE) < 0) {
                nl_socket_free(c->rtnl);
                c->rtnl = NULL;
                return NULL;
        }
        /* Without it (before 4.20) the kernel dumps every address; read_addresses() filters
         * them then. */
        (void)setsockopt(nl_socket_get_fd(c->rtnl), SOL_NETLINK, NETLINK_GET_STRICT_CHK, &one,
                         sizeof(one));
        return c->rtnl;
}

/* Read one link's addresses again (an address event: the link itself did not change). */
static int cache_reread_addresses(NpLinkCache *c, struct nl_sock *sk, int ifindex)
{
        LinkRecord *rec = cache_find(c, ifindex);

        if (!rec)
                return 0; /* a link not seen yet: its link event reads it whole */
        FOREACH_ARRAY (a, rec->link.addresses, rec->link.n_addresses)
                free(a->text);
        rec->link.addresses = mfree(rec->link.addresses);
        rec->link.n_addresses = 0;
        c->reread++;
        return read_addresses(sk, rec);
}

/* Read one link again: its rtnetlink record, addresses and speed; drop it when it is gone. */
static int cache_reread(NpLinkCache *c, struct nl_sock *sk, int ifindex)
{
        _cleanup_(rtnl_link_putp) struct rtnl_link *rl = NULL;
        LinkRecord rec = {}, *old;
        size_t i;
        int r;

        r = rtnl_link_get_kernel(sk, ifindex, NULL, &rl);
        old = cache_find(c, ifindex);
        if (r < 0) {
                if (r != -NLE_NODEV && r != -NLE_OBJ_NOTFOUND)
                        return -EIO;
                if (old) {
                        record_done(old);
                        memmove(old, old + 1,
                                (size_t)(c->recs + c->n_recs - (old + 1)) * sizeof(LinkRecord));
                        c->n_recs--;
                }
                return 0;
        }
        r = record_from(rl, &rec);
        if (r >= 0)
                r = read_addresses(sk, &rec);
        if (r < 0) {
                record_done(&rec);
                return r;
        }
        if (old) {
                record_done(old);
                *old = rec;
        } else {
                if (!GREEDY_REALLOC(c->recs, c->allocated, c->n_recs + 1)) {
                        record_done(&rec);
                        return -ENOMEM;
                }
                for (i = 0; i < c->n_recs && c->recs[i].link.ifindex < ifindex; i++)
                        ;
                memmove(c->recs + i + 1, c->recs + i, (c->n_recs - i) * sizeof(LinkRecord));
                c->recs[i] = rec;
                c->n_recs++;
        }
        c->reread++;
        return probe_speeds(c, ifindex);
}

/* No ifindex 0: "no master", "no lower link". */
static int mark(int **marks, size_t *n, int ifindex)
{
        return ifindex > 0 ? intv_extend_unique(marks, n, ifindex) : 0;
}

/*
 * The links a link event on ifindex makes us read again: the link, its master (a bond's speed
 * is its active members'), and the links above it (a VLAN's or macvlan's speed is its
 * parent's). An address event reads the link's addresses only.
 */
static int cache_update(NpLinkCache *c, const int *ifindexes, size_t n, const int *addresses,
                        size_t n_addresses)
{
        _cleanup_free_ int *marks = NULL;
        size_t n_marks = 0;
        struct nl_sock *sk;
        int r = 0;

        c->reread = 0;
        for (size_t i = 0; r >= 0 && i < n; i++) {
                const LinkRecord *rec = cache_find(c, ifindexes[i]);

                r = mark(&marks, &n_marks, ifindexes[i]);
                if (r >= 0 && rec)
                        r = mark(&marks, &n_marks, rec->master);
                FOREACH_ARRAY (o, c->recs, c->n_recs)
                        if (r >= 0 && o->lower == ifindexes[i])
                                r = mark(&marks, &n_marks, o->link.ifindex);
        }
        if (r < 0)
                return r;
        sk = cache_rtnl(c);
        if (!sk)
                return -EIO;
        for (size_t i = 0; r >= 0 && i < n_marks; i++) {
                const LinkRecord *rec;

                r = cache_reread(c, sk, marks[i]);
                /* The master it has now (a link just enslaved), if not read yet. */
                rec = r >= 0 ? cache_find(c, marks[i]) : NULL;
                if (rec)
                        r = mark(&marks, &n_marks, rec->master);
        }
        for (size_t i = 0; r >= 0 && i < n_addresses; i++) {
                bool done = false;

                for (size_t k = 0; k < n_marks; k++)
                        done = done || marks[k] == addresses[i];
                if (!done)
                        r = cache_reread_addresses(c, sk, addresses[i]);
        }
        return r;
}

/* --- the facts ------------------------------------------------------------------------------- */

static int link_cmp(const void *a, const void *b)
{
        int x = ((const NpLink *)a)->ifindex, y = ((const NpLink *)b)->ifindex;

        return (x > y) - (x < y);
}

/* The facts list the links as the records: by ifindex. */
static NpLink *link_by_index(NpFacts *f, int ifindex)
{
        NpLink key = { .ifindex = ifindex };

        return ifindex > 0 && f->n_links > 0
                   ? bsearch(&key, f->links, f->n_links, sizeof(NpLink), link_cmp)
                   : NULL;
}

static int cache_facts(const NpLinkCache *c, NpFacts *f)
{
        f->links_probed = true;
        if (c->unknown)
                return free_and_strdup(&f->links_unknown, c->unknown);
        if (c->n_recs == 0)
                return 0;
        f->links = calloc(c->n_recs, sizeof(NpLink));
        if (!f->links)
                return -ENOMEM;
        for (size_t i = 0; i < c->n_recs; i++) {
                int r = np_link_copy(&c->recs[i].link, &f->links[i]);

                if (r < 0)
                        return r;
                f->n_links++;
        }
        /* Master, parent and members by ifindex, once every link is known. */
        for (size_t i = 0; i < c->n_recs; i++) {
                const LinkRecord *rec = &c->recs[i];
                NpLink *l = &f->links[i], *m = link_by_index(f, rec->master), *p;

                if (m && rec->master > 0 &&
                    (free_and_strdup(&l->master, m->name) < 0 ||
                     strv_extend(&m->members, l->name) < 0))
                        return -ENOMEM;
                p = rec->lower > 0 ? link_by_index(f, rec->lower) : NULL;
                if (p && free_and_strdup(&l->parent, p->name) < 0)
                        return -ENOMEM;
        }
        return 0;
}

int np_probe_links_update(NpLinkCache *c, const int *ifindexes, size_t n, const int *addresses,
                          size_t n_addresses, bool full, NpFacts *f)
{
        int r;

        if (full || !c->filled || c->unknown)
                r = cache_fill(c);
        else {
                r = cache_update(c, ifindexes, n, addresses, n_addresses);
                /* rtnetlink failed half way: read everything afresh. */
                if (r == -EIO)
                        r = cache_fill(c);
        }
        if (r < 0) {
                cache_clear(c);
                return r;
        }
        return cache_facts(c, f);
}

int np_probe_links(NpFacts *f)
{
        _cleanup_(np_link_cache_freep) NpLinkCache *c = np_link_cache_new();

        if (!c)
                return -ENOMEM;
        return np_probe_links_update(c, NULL, 0, NULL, 0, true, f);
}
