/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The disk probe on umockdev trees of disks this machine cannot make: SATA SSD, SAS HDD, NVMe,
 * USB stick, a dm-multipath member, an md member, multipath paths without a map and an iSCSI
 * LUN (tests/fixtures/umockdev/). Runs under
 * umockdev-wrapper (its LD_PRELOAD fakes /sys, /dev and the udev database).
 */

#include <fcntl.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <umockdev.h>
#include <unistd.h>
/* glib's MIN/MAX are the same macros as ours. */
#undef MIN
#undef MAX

#include "probe/probe.h"
#include "report/report.h"
#include "test.h"
#include "util/strv.h"

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define NP_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define NP_ASAN 1
#endif

static char *root_dir;
static char *sys_dir;

static void add_tree(UMockdevTestbed *tb, const char *file)
{
        _cleanup_free_ char *path = strprintf("%s/umockdev/%s", FIXTURES, file);
        GError *error = NULL;

        if (!umockdev_testbed_add_from_file(tb, path, &error)) {
                fprintf(stderr, "%s: %s\n", path, error ? error->message : "?");
                abort();
        }
}

/* SYSPATH/holders/HOLDER, as the kernel makes it for dm and md. */
static void add_holder(const char *syspath, const char *holder)
{
        _cleanup_free_ char *dir = strprintf("%s%s/holders", root_dir, syspath),
                            *link = strprintf("%s/%s", dir, holder),
                            *target = strprintf("%s/devices/virtual/block/%s", sys_dir, holder);

        ASSERT_TRUE(dir && link && target);
        ASSERT_TRUE(mkdir(dir, 0755) == 0 || errno == EEXIST);
        ASSERT_TRUE(symlink(target, link) == 0);
}

/* The device node's content: a sparse file of size bytes, with data at offset. */
static void node_content(const char *name, off_t size, off_t offset, const void *data, size_t n)
{
        _cleanup_free_ char *path = strprintf("%s/dev/%s", root_dir, name);
        _cleanup_close_ int fd = -EBADF;

        ASSERT_TRUE(path);
        fd = open(path, O_WRONLY | O_CLOEXEC);
        ASSERT_TRUE(fd >= 0);
        ASSERT_TRUE(ftruncate(fd, size) == 0);
        if (n > 0)
                ASSERT_TRUE(pwrite(fd, data, n, offset) == (ssize_t)n);
}

/* A node that exists but cannot be opened (ENXIO), so the probe must fall back to udev. */
static void node_unreadable(const char *name)
{
        _cleanup_free_ char *path = strprintf("%s/dev/%s", root_dir, name);
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        _cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

        ASSERT_TRUE(path && fd >= 0 && strlen(path) < sizeof(sa.sun_path));
        ASSERT_TRUE(unlink(path) == 0);
        strcpy(sa.sun_path, path);
        ASSERT_TRUE(bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0);
}

static void put_le32(uint8_t *p, uint32_t v)
{
        for (int i = 0; i < 4; i++)
                p[i] = (uint8_t)(v >> (8 * i));
}

static void put_le64(uint8_t *p, uint64_t v)
{
        for (int i = 0; i < 8; i++)
                p[i] = (uint8_t)(v >> (8 * i));
}

/* An md v1.2 superblock (4 KiB into the member) as mdadm writes it for a 2-disk RAID1. */
static void md_superblock(uint8_t sb[512])
{
        const uint32_t max_dev = 2;
        uint64_t sum = 0;

        memset(sb, 0, 512);
        put_le32(sb + 0, 0xa92b4efc); /* magic */
        put_le32(sb + 4, 1);          /* major_version */
        for (int i = 0; i < 16; i++)
                sb[16 + i] = (uint8_t)(0x40 + i); /* set_uuid */
        memcpy(sb + 32, "node1:0", 7);            /* set_name */
        put_le32(sb + 72, 1);                     /* level: raid1 */
        put_le32(sb + 92, 2);                     /* raid_disks */
        put_le64(sb + 128, 264192);               /* data_offset */
        put_le64(sb + 144, 8);                    /* super_offset: 4096 / 512 */
        put_le32(sb + 220, max_dev);
        /* sb_csum (offset 216) over 256 + 2 * max_dev bytes, with the field itself zero. */
        for (uint32_t i = 0; i < (256 + 2 * max_dev) / 4; i++)
                sum += (uint32_t)sb[4 * i] | (uint32_t)sb[4 * i + 1] << 8 |
                       (uint32_t)sb[4 * i + 2] << 16 | (uint32_t)sb[4 * i + 3] << 24;
        put_le32(sb + 216, (uint32_t)((sum & 0xffffffff) + (sum >> 32)));
}

