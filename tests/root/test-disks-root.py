#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Disk probe and disk.free-* checks on real loop devices (root only).

Loop devices on sparse files play SSDs (queue/rotational=0) and HDDs: free, with ext4, swap (a
signature, and one in /proc/swaps), an empty GPT, a GPT with a partition, a GPT whose first
sectors were zeroed (only the backup header is left), an LVM PV, mounted, read-only, tiny, and
the backing device of another loop device; and a plain file where a device node should be.
Every backing file is checksummed before and after the checks: nodeprep must not change a byte
(of the active swap area, whose pages the kernel itself writes, its header page). Other loop
devices on the machine are left alone and only read.
"""
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from nptest import (NODEPREPCTL, Result, Skip, assert_eq, assert_in, nodeprepctl,  # noqa: E402
                    require_root, run_tests)

GIB = 1 << 30
TOOLS = ["losetup", "mkfs.ext4", "mkswap", "swapon", "swapoff", "sfdisk", "pvcreate", "mount",
         "umount", "setpriv"]


def sh(*args, **kw):
    return subprocess.run(list(args), check=True, capture_output=True, text=True, **kw).stdout


def checksum(path):
    """sha256 of a sparse file's content: every non-zero 64 KiB block and its offset, found
    through SEEK_DATA/SEEK_HOLE. Zero blocks are skipped, so a hole that the file system turns
    into allocated zeros (or back) does not count as a change; any written byte does."""
    h = hashlib.sha256()
    block = 64 << 10
    zero = bytes(block)
    with open(path, "rb") as f:
        fd = f.fileno()
        size = os.fstat(fd).st_size
        h.update(str(size).encode())
        pos = 0
        while pos < size:
            try:
                start = os.lseek(fd, pos, os.SEEK_DATA)
            except OSError:
                break
            end = os.lseek(fd, start, os.SEEK_HOLE)
            off = start - start % block
            while off < end:
                chunk = os.pread(fd, block, off)
                if not chunk:
                    break
                if chunk != zero[:len(chunk)]:
                    h.update(b"@%d:" % off)
                    h.update(chunk)
                off += block
            pos = max(end, off)
    return h.hexdigest()


def fingerprint(role, path):
    """What nodeprep must leave unchanged. The kernel itself writes swapped-out pages into an
    active swap area (swap-on): there only the header page, with the signature, is compared."""
    if role == "swap-on":
        with open(path, "rb") as f:
            return hashlib.sha256(f.read(4096)).hexdigest()
    return checksum(path)


class Disks:
    """Loop devices made for this test; everything is undone in close(), whatever happened."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="nodeprep-disks-")
        self.loops = {}  # role -> /dev/loopN
        self.files = {}  # role -> backing file
        self.mounts = []
        self.swaps = []

    def add(self, role, size, rotational, prepare=None, losetup_args=(), after=None):
        path = os.path.join(self.dir, role + ".img")
        with open(path, "wb") as f:
            f.truncate(size)
        if prepare:
            prepare(path)
        self.files[role] = path
        dev = sh("losetup", "-f", "--show", *losetup_args, path).strip()
        self.loops[role] = dev
        with open("/sys/block/%s/queue/rotational" % os.path.basename(dev), "w") as f:
            f.write("1" if rotational else "0")
        if after:
            after(dev)
        return dev

    def name(self, role):
        return os.path.basename(self.loops[role])

    def close(self):
        for m in reversed(self.mounts):
            subprocess.run(["umount", m], capture_output=True)
        for s in self.swaps:
            subprocess.run(["swapoff", s], capture_output=True)
        for dev in self.loops.values():
            subprocess.run(["losetup", "-d", dev], capture_output=True)
        shutil.rmtree(self.dir, ignore_errors=True)


