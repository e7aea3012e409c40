/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The disk probe: whole disks from udev's sd-device (the library under libudev: subsystem block,
 * devtype disk; it can leave idle loop and ram devices out before building them), what libblkid
 * finds on them (superblocks and partition tables), and what uses them (/proc/1/mountinfo,
 * /proc/swaps, holders in sysfs, loop and zram devices backed by them, multipath paths).
 * Read-only: device nodes are opened O_RDONLY for libblkid and never for writing. These are
 * kernel interfaces: --root does not relocate them.
 */

#include <assert.h>
#include <blkid/blkid.h>
#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <systemd/sd-device.h>
#include <unistd.h>

#include "probe/probe.h"
#include "util/strv.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(blkid_probe, blkid_free_probe);

/* The udev properties we use, read in one pass (each lookup would retry the udev database). */
typedef struct Props {
        const char *bus, *model, *vendor, *serial, *wwn_ext, *wwn, *fs_type, *pt_type;
        const char *mpath; /* DM_MULTIPATH_DEVICE_PATH: multipath-tools' rules claimed the path */
} Props;

/* A block device as enumerated: disks and partitions alike. */
typedef struct BlockDev {
        sd_device *dev;
        const char *name;
        const char *syspath;
        dev_t devnum;
        bool partition;
        Props props; /* loaded for candidate disks only */
} BlockDev;

/* What uses a device: a mount point or a swap area, keyed by device number and kernel name. */
typedef struct Use {
        dev_t devnum;
        char *name; /* kernel name of the source ("sdb1"), or NULL */
        char *what; /* the mount point, or the swap path */
} Use;

typedef struct UseTable {
        Use *uses;
        size_t n, allocated;
} UseTable;

static void use_table_done(UseTable *t)
{
        FOREACH_ARRAY (u, t->uses, t->n) {
                free(u->name);
                free(u->what);
        }
        free(t->uses);
        *t = (UseTable){};
}

static int use_table_add(UseTable *t, dev_t devnum, const char *source, const char *what)
{
        _cleanup_free_ char *real = NULL, *w = strdup(what);
        const char *base;

        if (!w)
                return -ENOMEM;
        /* Match by name as well: btrfs reports an anonymous device number in mountinfo. */
        if (source && startswith(source, "/dev/"))
                real = realpath(source, NULL);
        base = real ? strrchr(real, '/') + 1 : NULL;
        if (!GREEDY_REALLOC(t->uses, t->allocated, t->n + 1))
                return -ENOMEM;
        t->uses[t->n] = (Use){ .devnum = devnum, .what = TAKE_PTR(w) };
        if (base && !(t->uses[t->n].name = strdup(base))) {
                free(t->uses[t->n].what);
                return -ENOMEM;
        }
        t->n++;
        return 0;
}

/*
 * The mount table of PID 1's mount namespace: the host's (or the container's) own, not a
 * sandboxed service's. nodeprepd runs with ProtectSystem=/ReadWritePaths=/PrivateTmp=, whose
 * bind mounts of the root file system in its private namespace would otherwise read as more
 * mount points of the root disk. Our own table when PID 1's is hidden (hidepid=).
 */
static FILE *open_mountinfo(const char **ret_path)
{
        FILE *f = fopen("/proc/1/mountinfo", "re");

        *ret_path = "/proc/1/mountinfo";
        if (f)
                return f;
        *ret_path = "/proc/self/mountinfo";
        return fopen(*ret_path, "re");
}

static int read_mounts(UseTable *t, char **ret_unknown)
{
        const char *path;
        _cleanup_fclose_ FILE *f = open_mountinfo(&path);
        _cleanup_free_ char *line = NULL;
        size_t size = 0;

        if (!f)
                return (*ret_unknown = strprintf("%s: %m", path)) ? 0 : -ENOMEM;
        while (getline(&line, &size, f) > 0) {
                unsigned maj, min;
                char mp[PATH_MAX], src[PATH_MAX];
                const char *sep = strstr(line, " - ");
                int k;

                /* "36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=..." */
                if (!sep || sscanf(line, "%*u %*u %u:%u %*s %4095s", &maj, &min, mp) != 3)
                        continue;
                if (sscanf(sep + 3, "%*s %4095s", src) != 1)
                        src[0] = '\0';
                str_unescape_octal(mp);
                str_unescape_octal(src);
                k = use_table_add(t, makedev(maj, min), src, mp);
                if (k < 0)
                        return k;
        }
        return 0;
}

