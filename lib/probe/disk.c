/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The disk probe: whole disks from udev's sd-device (the library under libudev: subsystem block,
 * devtype disk; it can leave idle loop and ram devices out before building them), what libblkid
 * finds on them (superblocks and partition tables), and what uses them (/proc/1/mountinfo,
 * /proc/swaps, holders in sysfs, loop and zram devices backed by them, multipath paths).
 * Read-only: device nodes are opened O_RDONLY for libblkid and never for writing. These are
 * kernel interfaces: --root does not relocate them.
 *
 * Two halves, so that nodeprepd pays for what changed only (np_probe_disks_update()):
 *   records  what reading one disk gives (sysfs, udev, its partitions and holders, libblkid),
 *            kept per disk in an NpDiskCache and read again only for the devices an event names;
 *   facts    every disk's record plus what is derived from all of them and from the host's
 *            tables (mounts, swaps, backing devices, a WWN seen twice, the free verdict), made
 *            again at each probe from memory and two small /proc files.
 * The one-shot probe (np_probe_disks()) is a full fill of a cache of its own.
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
#include <unistd.h>

#include "probe/probe.h"
#include "util/compat.h"
#include "util/strv.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(blkid_probe, blkid_free_probe);

/* The udev properties we use, read in one pass (each lookup would retry the udev database). */
typedef struct Props {
        const char *bus, *model, *vendor, *serial, *wwn_ext, *wwn, *fs_type, *pt_type;
        const char *mpath; /* DM_MULTIPATH_DEVICE_PATH: multipath-tools' rules claimed the path */
} Props;

/* A block device as enumerated: disks and partitions alike. */

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

/* Forget the entries for what (a loop device's name). */
static void use_table_remove(UseTable *t, const char *what)
{
        size_t k = 0;

        FOREACH_ARRAY (u, t->uses, t->n) {
                if (streq(u->what, what)) {
                        free(u->name);
                        free(u->what);
                } else
                        t->uses[k++] = *u;
        }
        t->n = k;
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
        /* Loop devices are added by enumerate_loops(), when asked for. */
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
        bool loaded;  /* read on first use: only disks without udev data need it */
} ByIdTable;

static void by_id_done(ByIdTable *t)
{
        strv_free(t->names);
        strv_free(t->links);
        *t = (ByIdTable){};
}

