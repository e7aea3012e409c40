#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""nodeprep never changes a byte of a disk (issue 9). Root only.

Loop devices with known contents (seeded random bytes, all zeroes, ext4 with files, a GPT, a swap
signature, an LVM PV when pvcreate works, a read-only one) are checked, listed, planned and
applied against by nodeprepctl (every fix allowed, file fixes into a fixture root), then followed
by nodeprepd for ~20 s (change uevents, another loop device coming and going, Apply over Varlink).
Meanwhile inotify watches every device node for IN_MODIFY and IN_CLOSE_WRITE (and counts
IN_CLOSE_NOWRITE, to show nodeprep really opened those nodes). At the end the sha256 of every
device node and every backing file must be what it was, and no write event may have been seen.
A self-check first proves both detectors: a scratch loop device opened O_WRONLY and written gives
the events, and its checksums change.
"""
import ctypes
import hashlib
import os
import random
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from npdaemon import Daemon  # noqa: E402
from nptest import (Skip, assert_eq, assert_in, make_failing_root, nodeprepctl,  # noqa: E402
                    require_root, run_tests, write)

MIB = 1 << 20
SIZE = 64 * MIB
TOOLS = ["losetup", "mkfs.ext4", "mkswap", "sfdisk"]
DAEMON_SECONDS = 20
SITE = """# test-disk-safety: loop devices are candidates, and 64 MiB is big enough.
[Site]
Profiles=iomesh

[Settings]
IncludeLoopDevices=yes
MinDiskSize=32MB

[Override]
Check=nic.speed
Ignore=yes
Reason=fixture root: links come from the test machine
"""
# Every fix nodeprep has, required and recommended, including the commands on the running system
# (which --root must turn into "skipped").
ALL_FIXES = ["--include-recommended", "--update-node-records", "--install-packages"]
ALL_FIXES_VARLINK = {"include_recommended": True, "update_node_records": True,
                     "install_packages": True}

IN_MODIFY = 0x002
IN_CLOSE_WRITE = 0x008
IN_CLOSE_NOWRITE = 0x010
WRITES = IN_MODIFY | IN_CLOSE_WRITE
IN_Q_OVERFLOW = 0x4000
IN_IGNORED = 0x8000
IN_NONBLOCK = os.O_NONBLOCK
IN_CLOEXEC = os.O_CLOEXEC


def sh(*args, **kw):
    return subprocess.run(list(args), check=True, capture_output=True, text=True, **kw).stdout


def sha256(path):
    """sha256 of every byte of a file or block device, read through a read-only descriptor."""
    h = hashlib.sha256()
    n = 0
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        while True:
            chunk = os.read(fd, 4 * MIB)
            if not chunk:
                break
            h.update(chunk)
            n += len(chunk)
    finally:
        os.close(fd)
    return h.hexdigest(), n


class Inotify:
    """inotify through libc (no extra python module): watch paths, collect (path, mask) events."""

    def __init__(self):
        self.libc = ctypes.CDLL(None, use_errno=True)
        self.fd = self.libc.inotify_init1(IN_NONBLOCK | IN_CLOEXEC)
        if self.fd < 0:
            e = ctypes.get_errno()
            raise OSError(e, "inotify_init1: " + os.strerror(e))
        self.paths = {}  # wd -> path
        self.events = []  # (path, mask), for every watch ever added
        self.overflows = 0  # events the kernel dropped: then nothing can be proven

    def add(self, path, mask=WRITES):
        wd = self.libc.inotify_add_watch(self.fd, path.encode(), mask)
        if wd < 0:
            e = ctypes.get_errno()
            raise OSError(e, "inotify_add_watch %s: %s" % (path, os.strerror(e)))
        self.paths[wd] = path
        return wd

    def remove(self, wd):
        self.read()
        self.libc.inotify_rm_watch(self.fd, wd)

    def read(self):
        """Collect what is queued; return the events of this call."""
        new = []
        while True:
            try:
                data = os.read(self.fd, 64 * 1024)
            except BlockingIOError:
                break
            off = 0
            while off < len(data):
                wd, mask, _cookie, length = struct.unpack_from("iIII", data, off)
                off += 16 + length
                if mask & IN_Q_OVERFLOW:
                    self.overflows += 1
                if mask & (IN_IGNORED | IN_Q_OVERFLOW):
                    continue
                new.append((self.paths.get(wd, "wd %d" % wd), mask))
        self.events += new
        return new

    def close(self):
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


class Loops:
    """Loop devices on 64 MiB files in a temporary directory; close() undoes everything."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="nodeprep-safety-")
        self.loops = {}  # role -> /dev/loopN
        self.files = {}  # role -> backing file

    def image(self, role, content=None, prepare=None):
        path = os.path.join(self.dir, role + ".img")
        with open(path, "wb") as f:
            if content is not None:
                f.write(content)
            f.truncate(SIZE)
        if prepare:
            prepare(path)
        self.files[role] = path
        return path

    def attach(self, role, rotational, losetup_args=()):
        try:
            dev = sh("losetup", "-f", "--show", *losetup_args, self.files[role]).strip()
        except subprocess.CalledProcessError as e:
            raise Skip("no loop devices here: %s" % e.stderr.strip())
        self.loops[role] = dev
        with open("/sys/block/%s/queue/rotational" % os.path.basename(dev), "w") as f:
            f.write("1" if rotational else "0")
        return dev

    def add(self, role, rotational, content=None, prepare=None, losetup_args=()):
        self.image(role, content, prepare)
        return self.attach(role, rotational, losetup_args)

    def detach(self, role):
        dev = self.loops.pop(role)
        subprocess.run(["losetup", "-d", dev], capture_output=True)

    def name(self, role):
        return os.path.basename(self.loops[role])

    def detach_all(self):
        for role in list(self.loops):
            self.detach(role)

    def close(self):
        self.detach_all()
        shutil.rmtree(self.dir, ignore_errors=True)


