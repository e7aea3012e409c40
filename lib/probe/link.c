/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The link probe: network links and their addresses from libnl-route caches, speed and duplex
 * from the ethtool generic-netlink family (one LINKMODES_GET dump), falling back to the
 * SIOCETHTOOL ioctl and then /sys/class/net/X/speed on kernels without it. Reads the network
 * namespace the process runs in; --root does not change it.
 */

#include <arpa/inet.h>
#include <limits.h>
#include <linux/ethtool.h>
#include <linux/ethtool_netlink.h>
#include <linux/if.h>
#include <linux/if_arp.h>
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

DEFINE_TRIVIAL_CLEANUP_FUNC(struct nl_sock *, nl_socket_free);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct nl_cache *, nl_cache_free);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct nl_msg *, nlmsg_free);

static int link_cmp(const void *a, const void *b)
{
        int x = ((const NpLink *)a)->ifindex, y = ((const NpLink *)b)->ifindex;

        return (x > y) - (x < y);
}

static NpLink *link_by_index(NpFacts *f, int ifindex)
{
        FOREACH_ARRAY (l, f->links, f->n_links)
                if (l->ifindex == ifindex)
                        return l;
        return NULL;
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

static int add_link(struct rtnl_link *rl, NpFacts *f, size_t *allocated)
{
        struct nl_addr *mac = rtnl_link_get_addr(rl);
        const char *type = rtnl_link_get_type(rl);
        unsigned flags = rtnl_link_get_flags(rl);
        char buf[128];
        NpLink *l;

        if (!GREEDY_REALLOC(f->links, *allocated, f->n_links + 1))
                return -ENOMEM;
        l = &f->links[f->n_links++];
        *l = (NpLink){
                .ifindex = rtnl_link_get_ifindex(rl),
                .admin_up = flags & IFF_UP,
                .carrier = flags & IFF_LOWER_UP,
                .mtu = rtnl_link_get_mtu(rl),
                .speed_mbps = -1,
        };
        l->name = strdup(strempty(rtnl_link_get_name(rl)));
        l->kind = kind_from(type, flags, rtnl_link_get_arptype(rl), strempty(l->name));
        l->operstate =
            strdup(rtnl_link_operstate2str(rtnl_link_get_operstate(rl), buf, sizeof(buf)));
        if (!l->name || !l->operstate || (type && !(l->kind_detail = strdup(type))))
                return -ENOMEM;
        if (mac && nl_addr_get_len(mac) > 0 && nl_addr2str(mac, buf, sizeof(buf)) &&
            !(l->mac = strdup(buf)))
                return -ENOMEM;
        return 0;
}

/* Master, parent and members by ifindex, once every link is known. */
static int link_relations(struct nl_cache *cache, NpFacts *f)
{
        for (struct nl_object *o = nl_cache_get_first(cache); o; o = nl_cache_get_next(o)) {
                struct rtnl_link *rl = (struct rtnl_link *)o;
                NpLink *l = link_by_index(f, rtnl_link_get_ifindex(rl)), *m;
                int32_t netnsid;

                if (!l)
                        continue;
                m = link_by_index(f, rtnl_link_get_master(rl));
                if (m && rtnl_link_get_master(rl) > 0) {
                        int r = free_and_strdup(&l->master, m->name);

                        if (r >= 0)
                                r = strv_extend(&m->members, l->name);
                        if (r < 0)
                                return r;
                }
                /* IFLA_LINK is the lower device of a VLAN or macvlan (a veth's is its peer). */
                if ((l->kind == NP_LINK_VLAN || l->kind == NP_LINK_MACVLAN) &&
                    rtnl_link_get_link(rl) > 0 && rtnl_link_get_link_netnsid(rl, &netnsid) != 0) {
                        NpLink *p = link_by_index(f, rtnl_link_get_link(rl));

                        if (p && free_and_strdup(&l->parent, p->name) < 0)
                                return -ENOMEM;
                }
        }
        return 0;
}

static int add_addresses(struct nl_cache *cache, NpFacts *f)
{
        for (struct nl_object *o = nl_cache_get_first(cache); o; o = nl_cache_get_next(o)) {
                struct rtnl_addr *ra = (struct rtnl_addr *)o;
                struct nl_addr *local = rtnl_addr_get_local(ra);
                NpLink *l = link_by_index(f, rtnl_addr_get_ifindex(ra));
                int family = rtnl_addr_get_family(ra);
                char text[INET6_ADDRSTRLEN];
                NpLinkAddress *a;
                size_t len;

                if (!l || !local || (family != AF_INET && family != AF_INET6))
                        continue;
                len = nl_addr_get_len(local);
                if (len != (family == AF_INET ? 4u : 16u))
                        continue;
                a = reallocarray(l->addresses, l->n_addresses + 1, sizeof(*a));
                if (!a)
                        return -ENOMEM;
                l->addresses = a;
                a = &a[l->n_addresses];
                *a = (NpLinkAddress){
                        .cidr.family = family,
                        .cidr.prefixlen = (unsigned)rtnl_addr_get_prefixlen(ra),
                        /* IPv6 duplicate address detection: a failed address is never used, a
                         * tentative one not until DAD passes (a new RTM_NEWADDR says when). */
                        .unusable = rtnl_addr_get_flags(ra) & IFA_F_DADFAILED   ? "dadfailed"
                                    : rtnl_addr_get_flags(ra) & IFA_F_TENTATIVE ? "tentative"
                                                                                : NULL,
                };
                memcpy(a->cidr.addr, nl_addr_get_binary_addr(local), len);
                if (!inet_ntop(family, a->cidr.addr, text, sizeof(text)))
                        continue;
                a->text = strprintf("%s/%u", text, a->cidr.prefixlen);
                if (!a->text)
                        return -ENOMEM;
                l->n_addresses++;
        }
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

static int linkmodes_reply(struct nl_msg *msg, void *arg)
{
        NpFacts *f = arg;
        struct nlattr *tb[ETHTOOL_A_LINKMODES_MAX + 1] = {}, *hdr[ETHTOOL_A_HEADER_MAX + 1] = {};
        NpLink *l;

        if (genlmsg_parse(nlmsg_hdr(msg), 0, tb, ETHTOOL_A_LINKMODES_MAX, NULL) < 0 ||
            !tb[ETHTOOL_A_LINKMODES_HEADER] ||
            nla_parse_nested(hdr, ETHTOOL_A_HEADER_MAX, tb[ETHTOOL_A_LINKMODES_HEADER], NULL) < 0 ||
            !hdr[ETHTOOL_A_HEADER_DEV_INDEX])
                return NL_SKIP;
        l = link_by_index(f, (int)nla_get_u32(hdr[ETHTOOL_A_HEADER_DEV_INDEX]));
        if (l && tb[ETHTOOL_A_LINKMODES_SPEED])
                set_speed(l, nla_get_u32(tb[ETHTOOL_A_LINKMODES_SPEED]),
                          tb[ETHTOOL_A_LINKMODES_DUPLEX]
                              ? nla_get_u8(tb[ETHTOOL_A_LINKMODES_DUPLEX])
                              : DUPLEX_UNKNOWN,
                          "ethtool-netlink");
        return NL_OK;
}

/* One LINKMODES_GET dump for every link; false when the ethtool family is not there. */
static bool speeds_from_netlink(NpFacts *f)
{
        _cleanup_(nl_socket_freep) struct nl_sock *sk = nl_socket_alloc();
        _cleanup_(nlmsg_freep) struct nl_msg *msg = NULL;
        struct nlattr *nest;
        int family;

        if (!sk || genl_connect(sk) < 0)
                return false;
        family = genl_ctrl_resolve(sk, ETHTOOL_GENL_NAME);
        if (family < 0)
                return false;
        msg = nlmsg_alloc();
        if (!msg || !genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, family, 0, NLM_F_DUMP,
                                 ETHTOOL_MSG_LINKMODES_GET, ETHTOOL_GENL_VERSION))
                return false;
        nest = nla_nest_start(msg, ETHTOOL_A_LINKMODES_HEADER);
        if (!nest || nla_put_u32(msg, ETHTOOL_A_HEADER_FLAGS, ETHTOOL_FLAG_COMPACT_BITSETS) < 0)
                return false;
        nla_nest_end(msg, nest);
        nl_socket_enable_msg_peek(sk);
        if (nl_socket_modify_cb(sk, NL_CB_VALID, NL_CB_CUSTOM, linkmodes_reply, f) < 0 ||
            nl_send_auto(sk, msg) < 0)
                return false;
        return nl_recvmsgs_default(sk) >= 0;
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

static int probe_speeds(NpFacts *f)
{
        /* Tests force a fallback: NODEPREP_LINK_SPEED_SOURCE=ioctl or sysfs. */
        const char *force = secure_getenv("NODEPREP_LINK_SPEED_SOURCE");
        _cleanup_close_ int fd = -EBADF;

        if (!force && speeds_from_netlink(f))
                return 0;
        fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        FOREACH_ARRAY (l, f->links, f->n_links) {
                if (fd >= 0 && (!force || streq(force, "ioctl")))
                        speed_from_ioctl(fd, l);
                if (l->speed_mbps < 0 && (!force || streq(force, "sysfs")))
                        speed_from_sysfs(l);
        }
        return 0;
}

int np_probe_links(NpFacts *f)
{
        _cleanup_(nl_socket_freep) struct nl_sock *sk = nl_socket_alloc();
        _cleanup_(nl_cache_freep) struct nl_cache *links = NULL, *addrs = NULL;
        size_t allocated = 0;
        int r;

        if (!sk)
                return -ENOMEM;
        f->links_probed = true;
        r = nl_connect(sk, NETLINK_ROUTE);
        if (r >= 0)
                r = rtnl_link_alloc_cache(sk, AF_UNSPEC, &links);
        if (r >= 0)
                r = rtnl_addr_alloc_cache(sk, &addrs);
        if (r < 0) {
                f->links_unknown =
                    strprintf("cannot read links over rtnetlink: %s", nl_geterror(r));
                return f->links_unknown ? 0 : -ENOMEM;
        }

        for (struct nl_object *o = nl_cache_get_first(links); o; o = nl_cache_get_next(o)) {
                r = add_link((struct rtnl_link *)o, f, &allocated);
                if (r < 0)
                        return r;
        }
        if (f->n_links > 1)
                qsort(f->links, f->n_links, sizeof(NpLink), link_cmp);
        r = link_relations(links, f);
        if (r >= 0)
                r = add_addresses(addrs, f);
        if (r >= 0)
                r = probe_speeds(f);
        if (r < 0)
                return r;
        /* set_speed() runs in callbacks: an allocation failure shows as a missing source. */
        FOREACH_ARRAY (l, f->links, f->n_links)
                if (l->speed_mbps >= 0 && !l->speed_source)
                        return -ENOMEM;
        return 0;
}
