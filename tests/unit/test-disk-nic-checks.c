/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* disk.free-ssd, disk.free-hdd, nic.speed and nic.data-cidr on hand-made facts: one case per rule.
 */

#include "check/check.h"
#include "test.h"
#include "util/strv.h"

#define GB       1000000000ULL
#define CAPACITY 64

static NpSettings settings;

static void settings_reset(void)
{
        np_settings_done(&settings);
        np_settings_init(&settings);
        settings.min_disk_size = 60 * GB;
        settings.min_link_speed = 10000;
}

static NpFacts *facts_new(void)
{
        NpFacts *f = np_facts_new();

        ASSERT_TRUE(f);
        return f;
}

static NpDisk *add_disk(NpFacts *f, const char *name, uint64_t size, bool rotational)
{
        NpDisk *d;

        /* Fixed capacity, so pointers the tests hold stay valid. */
        if (!f->disks)
                f->disks = calloc(CAPACITY, sizeof(NpDisk));
        ASSERT_TRUE(f->disks && f->n_disks < CAPACITY);
        d = &f->disks[f->n_disks++];
        *d = (NpDisk){ .size_bytes = size, .rotational = rotational };
        d->name = strdup(name);
        d->path = strprintf("/dev/%s", name);
        d->transport = strdup("sata");
        ASSERT_TRUE(d->name && d->path && d->transport);
        return d;
}

static NpLink *add_link(NpFacts *f, const char *name, NpLinkKind kind, const char *operstate,
                        int64_t speed)
{
        NpLink *l;

        if (!f->links)
                f->links = calloc(CAPACITY, sizeof(NpLink));
        ASSERT_TRUE(f->links && f->n_links < CAPACITY);
        l = &f->links[f->n_links++];
        *l = (NpLink){
                .ifindex = (int)f->n_links,
                .kind = kind,
                .admin_up = true,
                .carrier = streq(operstate, "up") || streq(operstate, "unknown"),
                .speed_mbps = speed,
                .mtu = 1500,
        };
        l->name = strdup(name);
        l->operstate = strdup(operstate);
        ASSERT_TRUE(l->name && l->operstate);
        return l;
}

static void add_address(NpLink *l, const char *text)
{
        NpLinkAddress *a;

        l->addresses = reallocarray(l->addresses, l->n_addresses + 1, sizeof(*a));
        ASSERT_TRUE(l->addresses);
        a = &l->addresses[l->n_addresses++];
        *a = (NpLinkAddress){ .text = strdup(text) };
        ASSERT_TRUE(a->text);
        ASSERT_OK(np_parse_address(text, &a->cidr));
}

static void set_strv(char ***l, const char *word)
{
        ASSERT_OK(strv_extend(l, word));
}

/* Run the check type on f and return the result (caller frees with np_result_done). */
static NpResult run(const NpCheckType *type, const NpFacts *f)
{
        NpCheckDef def = {
                .id = (char *)type->name,
                .title = (char *)type->default_title,
                .type = type,
                .severity = NP_SEVERITY_REQUIRED,
        };
        NpCheckContext ctx = { .facts = f, .settings = &settings };
        NpResult r = {};

        ASSERT_OK(np_check_run(&ctx, &def, &r));
        return r;
}

static void expect(const NpCheckType *type, const NpFacts *f, NpStatus status, const char *needle)
{
        NpResult r = run(type, f);

        if (r.status != status) {
                fprintf(stderr, "%s: status %s, expected %s\n  observed: %s\n  message: %s\n",
                        type->name, np_status_to_string(r.status), np_status_to_string(status),
                        strna(r.observed), strna(r.message));
                abort();
        }
        if (needle) {
                _cleanup_free_ char *all =
                    strprintf("%s | %s | %s", strna(r.observed), strna(r.message), strna(r.remedy));

                ASSERT_CONTAINS(all, needle);
        }
        np_result_done(&r);
}

/* The reasons np_disk_judge() gives, joined by ",", and whether the disk is free. */
static char *judge(const NpDisk *d, bool *ret_free)
{
        _cleanup_strv_free_ char **reasons = NULL;
        char *s;

        ASSERT_OK(np_disk_judge(d, settings.min_disk_size, &reasons, ret_free));
        s = strv_join(reasons, ",");
        ASSERT_TRUE(s);
        return s;
}

