/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What tells nodeprepd that the host changed, each mapped to the probe areas to read again:
 *   udev (block, net, module uevents)     -> the disk named, the link named, modules
 *   rtnetlink link/address messages       -> the link named (and endpoints)
 *   inotify on every file a probe read    -> that probe's area (recorded as it read them,
 *                                            np_probe_areas_record(); kernel files declared in
 *                                            each area's row, .unwatched); on profiles and the
 *                                            site file -> reload
 *   inotify on disk nodes, without udevd  -> the disk written to (mkfs, wipefs, sfdisk): what
 *                                            udevd's "watch" option does for its own events
 *   /proc/self/mountinfo (EPOLLPRI)       -> the areas whose rows list NP_AREA_EVENT_MOUNT_TABLE
 *                                            (fs, the disks' mount table: no device is read)
 *   /proc/swaps (EPOLLPRI)                -> the disks' swap table (no device is read)
 *   systemd unit signals on the bus       -> units
 * Each handler re-probes the areas whose rows list its source (NpFactArea.events,
 * np_fact_areas_for_events()). The disk and link areas read again only the objects an event
 * names; a lost event (ENOBUFS on a netlink socket) reads everything. None of these polls: an idle
 * host causes no wake-up.
 */

#include <fcntl.h>
#include <libgen.h>
#include <libudev.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <sys/socket.h>
#include <unistd.h>

#include "daemon/log.h"
#include "daemon/manager.h"
#include "util/compat.h"
#include "util/strv.h"

/* --- lost events --------------------------------------------------------------------------- */

/* A netlink socket overflowed (ENOBUFS): events were lost, so nothing can be trusted to be
 * current: probe the areas from scratch. Logged once per re-probe it causes. */
static void events_lost(Manager *m, const char *what, unsigned areas)
{
        if ((m->changes.full & areas) != areas)
                log_warning("Lost %s events (the receive queue overflowed): probing %s again in "
                            "full",
                            what, areas & NP_AREA_MASK(NP_AREA_DISKS) ? "the disks" : "the links");
        manager_schedule_full(m, areas);
}

/* Tests shrink the receive buffers to make the queues overflow: NODEPREP_NETLINK_RCVBUF=BYTES. */
static void test_receive_buffer(int fd)
{
        const char *v = secure_getenv("NODEPREP_NETLINK_RCVBUF");
        int size = v ? atoi(v) : 0;

        if (size > 0)
                (void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
}

/* --- inotify ------------------------------------------------------------------------------- */

/* A watch: of a directory a probe reads (the files, below), or of a disk's node. */
typedef struct InotifyEntry {
        int wd;
        char *name;    /* files: only events on this entry count, or NULL for any; nodes: the
                        * disk's name */
        int tag;       /* a probe area, or NP_WATCH_CONFIG */
        bool ancestor; /* watching a parent because the directory does not exist yet */
} InotifyEntry;

struct Inotify {
        int fd;
        sd_event_source *source;
        InotifyEntry *entries;
        size_t n;
};

static Inotify *inotify_free(Inotify *in)
{
        if (!in)
                return NULL;
        sd_event_source_disable_unref(in->source);
        safe_close(in->fd);
        FOREACH_ARRAY (e, in->entries, in->n)
                free(e->name);
        free(in->entries);
        free(in);
        return NULL;
}

/* --- disk nodes, without udevd --------------------------------------------------------------- */

/*
 * mkfs, wipefs and sfdisk change what is on a disk without a kernel uevent: udevd watches the
 * nodes of disks for a close after writing and then synthesizes a "change" event (its "watch"
 * option, set for disks by 60-block.rules). Without udevd nobody does: do the same here, for
 * the disks the probe follows.
 */
static int on_disk_node(sd_event_source *source, int fd, uint32_t revents, void *userdata)
{
        Manager *m = userdata;
        Inotify *d = m->disk_nodes;
        char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));

        (void)source, (void)revents;
        for (;;) {
                ssize_t n = read(fd, buf, sizeof(buf));

                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        break;
                for (char *p = buf; p < buf + n;) {
                        const struct inotify_event *ev = (const struct inotify_event *)p;

                        p += sizeof(*ev) + ev->len;
                        if (ev->mask & IN_Q_OVERFLOW) {
                                manager_schedule_full(
                                    m, np_fact_areas_for_events(NP_AREA_EVENT_DISK_NODES));
                                continue;
                        }
                        FOREACH_ARRAY (node, d->entries, d->n)
                                if (node->wd == ev->wd) {
                                        if (ev->mask & IN_CLOSE_WRITE)
                                                manager_schedule_disk(m, node->name);
                                        if (ev->mask & IN_IGNORED)
                                                node->wd = -1; /* the node is gone */
                                        break;
                                }
                }
        }
        return 0;
}