static int by_id_read(ByIdTable *t)
{
        struct dirent *de;
        DIR *d;
        int r = 0;

        if (t->loaded)
                return 0;
        t->loaded = true;
        d = opendir("/dev/disk/by-id");
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
static int stable_id(sd_device *d, const char *name, ByIdTable *by_id, char **ret)
{
        const char *best = NULL;
        size_t best_rank = SIZE_MAX;
        int r;

        for (const char *link = sd_device_get_devlink_first(d); link;
             link = sd_device_get_devlink_next(d)) {
                const char *id = startswith(link, "/dev/disk/by-id/");

                if (id)
                        id_consider(id, &best, &best_rank);
        }
        if (!best && (r = by_id_read(by_id)) < 0)
                return r;
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

/*
 * The areas libblkid reads on every disk of at least ZFS_MINDEVSIZE, fetched ahead in two reads
 * (it disables read-ahead and would otherwise take them in a few dozen small ones, each a round
 * trip through the driver: half its time on loop devices). Most superblocks sit in the first
 * 512 KiB and the RAID, GPT backup and other trailers in the last; the ZFS prober reads the four
 * 256 KiB labels there (util-linux < 2.41, superblocks/zfs.c probe_zfs(): the uberblocks of each
 * whole label) or the nvlist of each (>= 2.41: 112 KiB at label + 16 KiB). label_offset() there:
 * the last two labels end at the size rounded down to 256 KiB.
 */
#define ZFS_LABEL_SIZE    (256U * 1024U)
#define ZFS_MINDEVSIZE    (64ULL << 20)
#define ZFS_NVLIST_OFFSET (16U * 1024U)
#define ZFS_NVLIST_SIZE   (112U * 1024U)

static bool blkid_reads_whole_zfs_labels(void)
{
        static int whole = -1;
        const char *v = NULL;
        int major = 0, minor = 0;

        if (__atomic_load_n(&whole, __ATOMIC_RELAXED) < 0) {
                (void)blkid_get_library_version(&v, NULL);
                /* "2.38.1": its integer form (2381, but 241 for "2.41") does not compare. */
                if (!v || sscanf(v, "%d.%d", &major, &minor) != 2)
                        major = 0;
                __atomic_store_n(&whole, major < 2 || (major == 2 && minor < 41), __ATOMIC_RELAXED);
        }
        return __atomic_load_n(&whole, __ATOMIC_RELAXED);
}

static void prefetch_blkid_areas(int fd, uint64_t size)
{
        uint64_t end = size - size % ZFS_LABEL_SIZE;

        if (size < ZFS_MINDEVSIZE)
                return;
        /* readahead(2) fills the page cache and returns; libblkid's reads then find it there. */
        if (blkid_reads_whole_zfs_labels()) {
                (void)readahead(fd, 0, 2 * ZFS_LABEL_SIZE);
                (void)readahead(fd, (off_t)(end - 2 * ZFS_LABEL_SIZE), 2 * ZFS_LABEL_SIZE);
                return;
        }
        for (unsigned l = 0; l < 4; l++) {
                uint64_t label = l < 2 ? l * ZFS_LABEL_SIZE : end - (4 - l) * ZFS_LABEL_SIZE;

                (void)readahead(fd, (off_t)(label + ZFS_NVLIST_OFFSET), ZFS_NVLIST_SIZE);
        }
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
        prefetch_blkid_areas(fd, (uint64_t)blkid_probe_get_size(pr));
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

/* --- one disk: its record ------------------------------------------------------------------- */

typedef struct Part {
        char *name;
        dev_t devnum;
} Part;

/*
 * What reading one whole disk gives: every NpDisk field but the derived ones (mountpoints,
 * swaps, backing_for, a multipath mark from a shared WWN, reasons, free), its partitions' device
 * numbers, and udev's last probe for when the node cannot be read.
 */
typedef struct DiskRecord {
        NpDisk disk;
        dev_t devnum;
        Part *parts;
        size_t n_parts;
        char *udev_fs_type, *udev_pt_type;
} DiskRecord;

static void record_done(DiskRecord *rec)
{
        np_disk_done(&rec->disk);
        FOREACH_ARRAY (p, rec->parts, rec->n_parts)
                free(p->name);
        free(rec->parts);
        free(rec->udev_fs_type);
        free(rec->udev_pt_type);
        *rec = (DiskRecord){};
}

static int part_cmp(const void *a, const void *b)
{
        return strverscmp(((const Part *)a)->name, ((const Part *)b)->name);
}

/* A sysfs attribute under dfd ("sdb1/dev"): its first line, or false. */
static bool read_attr_at(int dfd, const char *path, char *buf, size_t size)
{
        _cleanup_close_ int fd = openat(dfd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        ssize_t n;

        if (fd < 0)
                return false;
        n = read(fd, buf, size - 1);
        if (n <= 0)
                return false;
        buf[n] = '\0';
        buf[strcspn(buf, "\n")] = '\0';
        return true;
}

/* The kernel's partitions of the disk at syspath (its subdirectories with a "partition"
 * attribute), their device numbers and holders. */
static int read_partitions(const char *syspath, const char *name, DiskRecord *rec)
{
        DIR *dir = opendir(syspath);
        struct dirent *de;
        size_t allocated = 0;
        int r = 0;

        if (!dir)
                return 0; /* gone meanwhile: no partitions */
        while (r >= 0 && (de = readdir(dir))) {
                _cleanup_free_ char *attr_path = NULL, *path = NULL;
                char dev[32];
                unsigned maj, min;

                if (!startswith(de->d_name, name))
                        continue;
                attr_path = strprintf("%s/partition", de->d_name);
                path = strprintf("%s/dev", de->d_name);
                if (!attr_path || !path) {
                        r = -ENOMEM;
                        break;
                }
                if (faccessat(dirfd(dir), attr_path, F_OK, 0) < 0 ||
                    !read_attr_at(dirfd(dir), path, dev, sizeof(dev)) ||
                    sscanf(dev, "%u:%u", &maj, &min) != 2)
                        continue;
                if (!GREEDY_REALLOC(rec->parts, allocated, rec->n_parts + 1) ||
                    !(rec->parts[rec->n_parts].name = strdup(de->d_name))) {
                        r = -ENOMEM;
                        break;
                }
                rec->parts[rec->n_parts++].devnum = makedev(maj, min);
                free(path);
                path = strprintf("%s/%s", syspath, de->d_name);
                r = path ? holders_of(path, &rec->disk.holders) : -ENOMEM;
        }
        closedir(dir);
        if (r < 0)
                return r;
        if (rec->n_parts > 1)
                qsort(rec->parts, rec->n_parts, sizeof(Part), part_cmp);
        FOREACH_ARRAY (p, rec->parts, rec->n_parts) {
                r = strv_extend(&rec->disk.partitions, p->name);
                if (r < 0)
                        return r;
        }
        return 0;
}

static bool is_loop_name(const char *name)
{
        return startswith(name, "loop") && isdigit((unsigned char)name[4]);
}

/*
 * Read the whole disk d into rec: sysfs, udev, partitions, holders (libblkid comes later, in
 * threads). 1 when d is a candidate, 0 when it is not (a partition, a virtual or hidden device,
 * an idle loop device: rec untouched), -ENOMEM.
 */
static int record_read(sd_device *d, bool include_loop, ByIdTable *by_id, DiskRecord *ret)
{
        _cleanup_(record_done) DiskRecord rec = {};
        NpDisk *disk = &rec.disk;
        const char *name = NULL, *syspath = NULL, *type = NULL, *v;
        uint64_t sectors = 0;
        Props p;
        int r;

        if (sd_device_get_sysname(d, &name) < 0 || sd_device_get_syspath(d, &syspath) < 0)
                return 0;
        (void)sd_device_get_devtype(d, &type);
        if (!streq_ptr(type, "disk") || skip_name(name, include_loop) ||
            (startswith(name, "loop") && !is_loop_name(name)) || attr_true(d, "hidden"))
                return 0;
        v = attr(d, "size");
        if (v)
                sectors = strtoull(v, NULL, 10);
        /* An idle loop device (no backing file) has no size. */
        if (startswith(name, "loop") && sectors == 0)
                return 0;
        (void)sd_device_get_devnum(d, &rec.devnum);
        props_load(d, &p);

        disk->name = strdup(name);
        if (sd_device_get_devname(d, &v) < 0)
                v = NULL;
        disk->path = v ? strdup(v) : strprintf("/dev/%s", name);
        if (!disk->name || !disk->path)
                return -ENOMEM;
        disk->major = major(rec.devnum);
        disk->minor = minor(rec.devnum);
        disk->size_bytes = sectors * 512; /* sysfs "size" is in 512-byte units for every disk */
        /* Missing queue/rotational (rare) reads as rotational, as the kernel's default. */
        v = attr(d, "queue/rotational");
        disk->rotational = !v || strtol(v, NULL, 10) != 0;
        disk->removable = attr_true(d, "removable");
        disk->read_only = attr_true(d, "ro");
        disk->loop = startswith(name, "loop");

        if ((r = strdup_into(&disk->transport, disk_transport(&p, name, syspath))) < 0 ||
            (r = strdup_into(&disk->remote, disk_remote(d, disk->transport))) < 0 ||
            (r = stable_id(d, name, by_id, &disk->id)) < 0 ||
            (r = strdup_into(&rec.udev_fs_type, p.fs_type)) < 0 ||
            (r = strdup_into(&rec.udev_pt_type, p.pt_type)) < 0)
                return r;
        /* multipath-tools' udev rules mark the paths they will (or did) build a map on, before
         * the map exists and even when multipathd never builds it. */
        r = strdup_into(&disk->multipath,
                        streq_ptr(p.mpath, "1")                ? "udev DM_MULTIPATH_DEVICE_PATH=1"
                        : streq_ptr(p.fs_type, "mpath_member") ? "udev ID_FS_TYPE=mpath_member"
                                                               : NULL);
        if (r < 0)
                return r;
        /* Loop devices have no device/ directory: do not ask sysfs for it. */
        r = dup_stripped(p.model      ? p.model
                         : disk->loop ? NULL
                                      : attr(d, "device/model"),
                         &disk->model);
        if (r >= 0 && !disk->loop) {
                /* virtio's device/vendor is a PCI id, not a name. */
                v = p.vendor ? NULL : attr(d, "device/vendor");
                r = dup_stripped(p.vendor                    ? p.vendor
                                 : v && !startswith(v, "0x") ? v
                                                             : NULL,
                                 &disk->vendor);
        }
        if (r >= 0 && !disk->loop)
                r = dup_stripped(p.serial                   ? p.serial
                                 : attr(d, "device/serial") ? attr(d, "device/serial")
                                                            : attr(d, "serial"),
                                 &disk->serial);
        if (r >= 0 && !disk->loop)
                r = dup_stripped(p.wwn_ext         ? p.wwn_ext
                                 : p.wwn           ? p.wwn
                                 : attr(d, "wwid") ? attr(d, "wwid")
                                                   : attr(d, "device/wwid"),
                                 &disk->wwn);
        /* What holds the disk or one of its partitions (dm, md). */
        if (r >= 0)
                r = holders_of(syspath, &disk->holders);
        if (r >= 0)
                r = read_partitions(syspath, name, &rec);
        if (r < 0)
                return r;
        *ret = rec;
        rec = (DiskRecord){};
        return 1;
}

/* When the node cannot be read, udev's last probe can still say the disk is in use. */
static int udev_second_opinion(DiskRecord *rec)
{
        const char *fs = rec->udev_fs_type, *pt = rec->udev_pt_type;
        NpDisk *disk = &rec->disk;
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

static int record_probe(DiskRecord *rec)
{
        int r = probe_signatures(&rec->disk);

        if (r >= 0 && rec->disk.unknown)
                r = udev_second_opinion(rec);
        return r;
}

/* libblkid on many disks: a few threads, each taking the next disk until none is left. */
#define PROBE_THREADS_MAX 8

typedef struct ProbeQueue {
        DiskRecord **recs;
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
                r = record_probe(q->recs[i]);
                if (r < 0)
                        __atomic_store_n(&q->error, r, __ATOMIC_RELAXED);
        }
}

static int probe_records(DiskRecord **recs, size_t n)
{
        ProbeQueue q = { .recs = recs, .n = n };
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

/* --- the cache of records ------------------------------------------------------------------- */

struct NpDiskCache {
        DiskRecord *recs; /* sorted by name (strverscmp), as the facts list them */
        size_t n_recs, allocated;
        /* Loop and zram devices backed by a block device: what = the loop device's name,
         * devnum = the backing device's number. */
        UseTable backers;
        bool filled;       /* by a full probe */
        bool include_loop; /* the setting it was filled with */
        char *unknown;     /* why the block devices cannot be enumerated */
        unsigned reread;   /* disks read by the last probe */
};

NpDiskCache *np_disk_cache_new(void)
{
        return calloc(1, sizeof(NpDiskCache));
}

static void cache_clear(NpDiskCache *c)
{
        FOREACH_ARRAY (rec, c->recs, c->n_recs)
                record_done(rec);
        free(c->recs);
        use_table_done(&c->backers);
        free(c->unknown);
        *c = (NpDiskCache){};
}

NpDiskCache *np_disk_cache_free(NpDiskCache *c)
{
        if (c) {
                cache_clear(c);
                free(c);
        }
        return NULL;
}

unsigned np_disk_cache_reread(const NpDiskCache *c)
{
        return c->reread;
}

static int rec_cmp(const void *a, const void *b)
{
        return strverscmp(((const DiskRecord *)a)->disk.name, ((const DiskRecord *)b)->disk.name);
}

static DiskRecord *cache_find(NpDiskCache *c, const char *name)
{
        DiskRecord key = { .disk.name = (char *)name };

        return c->n_recs > 0 ? bsearch(&key, c->recs, c->n_recs, sizeof(DiskRecord), rec_cmp)
                             : NULL;
}

/* Put rec (taken) in its place, replacing the record of the same name. */
static int cache_put(NpDiskCache *c, DiskRecord *rec)
{
        DiskRecord *old = cache_find(c, rec->disk.name);
        size_t i = 0;

        if (old) {
                record_done(old);
                *old = *rec;
                *rec = (DiskRecord){};
                return 0;
        }
        if (!GREEDY_REALLOC(c->recs, c->allocated, c->n_recs + 1))
                return -ENOMEM;
        while (i < c->n_recs && strverscmp(c->recs[i].disk.name, rec->disk.name) < 0)
                i++;
        memmove(c->recs + i + 1, c->recs + i, (c->n_recs - i) * sizeof(DiskRecord));
        c->recs[i] = *rec;
        *rec = (DiskRecord){};
        c->n_recs++;
        return 0;
}

static void cache_drop(NpDiskCache *c, const char *name)
{
        DiskRecord *rec = cache_find(c, name);

        if (!rec)
                return;
        record_done(rec);
        memmove(rec, rec + 1, (size_t)(c->recs + c->n_recs - (rec + 1)) * sizeof(DiskRecord));
        c->n_recs--;
}

/* Every loop device /sys/block lists that has a size (an attached one). */
static int enumerate_loops(char ***ret)
{
        DIR *dir = opendir("/sys/block");
        struct dirent *de;
        int r = 0;

        if (!dir)
                return 0; /* no sysfs: the enumeration says so */
        while (r >= 0 && (de = readdir(dir))) {
                char size[32], path[NAME_MAX + 8];

                if (!is_loop_name(de->d_name))
                        continue;
                /* Hosts keep hundreds of idle loop devices: read their size straight from sysfs
                 * and make udev devices of the attached ones only. */
                snprintf(path, sizeof(path), "%s/size", de->d_name);
                if (!read_attr_at(dirfd(dir), path, size, sizeof(size)) ||
                    strtoull(size, NULL, 10) == 0)
                        continue;
                r = strv_extend(ret, de->d_name);
        }
        closedir(dir);
        return r;
}

/* Read d and append its record when it is a candidate disk. */
static int cache_append(NpDiskCache *c, sd_device *d, bool include_loop, ByIdTable *by_id)
{
        DiskRecord rec = {};
        int r = record_read(d, include_loop, by_id, &rec);

        if (r <= 0)
                return r;
        if (!GREEDY_REALLOC(c->recs, c->allocated, c->n_recs + 1)) {
                record_done(&rec);
                return -ENOMEM;
        }
        c->recs[c->n_recs++] = rec;
        return 0;
}

/* Read every disk from scratch. */
static int cache_fill(NpDiskCache *c, const NpProbeRequest *req)
{
        _cleanup_(sd_device_enumerator_unrefp) sd_device_enumerator *e = NULL;
        _cleanup_(by_id_done) ByIdTable by_id = {};
        _cleanup_strv_free_ char **loops = NULL;
        _cleanup_free_ DiskRecord **all = NULL;
        bool any = false;
        int r;

        cache_clear(c);
        c->include_loop = req->include_loop_devices;
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

        /* What sysfs and udev say, one disk after the other (sd-device is not thread-safe). */
        for (sd_device *d = sd_device_enumerator_get_device_first(e); r >= 0 && d;
             d = sd_device_enumerator_get_device_next(e)) {
                any = true;
                r = cache_append(c, d, req->include_loop_devices, &by_id);
        }
        if (r >= 0 && req->include_loop_devices)
                r = enumerate_loops(&loops);
        STRV_FOREACH (l, loops) {
                _cleanup_(sd_device_unrefp) sd_device *d = NULL;

                any = true;
                if (r < 0 || sd_device_new_from_subsystem_sysname(&d, "block", *l) < 0)
                        continue; /* detached meanwhile */
                r = cache_append(c, d, true, &by_id);
        }
        if (r >= 0)
                r = read_backing(&c->backers);
        if (r < 0)
                return r;
        /* The enumerator cannot tell "no devices" from "no sysfs": ask sysfs. */
        if (!any && access("/sys/class/block", F_OK) < 0) {
                c->unknown = strprintf("cannot enumerate block devices: /sys/class/block: %m");
                return c->unknown ? 0 : -ENOMEM;
        }
        if (c->n_recs > 1)
                qsort(c->recs, c->n_recs, sizeof(DiskRecord), rec_cmp);
        c->filled = true;
        c->reread = (unsigned)c->n_recs;

        /* What is on them: libblkid, several disks at a time (reading is mostly waiting). */
        all = calloc(MAX(c->n_recs, 1U), sizeof(DiskRecord *));
        if (!all)
                return -ENOMEM;
        for (size_t i = 0; i < c->n_recs; i++)
                all[i] = &c->recs[i];
        return probe_records(all, c->n_recs);
}

/* The block device name's parent disk when it is a partition, from sysfs; NULL otherwise. */
static char *partition_parent(const char *name)
{
        _cleanup_free_ char *link = strprintf("/sys/class/block/%s", name), *real = NULL;
        char *slash;

        _cleanup_free_ char *attr_path = NULL;

        if (!link)
                return NULL;
        real = realpath(link, NULL);
        attr_path = real ? strprintf("%s/partition", real) : NULL;
        if (!attr_path || access(attr_path, F_OK) < 0)
                return NULL;
        slash = strrchr(real, '/');
        *slash = '\0';
        slash = strrchr(real, '/');
        return slash ? strdup(slash + 1) : NULL;
}

/* The disk (a record, or the parent of a partition sysfs knows) that name is or is part of. */
static int mark_disk_of(NpDiskCache *c, const char *name, char ***marks)
{
        _cleanup_free_ char *parent = NULL;

        if (cache_find(c, name))
                return strv_extend_unique(marks, name);
        FOREACH_ARRAY (rec, c->recs, c->n_recs)
                FOREACH_ARRAY (p, rec->parts, rec->n_parts)
                        if (streq(p->name, name))
                                return strv_extend_unique(marks, rec->disk.name);
        parent = partition_parent(name);
        if (parent)
                return strv_extend_unique(marks, parent);
        return 0;
}

/*
 * The disks an event on the block device name makes us read again: the disk itself, the disk of
 * a partition, the disks a holder (dm, md) holds or held. A new name that is neither known nor a
 * partition may be a new disk: read it to find out.
 */
static int mark_related(NpDiskCache *c, const NpProbeRequest *req, const char *name, char ***marks)
{
        _cleanup_free_ char *slaves = strprintf("/sys/class/block/%s/slaves", name);
        size_t before = strv_length(*marks);
        struct dirent *de;
        DIR *dir;
        int r;

        if (!slaves)
                return -ENOMEM;
        r = mark_disk_of(c, name, marks);
        /* A holder that went away is still named in its disks' records. */
        FOREACH_ARRAY (rec, c->recs, c->n_recs)
                if (r >= 0 && strv_contains(rec->disk.holders, name))
                        r = strv_extend_unique(marks, rec->disk.name);
        /* A holder that appeared names its disks (or partitions) in slaves/. */
        dir = r >= 0 ? opendir(slaves) : NULL;
        while (dir && r >= 0 && (de = readdir(dir)))
                if (de->d_name[0] != '.')
                        r = mark_disk_of(c, de->d_name, marks);
        if (dir)
                closedir(dir);
        if (r >= 0 && strv_length(*marks) == before && !skip_name(name, req->include_loop_devices))
                r = strv_extend_unique(marks, name);
        return r;
}

/* Two paths of one LUN: the disks sharing a WWN with one of names (by their records). */
static int mark_same_wwn_of(NpDiskCache *c, char *const *names, char ***marks)
{
        int r = 0;

        STRV_FOREACH (n, (char **)names) {
                const DiskRecord *rec = cache_find(c, *n);

                if (!rec || !rec->disk.wwn)
                        continue;
                FOREACH_ARRAY (o, c->recs, c->n_recs)
                        if (r >= 0 && o != rec && streq_ptr(o->disk.wwn, rec->disk.wwn))
                                r = strv_extend_unique(marks, o->disk.name);
        }
        return r;
}

/* Read the disks named again (or drop those gone), then libblkid on them. */
static int cache_reread(NpDiskCache *c, const NpProbeRequest *req, char *const *names)
{
        _cleanup_(by_id_done) ByIdTable by_id = {};
        _cleanup_free_ DiskRecord **read = NULL;
        _cleanup_strv_free_ char **kept = NULL;
        size_t n = 0;
        int r = 0;

        STRV_FOREACH (name, (char **)names) {
                _cleanup_(sd_device_unrefp) sd_device *d = NULL;
                DiskRecord rec = {};

                if (sd_device_new_from_subsystem_sysname(&d, "block", *name) < 0 ||
                    (r = record_read(d, req->include_loop_devices, &by_id, &rec)) == 0) {
                        cache_drop(c, *name);
                        continue;
                }
                if (r >= 0)
                        r = cache_put(c, &rec);
                if (r >= 0)
                        r = strv_extend(&kept, *name);
                record_done(&rec);
                if (r < 0)
                        return r;
        }
        c->reread += (unsigned)strv_length(kept);
        read = calloc(strv_length(kept) + 1, sizeof(DiskRecord *));
        if (!read)
                return -ENOMEM;
        STRV_FOREACH (name, kept)
                read[n++] = cache_find(c, *name); /* the array no longer moves */
        return probe_records(read, n);
}

static int cache_update(NpDiskCache *c, const NpProbeRequest *req, char *const *changed)
{
        _cleanup_strv_free_ char **marks = NULL, **same = NULL, **more = NULL;
        int r = 0;

        c->reread = 0;
        STRV_FOREACH (name, (char **)changed) {
                /* A loop or zram device: what it is backed by. */
                if (startswith(*name, "loop") || startswith(*name, "zram")) {
                        use_table_remove(&c->backers, *name);
                        r = backing_of(&c->backers, *name);
                }
                if (r >= 0)
                        r = mark_related(c, req, *name, &marks);
                if (r < 0)
                        return r;
        }
        /* (Into another list: marks cannot grow while it is walked.) */
        r = mark_same_wwn_of(c, marks, &same);
        STRV_FOREACH (m, same)
                if (r >= 0)
                        r = strv_extend_unique(&marks, *m);
        if (r >= 0)
                r = cache_reread(c, req, marks);
        /* A disk read again may now share its WWN with one not read. */
        if (r >= 0)
                r = mark_same_wwn_of(c, marks, &more);
        STRV_FOREACH (m, marks)
                strv_remove(more, *m);
        if (r >= 0 && strv_length(more) > 0)
                r = cache_reread(c, req, more);
        return r;
}

/* --- all disks: the facts ------------------------------------------------------------------- */

typedef struct WwnRef {
        const char *wwn;
        size_t index;
} WwnRef;

static int wwn_ref_cmp(const void *a, const void *b)
{
        const WwnRef *x = a, *y = b;
        int c = strcmp(x->wwn, y->wwn);

        return c != 0 ? c : (x->index > y->index) - (x->index < y->index);
}

/* Two disks with one WWN are two paths to one LUN (multipath without a map yet, NVMe with
 * nvme_core.multipath=N): counting both would offer the same disk twice. Each is marked with
 * the first other disk (in name order) that has its WWN. */
static int mark_same_wwn(NpDisk *disks, size_t n)
{
        _cleanup_free_ WwnRef *refs = calloc(MAX(n, 1U), sizeof(WwnRef));
        size_t k = 0;

        if (!refs)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++)
                if (disks[i].wwn)
                        refs[k++] = (WwnRef){ .wwn = disks[i].wwn, .index = i };
        if (k > 1)
                qsort(refs, k, sizeof(WwnRef), wwn_ref_cmp);
        for (size_t g = 0; g < k;) {
                size_t end = g + 1;

                while (end < k && streq(refs[end].wwn, refs[g].wwn))
                        end++;
                for (size_t i = g; end - g > 1 && i < end; i++) {
                        NpDisk *d = &disks[refs[i].index];
                        size_t other = refs[i == g ? g + 1 : g].index;

                        if (d->multipath)
                                continue;
                        d->multipath = strprintf("same WWN as %s", disks[other].name);
                        if (!d->multipath)
                                return -ENOMEM;
                }
                g = end;
        }
        return 0;
}

/* The facts of every disk: its record and what the host's tables say uses it. */
static int cache_facts(const NpDiskCache *c, const NpProbeRequest *req, NpFacts *f)
{
        _cleanup_(use_table_done) UseTable mounts = {}, swaps = {};
        _cleanup_free_ char *mounts_unknown = NULL, *swaps_unknown = NULL;
        int r;

        f->disks_probed = true;
        f->disks_include_loop = req->include_loop_devices;
        if (c->unknown)
                return free_and_strdup(&f->disks_unknown, c->unknown);
        r = read_mounts(&mounts, &mounts_unknown);
        if (r >= 0)
                r = read_swaps(&swaps, &swaps_unknown);
        if (r < 0)
                return r;
        if (c->n_recs == 0)
                return 0;
        f->disks = calloc(c->n_recs, sizeof(NpDisk));
        if (!f->disks)
                return -ENOMEM;
        for (size_t i = 0; i < c->n_recs; i++) {
                const DiskRecord *rec = &c->recs[i];
                NpDisk *disk = &f->disks[i];

                r = np_disk_copy(&rec->disk, disk);
                if (r < 0)
                        return r;
                f->n_disks++;
                /* The disk and each of its partitions: mounts, swap, loop devices on them. */
                r = uses_of(&mounts, rec->devnum, disk->name, &disk->mountpoints);
                if (r >= 0)
                        r = uses_of(&swaps, rec->devnum, disk->name, &disk->swaps);
                if (r >= 0)
                        r = uses_of(&c->backers, rec->devnum, NULL, &disk->backing_for);
                FOREACH_ARRAY (p, rec->parts, rec->n_parts) {
                        if (r >= 0)
                                r = uses_of(&mounts, p->devnum, p->name, &disk->mountpoints);
                        if (r >= 0)
                                r = uses_of(&swaps, p->devnum, p->name, &disk->swaps);
                        if (r >= 0)
                                r = uses_of(&c->backers, p->devnum, NULL, &disk->backing_for);
                }
                if (r < 0)
                        return r;
        }
        r = mark_same_wwn(f->disks, f->n_disks);
        FOREACH_ARRAY (disk, f->disks, f->n_disks) {
                /* Without the mount or swap table nothing can be called free. */
                if (r >= 0 && !disk->unknown && (mounts_unknown || swaps_unknown))
                        r = free_and_strdup(&disk->unknown,
                                            mounts_unknown ? mounts_unknown : swaps_unknown);
                if (r >= 0)
                        r = np_disk_judge(disk, req->min_disk_size, &disk->reasons, &disk->free);
        }
        return r;
}

int np_probe_disks_update(NpDiskCache *c, const NpProbeRequest *req, char *const *changed,
                          bool full, NpFacts *f)
{
        int r;

        if (full || !c->filled || c->unknown || c->include_loop != req->include_loop_devices)
                r = cache_fill(c, req);
        else
                r = cache_update(c, req, changed);
        if (r < 0) {
                cache_clear(c); /* half read: the next probe starts again */
                return r;
        }
        return cache_facts(c, req, f);
}

int np_probe_disks(const NpProbeRequest *req, NpFacts *f)
{
        _cleanup_(np_disk_cache_freep) NpDiskCache *c = np_disk_cache_new();

        if (!c)
                return -ENOMEM;
        return np_probe_disks_update(c, req, NULL, true, f);
}