static const NpDisk *disk(const NpFacts *f, const char *name)
{
        const NpDisk *d = np_facts_disk(f, name);

        if (!d) {
                fprintf(stderr, "no disk %s in the facts\n", name);
                abort();
        }
        return d;
}

static char *reasons(const NpDisk *d)
{
        char *s = strv_join(d->reasons, ",");

        ASSERT_TRUE(s);
        return s;
}

static void test_probe(void)
{
        NpProbeRequest req = { .disks = true, .min_disk_size = 60000000000ULL };
        _cleanup_(np_facts_freep) NpFacts *f = np_facts_new();
        _cleanup_free_ char *r_sda = NULL, *r_sdb = NULL, *r_nvme = NULL, *r_usb = NULL,
                            *r_sdd = NULL, *r_sde = NULL, *r_sdf = NULL, *r_sdg = NULL,
                            *r_sdi = NULL;
        const NpDisk *d;

        ASSERT_OK(np_probe_disks(&req, f));
        ASSERT_NULL(f->disks_unknown);
        /* dm-0 and md127 are never candidates; the partition is not a disk. */
        ASSERT_EQ(f->n_disks, 10);
        ASSERT_NULL(np_facts_disk(f, "dm-0"));
        ASSERT_NULL(np_facts_disk(f, "md127"));
        ASSERT_NULL(np_facts_disk(f, "nvme0n1p1"));
        /* Sorted by name. */
        ASSERT_STREQ(f->disks[0].name, "nvme0n1");
        ASSERT_STREQ(f->disks[9].name, "sdi");

        d = disk(f, "sda");
        r_sda = reasons(d);
        ASSERT_STREQ(d->transport, "sata");
        ASSERT_STREQ(np_disk_kind(d), "ssd");
        ASSERT_EQ(d->size_bytes, 976773168ULL * 512);
        ASSERT_STREQ(d->path, "/dev/sda");
        ASSERT_STREQ(d->id, "/dev/disk/by-id/wwn-0x5002538e40a1b2c3");
        ASSERT_STREQ(d->model, "Samsung_SSD_860_EVO_500GB");
        ASSERT_STREQ(d->serial, "S3Z1NB0K123456A");
        ASSERT_STREQ(d->wwn, "0x5002538e40a1b2c3");
        ASSERT_EQ(d->major, 8);
        ASSERT_EQ(d->minor, 0);
        ASSERT_NULL(d->unknown);
        ASSERT_STREQ(d->signatures_source, "libblkid");
        ASSERT_STREQ(r_sda, "");
        ASSERT_TRUE(d->free);

        d = disk(f, "sdb");
        r_sdb = reasons(d);
        ASSERT_STREQ(d->transport, "sas");
        ASSERT_STREQ(np_disk_kind(d), "hdd");
        ASSERT_STREQ(d->vendor, "SEAGATE");
        ASSERT_STREQ(d->id, "/dev/disk/by-id/wwn-0x5000c500a1b2c3d4");
        ASSERT_TRUE(d->free);

        d = disk(f, "nvme0n1");
        r_nvme = reasons(d);
        ASSERT_STREQ(d->transport, "nvme");
        ASSERT_STREQ(np_disk_kind(d), "ssd");
        ASSERT_STREQ(d->id, "/dev/disk/by-id/nvme-eui.002538b911b2c3d4");
        ASSERT_STREQ(d->serial, "S675NX0R123456");
        ASSERT_TRUE(strv_contains(d->partitions, "nvme0n1p1"));
        ASSERT_STREQ(r_nvme, "partitions");
        ASSERT_TRUE(!d->free);

        d = disk(f, "sdc");
        r_usb = reasons(d);
        ASSERT_STREQ(d->transport, "usb");
        ASSERT_TRUE(d->removable);
        ASSERT_STREQ(d->vendor, "SanDisk");
        ASSERT_STREQ(r_usb, "removable,usb");

        /* Unreadable node: unknown, but udev's ID_FS_TYPE and the holder settle it. */
        d = disk(f, "sdd");
        r_sdd = reasons(d);
        ASSERT_STREQ(d->transport, "fc");
        ASSERT_TRUE(d->unknown);
        ASSERT_CONTAINS(d->unknown, "cannot read /dev/sdd");
        ASSERT_STREQ(d->signatures_source, "udev");
        /* Held by dm-0 and marked by udev; an FC LUN is another machine's disk. */
        ASSERT_STREQ(r_sdd, "signature:mpath_member,holders,multipath,remote:fc");
        ASSERT_STREQ(d->multipath, "udev DM_MULTIPATH_DEVICE_PATH=1");
        ASSERT_TRUE(strv_contains(d->holders, "dm-0"));

        /* libblkid reads the md superblock from the node; udev's copy is not needed. */
        d = disk(f, "sde");
        r_sde = reasons(d);
        ASSERT_STREQ(d->transport, "sata");
        ASSERT_STREQ(np_disk_kind(d), "hdd");
        ASSERT_NULL(d->unknown);
        ASSERT_STREQ(d->signatures_source, "libblkid");
        ASSERT_STREQ(r_sde, "signature:linux_raid_member,holders");
        ASSERT_TRUE(strv_contains(d->holders, "md127"));

        /* Readable, empty, no holder: multipath-tools' udev mark alone keeps the path out. */
        d = disk(f, "sdf");
        r_sdf = reasons(d);
        ASSERT_NULL(d->unknown);
        ASSERT_STREQ(d->signatures_source, "libblkid");
        ASSERT_STREQ(r_sdf, "multipath");
        ASSERT_TRUE(!d->free);

        /* One dual-ported SSD seen on two paths: neither is offered. */
        d = disk(f, "sdg");
        r_sdg = reasons(d);
        ASSERT_STREQ(r_sdg, "multipath");
        ASSERT_STREQ(d->multipath, "same WWN as sdh");
        d = disk(f, "sdh");
        ASSERT_STREQ(d->multipath, "same WWN as sdg");
        ASSERT_TRUE(!d->free);

        /* An iSCSI LUN (a CSI volume attached to this node) is not a local disk. */
        d = disk(f, "sdi");
        r_sdi = reasons(d);
        ASSERT_STREQ(d->transport, "iscsi");
        ASSERT_STREQ(d->remote, "iscsi");
        ASSERT_STREQ(r_sdi, "remote:iscsi");
        ASSERT_TRUE(!d->free);
        printf("ok 1 - probe\n");
}