void manager_watch_disk_nodes(Manager *m)
{
        Inotify *d = m->disk_nodes;
        const NpFacts *f = m->report ? m->report->facts : NULL;
        InotifyEntry *nodes;
        size_t n = 0, i = 0;

        if (!d || !f)
                return;
        nodes = calloc(f->n_disks + 1, sizeof(InotifyEntry));
        if (!nodes) {
                log_error("Out of memory watching the disk nodes");
                return;
        }
        /* Both lists are in the facts' order: walk them side by side. */
        FOREACH_ARRAY (disk, f->disks, f->n_disks) {
                while (i < d->n && strverscmp(d->entries[i].name, disk->name) < 0) {
                        if (d->entries[i].wd >= 0)
                                (void)inotify_rm_watch(d->fd, d->entries[i].wd);
                        free(d->entries[i++].name);
                }
                if (i < d->n && streq(d->entries[i].name, disk->name) && d->entries[i].wd >= 0) {
                        nodes[n++] = d->entries[i++];
                        continue;
                }
                if (i < d->n && streq(d->entries[i].name, disk->name))
                        free(d->entries[i++].name);
                nodes[n] =
                    (InotifyEntry){ .wd = inotify_add_watch(d->fd, disk->path, IN_CLOSE_WRITE),
                                    .name = strdup(disk->name),
                                    .tag = NP_AREA_DISKS };
                if (nodes[n].wd < 0 || !nodes[n].name) {
                        if (nodes[n].wd >= 0)
                                (void)inotify_rm_watch(d->fd, nodes[n].wd);
                        free(nodes[n].name);
                        continue; /* no node (a container's /dev): the uevents remain */
                }
                n++;
        }
        for (; i < d->n; i++) {
                if (d->entries[i].wd >= 0)
                        (void)inotify_rm_watch(d->fd, d->entries[i].wd);
                free(d->entries[i].name);
        }
        free(d->entries);
        d->entries = nodes;
        d->n = n;
}

static int watch_disk_nodes_init(Manager *m)
{
        Inotify *d = calloc(1, sizeof(*d));
        int r;

        if (!d)
                return -ENOMEM;
        m->disk_nodes = d;
        d->fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
        if (d->fd < 0)
                return -errno;
        r = sd_event_add_io(m->event, &d->source, d->fd, EPOLLIN, on_disk_node, m);
        if (r >= 0)
                log_debug("No udevd: following writes to the disks' nodes");
        return r;
}

/* --- udev ----------------------------------------------------------------------------------- */

/* The disk a partition belongs to: the second-last component of its DEVPATH
 * ("/devices/.../block/sda/sda1"). */
static void schedule_partition_disk(Manager *m, struct udev_device *d)
{
        const char *devpath = udev_device_get_devpath(d), *last;
        _cleanup_free_ char *parent = NULL;

        last = devpath ? strrchr(devpath, '/') : NULL;
        if (!last || last == devpath)
                return;
        parent = strndup(devpath, (size_t)(last - devpath));
        if (parent && strrchr(parent, '/'))
                manager_schedule_disk(m, strrchr(parent, '/') + 1);
}