/* A single 480 GB SSD with one rule broken by mutate(); checks the reason word and the verdict. */
static void one_rule(void (*mutate)(NpDisk *d), const char *word)
{
        _cleanup_(np_facts_freep) NpFacts *f = facts_new();
        NpDisk *d = add_disk(f, "sdb", 480 * GB, false);
        _cleanup_free_ char *why = NULL;
        bool is_free;

        mutate(d);
        why = judge(d, &is_free);
        ASSERT_TRUE(!is_free);
        ASSERT_STREQ(why, word);
        expect(&np_check_disk_free_ssd, f, NP_STATUS_FAIL, word);
}

static void m_partitions(NpDisk *d)
{
        set_strv(&d->partitions, "sdb1");
}
static void m_gpt(NpDisk *d)
{
        d->partition_table = strdup("gpt");
}
static void m_dos(NpDisk *d)
{
        d->partition_table = strdup("dos");
}
static void m_ext4(NpDisk *d)
{
        set_strv(&d->signatures, "ext4");
}
static void m_lvm(NpDisk *d)
{
        set_strv(&d->signatures, "LVM2_member");
}
static void m_raid(NpDisk *d)
{
        set_strv(&d->signatures, "linux_raid_member");
}
static void m_luks(NpDisk *d)
{
        set_strv(&d->signatures, "crypto_LUKS");
}
static void m_swapsig(NpDisk *d)
{
        set_strv(&d->signatures, "swap");
}
static void m_mounted(NpDisk *d)
{
        set_strv(&d->mountpoints, "/var/lib/kubelet");
}
static void m_swap(NpDisk *d)
{
        set_strv(&d->swaps, "/dev/sdb");
}
static void m_holders(NpDisk *d)
{
        set_strv(&d->holders, "dm-0");
}
static void m_backing(NpDisk *d)
{
        set_strv(&d->backing_for, "loop3");
}
static void m_multipath(NpDisk *d)
{
        d->multipath = strdup("same WWN as sdc");
}
static void m_iscsi(NpDisk *d)
{
        d->remote = strdup("iscsi");
}
static void m_ro(NpDisk *d)
{
        d->read_only = true;
}
static void m_removable(NpDisk *d)
{
        d->removable = true;
}
static void m_usb(NpDisk *d)
{
        free(d->transport);
        d->transport = strdup("usb");
}
static void m_small(NpDisk *d)
{
        d->size_bytes = 32 * GB;
}

TEST(disk_rules)
{
        settings_reset();
        one_rule(m_partitions, "partitions");
        one_rule(m_gpt, "partition-table:gpt");
        one_rule(m_dos, "partition-table:dos");
        one_rule(m_ext4, "signature:ext4");
        one_rule(m_lvm, "signature:LVM2_member");
        one_rule(m_raid, "signature:linux_raid_member");
        one_rule(m_luks, "signature:crypto_LUKS");
        one_rule(m_swapsig, "signature:swap");
        one_rule(m_mounted, "mounted");
        one_rule(m_swap, "swap");
        one_rule(m_holders, "holders");
        one_rule(m_backing, "backing-device");
        one_rule(m_multipath, "multipath");
        one_rule(m_iscsi, "remote:iscsi");
        one_rule(m_ro, "read-only");
        one_rule(m_removable, "removable");
        one_rule(m_usb, "usb");
        one_rule(m_small, "too-small");
}

TEST(disk_ambivalent_is_not_free)
{
        _cleanup_(np_facts_freep) NpFacts *f = facts_new();
        NpDisk *d = add_disk(f, "sdb", 480 * GB, false);
        _cleanup_free_ char *why = NULL;
        bool is_free;

        settings_reset();
        set_strv(&d->signatures, "ext4");
        set_strv(&d->signatures, "linux_raid_member");
        why = judge(d, &is_free);
        ASSERT_TRUE(!is_free);
        ASSERT_STREQ(why, "signature:ext4,signature:linux_raid_member");
}