/* Loop devices only when asked; an idle one (size 0) never; partitions found either way. */
static void test_loops(void)
{
        NpProbeRequest req = { .disks = true, .min_disk_size = 60000000000ULL };
        _cleanup_(np_facts_freep) NpFacts *without = np_facts_new(), *with = np_facts_new();
        _cleanup_free_ char *why = NULL;
        const NpDisk *d;

        ASSERT_OK(np_probe_disks(&req, without));
        ASSERT_NULL(np_facts_disk(without, "loop0"));
        ASSERT_EQ(without->n_disks, 10);

        req.include_loop_devices = true;
        ASSERT_OK(np_probe_disks(&req, with));
        ASSERT_EQ(with->n_disks, 11);
        ASSERT_NULL(np_facts_disk(with, "loop1"));
        d = disk(with, "loop0");
        why = reasons(d);
        ASSERT_STREQ(d->transport, "loop");
        ASSERT_TRUE(strv_contains(d->partitions, "loop0p1"));
        ASSERT_STREQ(why, "partitions");
        ASSERT_TRUE(with->disks_include_loop);
        printf("ok 2 - loops\n");
}

/* The JSON field names other tools rely on. */
static void test_json(void)
{
        NpProbeRequest req = { .disks = true, .min_disk_size = 60000000000ULL };
        _cleanup_(np_facts_freep) NpFacts *f = np_facts_new();
        json_object *o = NULL, *disks, *sda = NULL;
        static const char *const keys[] = {
                "name",       "path",        "id",        "size_bytes", "rotational",
                "kind",       "transport",   "model",     "vendor",     "serial",
                "wwn",        "removable",   "read_only", "partitions", "partition_table",
                "signatures", "mountpoints", "swap",      "holders",    "backing_for",
                "multipath",  "remote",      "free",      "reasons",    "unknown",
        };

        ASSERT_OK(np_probe_disks(&req, f));
        ASSERT_OK(np_facts_to_json(f, &o));
        ASSERT_TRUE(json_object_object_get_ex(o, "disks", &disks));
        for (size_t i = 0; i < json_object_array_length(disks); i++) {
                json_object *e = json_object_array_get_idx(disks, i), *name;

                if (json_object_object_get_ex(e, "name", &name) &&
                    streq(json_object_get_string(name), "sda"))
                        sda = e;
        }
        ASSERT_TRUE(sda);
        for (size_t i = 0; i < ELEMENTSOF(keys); i++) {
                if (!json_object_object_get_ex(sda, keys[i], NULL)) {
                        fprintf(stderr, "facts.disks[] has no \"%s\"\n", keys[i]);
                        abort();
                }
        }
        ASSERT_STREQ(json_object_to_json_string_ext(json_object_object_get(sda, "kind"), 0),
                     "\"ssd\"");
        ASSERT_STREQ(json_object_to_json_string_ext(json_object_object_get(sda, "free"), 0),
                     "true");
        ASSERT_STREQ(json_object_to_json_string_ext(json_object_object_get(sda, "reasons"),
                                                    JSON_C_TO_STRING_SPACED),
                     "[ ]");
        json_object_put(o);
        printf("ok 3 - json\n");
}

