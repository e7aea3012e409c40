#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Peer probe benchmark (root): prints figures, asserts nothing.

  the time `nodeprepctl check` spends probing 4 peers (facts.peers_probe.elapsed_usec, median of
    N runs): all answering at full size; all four losing the full size (MTU 9000 behind 1500:
    the search for the largest size that passes); one not answering (bounded by PeerTimeout=)
  nodeprepd's idle wake-ups over 60 s without Peers= (target 0) and with Peers= and the default
    PeerInterval=60s (target: the PeerInterval probe only), from /proc/PID/task/*/schedstat of
    the threads alive at the end (the probe's and the evaluation's threads have ended by then:
    their own wake-ups are not in the count)

Namespaces np-cluster-bench-*: a bridge, four peers and the prober, veth links, 10.78.0.0/24;
removed at exit.

Usage: tests/bench/bench-peers.py [BUILDDIR] [--runs N] [--idle-seconds N]
"""
import argparse
import importlib.util
import json
import os
import shutil
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SRCDIR = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(SRCDIR, "tests", "lib"))
sys.path.insert(0, HERE)
from npdaemon import Varlink  # noqa: E402
from nptest import make_root, write  # noqa: E402

# The daemon benchmark's wake-up count (its file name is not a module name).
_spec = importlib.util.spec_from_file_location("bench_daemon", os.path.join(HERE,
                                                                           "bench-daemon.py"))
_bench_daemon = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_bench_daemon)
wakeups = _bench_daemon.wakeups

P = "np-cluster-bench-"
BR, PROBER = P + "br", P + "p0"
PEERS = [P + "p%d" % i for i in range(1, 5)]


def sh(*args, check=True):
    p = subprocess.run(list(args), capture_output=True, text=True)
    if check and p.returncode != 0:
        raise RuntimeError("%s: %s" % (" ".join(args), p.stderr.strip()))
    return p


def cleanup():
    for n in [BR, PROBER] + PEERS:
        sh("ip", "netns", "del", n, check=False)


def setup():
    cleanup()
    sh("ip", "netns", "add", BR)
    sh("ip", "-n", BR, "link", "add", "br0", "type", "bridge")
    sh("ip", "-n", BR, "link", "set", "br0", "up")
    for i, n in enumerate([PROBER] + PEERS):
        sh("ip", "netns", "add", n)
        sh("ip", "link", "add", "d0", "netns", n, "type", "veth", "peer", "name", "p%d" % i,
           "netns", BR)
        sh("ip", "-n", BR, "link", "set", "p%d" % i, "master", "br0", "up")
        sh("ip", "-n", n, "link", "set", "d0", "up")
        sh("ip", "-n", n, "link", "set", "lo", "up")
        sh("ip", "-n", n, "addr", "add", "10.78.0.%d/24" % (i + 1), "dev", "d0")
    sh("ip", "netns", "exec", PROBER, "sysctl", "-qw", "net.ipv4.ping_group_range=0 2147483647")


def probe_ms(build, root):
    p = subprocess.run(["ip", "netns", "exec", PROBER, os.path.join(build, "cli", "nodeprepctl"),
                        "facts", "--json", "--root", root, "--profile", "iomesh"],
                       capture_output=True, text=True,
                       env=dict(os.environ, NODEPREP_PROFILE_PATH=os.path.join(SRCDIR, "conf",
                                                                                "profiles")))
    f = json.loads(p.stdout)
    return f["peers_probe"]["elapsed_usec"] / 1000, f["peers"]


def idle(build, root, seconds):
    sock = os.path.join(os.path.dirname(root), "io.nodeprep")
    env = dict(os.environ, NODEPREP_PROFILE_PATH=os.path.join(SRCDIR, "conf", "profiles"),
               DBUS_SYSTEM_BUS_ADDRESS="unix:path=/nonexistent")
    d = subprocess.Popen(["ip", "netns", "exec", PROBER, os.path.join(build, "daemon", "nodeprepd"),
                          "--root", root, "--listen", sock], env=env, stderr=subprocess.DEVNULL)
    try:
        for _ in range(500):
            try:
                Varlink(sock).call("io.nodeprep.GetReport")
                break
            except (OSError, ConnectionError):
                time.sleep(0.01)
        time.sleep(1)
        s0 = Varlink(sock).call("io.nodeprep.GetReport")["parameters"]["evaluation"]
        w0 = wakeups(d.pid)
        time.sleep(seconds)
        w1 = wakeups(d.pid)
        s1 = Varlink(sock).call("io.nodeprep.GetReport")["parameters"]["evaluation"]
        areas = {k: s1["probes"][k] - s0["probes"][k] for k in s1["probes"]
                 if s1["probes"][k] != s0["probes"][k]}
        return w1 - w0, s1["serial"] - s0["serial"], areas
    finally:
        d.terminate()
        d.wait(10)


NOISE = (" (only host events: udev and the mount table are the whole machine's, and other "
         "programs' loop devices and mounts wake every nodeprepd; each costs a few wake-ups)")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("build", nargs="?", default=os.path.join(SRCDIR, "build"))
    ap.add_argument("--runs", type=int, default=9)
    ap.add_argument("--idle-seconds", type=int, default=60)
    a = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("needs root (network namespaces)")
    print("peer probe benchmark (%s, %d CPUs)" % (os.uname().release, os.cpu_count()))
    setup()
    root = make_root()
    peers = " ".join("10.78.0.%d" % i for i in range(2, 6))
    write(root, "/etc/nodeprep/nodeprep.conf.d/10-bench.conf",
          "[Settings]\nDataCIDR=10.78.0.0/24\n[Cluster]\nPeers=%s\n" % peers)
    try:
        times = [probe_ms(build=a.build, root=root)[0] for _ in range(a.runs)]
        print("4 peers, all at full size: %.1f ms median (min %.1f, max %.1f; %d runs; the %d "
              "small echoes are sent 20 ms apart)" % (statistics.median(times), min(times),
                                                      max(times), a.runs, 5))
        sh("ip", "-n", PROBER, "link", "set", "d0", "mtu", "9000")
        sh("ip", "-n", BR, "link", "set", "p0", "mtu", "9000")
        runs = [probe_ms(a.build, root) for _ in range(a.runs)]
        times = [t for t, _ in runs]
        found = sorted({p["largest_ok"] for p in runs[-1][1]})
        print("4 peers, MTU 9000 behind 1500-byte ports (search for the largest size): %.1f ms "
              "median (max %.1f); largest found: %s" % (statistics.median(times), max(times),
                                                         found))
        sh("ip", "-n", PROBER, "link", "set", "d0", "mtu", "1500")
        sh("ip", "-n", PEERS[3], "addr", "flush", "dev", "d0")
        t, _ = probe_ms(a.build, root)
        print("4 peers, one not answering: %.1f ms (PeerTimeout=2s)" % t)
        sh("ip", "-n", PEERS[3], "addr", "add", "10.78.0.5/24", "dev", "d0")

        write(root, "/etc/nodeprep/nodeprep.conf.d/10-bench.conf",
              "[Settings]\nDataCIDR=10.78.0.0/24\n")
        w, ev, areas = idle(a.build, root, a.idle_seconds)
        print("nodeprepd idle over %d s without Peers=: %d wake-ups (target 0), %d evaluations; "
              "areas re-probed: %s%s" % (a.idle_seconds, w, ev, areas or "none", NOISE if ev else ""))
        write(root, "/etc/nodeprep/nodeprep.conf.d/10-bench.conf",
              "[Settings]\nDataCIDR=10.78.0.0/24\n[Cluster]\nPeers=%s\n" % peers)
        w, ev, areas = idle(a.build, root, a.idle_seconds)
        print("nodeprepd idle over %d s with Peers= (4 peers, PeerInterval=60s): %d wake-ups, "
              "%d evaluations; areas re-probed: %s (peers: the PeerInterval= timer; others: "
              "host events)" % (a.idle_seconds, w, ev, areas or "none"))
    finally:
        cleanup()
        shutil.rmtree(os.path.dirname(root), ignore_errors=True)


if __name__ == "__main__":
    main()