static int read_swaps(UseTable *t, char **ret_unknown)
{
        _cleanup_fclose_ FILE *f = fopen("/proc/swaps", "re");
        _cleanup_free_ char *line = NULL;
        size_t size = 0;

        if (!f)
                return (*ret_unknown = strprintf("/proc/swaps: %m")) ? 0 : -ENOMEM;
        while (getline(&line, &size, f) > 0) {
                char path[PATH_MAX], type[32];
                struct stat st;
                int k;

                if (sscanf(line, "%4095s %31s", path, type) != 2 || !streq(type, "partition"))
                        continue;
                str_unescape_octal(path);
                if (stat(path, &st) < 0 || !S_ISBLK(st.st_mode))
                        st.st_rdev = 0;
                k = use_table_add(t, st.st_rdev, path, path);
                if (k < 0)
                        return k;
        }
        return 0;
}

/*
 * Loop and zram devices whose backing store is a block device: the loop driver and zram's
 * writeback do not show up in the backing disk's holders, and the disk reads as empty while a
 * file system lives on the loop device. Keyed by the backing device's number.
 */
static int backing_of(UseTable *t, const char *name)
{
        _cleanup_free_ char *path = NULL;
        _cleanup_fclose_ FILE *f = NULL;
        char backing[PATH_MAX];
        struct stat st;

        if (startswith(name, "loop"))
                path = strprintf("/sys/block/%s/loop/backing_file", name);
        else if (startswith(name, "zram"))
                path = strprintf("/sys/block/%s/backing_dev", name);
        else
                return 0;
        if (!path)
                return -ENOMEM;
        f = fopen(path, "re"); /* absent: loop device not attached, no writeback */
        if (!f || !fgets(backing, sizeof(backing), f))
                return 0;
        backing[strcspn(backing, "\n")] = '\0';
        /* A deleted backing file reads "PATH (deleted)": it cannot be a disk node. */
        if (stat(backing, &st) < 0 || !S_ISBLK(st.st_mode))
                return 0;
        return use_table_add(t, st.st_rdev, NULL, name);
}

static int read_backing(UseTable *t)
{
        _cleanup_fclose_ FILE *parts = fopen("/proc/partitions", "re");
        DIR *dir;
        struct dirent *de;
        int r = 0;

        /* /proc/partitions lists the block devices with a size: attached loop devices only,
         * not the hundreds of idle ones a host may keep (each a cold sysfs lookup otherwise). */
        if (parts) {
                char line[256], name[64];
                unsigned maj, min;
                unsigned long long blocks;

                while (r >= 0 && fgets(line, sizeof(line), parts))
                        if (sscanf(line, "%u %u %llu %63s", &maj, &min, &blocks, name) == 4)
                                r = backing_of(t, name);
                return r;
        }
        dir = opendir("/sys/block");
        if (!dir)
                return 0; /* no sysfs: the enumeration says so */
        while (r >= 0 && (de = readdir(dir)))
                r = backing_of(t, de->d_name);
        closedir(dir);
        return r;
}

/* Add what uses dev (by number or by name) to *l. */
static int uses_of(const UseTable *t, dev_t devnum, const char *name, char ***l)
{
        FOREACH_ARRAY (u, t->uses, t->n)
                if ((devnum != 0 && u->devnum == devnum) || (name && streq_ptr(u->name, name))) {
                        int r = strv_extend_unique(l, u->what);

                        if (r < 0)
                                return r;
                }
        return 0;
}

/* Entries of SYSPATH/holders: "dm-0", "md127". */
static int holders_of(const char *syspath, char ***l)
{
        _cleanup_free_ char *dir = strprintf("%s/holders", syspath);
        struct dirent *de;
        DIR *d;
        int r = 0;

        if (!dir)
                return -ENOMEM;
        d = opendir(dir);
        if (!d)
                return 0; /* no holders directory: nothing holds it */
        while (r >= 0 && (de = readdir(d)))
                if (de->d_name[0] != '.')
                        r = strv_extend_unique(l, de->d_name);
        closedir(d);
        return r;
}

static const char *attr(sd_device *d, const char *name)
{
        const char *v = NULL;

        (void)sd_device_get_sysattr_value(d, name, &v); /* missing attribute: NULL */

        return isempty(v) ? NULL : v;
}