/* f's disks as a fresh full probe finds them (the JSON of both, compared whole). */
static void assert_as_full_probe(const NpProbeRequest *req, const NpFacts *f)
{
        _cleanup_(np_facts_freep) NpFacts *full = np_facts_new();
        json_object *a = NULL, *b = NULL;

        ASSERT_OK(np_probe_disks(req, full));
        ASSERT_OK(np_facts_to_json(f, &a));
        ASSERT_OK(np_facts_to_json(full, &b));
        if (!json_object_equal(json_object_object_get(a, "disks"),
                               json_object_object_get(b, "disks"))) {
                fprintf(stderr, "update:\n%s\nfull probe:\n%s\n",
                        json_object_to_json_string(json_object_object_get(a, "disks")),
                        json_object_to_json_string(json_object_object_get(b, "disks")));
                abort();
        }
        json_object_put(a);
        json_object_put(b);
}

/* An event naming name: the disks read again, and the facts. */
static NpFacts *update(NpDiskCache *c, const NpProbeRequest *req, const char *name, unsigned reread)
{
        char *changed[] = { (char *)name, NULL };
        NpFacts *f = np_facts_new();

        ASSERT_TRUE(f);
        ASSERT_OK(np_probe_disks_update(c, req, changed, false, f));
        if (np_disk_cache_reread(c) != reread) {
                fprintf(stderr, "an event on %s read %u disks, not %u\n", name,
                        np_disk_cache_reread(c), reread);
                abort();
        }
        assert_as_full_probe(req, f);
        return f;
}

#define SDA_SYSPATH "/sys/devices/pci0000:00/0000:00:1f.2/ata1/host0/target0:0:0/0:0:0:0/block/sda"

/* The daemon's way: what an event names is read again, with what depends on it (the disk of a
 * partition, the disks a dm or md holder holds or held, the disks sharing a WWN); the facts
 * always equal a full probe's. */
