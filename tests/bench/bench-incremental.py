#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Benchmark: what one change costs nodeprepd, against a full probe measured in the same run
(root only; prints figures and whether each target of issue 16 is met, asserts nothing).

  disks   N loop devices (default 512) on sparse files, half rotational, IncludeLoopDevices=yes,
          a profile with the disk checks only:
            full probe      SIGHUP (a reload probes everything from scratch), median of 3
            one uevent      attach one more device / detach it (each a kernel uevent)
            mount table     a tmpfs mounted and unmounted (no device is read)
            storm           250 devices attached and detached at once (about 500 uevents)
          target: one uevent <= 2 % of a full probe; a storm: at most one evaluation per
          coalescing window (50 ms), less CPU than 5 full probes, the verdict a full probe's
  links   L links (default 256: veth pairs) in a private network namespace, a profile with
          nic.speed only:
            full probe      SIGHUP, median of 3
            one link event  a link taken down or up; an address added or removed
          target: <= 5 % of a full probe
  files   the fixture root: an edit of iscsid.conf re-reads the iscsi area only

CPU is the daemon's utime + stime from /proc/PID/stat (all threads, clock ticks), summed over
many events and divided by their number. Each event waits for the evaluation it causes and then
for the daemon to settle (no new evaluation for 300 ms).

    sudo tests/bench/bench-incremental.py [--build DIR] [--disks 512] [--links 256] [--events 20]
        [--link-events 60] [--only disks|links|files]

Everything it attaches or creates is removed on exit, whatever happens. Other programs' block
devices and mounts cause evaluations of their own: run it on a quiet machine.
"""
import argparse
import fcntl
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

SRC = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(SRC, "tests", "lib"))
from npdaemon import Varlink, rss_kib  # noqa: E402
from nptest import make_root  # noqa: E402

LOOP_CTL_GET_FREE = 0x4C82
LOOP_SET_FD = 0x4C00
LOOP_CLR_FD = 0x4C01
TICK = os.sysconf("SC_CLK_TCK")
# NpProbeArea, in order (lib/probe/area.h): the bits of the areas in the daemon's debug log.
AREAS = ["system", "selinux", "iscsi", "modules", "units", "fs", "disks", "links", "endpoints",
         "tools", "layouts", "virt", "peers", "mounts"]
SETTLE = 0.3

PROFILE_DISKS = """[Profile]
Description=nodeprep benchmark: disks only
[Settings]
MinFreeSSD=1
MinFreeHDD=1
MinDiskSize=1GB
IncludeLoopDevices=yes
[Check]
Id=disk.free-ssd
Title=A free SSD
Severity=required
Source=benchmark
[Check]
Id=disk.free-hdd
Title=A free HDD
Severity=required
Source=benchmark
"""

PROFILE_LINKS = """[Profile]
Description=nodeprep benchmark: links only
[Settings]
MinLinkSpeed=10000
[Check]
Id=nic.speed
Title=A 10GbE link
Severity=required
Source=benchmark
"""


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


class Loops:
    """Loop devices attached with the loop ioctls (losetup forks: too slow for a storm)."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="nodeprep-bench-incremental-")
        self.devs = {}  # /dev/loopN -> backing file
        self.n = 0

    def backing_file(self, size):
        self.n += 1
        path = os.path.join(self.dir, "incremental-%d.img" % self.n)
        with open(path, "wb") as f:
            f.truncate(size)
        return path

    def attach(self, size=64 << 30, rotational=None, path=None):
        path = path or self.backing_file(size)
        ctl = os.open("/dev/loop-control", os.O_RDWR | os.O_CLOEXEC)
        bf = os.open(path, os.O_RDWR | os.O_CLOEXEC)
        try:
            for _ in range(100):
                n = fcntl.ioctl(ctl, LOOP_CTL_GET_FREE)
                fd = os.open("/dev/loop%d" % n, os.O_RDWR | os.O_CLOEXEC)
                try:
                    fcntl.ioctl(fd, LOOP_SET_FD, bf)
                    break
                except OSError:  # taken by another program meanwhile
                    continue
                finally:
                    os.close(fd)
            else:
                raise SystemExit("cannot attach a loop device")
        finally:
            os.close(bf)
            os.close(ctl)
        dev = "/dev/loop%d" % n
        self.devs[dev] = path
        if rotational is not None:
            with open("/sys/block/loop%d/queue/rotational" % n, "w") as f:
                f.write("1" if rotational else "0")
        return dev

    def detach(self, dev):
        path = self.devs.pop(dev)
        fd = os.open(dev, os.O_RDONLY | os.O_CLOEXEC)
        try:
            fcntl.ioctl(fd, LOOP_CLR_FD)
        except OSError:
            pass
        finally:
            os.close(fd)
        os.unlink(path)

    def close(self):
        for dev in list(self.devs):
            self.detach(dev)
        shutil.rmtree(self.dir, ignore_errors=True)