static void props_load(sd_device *d, Props *p)
{
        static const struct {
                const char *key;
                size_t offset;
        } keys[] = {
                { "ID_BUS", offsetof(Props, bus) },
                { "ID_MODEL", offsetof(Props, model) },
                { "ID_VENDOR", offsetof(Props, vendor) },
                { "ID_SERIAL_SHORT", offsetof(Props, serial) },
                { "ID_WWN_WITH_EXTENSION", offsetof(Props, wwn_ext) },
                { "ID_WWN", offsetof(Props, wwn) },
                { "ID_FS_TYPE", offsetof(Props, fs_type) },
                { "ID_PART_TABLE_TYPE", offsetof(Props, pt_type) },
                { "DM_MULTIPATH_DEVICE_PATH", offsetof(Props, mpath) },
        };
        const char *name, *value;

        *p = (Props){};
        for (name = sd_device_get_property_first(d, &value); name;
             name = sd_device_get_property_next(d, &value)) {
                if (isempty(value) || (!startswith(name, "ID_") && !startswith(name, "DM_")))
                        continue;
                for (size_t i = 0; i < ELEMENTSOF(keys); i++)
                        if (streq(name, keys[i].key))
                                *(const char **)((char *)p + keys[i].offset) = value;
        }
}

static bool attr_true(sd_device *d, const char *name)
{
        const char *v = attr(d, name);

        return v && strtol(v, NULL, 10) > 0;
}

/* A copy of a sysfs or udev string without surrounding blanks, NULL when empty. */
static int dup_stripped(const char *v, char **ret)
{
        _cleanup_free_ char *s = NULL;

        if (!v)
                return 0;
        s = strdup(v);
        if (!s)
                return -ENOMEM;
        if (isempty(strstrip(s)))
                return 0;
        *ret = strdup(strstrip(s));
        return *ret ? 0 : -ENOMEM;
}

/* Not a disk a storage product can take: virtual, optical, or built on other disks. */
static const char *const skip_prefixes[] = {
        "ram", "zram", "sr", "fd", "nbd", "dm-", "md", "zd", "rbd", "drbd", "bcache", "mtdblock",
};

static bool skip_name(const char *name, bool include_loop)
{
        if (startswith(name, "loop"))
                return !include_loop;
        for (size_t i = 0; i < ELEMENTSOF(skip_prefixes); i++)
                if (startswith(name, skip_prefixes[i]))
                        return true;
        return false;
}

/* Leave never-candidates out of the enumeration itself: hosts have hundreds of idle loop and
 * ram devices. Holders are found in sysfs, not here. */
static int enumerate_filter(sd_device_enumerator *e)
{
        /* Loop devices are added by add_loops(), when asked for. */
        int r = sd_device_enumerator_add_nomatch_sysname(e, "loop*");

        for (size_t i = 0; r >= 0 && i < ELEMENTSOF(skip_prefixes); i++) {
                char pattern[32];

                snprintf(pattern, sizeof(pattern), "%s*", skip_prefixes[i]);
                r = sd_device_enumerator_add_nomatch_sysname(e, pattern);
        }
        return r;
}

/* A LUN that another machine serves: iSCSI, Fibre Channel, NVMe over fabrics. */
static const char *disk_remote(sd_device *d, const char *transport)
{
        const char *t;

        if (transport && STR_IN_SET(transport, "iscsi", "fc"))
                return transport;
        if (!streq_ptr(transport, "nvme"))
                return NULL;
        /* The controller's transport: "pcie" is local; "tcp", "rdma", "fc", "loop" are not. */
        t = attr(d, "device/transport");
        if (!t || streq(t, "pcie"))
                return NULL;
        if (streq(t, "tcp"))
                return "nvme-tcp";
        if (streq(t, "rdma"))
                return "nvme-rdma";
        if (streq(t, "fc"))
                return "nvme-fc";
        return "nvme-fabrics";
}

static const char *disk_transport(const Props *p, const char *name, const char *syspath)
{
        const char *bus = p->bus;

        if (startswith(name, "loop"))
                return "loop";
        if (strstr(syspath, "/usb") || streq_ptr(bus, "usb"))
                return "usb";
        if (startswith(name, "nvme") || strstr(syspath, "/nvme/"))
                return "nvme";
        if (startswith(name, "vd") && strstr(syspath, "/virtio"))
                return "virtio";
        if (startswith(name, "xvd"))
                return "xen";
        if (startswith(name, "mmcblk"))
                return "mmc";
        if (strstr(syspath, "/end_device-"))
                return "sas";
        if (strstr(syspath, "/rport-"))
                return "fc";
        if (strstr(syspath, "/session"))
                return "iscsi";
        if (streq_ptr(bus, "ata") || strstr(syspath, "/ata"))
                return "sata";
        if (startswith(name, "sd") || streq_ptr(bus, "scsi"))
                return "scsi";
        return NULL;
}