static void test_incremental(UMockdevTestbed *tb)
{
        NpProbeRequest req = { .disks = true,
                               .min_disk_size = 60000000000ULL,
                               .include_loop_devices = true };
        _cleanup_(np_disk_cache_freep) NpDiskCache *c = np_disk_cache_new();
        _cleanup_free_ char *dm = NULL, *slaves = NULL, *slave = NULL, *target = NULL,
                            *holder = NULL;
        NpFacts *f = np_facts_new();

        ASSERT_TRUE(c && f);
        ASSERT_OK(np_probe_disks_update(c, &req, NULL, true, f));
        ASSERT_EQ(np_disk_cache_reread(c), 11);
        assert_as_full_probe(&req, f);
        np_facts_free(f);

        np_facts_free(update(c, &req, "sda", 1));
        np_facts_free(update(c, &req, "nvme0n1p1", 1)); /* its disk */
        np_facts_free(update(c, &req, "sdg", 2));       /* and sdh, the same WWN */
        np_facts_free(update(c, &req, "md127", 1));     /* sde, which it holds */
        np_facts_free(update(c, &req, "loop1", 0));     /* idle: not a disk */
        np_facts_free(update(c, &req, "sdz", 0));       /* gone before it was read */

        /* A dm device appears on sda: its slaves name sda. */
        dm = umockdev_testbed_add_device(tb, "block", "dm-7", NULL, "dev", "253:7", "size", "1024",
                                         NULL, "DEVTYPE", "disk", "MAJOR", "253", "MINOR", "7",
                                         NULL);
        ASSERT_TRUE(dm);
        slaves = strprintf("%s%s/slaves", root_dir, dm);
        slave = strprintf("%s/sda", slaves);
        target = strprintf("%s" SDA_SYSPATH, root_dir);
        ASSERT_TRUE(slaves && slave && target);
        ASSERT_TRUE(mkdir(slaves, 0755) == 0);
        ASSERT_TRUE(symlink(target, slave) == 0);
        add_holder(SDA_SYSPATH, "dm-7");
        f = update(c, &req, "dm-7", 1);
        ASSERT_TRUE(strv_contains(disk(f, "sda")->holders, "dm-7"));
        ASSERT_TRUE(!disk(f, "sda")->free);
        np_facts_free(f);

        /* And goes: sda's record still names it. */
        holder = strprintf("%s" SDA_SYSPATH "/holders/dm-7", root_dir);
        ASSERT_TRUE(holder && unlink(holder) == 0);
        umockdev_testbed_remove_device(tb, dm);
        f = update(c, &req, "dm-7", 1);
        ASSERT_TRUE(disk(f, "sda")->free);
        np_facts_free(f);
        printf("ok 4 - incremental\n");
}

int main(void)
{
        UMockdevTestbed *tb;
        uint8_t sb[512];

#ifdef NP_ASAN
        printf("1..0 # SKIP umockdev's LD_PRELOAD does not work under AddressSanitizer\n");
        return 77;
#endif
        if (!strstr(strempty(getenv("LD_PRELOAD")), "libumockdev-preload")) {
                printf("1..0 # SKIP run under umockdev-wrapper\n");
                return 77;
        }
        /* umockdev's preload library is not thread-safe (12% of runs failed with the disk
         * probe's 8 threads): probe one disk at a time. */
        setenv("NODEPREP_PROBE_ONE_DISK_AT_A_TIME", "1", 1);
        tb = umockdev_testbed_new();
        root_dir = umockdev_testbed_get_root_dir(tb);
        sys_dir = umockdev_testbed_get_sys_dir(tb);
        add_tree(tb, "sata-ssd.umockdev");
        add_tree(tb, "sas-hdd.umockdev");
        add_tree(tb, "nvme.umockdev");
        add_tree(tb, "usb-stick.umockdev");
        add_tree(tb, "multipath-member.umockdev");
        add_tree(tb, "md-member.umockdev");
        add_tree(tb, "loop.umockdev");
        add_tree(tb, "shared-luns.umockdev");

        add_holder("/sys/devices/pci0000:00/0000:00:03.0/0000:02:00.1/host2/rport-2:0-0/"
                   "target2:0:0/2:0:0:1/block/sdd",
                   "dm-0");
        add_holder("/sys/devices/pci0000:00/0000:00:17.0/ata2/host3/target3:0:0/3:0:0:0/block/sde",
                   "md127");
        node_content("sda", 64 << 20, 0, NULL, 0);
        node_content("sdb", 64 << 20, 0, NULL, 0);
        node_content("nvme0n1", 64 << 20, 0, NULL, 0);
        node_content("sdc", 64 << 20, 0, NULL, 0);
        md_superblock(sb);
        node_content("sde", 64 << 20, 4096, sb, sizeof(sb));
        node_unreadable("sdd");
        node_content("loop0", 64 << 20, 0, NULL, 0);
        node_content("sdf", 64 << 20, 0, NULL, 0);
        node_content("sdg", 64 << 20, 0, NULL, 0);
        node_content("sdh", 64 << 20, 0, NULL, 0);
        node_content("sdi", 64 << 20, 0, NULL, 0);

        test_probe();
        test_loops();
        test_json();
        test_incremental(tb);
        printf("1..4\n");
        g_free(root_dir);
        g_free(sys_dir);
        g_object_unref(tb); /* removes the testbed directory */
        return 0;
}