TEST(disk_free_pass_and_kinds)
{
        _cleanup_(np_facts_freep) NpFacts *f = facts_new();
        NpDisk *ssd = add_disk(f, "sdb", 960 * GB, false);
        bool is_free;

        settings_reset();
        free(judge(ssd, &is_free));
        ASSERT_TRUE(is_free);
        expect(&np_check_disk_free_ssd, f, NP_STATUS_PASS, "free: sdb 960 GB sata");
        /* An SSD never counts as an HDD; the remedy names the free SSD. */
        expect(&np_check_disk_free_hdd, f, NP_STATUS_FAIL, "Free SSDs (sdb) do not count");

        add_disk(f, "sdc", 4000 * GB, true);
        expect(&np_check_disk_free_hdd, f, NP_STATUS_PASS, "sdc");
        settings.min_free_ssd = 2;
        expect(&np_check_disk_free_ssd, f, NP_STATUS_FAIL, "1 free SSD of >= 60.0 GB found, 2");
        settings.min_free_ssd = 0;
        expect(&np_check_disk_free_ssd, f, NP_STATUS_SKIP, "MinFreeSSD=0");
        /* An HDD that might be a misreported SSD is named in the SSD remedy. */
        settings.min_free_ssd = 2;
        expect(&np_check_disk_free_ssd, f, NP_STATUS_FAIL, "If sdc is really an SSD");
}

TEST(disk_unknown_only_when_it_could_change_the_verdict)
{
        _cleanup_(np_facts_freep) NpFacts *f = facts_new();
        NpDisk *u = add_disk(f, "sdd", 480 * GB, false);

        settings_reset();
        u->unknown = strdup("cannot read /dev/sdd: Permission denied (run as root)");
        expect(&np_check_disk_free_ssd, f, NP_STATUS_UNKNOWN, "Permission denied");

        /* Enough free disks anyway: pass. */
        add_disk(f, "sde", 480 * GB, false);
        expect(&np_check_disk_free_ssd, f, NP_STATUS_PASS, "sde");

        /* An unknown disk too small to count cannot change the verdict: fail. */
        settings.min_free_ssd = 2;
        u->size_bytes = 10 * GB;
        expect(&np_check_disk_free_ssd, f, NP_STATUS_FAIL, "too-small");

        /* An unknown disk with a known reason is simply not free. */
        u->size_bytes = 480 * GB;
        set_strv(&u->mountpoints, "/data");
        expect(&np_check_disk_free_ssd, f, NP_STATUS_FAIL, "mounted at /data");

        /* An unknown HDD does not make the SSD check unknown. */
        strv_free(u->mountpoints);
        u->mountpoints = NULL;
        u->rotational = true;
        expect(&np_check_disk_free_ssd, f, NP_STATUS_FAIL, NULL);
        expect(&np_check_disk_free_hdd, f, NP_STATUS_UNKNOWN, "could not be probed: sdd");
}

TEST(disk_udev_second_opinion)
{
        _cleanup_(np_facts_freep) NpFacts *f = facts_new();
        NpDisk *d = add_disk(f, "sdb", 480 * GB, false);

        settings_reset();
        /* The node could not be read, but udev remembers a RAID member: not free, not unknown. */
        d->unknown = strdup("cannot read /dev/sdb: Permission denied");
        set_strv(&d->signatures, "linux_raid_member");
        d->signatures_source = strdup("udev");
        expect(&np_check_disk_free_ssd, f, NP_STATUS_FAIL, "signature:linux_raid_member");
}

TEST(disk_probe_failed)
{
        _cleanup_(np_facts_freep) NpFacts *f = facts_new();

        settings_reset();
        f->disks_unknown = strdup("cannot enumerate block devices with libudev: No such file");
        expect(&np_check_disk_free_ssd, f, NP_STATUS_UNKNOWN, "cannot enumerate");
}

TEST(disk_remedies)
{
        _cleanup_(np_facts_freep) NpFacts *f = facts_new();
        NpDisk *root = add_disk(f, "sda", 480 * GB, false), *data;
        NpResult r;

        settings_reset();
        set_strv(&root->partitions, "sda1");
        set_strv(&root->mountpoints, "/");
        data = add_disk(f, "sdb", 480 * GB, false);
        set_strv(&data->signatures, "ext4");
        set_strv(&data->mountpoints, "/var/lib/kubelet");
        r = run(&np_check_disk_free_ssd, f);
        ASSERT_EQ(r.status, NP_STATUS_FAIL);
        ASSERT_CONTAINS(r.observed,
                        "sdb 480 GB sata (signature:ext4, mounted at /var/lib/kubelet)");
        ASSERT_CONTAINS(r.remedy, "umount /var/lib/kubelet");
        ASSERT_CONTAINS(r.remedy, "wipefs -a /dev/sdb (DESTROYS ALL DATA on sdb");
        /* Never suggest wiping the disk the system runs from. */
        ASSERT_TRUE(!strstr(r.remedy, "/dev/sda"));
        np_result_done(&r);
}