/* Rank of a /dev/disk/by-id name: the link a person would write down comes first. */
static size_t id_rank(const char *id)
{
        static const char *const prefer[] = {
                "wwn-", "nvme-eui.", "ata-", "scsi-3", "nvme-", "scsi-", "usb-", "virtio-",
        };

        for (size_t i = 0; i < ELEMENTSOF(prefer); i++)
                if (startswith(id, prefer[i]))
                        return i;
        /* lvm-pv-uuid-, md-uuid-, dm-name-: names of what is on the disk, not of the disk. */
        if (startswith(id, "lvm-") || startswith(id, "md-") || startswith(id, "dm-"))
                return SIZE_MAX;
        return ELEMENTSOF(prefer);
}

static void id_consider(const char *id, const char **best, size_t *best_rank)
{
        size_t rank = id_rank(id);

        if (rank < *best_rank) {
                *best = id;
                *best_rank = rank;
        }
}

/* /dev/disk/by-id without a udev database (containers with the host's /dev): name -> link. */
typedef struct ByIdTable {
        char **names; /* the device a link points to ("sda") */
        char **links; /* the link name ("wwn-0x5000...") */
} ByIdTable;

static void by_id_done(ByIdTable *t)
{
        strv_free(t->names);
        strv_free(t->links);
}

static int by_id_read(ByIdTable *t)
{
        struct dirent *de;
        DIR *d = opendir("/dev/disk/by-id");
        int r = 0;

        if (!d)
                return 0;
        while (r >= 0 && (de = readdir(d))) {
                char target[PATH_MAX];
                ssize_t n;
                const char *base;

                if (de->d_name[0] == '.')
                        continue;
                n = readlinkat(dirfd(d), de->d_name, target, sizeof(target) - 1);
                if (n <= 0)
                        continue;
                target[n] = '\0';
                base = strrchr(target, '/') ? strrchr(target, '/') + 1 : target;
                r = strv_extend(&t->names, base);
                if (r >= 0)
                        r = strv_extend(&t->links, de->d_name);
        }
        closedir(d);
        return r;
}

/* The stable /dev/disk/by-id link: wwn- first, then transport+serial. */
static int stable_id(sd_device *d, const char *name, const ByIdTable *by_id, char **ret)
{
        const char *best = NULL;
        size_t best_rank = SIZE_MAX;

        for (const char *link = sd_device_get_devlink_first(d); link;
             link = sd_device_get_devlink_next(d)) {
                const char *id = startswith(link, "/dev/disk/by-id/");

                if (id)
                        id_consider(id, &best, &best_rank);
        }
        if (!best)
                for (size_t i = 0; by_id->names && by_id->names[i]; i++)
                        if (streq(by_id->names[i], name))
                                id_consider(by_id->links[i], &best, &best_rank);
        if (!best)
                return 0;
        *ret = strprintf("/dev/disk/by-id/%s", best);
        return *ret ? 0 : -ENOMEM;
}

static int strdup_into(char **dst, const char *src)
{
        return src ? ((*dst = strdup(src)) ? 0 : -ENOMEM) : 0;
}

/* Why disk->path cannot be read, from errno. */
static int probe_open_error(NpDisk *disk)
{
        if (errno == EACCES)
                disk->unknown = strprintf("cannot read %s: %m (run as root)", disk->path);
        else if (errno == EPERM)
                disk->unknown =
                    strprintf("cannot read %s: %m (device cgroup or security policy?)", disk->path);
        else if (errno == ENOENT)
                disk->unknown = strprintf("no device node %s (is /dev the host's?)", disk->path);
        else
                disk->unknown = strprintf("cannot read %s: %m", disk->path);
        return disk->unknown ? 0 : -ENOMEM;
}

