/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What tells nodeprepd that the host changed, each mapped to the probe areas to read again:
 *   udev (block, net, module uevents)  -> disks, links, modules
 *   rtnetlink link/address messages    -> links
 *   inotify on every file a probe reads -> that probe's area; on profiles and the site file ->
 * reload /proc/self/mountinfo (EPOLLPRI)    -> fs, disks systemd unit signals on the bus    ->
 * units None of these polls: an idle host causes no wake-up.
 */

#include <fcntl.h>
#include <libgen.h>
#include <libudev.h>
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
#include "util/strv.h"

/* --- udev ----------------------------------------------------------------------------------- */

static int on_udev(sd_event_source *source, int fd, uint32_t revents, void *userdata)
{
        Manager *m = userdata;
        unsigned areas = 0;
        struct udev_device *d;

        (void)source, (void)fd, (void)revents;
        while ((d = udev_monitor_receive_device(m->udev_monitor))) {
                const char *subsystem = udev_device_get_subsystem(d);

                if (streq_ptr(subsystem, "block"))
                        areas |= NP_AREA_MASK(NP_AREA_DISKS);
                else if (streq_ptr(subsystem, "net"))
                        areas |= NP_AREA_MASK(NP_AREA_LINKS);
                else if (streq_ptr(subsystem, "module"))
                        areas |= NP_AREA_MASK(NP_AREA_MODULES);
                udev_device_unref(d);
        }
        if (areas)
                manager_schedule(m, areas);
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
        r = udev_monitor_enable_receiving(m->udev_monitor);
        if (r < 0)
                return r;
        r = sd_event_add_io(m->event, &m->udev_source, udev_monitor_get_fd(m->udev_monitor),
                            EPOLLIN, on_udev, m);
        if (r >= 0)
                log_debug("Following %s uevents for block, net and module", source);
        return r;
}

/* --- rtnetlink ------------------------------------------------------------------------------ */

static int on_rtnl(sd_event_source *source, int fd, uint32_t revents, void *userdata)
{
        char buf[16384];

        (void)source, (void)revents;
        /* Any link or address message (or a lost one: ENOBUFS) means: read the links again. */
        for (;;) {
                ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0 && errno != ENOBUFS)
                        break;
        }
        /* A link or address change can change what the endpoints and peers reach, too. */
        manager_schedule(userdata, NP_AREA_MASK(NP_AREA_LINKS) | NP_AREA_MASK(NP_AREA_ENDPOINTS));
        manager_peers_changed(userdata);
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
        return sd_event_add_io(m->event, &m->rtnl_source, m->rtnl_fd, EPOLLIN, on_rtnl, m);
}

/* --- mount table ---------------------------------------------------------------------------- */

static int on_mountinfo(sd_event_source *source, int fd, uint32_t revents, void *userdata)
{
        (void)source, (void)fd, (void)revents;
        manager_schedule(userdata, NP_AREA_MASK(NP_AREA_FS) | NP_AREA_MASK(NP_AREA_DISKS));
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

/* --- files ---------------------------------------------------------------------------------- */

typedef struct InotifyEntry {
        int wd;
        char *name;    /* only events on this entry count, or NULL for any */
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

static int on_inotify(sd_event_source *source, int fd, uint32_t revents, void *userdata)
{
        Manager *m = userdata;
        Inotify *in = m->inotify;
        unsigned areas = 0;
        bool reload = false, rearm = false;
        char buf[8192] __attribute__((aligned(__alignof__(struct inotify_event))));

        (void)source, (void)revents;
        for (;;) {
                ssize_t n = read(fd, buf, sizeof(buf));

                if (n <= 0) {
                        if (n < 0 && errno == EINTR)
                                continue;
                        break;
                }
                for (char *p = buf; p < buf + n;) {
                        const struct inotify_event *ev = (const struct inotify_event *)p;

                        p += sizeof(*ev) + ev->len;
                        if (ev->mask & IN_Q_OVERFLOW) {
                                areas = NP_AREAS_ALL;
                                reload = true;
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
                                rearm = rearm || self || e->ancestor ||
                                        (!e->name && (ev->mask & IN_ISDIR) &&
                                         (ev->mask &
                                          (IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO)));
                                if (e->tag == NP_WATCH_CONFIG)
                                        reload = true;
                                else
                                        areas |= NP_AREA_MASK(e->tag);
                        }
                }
        }
        if (rearm)
                (void)manager_watch_files(m);
        if (reload)
                manager_schedule_reload(m);
        if (areas)
                manager_schedule(m, areas);
        return 0;
}

int manager_watch_files(Manager *m)
{
        _cleanup_(np_watch_list_done) NpWatchList l = {};
        Inotify *in;
        int r;

        m->inotify = inotify_free(m->inotify);
        r = np_config_watch_paths(m->root, m->config_path,
                                  m->config && m->config->site ? m->config->site->profiles : NULL,
                                  &l);
        if (r >= 0 && m->config)
                r = np_probe_watch_paths(m->root, &m->request, &l);
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

/* --- systemd units -------------------------------------------------------------------------- */

static int on_unit_signal(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
        (void)msg, (void)error;
        manager_schedule(userdata, NP_AREA_MASK(NP_AREA_UNITS));
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
        manager_schedule(m, NP_AREA_MASK(NP_AREA_UNITS));
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
        return 0;
}

void manager_watch_done(Manager *m)
{
        m->inotify = inotify_free(m->inotify);
        sd_event_source_disable_unref(m->udev_source);
        udev_monitor_unref(m->udev_monitor);
        udev_unref(m->udev);
        sd_event_source_disable_unref(m->rtnl_source);
        safe_close(m->rtnl_fd);
        sd_event_source_disable_unref(m->mountinfo_source);
        safe_close(m->mountinfo_fd);
        for (size_t i = 0; i < m->n_bus_slots; i++)
                sd_bus_slot_unref(m->bus_slots[i]);
        free(m->bus_slots);
        sd_bus_flush_close_unref(m->bus);
}