TEST(disk_shared_and_backing_remedies)
{
        _cleanup_(np_facts_freep) NpFacts *f = facts_new();
        NpDisk *a = add_disk(f, "sdb", 480 * GB, false), *b = add_disk(f, "sdc", 480 * GB, false),
               *lun = add_disk(f, "sdd", 480 * GB, false);
        NpResult r;

        settings_reset();
        set_strv(&a->backing_for, "loop3");
        b->multipath = strdup("same WWN as sdx");
        lun->remote = strdup("iscsi");
        r = run(&np_check_disk_free_ssd, f);
        ASSERT_EQ(r.status, NP_STATUS_FAIL);
        ASSERT_CONTAINS(r.observed, "sdb 480 GB sata (backing-device (of loop3))");
        ASSERT_CONTAINS(r.observed, "sdc 480 GB sata (multipath (same WWN as sdx))");
        ASSERT_CONTAINS(r.observed, "sdd 480 GB sata (remote:iscsi)");
        ASSERT_CONTAINS(r.remedy, "detach loop3");
        ASSERT_CONTAINS(r.remedy, "sdc is a path of a multipath LUN");
        /* Another machine's LUN is never offered for wiping. */
        ASSERT_TRUE(!strstr(r.remedy, "/dev/sdd"));
        np_result_done(&r);
}

TEST(disk_observed_is_capped)
{
        _cleanup_(np_facts_freep) NpFacts *f = facts_new();
        NpResult r;

        settings_reset();
        for (int i = 0; i < 40; i++) {
                _cleanup_free_ char *name = strprintf("loop%d", i);
                NpDisk *d = add_disk(f, name, 1 * GB, false);

                (void)d;
        }
        r = run(&np_check_disk_free_ssd, f);
        ASSERT_EQ(r.status, NP_STATUS_FAIL);
        ASSERT_CONTAINS(r.observed, "... and 34 more");
        np_result_done(&r);
}

/* --- links -------------------------------------------------------------------------------- */

TEST(link_speed_rules)
{
        settings_reset();
        {
                _cleanup_(np_facts_freep) NpFacts *f = facts_new();

                add_link(f, "lo", NP_LINK_LOOPBACK, "unknown", 100000);
                expect(&np_check_nic_speed, f, NP_STATUS_FAIL, "no links besides loopback");
                add_link(f, "eth0", NP_LINK_PHYSICAL, "up", 1000);
                expect(&np_check_nic_speed, f, NP_STATUS_FAIL, "eth0 is up at 1000 Mb/s");
                add_link(f, "eth1", NP_LINK_PHYSICAL, "up", 10000);
                expect(&np_check_nic_speed, f, NP_STATUS_PASS, "eth1 up at 10000 Mb/s (physical)");
                settings.min_link_speed = 25000;
                expect(&np_check_nic_speed, f, NP_STATUS_FAIL, "no link is up at >= 25000");
                settings.min_link_speed = 10000;
        }
        {
                _cleanup_(np_facts_freep) NpFacts *f = facts_new();
                NpLink *l = add_link(f, "eth0", NP_LINK_PHYSICAL, "down", 25000);

                l->carrier = false;
                expect(&np_check_nic_speed, f, NP_STATUS_FAIL, "eth0 down");
                /* Admin down with a stale "up": still down. */
                free(l->operstate);
                l->operstate = strdup("up");
                l->admin_up = false;
                expect(&np_check_nic_speed, f, NP_STATUS_FAIL, "admin down");
        }
        {
                _cleanup_(np_facts_freep) NpFacts *f = facts_new();
                NpLink *tap = add_link(f, "tap0", NP_LINK_TAP, "unknown", 25000);

                /* RFC 2863 "unknown" with carrier counts as up; without carrier it does not. */
                expect(&np_check_nic_speed, f, NP_STATUS_PASS, "tap0 up at 25000 Mb/s (tap)");
                tap->carrier = false;
                expect(&np_check_nic_speed, f, NP_STATUS_FAIL, "no carrier");
        }
        {
                _cleanup_(np_facts_freep) NpFacts *f = facts_new();

                add_link(f, "eth0", NP_LINK_PHYSICAL, "up", -1);
                expect(&np_check_nic_speed, f, NP_STATUS_UNKNOWN, "speed unknown");
                add_link(f, "eth1", NP_LINK_PHYSICAL, "up", 10000);
                expect(&np_check_nic_speed, f, NP_STATUS_PASS, "eth1");
        }
        {
                _cleanup_(np_facts_freep) NpFacts *f = facts_new();

                add_link(f, "veth0", NP_LINK_VETH, "up", 10000);
                add_link(f, "tun0", NP_LINK_TUN, "unknown", 10000);
                add_link(f, "dummy0", NP_LINK_VIRTUAL, "unknown", 10000);
                expect(&np_check_nic_speed, f, NP_STATUS_FAIL, "veth0 veth: a virtual pair");
        }
}