/* libblkid: every superblock and the partition table on the whole disk. */
static int probe_signatures(NpDisk *disk)
{
        _cleanup_(blkid_free_probep) blkid_probe pr = NULL;
        _cleanup_close_ int fd = -EBADF;
        struct stat st, fst;
        int r, k;

        fd = open(disk->path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
        if (fd < 0)
                return probe_open_error(disk);
        /* A /dev that is not the host's (containers) could name another device, or hold a plain
         * file where the node should be (dd of=/dev/sdX while the node was missing). stat() of
         * the path, then the same inode through the descriptor: the node we read is the one we
         * checked (and umockdev, which fakes stat() but not fstat(), sees the same). */
        if (stat(disk->path, &st) < 0) {
                disk->unknown = strprintf("cannot stat %s: %m", disk->path);
                return disk->unknown ? 0 : -ENOMEM;
        }
        if (!S_ISBLK(st.st_mode) || st.st_rdev != makedev(disk->major, disk->minor)) {
                disk->unknown =
                    S_ISBLK(st.st_mode)
                        ? strprintf("%s is not device %u:%u", disk->path, disk->major, disk->minor)
                        : strprintf("%s is not a block device", disk->path);
                return disk->unknown ? 0 : -ENOMEM;
        }
        if (fstat(fd, &fst) < 0 || fst.st_dev != st.st_dev || fst.st_ino != st.st_ino) {
                disk->unknown = strprintf("%s changed while it was probed", disk->path);
                return disk->unknown ? 0 : -ENOMEM;
        }

        pr = blkid_new_probe();
        if (!pr)
                return -ENOMEM;
        if (blkid_probe_set_device(pr, fd, 0, 0) < 0) {
                disk->unknown = strprintf("libblkid cannot probe %s", disk->path);
                return disk->unknown ? 0 : -ENOMEM;
        }
        (void)blkid_probe_enable_superblocks(pr, 1);
        /* A superblock with a bad checksum still means someone's data is there. */
        (void)blkid_probe_set_superblocks_flags(pr, BLKID_SUBLKS_TYPE | BLKID_SUBLKS_BADCSUM);
        (void)blkid_probe_enable_partitions(pr, 1);
        /* As wipefs: a GPT whose protective MBR is gone (the first sectors zeroed) still has its
         * backup header at the end of the disk, and the partitions' data behind it. */
        (void)blkid_probe_set_partitions_flags(pr, BLKID_PARTS_FORCE_GPT);

        /* Not blkid_do_safeprobe(): it hides ambivalent results, and every signature counts. */
        while ((k = blkid_do_probe(pr)) == 0) {
                const char *v;

                if (blkid_probe_lookup_value(pr, "TYPE", &v, NULL) == 0 && !isempty(v)) {
                        r = strv_extend_unique(&disk->signatures, v);
                        if (r < 0)
                                return r;
                }
                if (blkid_probe_lookup_value(pr, "PTTYPE", &v, NULL) == 0 && !isempty(v) &&
                    !disk->partition_table && !(disk->partition_table = strdup(v)))
                        return -ENOMEM;
        }
        if (k < 0) {
                disk->unknown = strprintf("libblkid failed to read %s", disk->path);
                return disk->unknown ? 0 : -ENOMEM;
        }
        return free_and_strdup(&disk->signatures_source, "libblkid");
}

/* When the node cannot be read, udev's last probe can still say the disk is in use. */
static int udev_second_opinion(const Props *p, NpDisk *disk)
{
        const char *fs = p->fs_type, *pt = p->pt_type;
        int r;

        if (!fs && !pt)
                return 0;
        if (fs) {
                r = strv_extend_unique(&disk->signatures, fs);
                if (r < 0)
                        return r;
        }
        if (pt && !disk->partition_table && !(disk->partition_table = strdup(pt)))
                return -ENOMEM;
        return free_and_strdup(&disk->signatures_source, "udev");
}

/* libblkid on many disks: a few threads, each taking the next disk until none is left. */
#define PROBE_THREADS_MAX 8

typedef struct ProbeQueue {
        NpDisk *disks;
        size_t n;
        size_t next; /* atomic */
        int error;   /* atomic: first failure (-ENOMEM) */
} ProbeQueue;

static void *probe_worker(void *arg)
{
        ProbeQueue *q = arg;

        for (;;) {
                size_t i = __atomic_fetch_add(&q->next, 1, __ATOMIC_RELAXED);
                int r;

                if (i >= q->n)
                        return NULL;
                r = probe_signatures(&q->disks[i]);
                if (r < 0)
                        __atomic_store_n(&q->error, r, __ATOMIC_RELAXED);
        }
}

static int probe_all_signatures(NpDisk *disks, size_t n)
{
        ProbeQueue q = { .disks = disks, .n = n };
        pthread_t threads[PROBE_THREADS_MAX - 1];
        size_t started = 0, max = PROBE_THREADS_MAX;

        /* For the umockdev tests: its LD_PRELOAD emulation of /dev and /sys is not thread-safe,
         * so they probe one disk at a time. */
        if (streq_ptr(secure_getenv("NODEPREP_PROBE_ONE_DISK_AT_A_TIME"), "1"))
                max = 1;
        /* libblkid reads its debug mask once; do it before there are threads. */
        blkid_init_debug(0);
        for (size_t i = 0; i + 1 < MIN(n, max); i++) {
                if (pthread_create(&threads[i], NULL, probe_worker, &q) != 0)
                        break; /* fewer threads: the rest is done by those we have */
                started++;
        }
        (void)probe_worker(&q);
        for (size_t i = 0; i < started; i++)
                (void)pthread_join(threads[i], NULL);
        return q.error;
}

static int probe_disk(const BlockDev *b, const BlockDev *all, size_t n_all, const UseTable *mounts,
                      const UseTable *swaps, const UseTable *backing, const ByIdTable *by_id,
                      NpDisk *disk)
{
        sd_device *d = b->dev;
        const Props *p = &b->props;
        size_t len = strlen(b->syspath);
        const char *v;
        uint64_t sectors = 0;
        int r;

        disk->name = strdup(b->name);
        if (sd_device_get_devname(d, &v) < 0)
                v = NULL;
        disk->path = v ? strdup(v) : strprintf("/dev/%s", b->name);
        if (!disk->name || !disk->path)
                return -ENOMEM;
        disk->major = major(b->devnum);
        disk->minor = minor(b->devnum);
        v = attr(d, "size");
        if (v)
                sectors = strtoull(v, NULL, 10);
        disk->size_bytes = sectors * 512; /* sysfs "size" is in 512-byte units for every disk */
        /* Missing queue/rotational (rare) reads as rotational, as the kernel's default. */
        v = attr(d, "queue/rotational");
        disk->rotational = !v || strtol(v, NULL, 10) != 0;
        disk->removable = attr_true(d, "removable");
        disk->read_only = attr_true(d, "ro");
        disk->loop = startswith(b->name, "loop");

        if ((r = strdup_into(&disk->transport, disk_transport(p, b->name, b->syspath))) < 0 ||
            (r = strdup_into(&disk->remote, disk_remote(d, disk->transport))) < 0 ||
            (r = stable_id(d, b->name, by_id, &disk->id)) < 0)
                return r;
        /* multipath-tools' udev rules mark the paths they will (or did) build a map on, before
         * the map exists and even when multipathd never builds it. */
        r = strdup_into(&disk->multipath,
                        streq_ptr(p->mpath, "1")                ? "udev DM_MULTIPATH_DEVICE_PATH=1"
                        : streq_ptr(p->fs_type, "mpath_member") ? "udev ID_FS_TYPE=mpath_member"
                                                                : NULL);
        if (r < 0)
                return r;
        /* Loop devices have no device/ directory: do not ask sysfs for it. */
        r = dup_stripped(p->model     ? p->model
                         : disk->loop ? NULL
                                      : attr(d, "device/model"),
                         &disk->model);
        if (r >= 0 && !disk->loop) {
                /* virtio's device/vendor is a PCI id, not a name. */
                v = p->vendor ? NULL : attr(d, "device/vendor");
                r = dup_stripped(p->vendor                   ? p->vendor
                                 : v && !startswith(v, "0x") ? v
                                                             : NULL,
                                 &disk->vendor);
        }
        if (r >= 0 && !disk->loop)
                r = dup_stripped(p->serial                  ? p->serial
                                 : attr(d, "device/serial") ? attr(d, "device/serial")
                                                            : attr(d, "serial"),
                                 &disk->serial);
        if (r >= 0 && !disk->loop)
                r = dup_stripped(p->wwn_ext        ? p->wwn_ext
                                 : p->wwn          ? p->wwn
                                 : attr(d, "wwid") ? attr(d, "wwid")
                                                   : attr(d, "device/wwid"),
                                 &disk->wwn);
        if (r < 0)
                return r;

        /* The disk and each of its partitions: mounts, swap, holders. */
        r = uses_of(mounts, b->devnum, b->name, &disk->mountpoints);
        if (r >= 0)
                r = uses_of(swaps, b->devnum, b->name, &disk->swaps);
        if (r >= 0)
                r = holders_of(b->syspath, &disk->holders);
        if (r >= 0)
                r = uses_of(backing, b->devnum, NULL, &disk->backing_for);
        for (size_t i = 0; r >= 0 && i < n_all; i++) {
                /* A partition's sysfs directory sits right inside its disk's. */
                if (!all[i].partition || !strneq(all[i].syspath, b->syspath, len) ||
                    all[i].syspath[len] != '/' || strchr(all[i].syspath + len + 1, '/'))
                        continue;
                r = strv_extend(&disk->partitions, all[i].name);
                if (r >= 0)
                        r = uses_of(mounts, all[i].devnum, all[i].name, &disk->mountpoints);
                if (r >= 0)
                        r = uses_of(swaps, all[i].devnum, all[i].name, &disk->swaps);
                if (r >= 0)
                        r = holders_of(all[i].syspath, &disk->holders);
                if (r >= 0)
                        r = uses_of(backing, all[i].devnum, NULL, &disk->backing_for);
        }
        return r;
}

/* Two disks with one WWN are two paths to one LUN (multipath without a map yet, NVMe with
 * nvme_core.multipath=N): counting both would offer the same disk twice. */
static int mark_same_wwn(NpDisk *disks, size_t n)
{
        for (size_t i = 0; i < n; i++)
                for (size_t j = 0; j < n; j++) {
                        if (i == j || !disks[i].wwn || !streq_ptr(disks[i].wwn, disks[j].wwn) ||
                            disks[i].multipath)
                                continue;
                        disks[i].multipath = strprintf("same WWN as %s", disks[j].name);
                        if (!disks[i].multipath)
                                return -ENOMEM;
                }
        return 0;
}

/* Append a device (taking the reference) unless it has no name. -ENOMEM only. */
static int block_dev_add(BlockDev **all, size_t *n, size_t *allocated, sd_device *d)
{
        const char *type = NULL, *name = NULL, *syspath = NULL;
        dev_t devnum = 0;

        if (sd_device_get_sysname(d, &name) < 0 || sd_device_get_syspath(d, &syspath) < 0) {
                sd_device_unref(d);
                return 0;
        }
        if (!GREEDY_REALLOC(*all, *allocated, *n + 1)) {
                sd_device_unref(d);
                return -ENOMEM;
        }
        (void)sd_device_get_devtype(d, &type);
        (void)sd_device_get_devnum(d, &devnum);
        (*all)[(*n)++] = (BlockDev){
                .dev = d,
                .name = name,
                .syspath = syspath,
                .devnum = devnum,
                .partition = streq_ptr(type, "partition"),
        };
        return 0;
}

/* Attached loop devices and their partitions. Hosts keep hundreds of idle loop devices: their
 * size is read straight from sysfs, and only attached ones become udev devices. */
static int add_loops(BlockDev **all, size_t *n, size_t *allocated)
{
        DIR *dir = opendir("/sys/block");
        struct dirent *de;
        int r = 0;

        if (!dir)
                return 0; /* no sysfs: the enumeration says so */
        while (r >= 0 && (de = readdir(dir))) {
                _cleanup_free_ char *path = NULL;
                _cleanup_fclose_ FILE *f = NULL;
                unsigned long long size = 0;
                sd_device *d = NULL;
                const char *syspath = NULL;
                DIR *parts;
                struct dirent *pe;

                if (!startswith(de->d_name, "loop") || !isdigit((unsigned char)de->d_name[4]))
                        continue;
                path = strprintf("/sys/block/%s/size", de->d_name);
                if (!path) {
                        r = -ENOMEM;
                        break;
                }
                f = fopen(path, "re");
                if (!f || fscanf(f, "%llu", &size) != 1 || size == 0)
                        continue;
                if (sd_device_new_from_subsystem_sysname(&d, "block", de->d_name) < 0)
                        continue; /* detached meanwhile */
                (void)sd_device_get_syspath(d, &syspath);
                parts = syspath ? opendir(syspath) : NULL;
                r = block_dev_add(all, n, allocated, d);
                /* Partitions are subdirectories named loopNpM. */
                while (parts && r >= 0 && (pe = readdir(parts))) {
                        sd_device *p = NULL;

                        if (!startswith(pe->d_name, de->d_name) ||
                            pe->d_name[strlen(de->d_name)] != 'p' ||
                            sd_device_new_from_subsystem_sysname(&p, "block", pe->d_name) < 0)
                                continue;
                        r = block_dev_add(all, n, allocated, p);
                }
                if (parts)
                        closedir(parts);
        }
        closedir(dir);
        return r;
}

static int disk_cmp(const void *a, const void *b)
{
        return strverscmp(((const NpDisk *)a)->name, ((const NpDisk *)b)->name);
}

static void block_devs_free(BlockDev *b, size_t n)
{
        FOREACH_ARRAY (i, b, n)
                sd_device_unref(i->dev);
        free(b);
}

int np_probe_disks(const NpProbeRequest *req, NpFacts *f)
{
        _cleanup_(sd_device_enumerator_unrefp) sd_device_enumerator *e = NULL;
        _cleanup_(use_table_done) UseTable mounts = {}, swaps = {}, backing = {};
        _cleanup_(by_id_done) ByIdTable by_id = {};
        _cleanup_free_ char *mounts_unknown = NULL, *swaps_unknown = NULL;
        _cleanup_free_ BlockDev **sources = NULL; /* the BlockDev of each disk */
        BlockDev *all = NULL;
        size_t n_all = 0, allocated = 0, disks_allocated = 0, sources_allocated = 0;
        int r;

        f->disks_probed = true;
        f->disks_include_loop = req->include_loop_devices;
        r = sd_device_enumerator_new(&e);
        if (r < 0)
                return r;
        /* Uninitialized devices too, as libudev does: hosts and containers without udevd. */
        r = sd_device_enumerator_add_match_subsystem(e, "block", true);
        if (r >= 0)
                r = enumerate_filter(e);
        if (r >= 0)
                r = sd_device_enumerator_allow_uninitialized(e);
        if (r < 0)
                return r; /* only -ENOMEM or -EINVAL for bad patterns: ours */
        r = read_mounts(&mounts, &mounts_unknown);
        if (r >= 0)
                r = read_swaps(&swaps, &swaps_unknown);
        if (r >= 0)
                r = read_backing(&backing);
        if (r >= 0)
                r = by_id_read(&by_id);
        if (r < 0)
                return r;

        /* The enumerator builds and owns the devices: take a reference to each. */
        for (sd_device *d = sd_device_enumerator_get_device_first(e); r >= 0 && d;
             d = sd_device_enumerator_get_device_next(e))
                r = block_dev_add(&all, &n_all, &allocated, sd_device_ref(d));
        if (r >= 0 && req->include_loop_devices)
                r = add_loops(&all, &n_all, &allocated);
        if (r < 0) {
                block_devs_free(all, n_all);
                return r;
        }
        /* The enumerator cannot tell "no devices" from "no sysfs": ask sysfs. */
        if (n_all == 0 && access("/sys/class/block", F_OK) < 0) {
                f->disks_unknown =
                    strprintf("cannot enumerate block devices: /sys/class/block: %m");
                return f->disks_unknown ? 0 : -ENOMEM;
        }

        /* What sysfs and udev say, one disk after the other (sd-device is not thread-safe). */
        r = 0;
        for (size_t i = 0; r >= 0 && i < n_all; i++) {
                BlockDev *b = &all[i];
                NpDisk *disk;
                const char *type = NULL;

                (void)sd_device_get_devtype(b->dev, &type);
                if (b->partition || !streq_ptr(type, "disk") ||
                    skip_name(b->name, req->include_loop_devices) || attr_true(b->dev, "hidden"))
                        continue;
                if (!GREEDY_REALLOC(f->disks, disks_allocated, f->n_disks + 1) ||
                    /* NOLINTNEXTLINE(bugprone-sizeof-expression): sources holds pointers */
                    !GREEDY_REALLOC(sources, sources_allocated, f->n_disks + 1)) {
                        r = -ENOMEM;
                        break;
                }
                assert(sources && f->disks);
                props_load(b->dev, &b->props);
                sources[f->n_disks] = b;
                disk = &f->disks[f->n_disks++];
                *disk = (NpDisk){};
                r = probe_disk(b, all, n_all, &mounts, &swaps, &backing, &by_id, disk);
        }
        if (r >= 0)
                r = mark_same_wwn(f->disks, f->n_disks);

        /* What is on them: libblkid, several disks at a time (reading is mostly waiting). */
        if (r >= 0)
                r = probe_all_signatures(f->disks, f->n_disks);

        assert(sources || f->n_disks == 0); /* one source per disk, allocated together */
        for (size_t i = 0; r >= 0 && i < f->n_disks; i++) {
                NpDisk *disk = &f->disks[i];

                if (disk->unknown)
                        r = udev_second_opinion(&sources[i]->props, disk);
                /* Without the mount or swap table nothing can be called free. */
                if (r >= 0 && !disk->unknown && (mounts_unknown || swaps_unknown))
                        r = free_and_strdup(&disk->unknown,
                                            mounts_unknown ? mounts_unknown : swaps_unknown);
                if (r >= 0)
                        r = np_disk_judge(disk, req->min_disk_size, &disk->reasons, &disk->free);
        }
        block_devs_free(all, n_all);
        if (r < 0)
                return r;
        if (f->n_disks > 1)
                qsort(f->disks, f->n_disks, sizeof(NpDisk), disk_cmp);
        return 0;
}