static int on_udev(sd_event_source *source, int fd, uint32_t revents, void *userdata)
{
        Manager *m = userdata;
        struct udev_device *d;

        (void)source, (void)fd, (void)revents;
        for (;;) {
                const char *subsystem, *name, *ifindex;

                errno = 0;
                d = udev_monitor_receive_device(m->udev_monitor);
                if (!d) {
                        if (errno == ENOBUFS)
                                events_lost(m, "uevent",
                                            np_fact_areas_for_events(NP_AREA_EVENT_BLOCK |
                                                                     NP_AREA_EVENT_UDEV_NET |
                                                                     NP_AREA_EVENT_MODULE));
                        break;
                }
                subsystem = udev_device_get_subsystem(d);
                name = udev_device_get_sysname(d);
                if (streq_ptr(subsystem, "block") && name) {
                        manager_schedule_disk(m, name);
                        if (streq_ptr(udev_device_get_devtype(d), "partition"))
                                schedule_partition_disk(m, d);
                } else if (streq_ptr(subsystem, "net")) {
                        ifindex = udev_device_get_property_value(d, "IFINDEX");
                        if (ifindex && atoi(ifindex) > 0)
                                manager_schedule_link(m, atoi(ifindex));
                        else
                                manager_schedule_full(
                                    m, np_fact_areas_for_events(NP_AREA_EVENT_UDEV_NET));
                } else if (streq_ptr(subsystem, "module"))
                        manager_schedule(m, np_fact_areas_for_events(NP_AREA_EVENT_MODULE));
                udev_device_unref(d);
        }
        return 0;
}

static int watch_udev(Manager *m)
{
        /* udevd's events come after its rules ran (symlinks, blkid); without udevd (containers,
         * test machines) the kernel's own uevents are all there is. */
        const char *source = access("/run/udev/control", F_OK) >= 0 ? "udev" : "kernel";
        int r;

        m->udev = udev_new();
        if (!m->udev)
                return -ENOMEM;
        m->udev_monitor = udev_monitor_new_from_netlink(m->udev, source);
        if (!m->udev_monitor)
                return -errno ? -errno : -EIO;
        if (udev_monitor_filter_add_match_subsystem_devtype(m->udev_monitor, "block", NULL) < 0 ||
            udev_monitor_filter_add_match_subsystem_devtype(m->udev_monitor, "net", NULL) < 0 ||
            udev_monitor_filter_add_match_subsystem_devtype(m->udev_monitor, "module", NULL) < 0)
                return -ENOMEM;
        /* A bigger buffer against bursts; needs CAP_NET_ADMIN, harmless without. */
        (void)udev_monitor_set_receive_buffer_size(m->udev_monitor, 4 * 1024 * 1024);
        test_receive_buffer(udev_monitor_get_fd(m->udev_monitor));
        r = udev_monitor_enable_receiving(m->udev_monitor);
        if (r < 0)
                return r;
        r = sd_event_add_io(m->event, &m->udev_source, udev_monitor_get_fd(m->udev_monitor),
                            EPOLLIN, on_udev, m);
        if (r >= 0)
                log_debug("Following %s uevents for block, net and module", source);
        if (r >= 0 && streq(source, "kernel")) {
                int k = watch_disk_nodes_init(m);

                if (k < 0) {
                        log_warning_errno(k, "Cannot watch the disks' nodes (%m): mkfs and wipefs "
                                             "without udevd are seen at the re-scan");
                        m->disk_nodes = inotify_free(m->disk_nodes);
                }
        }
        return r;
}

/* --- rtnetlink ------------------------------------------------------------------------------ */

/* The link each message is about: RTM_NEWLINK/DELLINK and RTM_NEWADDR/DELADDR carry its
 * ifindex right after the netlink header. */