def seeded(seed):
    return random.Random(seed).randbytes(SIZE)


def build(loops):
    """The disks under test; returns role -> (kind, free, reasons) as nodeprep must see them."""
    def ext4(path):
        tree = os.path.join(loops.dir, "ext4-tree")
        os.makedirs(os.path.join(tree, "data", "sub"))
        rnd = random.Random(4)
        for i in range(20):
            with open(os.path.join(tree, "data", "sub" if i % 2 else "", "file%02d" % i),
                      "wb") as f:
                f.write(rnd.randbytes(rnd.randrange(1, 256 * 1024)))
        with open(os.path.join(tree, "README"), "w") as f:
            f.write("files nodeprep must never touch\n")
        sh("mkfs.ext4", "-q", "-F", "-L", "npsafety", "-d", tree, path)

    def gpt(path):
        sh("sfdisk", "-q", path, input="label: gpt\n,16MiB,L\n,,L\n")

    def swap(path):
        sh("mkswap", "-L", "npswap", path)

    expected = {}
    # Seeded random bytes (an HDD): no signature at these offsets, so free.
    loops.add("random", True, content=seeded(1))
    expected["random"] = ("hdd", True, [])
    loops.add("zero", False)
    expected["zero"] = ("ssd", True, [])
    loops.add("ext4", False, prepare=ext4)
    expected["ext4"] = ("ssd", False, ["signature:ext4"])
    # No -P: the kernel makes no partitions, the table alone keeps the disk from being free.
    loops.add("gpt", True, content=seeded(2), prepare=gpt)
    expected["gpt"] = ("hdd", False, ["partition-table:gpt"])
    loops.add("swap", True, prepare=swap)
    expected["swap"] = ("hdd", False, ["signature:swap"])
    if shutil.which("pvcreate"):
        loops.image("lvm")
        dev = loops.attach("lvm", True)
        # --devicesfile "": do not record the PV in the host's LVM devices file.
        p = subprocess.run(["pvcreate", "-qq", "--devicesfile", "", "-y", dev],
                           capture_output=True, text=True)
        if p.returncode == 0:
            expected["lvm"] = ("hdd", False, ["signature:LVM2_member"])
        else:
            print("# pvcreate failed, no LVM disk: %s" % p.stderr.strip().replace("\n", " | "))
            loops.detach("lvm")
            del loops.files["lvm"]
    else:
        print("# pvcreate not installed: no LVM disk")
    loops.add("read-only", False, content=seeded(3), losetup_args=("-r",))
    expected["read-only"] = ("ssd", False, ["read-only"])
    return expected


def checksums(loops):
    """role -> ((device sha256, bytes), (backing file sha256, bytes))."""
    return {role: (sha256(loops.loops[role]), sha256(loops.files[role])) for role in loops.loops}