TEST(link_stacked)
{
        settings_reset();
        {
                _cleanup_(np_facts_freep) NpFacts *f = facts_new();
                NpLink *eth = add_link(f, "eth0", NP_LINK_PHYSICAL, "up", 25000), *vlan;

                vlan = add_link(f, "eth0.100", NP_LINK_VLAN, "up", -1);
                vlan->parent = strdup("eth0");
                add_address(vlan, "10.20.0.5/24");
                ASSERT_OK(np_parse_cidr("10.20.0.0/24", &settings.data_cidr));
                settings.has_data_cidr = true;
                expect(&np_check_nic_data_cidr, f, NP_STATUS_PASS,
                       "eth0.100 10.20.0.5/24: vlan on eth0: up at 25000 Mb/s");
                eth->speed_mbps = 1000;
                expect(&np_check_nic_data_cidr, f, NP_STATUS_FAIL, "runs at 1000 Mb/s");
                free(eth->operstate);
                eth->operstate = strdup("down");
                eth->carrier = false;
                expect(&np_check_nic_data_cidr, f, NP_STATUS_FAIL, "vlan on eth0: down");
                settings.has_data_cidr = false;
        }
        {
                _cleanup_(np_facts_freep) NpFacts *f = facts_new();
                NpLink *bond = add_link(f, "bond0", NP_LINK_BOND, "up", 20000), *m;

                set_strv(&bond->members, "eth0");
                set_strv(&bond->members, "eth1");
                m = add_link(f, "eth0", NP_LINK_PHYSICAL, "down", -1);
                m->master = strdup("bond0");
                m = add_link(f, "eth1", NP_LINK_PHYSICAL, "up", 1000);
                m->master = strdup("bond0");
                /* The kernel reports the bond's speed (its active members): that is what counts. */
                expect(&np_check_nic_speed, f, NP_STATUS_PASS, "bond0 up at 20000 Mb/s (bond)");
                bond->speed_mbps = 2000;
                expect(&np_check_nic_speed, f, NP_STATUS_FAIL, "bond0 is up at 2000 Mb/s");
        }
        {
                _cleanup_(np_facts_freep) NpFacts *f = facts_new();
                NpLink *br = add_link(f, "br0", NP_LINK_BRIDGE, "up", -1), *p;

                set_strv(&br->members, "veth1");
                p = add_link(f, "veth1", NP_LINK_VETH, "up", 10000);
                p->master = strdup("br0");
                /* A bridge of pod veths is not a 10G network (flannel's cni0). */
                expect(&np_check_nic_speed, f, NP_STATUS_FAIL, "br0 bridge without a port");
                set_strv(&br->members, "eth0");
                p = add_link(f, "eth0", NP_LINK_PHYSICAL, "up", 10000);
                p->master = strdup("br0");
                expect(&np_check_nic_speed, f, NP_STATUS_PASS, "br0 bridge, via port eth0");
        }
        {
                _cleanup_(np_facts_freep) NpFacts *f = facts_new();
                NpLink *mv = add_link(f, "mv0", NP_LINK_MACVLAN, "up", -1);

                mv->parent = strdup("eth0");
                add_link(f, "eth0", NP_LINK_PHYSICAL, "up", 40000);
                expect(&np_check_nic_speed, f, NP_STATUS_PASS, "macvlan on eth0: up at 40000");
        }
}