class UeventCounter(threading.Thread):
    """The kernel's block uevents, as a udev monitor would see them."""

    def __init__(self):
        super().__init__(daemon=True)
        self.sock = socket.socket(socket.AF_NETLINK, socket.SOCK_DGRAM, 15)  # KOBJECT_UEVENT
        self.sock.setsockopt(socket.SOL_SOCKET, 33, 64 << 20)  # SO_RCVBUFFORCE
        self.sock.bind((0, 1))
        self.devs = []
        self.start()

    def run(self):
        while True:
            try:
                msg = self.sock.recv(1 << 16)
            except OSError:
                return
            fields = msg.split(b"\0")
            if b"SUBSYSTEM=block" in fields:
                self.devs.append(fields[0].rsplit(b"/", 1)[-1].decode())

    def count(self, names):
        time.sleep(0.2)
        self.sock.close()
        return sum(1 for d in self.devs if d in names)


class Daemon:
    def __init__(self, build, root, profile_dir, profile, netns=False):
        self.dir = tempfile.mkdtemp(prefix="nodeprep-bench-")
        self.socket = os.path.join(self.dir, "io.nodeprep")
        self.config = os.path.join(self.dir, "site.conf")
        with open(self.config, "w") as f:
            f.write("[Site]\nProfiles=%s\n[Daemon]\nRescanSec=0\n" % profile)
        env = dict(os.environ, NODEPREP_PROFILE_PATH=profile_dir)
        env.pop("NOTIFY_SOCKET", None)
        # Evaluations are followed in the daemon's debug log, not by asking it: a question
        # costs it about as much as a link event.
        cmd = [os.path.join(build, "daemon", "nodeprepd"), "--debug", "--root", root,
               "--config", self.config, "--listen", self.socket]
        if netns:
            cmd = ["unshare", "-n"] + cmd
        self.proc = subprocess.Popen(cmd, env=env, stderr=subprocess.PIPE, text=True)
        self.pid = self.proc.pid
        self.evaluations = []  # (serial, areas, disks read, links read, monotonic time)
        self.cond = threading.Condition()
        threading.Thread(target=self.follow_log, daemon=True).start()
        self.settle(0)
        self.ns = ["nsenter", "-t", str(self.pid), "-n"]

    def follow_log(self):
        # (Before issue 16 the line had no counts: the benchmark runs against older builds.)
        pat = re.compile(r"Evaluation (\d+) \(areas 0x([0-9a-f]+)(?:, (\d+) disks and (\d+) links)?")
        for line in self.proc.stderr:
            m = pat.search(line)
            if m:
                with self.cond:
                    self.evaluations.append((int(m[1]), int(m[2], 16), int(m[3] or -1),
                                             int(m[4] or -1), time.monotonic()))
                    self.cond.notify_all()

    def call(self, method, params=None):
        return Varlink(self.socket, timeout=60).call(method, params)["parameters"]

    def serial(self):
        with self.cond:
            return self.evaluations[-1][0] if self.evaluations else 0

    def settle(self, after=None, area=None, timeout=60):
        """Wait for an evaluation newer than `after` (re-probing `area`), then until none
        follows for SETTLE seconds; return the last evaluation as {serial, reread}."""
        bit = 1 << AREAS.index(area) if area else 0
        deadline = time.monotonic() + timeout
        with self.cond:
            while after is not None and not any(
                    e[0] > after and (not bit or e[1] & bit) for e in self.evaluations):
                if time.monotonic() > deadline:
                    raise SystemExit("no evaluation of %s came" % area)
                self.cond.wait(0.5)
            while True:
                last = self.evaluations[-1] if self.evaluations else (0, 0, 0, 0, 0)
                quiet = time.monotonic() - last[4]
                if quiet >= SETTLE or time.monotonic() > deadline:
                    break
                self.cond.wait(SETTLE - quiet)
            first = next((e for e in self.evaluations
                          if after is not None and e[0] > after and (not bit or e[1] & bit)), last)
        # The evaluation that answered the event: which areas it read, how many objects.
        return {"serial": last[0], "reread": {"disks": first[2], "links": first[3]},
                "reprobed": [a for i, a in enumerate(AREAS) if first[1] & (1 << i)]}

    def stop(self):
        self.proc.terminate()
        self.proc.wait(30)
        shutil.rmtree(self.dir, ignore_errors=True)