def self_check(loops, ino):
    """Prove the detectors can fail: a scratch loop device opened O_WRONLY and closed gives
    IN_CLOSE_WRITE; a byte written through it gives IN_MODIFY and changes both checksums."""
    loops.add("scratch", False, content=seeded(5))
    dev = loops.loops["scratch"]
    wd = ino.add(dev)
    try:
        dev_before, file_before = sha256(dev), sha256(loops.files["scratch"])
        fd = os.open(dev, os.O_WRONLY | os.O_CLOEXEC)
        os.close(fd)
        ev = ino.read()
        assert any(p == dev and m & IN_CLOSE_WRITE for p, m in ev), \
            "open O_WRONLY + close of %s gave no IN_CLOSE_WRITE: %r" % (dev, ev)
        assert_eq(sha256(dev), dev_before, "open and close alone change nothing")

        fd = os.open(dev, os.O_WRONLY | os.O_CLOEXEC)
        try:
            os.pwrite(fd, b"\xa5", SIZE // 2 + 12345)
            os.fsync(fd)
        finally:
            os.close(fd)
        ev = ino.read()
        assert any(p == dev and m & IN_MODIFY for p, m in ev), "no IN_MODIFY for a write: %r" % ev
        assert any(p == dev and m & IN_CLOSE_WRITE for p, m in ev), "no IN_CLOSE_WRITE: %r" % ev
        assert sha256(dev) != dev_before, "device checksum missed one written byte"
        assert sha256(loops.files["scratch"]) != file_before, \
            "backing file checksum missed one written byte"
    finally:
        ino.remove(wd)
        loops.detach("scratch")
    print("# self-check: %s opened O_WRONLY gave IN_CLOSE_WRITE, one written byte gave IN_MODIFY "
          "and changed the device's and the backing file's sha256" % dev)


def disks_by_name(facts):
    return {d["name"]: d for d in facts["disks"]}


def assert_disks(facts, loops, expected, who):
    """Every disk under test is in facts, probed (not unknown), with its expected verdict."""
    assert_eq(facts.get("disks_include_loop"), True, who + ": disks_include_loop")
    disks = disks_by_name(facts)
    for role, (kind, free, reasons) in expected.items():
        name = loops.name(role)
        what = "%s: %s (%s)" % (who, name, role)
        assert name in disks, "%s not in facts: %s" % (what, sorted(disks))
        d = disks[name]
        assert_eq(d["unknown"], None, what + " unknown")
        assert_eq(d["signatures_source"], "libblkid", what + " signatures_source")
        assert_eq(d["size_bytes"], SIZE, what + " size")
        assert_eq(d["kind"], kind, what + " kind")
        assert_eq(d["reasons"], reasons, what + " reasons")
        assert_eq(d["free"], free, what + " free")


def check_status(report, cid):
    for p in report["profiles"]:
        for c in p["checks"]:
            if c["id"] == cid:
                return c["status"]
    raise AssertionError("no check %s" % cid)


def assert_apply_result(j, who, root=None):
    """File fixes happened (inside the fixture root), nothing ran on the running system, and the
    disk checks have no step at all."""
    assert not j["failed"], "%s failed: %r" % (who, j)
    if root is not None:
        assert_eq(j["root"], root, who + " root")
    for s in j["steps"]:
        if s.get("running_system"):
            assert_eq(s["state"], "skipped", "%s: step on the running system %r" % (who, s))
        assert s["kind"] in ("edit-file", "mkdir") or s["state"] == "skipped", \
            "%s: unexpected step %r" % (who, s)
        for k in ("path", "command"):
            assert "/dev/" not in str(s.get(k) or ""), "%s: a step names a device: %r" % (who, s)
    for c in j["checks"]:
        if c["id"].startswith("disk."):
            assert_eq(c["steps"], [], who + " steps of " + c["id"])
            assert c["outcome"] in ("manual", "unchanged"), "%s: %r" % (who, c)


def uevent_change(loops, roles):
    """A "change" uevent on each device: udevadm trigger with udevd, else the kernel's own (the
    write to sysfs udevadm trigger makes), which nodeprepd follows when udevd is absent."""
    devs = [loops.loops[r] for r in roles]
    if os.path.exists("/run/udev/control") and shutil.which("udevadm"):
        sh("udevadm", "trigger", "--action=change", *devs)
        return "udevadm trigger"
    if not uevent_change.said:
        print("# udevd is not running: no udevadm trigger; writing \"change\" to "
              "/sys/block/loopN/uevent instead (the kernel's uevent, which nodeprepd follows)")
        uevent_change.said = True
    for dev in devs:
        with open("/sys/block/%s/uevent" % os.path.basename(dev), "w") as f:
            f.write("change")
    return "kernel uevents, no udevd"


uevent_change.said = False


def disk_probes(p):
    return p["evaluation"]["probes"].get("disks", 0)


def wait_disk_probe(d, probes, pred=lambda facts: True, what="a disk probe", timeout=10):
    """GetReport with facts until nodeprepd has probed the disks more than `probes` times and
    pred(facts) holds (other programs on a shared machine may cause evaluations in between)."""
    deadline = time.time() + timeout
    while True:
        p = d.report(facts=True)
        if disk_probes(p) > probes and pred(p["report"]["facts"]):
            return p
        if time.time() > deadline:
            raise AssertionError("nodeprepd: %s not seen (disk probes %d, before %d)"
                                 % (what, disk_probes(p), probes))
        time.sleep(0.02)


def daemon_phase(loops, expected, tmp):
    root = make_failing_root(tempfile.mkdtemp(prefix="daemon-", dir=tmp))
    write(root, "/etc/nodeprep/nodeprep.conf", SITE)
    stats = {"triggers": 0, "extra": 0, "applies": 0, "changed": 0, "trigger_how": None}
    with Daemon(root) as d:
        p = d.report(facts=True)
        assert_disks(p["report"]["facts"], loops, expected, "nodeprepd")
        for cid in ("disk.free-ssd", "disk.free-hdd"):
            assert_eq(check_status(p["report"], cid), "pass", "nodeprepd " + cid)
        roles = list(expected)
        start = time.monotonic()
        rnd = 0
        while time.monotonic() - start < DAEMON_SECONDS or rnd < 2:
            rnd += 1
            # Change uevents on every disk under test: the daemon probes the disks again.
            n = disk_probes(d.report())
            stats["trigger_how"] = uevent_change(loops, roles)
            stats["triggers"] += 1
            p = wait_disk_probe(d, n, what="a disk probe after change uevents")
            assert_disks(p["report"]["facts"], loops, expected, "nodeprepd after change uevents")

            # Another loop device comes and goes.
            role = "extra%d" % rnd
            loops.add(role, False)
            name = loops.name(role)
            p = wait_disk_probe(d, disk_probes(p),
                                lambda f: name in disks_by_name(f), "%s appearing" % name)
            loops.detach(role)
            del loops.files[role]
            p = wait_disk_probe(d, disk_probes(p),
                                lambda f: name not in disks_by_name(f), "%s leaving" % name)
            stats["extra"] += 1

            # Apply over Varlink with every fix allowed: the first call fixes the root's files,
            # the next ones find nothing to do.
            if rnd <= 2 or rnd % 3 == 0:
                r = d.client(timeout=120).call("io.nodeprep.Apply", ALL_FIXES_VARLINK)
                assert "error" not in r, r
                j = r["parameters"]["result"]
                what = "Varlink Apply %d" % (stats["applies"] + 1)
                assert_apply_result(j, what)
                assert_eq(j["changed"], stats["applies"] == 0, what + " changed")
                stats["applies"] += 1
                stats["changed"] += 1 if j["changed"] else 0
            time.sleep(0.5)
        p = d.report(facts=True)
        assert_disks(p["report"]["facts"], loops, expected, "nodeprepd at the end")
        assert_eq(check_status(p["report"], "iscsi.conf:node.startup"), "pass",
                  "nodeprepd: the Varlink Apply fixed the root")
        stats["evaluations"] = p["evaluation"]["serial"]
        stats["disk_probes"] = disk_probes(p)
        stats["seconds"] = time.monotonic() - start
    return stats


def test_disk_safety():
    require_root()
    missing = [t for t in TOOLS if not shutil.which(t)]
    if missing:
        raise Skip("missing tools: %s (tools/install-deps --test)" % " ".join(missing))
    if not os.path.exists("/dev/loop-control"):
        raise Skip("no loop device support in this kernel")

    loops = Loops()
    ino = None
    tmp = tempfile.mkdtemp(prefix="nodeprep-safety-roots-")
    try:
        expected = build(loops)
        subprocess.run(["sync"])
        before = checksums(loops)
        for role, (dev_sum, file_sum) in before.items():
            assert_eq(dev_sum, file_sum, "%s: the device reads as its backing file" % role)
            assert_eq(dev_sum[1], SIZE, "%s: bytes read" % role)
        assert len(set(s[0][0] for s in before.values())) == len(before), \
            "every disk has different contents"

        ino = Inotify()
        self_check(loops, ino)
        watched = [loops.loops[r] for r in expected]
        for dev in watched:
            ino.add(dev, WRITES | IN_CLOSE_NOWRITE)

        def reads_by_every_disk(events, who):
            """Every disk under test was opened (read-only) and closed since the last call."""
            for dev in watched:
                n = sum(1 for p, m in events if p == dev and m & IN_CLOSE_NOWRITE)
                assert n > 0, "%s never opened %s: the probe did not read it" % (who, dev)
            return sum(1 for p, m in events if p in watched and m & IN_CLOSE_NOWRITE)

        # nodeprepctl: check, facts, plan and apply with every fix, on a failing fixture root.
        t0 = time.monotonic()
        root = make_failing_root(tempfile.mkdtemp(prefix="cli-", dir=tmp))
        write(root, "/etc/nodeprep/nodeprep.conf", SITE)
        r = nodeprepctl("check", "--profile", "iomesh", "--json", "--facts", "--root", root)
        assert_eq(r.code, 1, "check on the failing root: %r" % r)
        assert_disks(r.json["facts"], loops, expected, "check --facts")
        for cid in ("disk.free-ssd", "disk.free-hdd"):
            assert_eq(r.status(cid), "pass", "check " + cid)
        # `facts` without --profile probes for every profile, with the site file's [Settings]
        # (IncludeLoopDevices=yes, MinDiskSize=32MB) applied as `check` applies them.
        r = nodeprepctl("facts", "--json", "--root", root)
        assert_eq(r.code, 0, "facts: %r" % r)
        assert_disks(r.json, loops, expected, "facts --json")
        r = nodeprepctl("plan", "--local", "--profile", "iomesh", "--root", root, *ALL_FIXES)
        assert_eq(r.code, 0, "plan: %r" % r)
        assert_in("node.startup = manual", r.out, "plan")
        r = nodeprepctl("apply", "--local", "--json", "--profile", "iomesh", "--root", root,
                        *ALL_FIXES, timeout=120)
        assert_eq(r.code, 0, "apply: %r" % r)
        assert_apply_result(r.json, "apply --local", root)
        assert_eq(r.json["changed"], True, "apply --local changed the root's files")
        r = nodeprepctl("apply", "--local", "--json", "--profile", "iomesh", "--root", root,
                        *ALL_FIXES, timeout=120)
        assert_eq((r.code, r.json["changed"]), (0, False), "second apply: %r" % r)
        cli_seconds = time.monotonic() - t0
        ev = ino.read()
        assert_eq([e for e in ev if e[1] & WRITES], [], "write events on the disks (nodeprepctl)")
        cli_reads = reads_by_every_disk(ev, "nodeprepctl")

        stats = daemon_phase(loops, expected, tmp)

        daemon_reads = reads_by_every_disk(ino.read(), "nodeprepd")
        after = checksums(loops)
        ino.read()
        events = [(p, m) for p, m in ino.events if p in watched and m & WRITES]
        assert_eq(ino.overflows, 0, "inotify queue overflows (events lost)")
        ino.close()
        ino = None
        assert_eq(events, [], "IN_MODIFY/IN_CLOSE_WRITE on the disks under test")
        devices = {role: loops.loops[role] for role in expected}
        files = dict(loops.files)
        loops.detach_all()
        # Detached: anything the loop driver still held has reached the files.
        after_detach = {role: sha256(files[role]) for role in expected}

        total = 0
        for role in expected:
            what = "%s (%s)" % (role, devices[role])
            assert_eq(after[role][0], before[role][0], what + " device sha256")
            assert_eq(after[role][1], before[role][1], what + " backing file sha256")
            assert_eq(after_detach[role], before[role][1], what + " backing file after detach")
            total += (before[role][0][1] + before[role][1][1] + after[role][0][1]
                      + after[role][1][1] + after_detach[role][1])

        print("# devices: %d (%s)" % (len(expected), ", ".join(
            "%s=%s" % (r, os.path.basename(devices[r])) for r in expected)))
        print("# bytes hashed: %d (%d MiB: each device and backing file before and after, "
              "each file again after detaching)" % (total, total // MIB))
        print("# nodeprepctl: check, facts, plan, apply x2 in %.1f s; %d read-only opens of the "
              "disks" % (cli_seconds, cli_reads))
        print("# nodeprepd: %.1f s, %d evaluations (%d probed the disks), %d rounds of change "
              "uevents (%s), %d extra loop devices attached and detached, %d Varlink Apply calls "
              "(%d changed the root); %d read-only opens of the disks"
              % (stats["seconds"], stats["evaluations"], stats["disk_probes"], stats["triggers"],
                 stats["trigger_how"], stats["extra"], stats["applies"], stats["changed"],
                 daemon_reads))
        print("# inotify IN_MODIFY/IN_CLOSE_WRITE events on the disks: %d" % len(events))
    finally:
        if ino:
            ino.close()
        loops.close()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    # meson's timeout sends SIGTERM: unwind through the finally blocks (loop devices, daemon).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    run_tests(globals())
