#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Benchmark: `nodeprepctl check --profile iomesh` against device and link counts (root only).

Disks: 1, 64, 256 and 1024 loop devices on sparse files, half of them marked rotational, with
IncludeLoopDevices=yes; the peer is `lsblk -J -O` on the same devices (it reads the same sysfs and,
with no udev database, probes each device with libblkid as we do).
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


def measure(argv, runs, env=None):
    """Median wall seconds and the largest peak RSS (KiB) of runs executions of argv.

    RSS comes from GNU time: a child forked from this Python process would report Python's own
    RSS as its peak (Linux keeps the high-water mark across exec)."""
    walls, rss = [], []
    with tempfile.NamedTemporaryFile("r") as out:
        for _ in range(runs):
            t = time.monotonic()
            p = subprocess.run(["/usr/bin/time", "-f", "%M", "-o", out.name] + argv,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
            walls.append(time.monotonic() - t)
            if p.returncode not in (0, 1, 2):
                raise SystemExit("%s exited %d" % (" ".join(argv), p.returncode))
            out.seek(0)
            rss.append(int(out.read().split()[-1]))
    return statistics.median(walls), max(rss)


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


def row(label, ours, peer, peer_name):
    (ow, orss), (pw, prss) = ours, peer
    print("%-12s %10.1f %10.1f %7.2fx %10d %10d %7.2fx   (%s)" % (
        label, ow * 1000, pw * 1000, ow / pw if pw else float("nan"), orss, prss,
        orss / prss if prss else float("nan"), peer_name), flush=True)


def header(what):
    print("\n%-12s %10s %10s %8s %10s %10s %8s" % (
        what, "ours ms", "peer ms", "ratio", "ours KiB", "peer KiB", "ratio"))


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
    others = subprocess.run(["losetup", "-l", "-n"], capture_output=True, text=True).stdout
    print("loop devices already attached by others: %d" % len(others.splitlines()))

    loops = Loops()
    try:
        header("loop devices")
        for n in [int(x) for x in a.disks.split(",") if x]:
            loops.grow(n)
            row("%d" % n, measure(ours, a.runs, env), measure(["lsblk", "-J", "-O"], a.runs),
                "lsblk -J -O")
    finally:
        loops.close()

    ns = "np-bench-%d" % os.getpid()
    subprocess.run(["ip", "netns", "add", ns], check=True)
    try:
        header("links")
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
            row("%d" % have, measure(inside + ours_links, a.runs, env),
                measure(inside + ["ip", "-j", "-d", "addr", "show"], a.runs), "ip -j -d addr")
    finally:
        subprocess.run(["ip", "netns", "del", ns], capture_output=True)


if __name__ == "__main__":
    sys.exit(main())