def measure(d, action, area, n):
    """Daemon CPU per event: n times action(i), each waited for, the CPU of all divided by n
    (/proc/PID/stat counts clock ticks: one difference over the batch, not n rounded ones); the
    number of objects each evaluation read again."""
    reread = []
    d.settle()
    c0 = cpu_seconds(d.pid)
    for i in range(n):
        serial = d.settle()["serial"]
        action(i)
        ev = d.settle(serial, area)
        reread.append(ev.get("reread", {}).get(area, "-"))
    return (cpu_seconds(d.pid) - c0) / n, reread


def full_probe(d, area, runs=5):
    """Daemon CPU per full probe: a reload (SIGHUP) probes every area from scratch."""
    return measure(d, lambda i: os.kill(d.pid, signal.SIGHUP), area, runs)[0]


def verdict(report):
    return [(p["name"], p["ready"], [(c["id"], c["status"], c["observed"]) for c in p["checks"]])
            for p in report["profiles"]]


def target(what, ok, figure):
    print("  %-62s %s  (%s)" % (what, "met" if ok else "NOT MET", figure), flush=True)
    return ok


def bench_disks(a, build, root, profiles, results):
    loops = Loops()
    d = None
    try:
        print("\ndisks: attaching %d loop devices (64 GiB sparse, half rotational)..." % a.disks,
              flush=True)
        for i in range(a.disks):
            loops.attach(rotational=bool(i % 2))
        d = Daemon(build, root, profiles, "bench-disks")
        d.settle()
        full = full_probe(d, "disks")
        print("  full disk probe (SIGHUP): %.0f ms CPU; daemon RSS %d KiB" % (full * 1000,
                                                                         rss_kib(d.pid)),
              flush=True)
        added = []

        def attach(i):
            added.append(loops.attach(size=(8 << 30) + i * (1 << 20)))

        def detach(i):
            loops.detach(added.pop())

        one_add, rr_add = measure(d, attach, "disks", a.events)
        one_del, rr_del = measure(d, detach, "disks", a.events)
        one = (one_add + one_del) / 2
        print("  one uevent: attach %.2f ms, detach %.2f ms CPU (mean of %d each); disks re-read "
              "per evaluation: %s / %s" % (one_add * 1000, one_del * 1000, a.events,
                                           sorted(set(map(str, rr_add))),
                                           sorted(set(map(str, rr_del)))), flush=True)
        mnt = tempfile.mkdtemp(prefix="nodeprep-bench-mnt-")
        try:
            def mount(i):
                subprocess.run(["mount", "-t", "tmpfs", "none", mnt] if i % 2 == 0 else
                               ["umount", mnt], check=True)
            mtab, rr_mtab = measure(d, mount, "disks", 10)
        finally:
            subprocess.run(["umount", mnt], capture_output=True)
            os.rmdir(mnt)
        print("  mount table change: %.2f ms CPU; disks re-read: %s" %
              (mtab * 1000, sorted(set(map(str, rr_mtab)))), flush=True)

        # The storm: uevents counted by a kernel monitor beside the daemon.
        mon = UeventCounter()
        files = [loops.backing_file(1 << 30) for _ in range(250)]
        serial = d.settle()["serial"]
        c0 = cpu_seconds(d.pid)
        t0 = time.monotonic()
        storm = [loops.attach(path=f) for f in files]
        for dev in storm:
            loops.detach(dev)
        t_gen = time.monotonic() - t0
        ev = d.settle(serial, "disks")
        t_all = d.evaluations[-1][4] - t0
        cpu = cpu_seconds(d.pid) - c0
        uevents = mon.count({os.path.basename(x) for x in storm})
        evals = ev["serial"] - serial
        windows = max(1, int(t_all / 0.05) + 1)
        report = d.call("io.nodeprep.GetReport", {"facts": True})
        env = dict(os.environ, NODEPREP_PROFILE_PATH=profiles)
        fresh = json.loads(subprocess.run(
            [os.path.join(build, "cli", "nodeprepctl"), "check", "--json", "--facts", "--root",
             root, "--config", d.config], capture_output=True, text=True, env=env).stdout)
        same_verdict = verdict(report["report"]) == verdict(fresh)
        same_disks = report["report"]["facts"]["disks"] == fresh["facts"]["disks"]
        print("  storm: 250 attached + 250 detached, %d uevents in %.2f s; %d evaluations until "
              "settled (%.2f s, %d coalescing windows); %.0f ms CPU = %.1f full probes; verdict "
              "%s a full probe's, disks %s" % (uevents, t_gen, evals, t_all, windows, cpu * 1000,
                                               cpu / full, "equals" if same_verdict else
                                               "DIFFERS FROM", "equal" if same_disks else
                                               "DIFFER"), flush=True)
        results.append(target("one block uevent <= 2 % of a full disk probe", one <= 0.02 * full,
                              "%.2f %%: %.2f of %.0f ms" % (100 * one / full, one * 1000,
                                                            full * 1000)))
        results.append(target("storm: <= 1 evaluation per 50 ms window", evals <= windows,
                              "%d evaluations in %d windows" % (evals, windows)))
        results.append(target("storm: CPU < 5 full probes", cpu < 5 * full,
                              "%.1f full probes" % (cpu / full)))
        results.append(target("storm: final verdict = a fresh full probe's",
                              same_verdict and same_disks,
                              "verdict %s, disks %s" % (same_verdict, same_disks)))
    finally:
        if d:
            d.stop()
        loops.close()