TEST(link_data_cidr)
{
        _cleanup_(np_facts_freep) NpFacts *f = facts_new();
        NpLink *fast, *slow, *veth;

        settings_reset();
        fast = add_link(f, "eth0", NP_LINK_PHYSICAL, "up", 25000);
        slow = add_link(f, "eth1", NP_LINK_PHYSICAL, "up", 1000);
        veth = add_link(f, "veth0", NP_LINK_VETH, "up", 10000);
        add_address(fast, "192.168.7.5/24");
        add_address(fast, "fd00:7::5/64");
        add_address(slow, "10.9.0.5/16");
        add_address(veth, "172.31.0.5/24");

        expect(&np_check_nic_data_cidr, f, NP_STATUS_SKIP, "DataCIDR= is not set");
        settings.has_data_cidr = true;
        ASSERT_OK(np_parse_cidr("192.168.7.0/24", &settings.data_cidr));
        expect(&np_check_nic_data_cidr, f, NP_STATUS_PASS,
               "eth0 192.168.7.5/24: up at 25000 Mb/s (physical)");
        ASSERT_OK(np_parse_cidr("fd00:7::/64", &settings.data_cidr));
        expect(&np_check_nic_data_cidr, f, NP_STATUS_PASS, "eth0 fd00:7::5/64");
        ASSERT_OK(np_parse_cidr("10.9.0.0/16", &settings.data_cidr));
        expect(&np_check_nic_data_cidr, f, NP_STATUS_FAIL,
               "eth1 holds 10.9.0.5/16 but runs at 1000");
        ASSERT_OK(np_parse_cidr("172.31.0.0/24", &settings.data_cidr));
        expect(&np_check_nic_data_cidr, f, NP_STATUS_FAIL,
               "veth0 holds 172.31.0.5/24 but does not");
        ASSERT_OK(np_parse_cidr("10.250.0.0/24", &settings.data_cidr));
        expect(&np_check_nic_data_cidr, f, NP_STATUS_FAIL, "no address in 10.250.0.0/24");

        /* Two addresses in the CIDR (even on a fast link): IOMesh refuses the node. */
        add_address(slow, "192.168.7.6/24");
        ASSERT_OK(np_parse_cidr("192.168.7.0/24", &settings.data_cidr));
        expect(&np_check_nic_data_cidr, f, NP_STATUS_FAIL, "2 addresses are in 192.168.7.0/24");

        /* An IPv6 address that failed duplicate address detection carries no traffic: it is
         * listed, never matched, and the failure says why. */
        add_address(fast, "fd00:9::5/64");
        fast->addresses[fast->n_addresses - 1].unusable = "dadfailed";
        ASSERT_OK(np_parse_cidr("fd00:9::/64", &settings.data_cidr));
        expect(&np_check_nic_data_cidr, f, NP_STATUS_FAIL,
               "eth0 holds fd00:9::5/64 in the data network fd00:9::/64, but the kernel does not "
               "use it: duplicate address detection failed");
        /* Beside a usable one it does not count as a second address. */
        add_address(fast, "fd00:9::6/64");
        expect(&np_check_nic_data_cidr, f, NP_STATUS_PASS, "eth0 fd00:9::6/64: up at 25000");
        fast->addresses[fast->n_addresses - 1].unusable = "tentative";
        expect(&np_check_nic_data_cidr, f, NP_STATUS_FAIL, "has not finished");

        /* Speed unknown on the matching link: cannot tell. */
        ASSERT_OK(np_parse_cidr("fd00:7::/64", &settings.data_cidr));
        fast->speed_mbps = -1;
        expect(&np_check_nic_data_cidr, f, NP_STATUS_UNKNOWN, "speed is unknown");
        f->links_unknown = strdup("cannot read links over rtnetlink: Permission denied");
        expect(&np_check_nic_data_cidr, f, NP_STATUS_UNKNOWN, "rtnetlink");
        expect(&np_check_nic_speed, f, NP_STATUS_UNKNOWN, "rtnetlink");
}

static const TestCase tests[] = {
        T(disk_rules),
        T(disk_ambivalent_is_not_free),
        T(disk_free_pass_and_kinds),
        T(disk_unknown_only_when_it_could_change_the_verdict),
        T(disk_udev_second_opinion),
        T(disk_probe_failed),
        T(disk_remedies),
        T(disk_shared_and_backing_remedies),
        T(disk_observed_is_capped),
        T(link_speed_rules),
        T(link_stacked),
        T(link_data_cidr),
};

static void cleanup(void)
{
        np_settings_done(&settings);
}

int main(void)
{
        np_settings_init(&settings);
        for (size_t i = 0; i < ELEMENTSOF(tests); i++) {
                tests[i].fn();
                printf("ok %zu - %s\n", i + 1, tests[i].name);
        }
        printf("1..%zu\n", ELEMENTSOF(tests));
        cleanup();
        return 0;
}