def build(d):
    def mkfs(path):
        sh("mkfs.ext4", "-q", "-F", "-E", "lazy_itable_init=1,lazy_journal_init=1", path)

    def mkswap(path):
        sh("mkswap", path)

    def gpt_empty(path):
        sh("sfdisk", "-q", path, input="label: gpt\n")

    def gpt_part(path):
        sh("sfdisk", "-q", path, input="label: gpt\n,1GiB,L\n")

    def pv(dev):
        # --devicesfile "": do not record the PV in the host's LVM devices file.
        sh("pvcreate", "-qq", "--devicesfile", "", "-y", dev)

    def mount(dev):
        mp = os.path.join(d.dir, "mnt")
        os.mkdir(mp)
        # ro,noload: the mount itself writes nothing, so the checksum stays meaningful.
        sh("mount", "-o", "ro,noload", dev, mp)
        d.mounts.append(mp)

    def swapon(dev):
        sh("swapon", dev)
        d.swaps.append(dev)

    def gpt_backup_only(path):
        # A "quick wipe": the protective MBR and the primary GPT zeroed, the backup header at
        # the end of the disk and the partition's data left. wipefs still sees the GPT.
        sh("sfdisk", "-q", path, input="label: gpt\n,1GiB,L\n")
        with open(path, "r+b") as f:
            f.write(bytes(34 * 512))

    def loop_on_top(dev):
        # Another loop device backed by this one: the loop driver leaves no holders entry.
        top = sh("losetup", "-f", "--show", dev).strip()
        d.loops["on-loop"] = top
        with open("/sys/block/%s/queue/rotational" % os.path.basename(top), "w") as f:
            f.write("0")

    d.add("ssd-free", 64 * GIB, False)
    d.add("hdd-free", 64 * GIB, True)
    d.add("ext4", 64 * GIB, False, prepare=mkfs)
    d.add("swap-sig", 64 * GIB, True, prepare=mkswap)
    d.add("swap-on", 64 * GIB, True, prepare=mkswap, after=swapon)
    d.add("gpt-empty", 64 * GIB, False, prepare=gpt_empty)
    d.add("gpt-part", 64 * GIB, True, prepare=gpt_part, losetup_args=("-P",))
    d.add("gpt-backup", 64 * GIB, True, prepare=gpt_backup_only)
    d.add("backing", 64 * GIB, False, after=loop_on_top)
    d.add("lvm-pv", 64 * GIB, True, after=pv)
    d.add("mounted", 64 * GIB, False, prepare=mkfs, after=mount)
    d.add("read-only", 64 * GIB, False, losetup_args=("-r",))
    d.add("tiny", 16 << 20, False)


# role -> (kind, free, reasons)
EXPECTED = {
    "ssd-free": ("ssd", True, []),
    "hdd-free": ("hdd", True, []),
    "ext4": ("ssd", False, ["signature:ext4"]),
    "swap-sig": ("hdd", False, ["signature:swap"]),
    "swap-on": ("hdd", False, ["signature:swap", "swap"]),
    "gpt-empty": ("ssd", False, ["partition-table:gpt"]),
    "gpt-part": ("hdd", False, ["partitions", "partition-table:gpt"]),
    "gpt-backup": ("hdd", False, ["partition-table:gpt"]),
    "backing": ("ssd", False, ["backing-device"]),
    "on-loop": ("ssd", True, []),
    "lvm-pv": ("hdd", False, ["signature:LVM2_member"]),
    "mounted": ("ssd", False, ["signature:ext4", "mounted"]),
    "read-only": ("ssd", False, ["read-only"]),
    "tiny": ("ssd", False, ["too-small"]),
}


def check(*extra, user=None):
    args = ["check", "--json", "--facts", "--profile", "iomesh", "--set", "IncludeLoopDevices=yes"]
    args += list(extra)
    if user:
        # Run the built binary as another user (a real permission error on /dev/loopN).
        e = dict(os.environ, NO_COLOR="1")
        p = subprocess.run(["setpriv", "--reuid=%d" % user, "--regid=%d" % user, "--clear-groups",
                            NODEPREPCTL] + args, capture_output=True, text=True, env=e, timeout=60)
        return Result(args, p)
    return nodeprepctl(*args)


def disks_by_name(res):
    return {d["name"]: d for d in res.json["facts"]["disks"]}


def free_count(res, kind):
    return sum(1 for d in res.json["facts"]["disks"] if d["kind"] == kind and d["free"])