def bench_links(a, build, root, profiles, results):
    d = Daemon(build, root, profiles, "bench-links", netns=True)
    try:
        pairs = (a.links - 1) // 2
        cmds = []
        for i in range(pairs):
            cmds += ["link add bla%d type veth peer name blb%d" % (i, i),
                     "link set bla%d up" % i, "link set blb%d up" % i,
                     "addr add 10.%d.%d.1/24 dev bla%d" % (100 + i // 256, i % 256, i)]
        cmds.append("link set lo up")
        serial = d.serial()
        subprocess.run(d.ns + ["ip", "-batch", "-"], input="\n".join(cmds) + "\n", text=True,
                       check=True)
        d.settle(serial, "links")
        n = len(d.call("io.nodeprep.GetFacts")["facts"]["links"])
        print("\nlinks: %d links in the daemon's network namespace" % n, flush=True)
        full = full_probe(d, "links", runs=20)
        print("  full link probe (SIGHUP): %.1f ms CPU" % (full * 1000), flush=True)

        def updown(i):
            subprocess.run(d.ns + ["ip", "link", "set", "bla%d" % (i // 2),
                                   "down" if i % 2 == 0 else "up"], check=True)

        def address(i):
            subprocess.run(d.ns + ["ip", "addr", "add" if i % 2 == 0 else "del",
                                   "10.200.%d.1/24" % (i // 2), "dev", "bla%d" % (i // 2)],
                           check=True)

        one_ud, rr_ud = measure(d, updown, "links", a.link_events)
        one_ad, rr_ad = measure(d, address, "links", a.link_events)
        one = max(one_ud, one_ad)
        print("  one link event: down/up %.2f ms, address add/del %.2f ms CPU (mean of %d each); "
              "links re-read: %s / %s" % (one_ud * 1000, one_ad * 1000, a.link_events,
                                          sorted(set(map(str, rr_ud))),
                                          sorted(set(map(str, rr_ad)))), flush=True)
        results.append(target("one link event <= 5 % of a full link probe", one <= 0.05 * full,
                              "%.2f %%: %.2f of %.1f ms" % (100 * one / full, one * 1000,
                                                            full * 1000)))
    finally:
        d.stop()


def bench_files(a, build, root, results):
    d = Daemon(build, root, os.path.join(SRC, "conf", "profiles"), "iomesh", netns=True)
    try:
        conf = os.path.join(root, "etc", "iscsi", "iscsid.conf")
        seen = []
        for i in range(4):
            serial = d.settle()["serial"]
            with open(conf) as f:
                text = f.read()
            text = text.replace("node.startup = manual", "node.startup = automatic") \
                if i % 2 == 0 else text.replace("node.startup = automatic", "node.startup = manual")
            with open(conf, "w") as f:
                f.write(text)
            ev = d.settle(serial, "iscsi")
            seen.append(ev["reprobed"])
        only = all(r == ["iscsi"] for r in seen)
        print("\nfiles: iscsid.conf edited 4 times; areas re-read: %s" % seen, flush=True)
        results.append(target("a file event re-reads only the area that owns the file", only,
                              "re-read %s" % seen[-1]))
    finally:
        d.stop()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(SRC, "build"))
    ap.add_argument("--disks", type=int, default=512)
    ap.add_argument("--links", type=int, default=256)
    ap.add_argument("--events", type=int, default=20, help="disk events of each kind")
    ap.add_argument("--link-events", type=int, default=60,
                    help="link events of each kind (each costs the daemon under a clock tick)")
    ap.add_argument("--only", choices=["disks", "links", "files"], action="append",
                    help="run only these parts (repeatable)")
    a = ap.parse_args()
    if os.geteuid() != 0:
        raise SystemExit("run as root (loop devices, network namespaces, mounts)")
    build = os.path.abspath(a.build)
    root = make_root()
    profiles = tempfile.mkdtemp(prefix="nodeprep-bench-profiles-")
    with open(os.path.join(profiles, "bench-disks.conf"), "w") as f:
        f.write(PROFILE_DISKS)
    with open(os.path.join(profiles, "bench-links.conf"), "w") as f:
        f.write(PROFILE_LINKS)
    print("nodeprepd incremental benchmark (%s, %d CPUs, load %s); CPU from /proc/PID/stat" % (
        os.uname().release, os.cpu_count(), " ".join(open("/proc/loadavg").read().split()[:3])))
    results = []
    try:
        if not a.only or "disks" in a.only:
            bench_disks(a, build, root, profiles, results)
        if not a.only or "links" in a.only:
            bench_links(a, build, root, profiles, results)
        if not a.only or "files" in a.only:
            bench_files(a, build, root, results)
    finally:
        shutil.rmtree(profiles, ignore_errors=True)
        shutil.rmtree(os.path.dirname(root), ignore_errors=True)
    print("\n%d of %d targets met (load at the end %s)" % (
        sum(results), len(results), " ".join(open("/proc/loadavg").read().split()[:3])))


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("SIGTERM"))  # through the finally blocks
    main()