static void rtnl_messages(Manager *m, const char *buf, size_t len)
{
        for (const struct nlmsghdr *h = (const struct nlmsghdr *)buf; NLMSG_OK(h, len);
             h = NLMSG_NEXT(h, len)) {
                int ifindex;

                if ((h->nlmsg_type == RTM_NEWLINK || h->nlmsg_type == RTM_DELLINK) &&
                    h->nlmsg_len >= NLMSG_LENGTH(sizeof(struct ifinfomsg))) {
                        ifindex = ((const struct ifinfomsg *)NLMSG_DATA(h))->ifi_index;
                        manager_schedule_link(m, ifindex);
                } else if ((h->nlmsg_type == RTM_NEWADDR || h->nlmsg_type == RTM_DELADDR) &&
                           h->nlmsg_len >= NLMSG_LENGTH(sizeof(struct ifaddrmsg))) {
                        ifindex = (int)((const struct ifaddrmsg *)NLMSG_DATA(h))->ifa_index;
                        manager_schedule_address(m, ifindex);
                } else
                        continue;
                /* A link or address change can change what the peers reach, too (probed apart,
                 * bounded: daemon/peers.c). */
                manager_peers_changed(m, ifindex);
        }
}

static int on_rtnl(sd_event_source *source, int fd, uint32_t revents, void *userdata)
{
        Manager *m = userdata;
        char buf[16384] __attribute__((aligned(NLMSG_ALIGNTO)));

        (void)source, (void)revents;
        for (;;) {
                ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0 && errno == ENOBUFS) {
                        /* The peers are probed apart (daemon/peers.c), told apart. */
                        events_lost(m, "rtnetlink",
                                    np_fact_areas_for_events(NP_AREA_EVENT_RTNL) &
                                        ~NP_AREA_MASK(NP_AREA_PEERS));
                        manager_peers_changed(m, 0);
                        continue;
                }
                if (n <= 0)
                        break;
                rtnl_messages(m, buf, (size_t)n);
        }
        return 0;
}

