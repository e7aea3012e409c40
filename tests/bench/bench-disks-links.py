#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Benchmark: `nodeprepctl check --profile iomesh` against device and link counts (root only).

Disks: 1, 64, 256 and 1024 loop devices on sparse files, half of them marked rotational, with
IncludeLoopDevices=yes; the peers are `lsblk -J -O` on the same devices (sysfs and the udev
database; without udevd it reads no device content), `wipefs -J` listing them (read-only: the
libblkid reading of every signature and partition table that nodeprep also does), and the floor
under any probe that reads devices: read-floor (tests/bench/read-floor.c) opens each, reads its
first and last 64 KiB and closes it, 8 threads. Targets (issue 16, at the largest count):
check <= 0.5x wipefs, <= 1.25x lsblk, <= 3x the floor.
Links: 16, 64 and 256 links (veth pairs) in a private network namespace; the peer is
`ip -j -d addr show`, which reads the same rtnetlink dumps (it does not ask ethtool for speeds).

Prints the median wall time and peak RSS (GNU time, package "time") of each and the ratio. Not a test: run it by hand,
    sudo tests/bench/bench-disks-links.py [--build DIR] [--runs N] [--disks 1,64,...] [--links ...]
Everything it attaches is detached on exit, whatever happens.
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

SRC = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def run_once(argv, env, out):
    t = time.monotonic()
    p = subprocess.run(["/usr/bin/time", "-f", "%M", "-o", out.name] + argv,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    wall = time.monotonic() - t
    if p.returncode not in (0, 1, 2):
        raise SystemExit("%s exited %d" % (" ".join(argv[:6]), p.returncode))
    out.seek(0)
    return wall, int(out.read().split()[-1])


def measure(commands, runs, env=None):
    """For each argv in commands: median wall seconds and largest peak RSS (KiB) over runs.

    The commands take turns, run after run, so a busy moment of the machine hits them alike.
    RSS comes from GNU time: a child forked from this Python process would report Python's own
    RSS as its peak (Linux keeps the high-water mark across exec)."""
    walls = [[] for _ in commands]
    rss = [0 for _ in commands]
    with tempfile.NamedTemporaryFile("r") as out:
        for _ in range(runs):
            for i, argv in enumerate(commands):
                w, m = run_once(argv, env, out)
                walls[i].append(w)
                rss[i] = max(rss[i], m)
    return [(statistics.median(w), r) for w, r in zip(walls, rss)]


class Loops:
    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="nodeprep-bench-")
        self.devs = []

    def grow(self, n):
        while len(self.devs) < n:
            i = len(self.devs)
            path = os.path.join(self.dir, "d%d.img" % i)
            with open(path, "wb") as f:
                f.truncate(64 << 30)
            dev = subprocess.run(["losetup", "-f", "--show", path], check=True,
                                 capture_output=True, text=True).stdout.strip()
            self.devs.append(dev)
            with open("/sys/block/%s/queue/rotational" % os.path.basename(dev), "w") as f:
                f.write("1" if i % 2 else "0")

    def close(self):
        for dev in self.devs:
            subprocess.run(["losetup", "-d", dev], capture_output=True)
        shutil.rmtree(self.dir, ignore_errors=True)


def row(label, results):
    """results: [(wall, rss)] of ours first, then each peer; ratios are ours / peer."""
    (ow, orss) = results[0]
    cells = ["%-8s %9.0f %7d" % (label, ow * 1000, orss)]
    for pw, prss in results[1:]:
        cells.append("%9.0f %7d %6.2fx" % (pw * 1000, prss, ow / pw if pw else float("nan")))
    print("   ".join(cells), flush=True)
    return [ow / pw if pw else float("nan") for pw, _ in results[1:]]


def header(what, peers):
    cells = ["%-8s %9s %7s" % (what, "ours ms", "KiB")]
    for p in peers:
        cells.append("%9s %7s %7s" % (p + " ms", "KiB", "ratio"))
    print("\n" + "   ".join(cells))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(SRC, "build"))
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--disks", default="1,64,256,1024")
    ap.add_argument("--links", default="16,64,256")
    a = ap.parse_args()
    if os.geteuid() != 0:
        raise SystemExit("run as root (loop devices, network namespaces)")
    if not os.access("/usr/bin/time", os.X_OK):
        raise SystemExit("needs GNU time for peak RSS: apt-get install time")
    npctl = os.path.join(a.build, "cli", "nodeprepctl")
    env = dict(os.environ, NODEPREP_PROFILE_PATH=os.path.join(SRC, "conf", "profiles"),
               NO_COLOR="1")
    ours = [npctl, "check", "--profile", "iomesh", "--set", "IncludeLoopDevices=yes"]
    ours_links = [npctl, "check", "--profile", "iomesh"]
    print("nodeprepctl: %s; %d runs each; median wall time, peak RSS" % (npctl, a.runs))
    print("peers: lsblk -J -O, wipefs -J DEVICES (list only), ip -j -d addr show; "
          "ratio = ours / peer")
    others = subprocess.run(["losetup", "-l", "-n"], capture_output=True, text=True).stdout
    print("loop devices already attached by others: %d" % len(others.splitlines()))

    floor = os.path.join(a.build, "tests", "bench", "read-floor")
    loops = Loops()
    ratios = None
    try:
        header("disks", ["lsblk", "wipefs", "floor"])
        for n in [int(x) for x in a.disks.split(",") if x]:
            loops.grow(n)
            # wipefs in list mode (read-only) probes every signature and partition table of every
            # device with libblkid, as we do and as lsblk does not without udevd. (blkid -p
            # stops at the first device where it finds nothing.)
            ratios = row("%d" % n, measure([ours, ["lsblk", "-J", "-O"], ["wipefs", "-J"] +
                                            loops.devs, [floor] + loops.devs], a.runs, env))
            last = n
    finally:
        loops.close()
    if ratios:
        print("targets at %d disks: check <= 0.5x wipefs: %s (%.2fx); <= 1.25x lsblk: %s (%.2fx); "
              "<= 3x the floor: %s (%.2fx)" % (
                  last, "met" if ratios[1] <= 0.5 else "NOT met", ratios[1],
                  "met" if ratios[0] <= 1.25 else "NOT met", ratios[0],
                  "met" if ratios[2] <= 3 else "NOT met", ratios[2]), flush=True)

    ns = "np-bench-%d" % os.getpid()
    subprocess.run(["ip", "netns", "add", ns], check=True)
    try:
        header("links", ["ip addr"])
        have = 1  # lo
        subprocess.run(["ip", "netns", "exec", ns, "ip", "link", "set", "lo", "up"], check=True)
        for n in [int(x) for x in a.links.split(",") if x]:
            cmds = []
            while have < n:
                i = have
                cmds.append("link add bva%d type veth peer name bvb%d" % (i, i))
                cmds.append("link set bva%d up" % i)
                cmds.append("link set bvb%d up" % i)
                cmds.append("addr add 10.%d.%d.1/24 dev bva%d" % (100 + i // 256, i % 256, i))
                have += 2
            subprocess.run(["ip", "-n", ns, "-batch", "-"], input="\n".join(cmds) + "\n",
                           text=True, check=True)
            inside = ["ip", "netns", "exec", ns]
            row("%d" % have, measure([inside + ours_links,
                                      inside + ["ip", "-j", "-d", "addr", "show"]], a.runs, env))
    finally:
        subprocess.run(["ip", "netns", "del", ns], capture_output=True)


if __name__ == "__main__":
    sys.exit(main())