def test_loop_devices():
    require_root()
    missing = [t for t in TOOLS if not shutil.which(t)]
    if missing:
        raise Skip("missing tools: %s (tools/install-deps --test)" % " ".join(missing))
    if not os.path.exists("/dev/loop-control"):
        raise Skip("no loop device support in this kernel")

    d = Disks()
    try:
        build(d)
        before = {role: fingerprint(role, path) for role, path in d.files.items()}

        res = check()
        assert res.code in (0, 1, 2), res
        disks = disks_by_name(res)
        expected = dict(EXPECTED)
        part = d.name("gpt-part") + "p1"
        if not os.path.exists("/sys/block/%s/%s" % (d.name("gpt-part"), part)):
            # Kernels without partition support (this CI's) show no loopNp1: libblkid's
            # partition table alone must keep the disk from being free.
            print("# kernel made no %s: checking the partition table alone" % part)
            expected["gpt-part"] = ("hdd", False, ["partition-table:gpt"])
        for role, (kind, free, reasons) in expected.items():
            name = d.name(role)
            assert name in disks, "%s (%s) not in facts: %s" % (name, role, sorted(disks))
            disk = disks[name]
            what = "%s (%s)" % (name, role)
            assert_eq(disk["kind"], kind, what + " kind")
            assert_eq(disk["reasons"], reasons, what + " reasons")
            assert_eq(disk["free"], free, what + " free")
            assert_eq(disk["transport"], "loop", what + " transport")
            assert_eq(disk["path"], d.loops[role], what + " path")
            assert_eq(disk["unknown"], None, what + " unknown")
            assert_eq(disk["signatures_source"], "libblkid", what + " signatures_source")
        assert_eq(disks[d.name("tiny")]["size_bytes"], 16 << 20, "tiny size")
        assert_eq(disks[d.name("ssd-free")]["size_bytes"], 64 * GIB, "size")
        assert_eq(disks[d.name("gpt-empty")]["partitions"], [], "empty GPT has no partitions")
        if "partitions" in expected["gpt-part"][2]:
            assert_eq(disks[d.name("gpt-part")]["partitions"], [part], "partitions")
        assert_eq(disks[d.name("mounted")]["mountpoints"], [os.path.join(d.dir, "mnt")],
                  "mount point")
        # In a private mount namespace with bind mounts of its own (nodeprepd's sandbox:
        # ProtectSystem=, ReadWritePaths=, PrivateTmp=), the mount points are still the host's.
        bind = os.path.join(d.dir, "bind")
        os.makedirs(bind, exist_ok=True)
        p = subprocess.run(["unshare", "-m", "--propagation", "private", "sh", "-c",
                            'mount --bind "$1" "$2" && exec "$3" check --json --facts '
                            '--profile iomesh --set IncludeLoopDevices=yes',
                            "sh", os.path.join(d.dir, "mnt"), bind, NODEPREPCTL],
                           capture_output=True, text=True, timeout=60)
        ns = {x["name"]: x for x in json.loads(p.stdout)["facts"]["disks"]}
        assert_eq(ns[d.name("mounted")]["mountpoints"], [os.path.join(d.dir, "mnt")],
                  "mount points seen from a private mount namespace with a bind mount")
        assert_eq(disks[d.name("swap-on")]["swap"], [d.loops["swap-on"]], "swap")
        assert_eq(disks[d.name("backing")]["backing_for"], [d.name("on-loop")], "backing_for")
        # A plain file where the node should be (a container's /dev, or dd to a missing node):
        # what is in the file says nothing about the disk, which is unknown, never free.
        fake = os.path.join(d.dir, "not-a-node")
        open(fake, "wb").close()
        p = subprocess.run(["unshare", "-m", "--propagation", "private", "sh", "-c",
                            'mount --bind "$1" "$2" && exec "$3" check --json --facts '
                            '--profile iomesh --set IncludeLoopDevices=yes',
                            "sh", fake, d.loops["ext4"], NODEPREPCTL],
                           capture_output=True, text=True, timeout=60)
        ns = {x["name"]: x for x in json.loads(p.stdout)["facts"]["disks"]}
        assert_eq(ns[d.name("ext4")]["free"], False, "plain file over the node: free")
        assert_eq(ns[d.name("ext4")]["unknown"], "%s is not a block device" % d.loops["ext4"],
                  "plain file over the node: unknown")
        assert_eq(disks[d.name("read-only")]["read_only"], True, "read_only")
        assert_eq(disks[d.name("ssd-free")]["rotational"], False, "rotational")

        # Verdicts: with exactly as many free disks as there are, pass; one more, fail. Other
        # loop devices on the machine may come and go, so each verdict is held against the
        # facts of its own run.
        for kind, key, check_id in (("ssd", "MinFreeSSD", "disk.free-ssd"),
                                    ("hdd", "MinFreeHDD", "disk.free-hdd")):
            n = free_count(res, kind)
            assert n >= 1, "our free %s is not counted" % kind
            seen = set()
            for want in (n, n + 1):
                r = check("--set", "%s=%d" % (key, want))
                c = r.check(check_id)
                have = free_count(r, kind)
                assert d.name("%s-free" % kind) in [x["name"] for x in r.json["facts"]["disks"]
                                                    if x["free"]], "our free %s" % kind
                expected = "pass" if have >= want else "fail"
                assert_eq(c["status"], expected, "%s with %s=%d, %d free" % (check_id, key, want,
                                                                                have))
                seen.add(c["status"])
                if c["status"] == "fail":
                    assert_in("%d free" % have, c["message"], check_id + " message")
                    assert_in("DESTROYS ALL DATA", c["remedy"] or "", check_id + " remedy")
            assert_eq(seen, {"pass", "fail"}, check_id + " verdicts seen")
        ok = check("--set", "MinFreeSSD=1")
        assert_eq(ok.status("disk.free-ssd"), "pass", "one free SSD")

        # The text table shows the "why not free" column.
        text = nodeprepctl("facts", "--profile", "iomesh", "--set", "IncludeLoopDevices=yes")
        assert_eq(text.code, 0, "facts exit code")
        assert_in("WHY NOT FREE", text.out, "facts table")
        for line in text.out.splitlines():
            if line.strip().startswith(d.name("mounted") + " "):
                assert_in("mounted (%s)" % os.path.join(d.dir, "mnt"), line, "facts row")
                break
        else:
            raise AssertionError("no row for %s in:\n%s" % (d.name("mounted"), text.out))

        # Without permission to read the nodes, a free-looking SSD is unknown, never free.
        nobody = 65534
        if os.access(NODEPREPCTL, os.X_OK):
            res = check("--set", "MinFreeSSD=1", user=nobody)
            disks = disks_by_name(res)
            ssd = disks[d.name("ssd-free")]
            assert_eq(ssd["free"], False, "unreadable disk is not free")
            assert_in("Permission denied", ssd["unknown"] or "", "unknown reason")
            # Known reasons still count: a mounted disk is not free, whatever else.
            assert_in("mounted", disks[d.name("mounted")]["reasons"], "mounted as nobody")
            if free_count(res, "ssd") == 0:
                c = res.check("disk.free-ssd")
                assert_eq(c["status"], "unknown", "disk.free-ssd as nobody")
                assert_in("could not be probed", c["observed"], "disk.free-ssd observed")

        after = {role: fingerprint(role, path) for role, path in d.files.items()}
        for role in before:
            assert_eq(after[role], before[role], "checksum of %s (%s)" % (role, d.loops[role]))
    finally:
        d.close()


def test_checksum_sees_one_byte():
    require_root()  # part of the root suite: it proves the safety check above can see a change
    with tempfile.TemporaryDirectory(prefix="nodeprep-sum-") as tmp:
        path = os.path.join(tmp, "f")
        with open(path, "wb") as f:
            f.truncate(GIB)
        empty = checksum(path)
        with open(path, "r+b") as f:
            f.seek(GIB // 2 + 12345)
            f.write(b"\x01")
        assert checksum(path) != empty, "checksum missed a written byte"


def test_loops_excluded_by_default():
    require_root()
    if not shutil.which("losetup"):
        raise Skip("losetup missing")
    d = Disks()
    try:
        d.add("ssd-free", 64 * GIB, False)
        res = nodeprepctl("check", "--json", "--facts", "--profile", "iomesh")
        names = [x["name"] for x in res.json["facts"]["disks"]]
        assert d.name("ssd-free") not in names, names
        assert not any(n.startswith("loop") for n in names), names
        assert_eq(res.json["facts"]["disks_include_loop"], False, "disks_include_loop")
    finally:
        d.close()


if __name__ == "__main__":
    run_tests(globals())