static int watch_rtnl(Manager *m)
{
        struct sockaddr_nl sa = {
                .nl_family = AF_NETLINK,
                .nl_groups = RTMGRP_LINK | RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR,
        };

        m->rtnl_fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_ROUTE);
        if (m->rtnl_fd < 0)
                return -errno;
        if (bind(m->rtnl_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
                return -errno;
        test_receive_buffer(m->rtnl_fd);
        return sd_event_add_io(m->event, &m->rtnl_source, m->rtnl_fd, EPOLLIN, on_rtnl, m);
}

/* --- mount table ---------------------------------------------------------------------------- */

static int on_mountinfo(sd_event_source *source, int fd, uint32_t revents, void *userdata)
{
        (void)source, (void)fd, (void)revents;
        /* The areas whose rows list the mount table (fs; disks with no device named: the mount
         * table is read again, no device). */
        manager_schedule(userdata, np_fact_areas_for_events(NP_AREA_EVENT_MOUNT_TABLE));
        return 0;
}

static int watch_mountinfo(Manager *m)
{
        m->mountinfo_fd = open("/proc/self/mountinfo", O_RDONLY | O_CLOEXEC);
        if (m->mountinfo_fd < 0)
                return -errno;
        return sd_event_add_io(m->event, &m->mountinfo_source, m->mountinfo_fd, EPOLLPRI,
                               on_mountinfo, m);
}

static int on_swaps(sd_event_source *source, int fd, uint32_t revents, void *userdata)
{
        (void)source, (void)fd, (void)revents;
        manager_schedule(userdata, np_fact_areas_for_events(NP_AREA_EVENT_SWAPS));
        return 0;
}

/* swapon and swapoff send no uevent; /proc/swaps polls like the mount table (mm/swapfile.c
 * swaps_poll(): EPOLLPRI once per change). */
static int watch_swaps(Manager *m)
{
        m->swaps_fd = open("/proc/swaps", O_RDONLY | O_CLOEXEC);
        if (m->swaps_fd < 0)
                return -errno;
        return sd_event_add_io(m->event, &m->swaps_source, m->swaps_fd, EPOLLPRI, on_swaps, m);
}

/* --- files ---------------------------------------------------------------------------------- */

#define DIR_EVENTS                                                                          \
        (IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_CLOSE_WRITE | IN_ATTRIB | \
         IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR)

static int inotify_add(Inotify *in, const char *dir, const char *name, int tag)
{
        _cleanup_free_ char *path = strdup(dir), *entry = name ? strdup(name) : NULL;
        bool ancestor = false;
        InotifyEntry *a;
        int wd;

        if (!path || (name && !entry))
                return -ENOMEM;
        /* A directory that does not exist yet: watch the nearest existing parent for it. */
        while ((wd = inotify_add_watch(in->fd, path, DIR_EVENTS)) < 0) {
                char *slash;

                if ((errno != ENOENT && errno != ENOTDIR) || streq(path, "/"))
                        return -errno;
                slash = strrchr(path, '/');
                free_and_replace(&entry, strdup(slash + 1));
                if (!entry)
                        return -ENOMEM;
                if (slash == path)
                        slash[1] = '\0';
                else
                        *slash = '\0';
                ancestor = true;
        }
        a = reallocarray(in->entries, in->n + 1, sizeof(InotifyEntry));
        if (!a)
                return -ENOMEM;
        in->entries = a;
        a[in->n++] =
            (InotifyEntry){ .wd = wd, .name = TAKE_PTR(entry), .tag = tag, .ancestor = ancestor };
        return 0;
}

/* Read in's queue to the end: the areas its events name, whether the configuration changed,
 * whether a watched directory came or went (watch again). */
static void inotify_read(Inotify *in, unsigned *areas, bool *reload, bool *rearm)
{
        char buf[8192] __attribute__((aligned(__alignof__(struct inotify_event))));

        for (;;) {
                ssize_t n = read(in->fd, buf, sizeof(buf));

                if (n <= 0) {
                        if (n < 0 && errno == EINTR)
                                continue;
                        break;
                }
                for (char *p = buf; p < buf + n;) {
                        const struct inotify_event *ev = (const struct inotify_event *)p;

                        p += sizeof(*ev) + ev->len;
                        if (ev->mask & IN_Q_OVERFLOW) {
                                *areas = NP_AREAS_ALL;
                                *reload = true;
                                continue;
                        }
                        FOREACH_ARRAY (e, in->entries, in->n) {
                                bool self = ev->mask & (IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED);

                                if (e->wd != ev->wd)
                                        continue;
                                if (!self && e->name && (ev->len == 0 || !streq(e->name, ev->name)))
                                        continue;
                                /* The directory appeared or went away: watch again. So
                                 * when a subdirectory of a whole-directory watch comes or goes
                                 * (a kernel's /lib/modules/KVER: its indexes are watched too). */
                                *rearm = *rearm || self || e->ancestor ||
                                         (!e->name && (ev->mask & IN_ISDIR) &&
                                          (ev->mask &
                                           (IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO)));
                                if (e->tag == NP_WATCH_CONFIG)
                                        *reload = true;
                                else
                                        *areas |= NP_AREA_MASK(e->tag);
                        }
                }
        }
}

static void inotify_schedule(Manager *m, unsigned areas, bool reload)
{
        if (reload)
                manager_schedule_reload(m);
        if (areas)
                manager_schedule(m, areas);
}

static int on_inotify(sd_event_source *source, int fd, uint32_t revents, void *userdata)
{
        Manager *m = userdata;
        unsigned areas = 0;
        bool reload = false, rearm = false;

        (void)source, (void)fd, (void)revents;
        inotify_read(m->inotify, &areas, &reload, &rearm);
        if (rearm)
                (void)manager_watch_files(m);
        inotify_schedule(m, areas, reload);
        return 0;
}

/*
 * The watches replaced: the new ones are armed before the old ones go, and what the old queue
 * holds is read first. A change before the new watches is in the old queue, one after them in the
 * new: none falls between (closing the old instance first would lose the changes made while the
 * new one is built, to files whose watches did not change). The old queue's "watch again" is
 * moot: the new watches were set up after it.
 */
static void inotify_retire(Manager *m, Inotify *old)
{
        unsigned areas = 0;
        bool reload = false, rearm = false;

        if (!old)
                return;
        inotify_read(old, &areas, &reload, &rearm);
        inotify_free(old);
        inotify_schedule(m, areas, reload);
}

/* The configuration's files, and what the last evaluation of each area read (manager.c
 * update_inputs()). */
static int watch_list_build(Manager *m, NpWatchList *l)
{
        int r = np_config_watch_paths(
            m->root, m->config_path,
            m->config && m->config->site ? m->config->site->profiles : NULL, l);

        return r < 0 ? r : np_probe_inputs_watch(m->root, &m->inputs, l, NULL);
}

int manager_dump_watch_list(Manager *m, FILE *out)
{
        _cleanup_(np_watch_list_done) NpWatchList l = {};
        int r = watch_list_build(m, &l);

        if (r < 0)
                return r;
        FOREACH_ARRAY (p, l.paths, l.n)
                fprintf(out, "watch\t%s\t%s\t%s\n",
                        p->tag == NP_WATCH_CONFIG ? "config" : np_probe_area_to_string(p->tag),
                        p->dir, p->name ?: "*");
        return np_probe_watch_dump(m->root, &m->inputs, out);
}

static int watch_files(Manager *m)
{
        _cleanup_(np_watch_list_done) NpWatchList l = {};
        Inotify *in;
        int r;

        r = watch_list_build(m, &l);
        if (r < 0)
                return log_error_errno(r, "Cannot list the files to watch: %m");

        in = calloc(1, sizeof(*in));
        if (!in)
                return log_error_errno(-ENOMEM, "Out of memory");
        in->fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
        if (in->fd < 0) {
                r = -errno;
                free(in);
                return log_error_errno(r, "inotify: %m; file changes are seen at the re-scan only");
        }
        m->inotify = in;
        FOREACH_ARRAY (p, l.paths, l.n) {
                r = inotify_add(in, p->dir, p->name, p->tag);
                if (r == -ENOMEM)
                        return log_error_errno(r, "Out of memory");
                if (r < 0)
                        log_warning_errno(r, "Cannot watch %s: %m", p->dir);
        }
        r = sd_event_add_io(m->event, &in->source, in->fd, EPOLLIN, on_inotify, m);
        if (r < 0)
                return log_error_errno(r, "Cannot watch files: %m");
        log_debug("Watching %zu paths", in->n);
        return 0;
}

int manager_watch_files(Manager *m)
{
        Inotify *old = TAKE_PTR(m->inotify);
        int r = watch_files(m);

        inotify_retire(m, old);
        return r;
}

/* --- systemd units -------------------------------------------------------------------------- */

static int on_unit_signal(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
        (void)msg, (void)error;
        manager_schedule(userdata, np_fact_areas_for_events(NP_AREA_EVENT_UNITS));
        return 0;
}

static int on_bus_disconnect(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
        Manager *m = userdata;

        (void)msg, (void)error;
        log_warning("Lost the system bus; unit changes are seen again once it is back");
        for (size_t i = 0; i < m->n_bus_slots; i++)
                sd_bus_slot_unref(m->bus_slots[i]);
        m->bus_slots = mfree(m->bus_slots);
        m->n_bus_slots = 0;
        m->bus = sd_bus_flush_close_unref(m->bus);
        manager_schedule(m, np_fact_areas_for_events(NP_AREA_EVENT_UNITS));
        return 0;
}

static int bus_add_slot(Manager *m, sd_bus_slot *slot)
{
        sd_bus_slot **a = reallocarray(m->bus_slots, m->n_bus_slots + 1, sizeof(sd_bus_slot *));

        if (!a) {
                sd_bus_slot_unref(slot);
                return -ENOMEM;
        }
        m->bus_slots = a;
        a[m->n_bus_slots++] = slot;
        return 0;
}

void manager_watch_bus(Manager *m)
{
        sd_bus_slot *slot = NULL;
        int r;

        if (m->bus || strv_length(m->request.units) == 0)
                return;
        r = sd_bus_open_system(&m->bus);
        if (r >= 0)
                r = sd_bus_attach_event(m->bus, m->event, 0);
        if (r < 0) {
                log_debug_errno(r, "No system bus (%m): unit changes are seen at the re-scan");
                m->bus = sd_bus_flush_close_unref(m->bus);
                return;
        }
        r = sd_bus_match_signal_async(m->bus, &slot, "org.freedesktop.DBus.Local",
                                      "/org/freedesktop/DBus/Local", "org.freedesktop.DBus.Local",
                                      "Disconnected", on_bus_disconnect, NULL, m);
        if (r >= 0)
                r = bus_add_slot(m, slot);
        STRV_FOREACH (u, m->request.units) {
                _cleanup_free_ char *path = NULL;

                if (r < 0)
                        break;
                r = sd_bus_path_encode("/org/freedesktop/systemd1/unit", *u, &path);
                if (r >= 0)
                        r = sd_bus_match_signal_async(m->bus, &slot, "org.freedesktop.systemd1",
                                                      path, "org.freedesktop.DBus.Properties",
                                                      "PropertiesChanged", on_unit_signal, NULL, m);
                if (r >= 0)
                        r = bus_add_slot(m, slot);
        }
        /* Unit files enabled or disabled, daemon-reload. */
        if (r >= 0)
                r = sd_bus_match_signal_async(m->bus, &slot, "org.freedesktop.systemd1",
                                              "/org/freedesktop/systemd1",
                                              "org.freedesktop.systemd1.Manager",
                                              "UnitFilesChanged", on_unit_signal, NULL, m);
        if (r >= 0)
                r = bus_add_slot(m, slot);
        /* systemd sends unit signals only to subscribed clients. */
        if (r >= 0)
                r = sd_bus_call_method_async(
                    m->bus, NULL, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                    "org.freedesktop.systemd1.Manager", "Subscribe", NULL, NULL, NULL);
        if (r < 0)
                log_warning_errno(r, "Cannot follow unit changes on the bus: %m");
}

/* --- all ------------------------------------------------------------------------------------ */

int manager_watch_init(Manager *m)
{
        int r;

        /* Each watcher is best effort: without it, that area is re-read at the re-scan. */
        r = watch_udev(m);
        if (r < 0)
                log_warning_errno(r, "No udev monitor (%m): disk and link changes are seen at "
                                     "the re-scan");
        r = watch_rtnl(m);
        if (r < 0)
                log_warning_errno(r, "No rtnetlink monitor (%m): link changes are seen at the "
                                     "re-scan");
        r = watch_mountinfo(m);
        if (r < 0)
                log_warning_errno(r, "Cannot watch the mount table (%m)");
        r = watch_swaps(m);
        if (r < 0)
                log_warning_errno(r, "Cannot watch /proc/swaps (%m): swap changes are seen at the "
                                     "re-scan");
        return 0;
}

void manager_watch_done(Manager *m)
{
        m->inotify = inotify_free(m->inotify);
        m->disk_nodes = inotify_free(m->disk_nodes);
        sd_event_source_disable_unref(m->udev_source);
        udev_monitor_unref(m->udev_monitor);
        udev_unref(m->udev);
        sd_event_source_disable_unref(m->rtnl_source);
        safe_close(m->rtnl_fd);
        sd_event_source_disable_unref(m->mountinfo_source);
        safe_close(m->mountinfo_fd);
        sd_event_source_disable_unref(m->swaps_source);
        safe_close(m->swaps_fd);
        for (size_t i = 0; i < m->n_bus_slots; i++)
                sd_bus_slot_unref(m->bus_slots[i]);
        free(m->bus_slots);
        sd_bus_flush_close_unref(m->bus);
}
