/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* np_disk_copy() and np_link_copy(): every field copied, nothing shared (the daemon's disk and
 * link caches copy their records into each evaluation's facts). */

#include "facts.h"
#include "test.h"
#include "util/strv.h"

static char **strv_of(const char *a, const char *b)
{
        char **l = NULL;

        ASSERT_OK(strv_extend(&l, a));
        if (b)
                ASSERT_OK(strv_extend(&l, b));
        return l;
}

TEST(disk)
{
        NpDisk d = {
                .name = strdup("sdb"), .path = strdup("/dev/sdb"), .id = strdup("/dev/disk/by-id/x"),
                .major = 8, .minor = 16, .size_bytes = 1ULL << 40, .rotational = true,
                .transport = strdup("sas"), .model = strdup("M"), .vendor = strdup("V"),
                .serial = strdup("S"), .wwn = strdup("0x5000"), .removable = true,
                .read_only = true, .loop = true, .partitions = strv_of("sdb1", "sdb2"),
                .partition_table = strdup("gpt"), .signatures = strv_of("ext4", NULL),
                .signatures_source = strdup("libblkid"), .mountpoints = strv_of("/mnt", NULL),
                .swaps = strv_of("/dev/sdb2", NULL), .holders = strv_of("dm-0", NULL),
                .backing_for = strv_of("loop3", NULL), .multipath = strdup("same WWN as sdc"),
                .remote = strdup("iscsi"), .free = true, .reasons = strv_of("mounted", "swap"),
                .unknown = strdup("why"),
        }, c;

        ASSERT_OK(np_disk_copy(&d, &c));
        np_disk_done(&d); /* nothing of it is left in the copy */
        ASSERT_STREQ(c.name, "sdb");
        ASSERT_STREQ(c.path, "/dev/sdb");
        ASSERT_STREQ(c.id, "/dev/disk/by-id/x");
        ASSERT_EQ(c.major, 8);
        ASSERT_EQ(c.minor, 16);
        ASSERT_EQ(c.size_bytes, 1ULL << 40);
        ASSERT_TRUE(c.rotational && c.removable && c.read_only && c.loop && c.free);
        ASSERT_STREQ(c.transport, "sas");
        ASSERT_STREQ(c.model, "M");
        ASSERT_STREQ(c.vendor, "V");
        ASSERT_STREQ(c.serial, "S");
        ASSERT_STREQ(c.wwn, "0x5000");
        ASSERT_STREQ(c.partitions[1], "sdb2");
        ASSERT_STREQ(c.partition_table, "gpt");
        ASSERT_STREQ(c.signatures[0], "ext4");
        ASSERT_STREQ(c.signatures_source, "libblkid");
        ASSERT_STREQ(c.mountpoints[0], "/mnt");
        ASSERT_STREQ(c.swaps[0], "/dev/sdb2");
        ASSERT_STREQ(c.holders[0], "dm-0");
        ASSERT_STREQ(c.backing_for[0], "loop3");
        ASSERT_STREQ(c.multipath, "same WWN as sdc");
        ASSERT_STREQ(c.remote, "iscsi");
        ASSERT_STREQ(c.reasons[1], "swap");
        ASSERT_STREQ(c.unknown, "why");
        np_disk_done(&c);

        /* An empty disk copies to an empty disk. */
        d = (NpDisk){};
        ASSERT_OK(np_disk_copy(&d, &c));
        ASSERT_NULL(c.name);
        ASSERT_NULL(c.partitions);
        np_disk_done(&c);
}

TEST(link)
{
        NpLinkAddress *a = calloc(2, sizeof(NpLinkAddress));
        NpLink l, c;

        ASSERT_TRUE(a);
        a[0] = (NpLinkAddress){ .cidr.family = 2,
                                .cidr.prefixlen = 24,
                                .text = strdup("10.0.0.1/24") };
        a[1] = (NpLinkAddress){ .cidr.family = 10,
                                .cidr.prefixlen = 64,
                                .text = strdup("fd00::1/64"),
                                .unusable = "tentative" };
        l = (NpLink){
                .name = strdup("bond0"),
                .ifindex = 7,
                .kind = NP_LINK_BOND,
                .kind_detail = strdup("bond"),
                .operstate = strdup("up"),
                .admin_up = true,
                .carrier = true,
                .speed_mbps = 20000,
                .speed_source = strdup("ethtool-netlink"),
                .duplex = strdup("full"),
                .mtu = 9000,
                .mac = strdup("02:00:00:00:00:01"),
                .master = strdup("br0"),
                .parent = strdup("eth9"),
                .members = strv_of("eth0", "eth1"),
                .addresses = a,
                .n_addresses = 2,
        };
        ASSERT_OK(np_link_copy(&l, &c));
        np_link_done(&l);
        ASSERT_STREQ(c.name, "bond0");
        ASSERT_EQ(c.ifindex, 7);
        ASSERT_EQ(c.kind, NP_LINK_BOND);
        ASSERT_STREQ(c.kind_detail, "bond");
        ASSERT_STREQ(c.operstate, "up");
        ASSERT_TRUE(c.admin_up && c.carrier);
        ASSERT_EQ(c.speed_mbps, 20000);
        ASSERT_STREQ(c.speed_source, "ethtool-netlink");
        ASSERT_STREQ(c.duplex, "full");
        ASSERT_EQ(c.mtu, 9000);
        ASSERT_STREQ(c.mac, "02:00:00:00:00:01");
        ASSERT_STREQ(c.master, "br0");
        ASSERT_STREQ(c.parent, "eth9");
        ASSERT_STREQ(c.members[1], "eth1");
        ASSERT_EQ(c.n_addresses, 2);
        ASSERT_STREQ(c.addresses[0].text, "10.0.0.1/24");
        ASSERT_EQ(c.addresses[1].cidr.prefixlen, 64);
        ASSERT_STREQ(c.addresses[1].unusable, "tentative");
        np_link_done(&c);
}

static const TestCase tests[] = {
        T(disk),
        T(link),
};

RUN_TESTS(tests)
