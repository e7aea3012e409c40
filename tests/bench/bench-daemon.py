#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""nodeprepd benchmark: prints figures, asserts nothing (targets are printed beside them).

  status throughput and latency at 1, 16 and 64 clients, beside redis-server over a Unix socket
    (redis-benchmark GET of a value the size of our report) in the same run; target (issue 16):
    >= 1.0x at 64 clients
  idle wake-ups of the daemon over 60 s (target 0), from /proc/PID/task/*/schedstat
  RSS after start and after 10,000 queries
  Watch latency: a watched file changes, a tap device appears, a link goes down, a loop device
    appears (target <= 100 ms); the last three need root

Usage: tests/bench/bench-daemon.py [BUILDDIR] [--idle-seconds N] [--calls N]
Needs redis-server and redis-tools (tools/install-deps --bench).
"""
import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SRCDIR = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(SRCDIR, "tests", "lib"))
from npdaemon import Varlink, rss_kib  # noqa: E402
from nptest import make_root, read, write  # noqa: E402


def wakeups(pid):
    """Times the daemon's threads were scheduled (schedstat's third field), all threads alive
    now (one that ended while listed is left out; so are its wake-ups)."""
    n = 0
    for t in os.listdir("/proc/%d/task" % pid):
        try:
            with open("/proc/%d/task/%s/schedstat" % (pid, t)) as f:
                n += int(f.read().split()[2])
        except FileNotFoundError:
            pass
    return n


class Nodeprepd:
    def __init__(self, build, root, netns=False):
        self.dir = tempfile.mkdtemp(prefix="nodeprep-bench-")
        self.socket = os.path.join(self.dir, "io.nodeprep")
        env = dict(os.environ, NODEPREP_PROFILE_PATH=os.path.join(SRCDIR, "conf", "profiles"))
        env.pop("NOTIFY_SOCKET", None)
        env.pop("WATCHDOG_USEC", None)
        cmd = [os.path.join(build, "daemon", "nodeprepd"), "--root", root, "--listen", self.socket]
        if netns:
            cmd = ["unshare", "-n"] + cmd
        self.proc = subprocess.Popen(cmd, env=env, stderr=subprocess.DEVNULL)
        for _ in range(500):
            try:
                if "report" in Varlink(self.socket).call("io.nodeprep.GetReport")["parameters"]:
                    break
            except (OSError, ConnectionError):
                time.sleep(0.01)
        self.pid = self.proc.pid

    def stop(self):
        self.proc.terminate()
        self.proc.wait(10)
        shutil.rmtree(self.dir, ignore_errors=True)


def nodeprep_load(build, sock, clients, calls):
    out = subprocess.run([os.path.join(build, "tests", "bench", "varlink-load"), sock,
                          str(clients), str(calls)], check=True, capture_output=True, text=True)
    c, n, secs, rps, p50, p99, mx, size = out.stdout.split()
    return {"rps": float(rps), "p50_ms": float(p50) / 1000, "p99_ms": float(p99) / 1000,
            "bytes": int(size)}


def redis_load(sock, clients, calls):
    out = subprocess.run(["redis-benchmark", "-s", sock, "-c", str(clients), "-n", str(calls),
                          "--csv", "GET", "npreport"], check=True, capture_output=True,
                         text=True).stdout.strip().splitlines()
    cols = [x.strip('"') for x in out[-1].split(",")]
    # "test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms","p99_latency_ms","max_latency_ms"
    return {"rps": float(cols[1]), "p50_ms": float(cols[4]), "p99_ms": float(cols[6])}


def bench_throughput(build, d, calls):
    if not shutil.which("redis-server") or not shutil.which("redis-benchmark"):
        print("throughput: redis-server/redis-benchmark not installed "
              "(tools/install-deps --bench); nodeprepd alone:")
        redis = None
    else:
        rdir = tempfile.mkdtemp(prefix="nodeprep-redis-")
        rsock = os.path.join(rdir, "redis.sock")
        redis = subprocess.Popen(["redis-server", "--port", "0", "--unixsocket", rsock,
                                  "--save", "", "--appendonly", "no", "--dir", rdir],
                                 stdout=subprocess.DEVNULL)
        for _ in range(500):
            if os.path.exists(rsock):
                break
            time.sleep(0.01)
    try:
        size = nodeprep_load(build, d.socket, 1, 10)["bytes"]
        if redis:
            # A value the size of our whole reply.
            subprocess.run(["redis-cli", "-s", rsock, "-x", "SET", "npreport"],
                           input=b"x" * size, check=True, stdout=subprocess.DEVNULL)
        print("status query (GetReport, %d-byte reply) vs redis GET of a %d-byte value, "
              "%d calls each, Unix sockets:" % (size, size, calls))
        print("  %-8s %12s %9s %9s   %12s %9s %9s   %s" % ("clients", "nodeprepd/s", "p50 ms",
                                                         "p99 ms", "redis/s", "p50 ms", "p99 ms",
                                                         "ratio (target >= 1.0 at 64)"))
        for clients in (1, 16, 64):
            n = nodeprep_load(build, d.socket, clients, calls)
            r = redis_load(rsock, clients, calls) if redis else None
            print("  %-8d %12.0f %9.3f %9.3f   %12s %9s %9s   %s" % (
                clients, n["rps"], n["p50_ms"], n["p99_ms"],
                "%.0f" % r["rps"] if r else "-", "%.3f" % r["p50_ms"] if r else "-",
                "%.3f" % r["p99_ms"] if r else "-",
                "%.2fx" % (n["rps"] / r["rps"]) if r else "-"), flush=True)
    finally:
        if redis:
            redis.terminate()
            redis.wait(10)
            shutil.rmtree(rdir, ignore_errors=True)


class Watcher:
    def __init__(self, sock, facts=False):
        self.c = Varlink(sock, timeout=5)
        self.c.send("io.nodeprep.Watch", {"facts": facts}, more=True)
        self.first = self.c.read()

    def next(self, timeout):
        self.c.sock.settimeout(timeout)
        try:
            return self.c.read()
        except socket.timeout:
            return None


def evaluation_latency(sock, serial, area, t0, timeout=2):
    """The time from t0 until the daemon published an evaluation newer than serial that
    re-probed area (a Watch subscriber gets a report then if anything it shows changed). Other
    programs on a shared machine cause evaluations of their own: poll every millisecond so that
    ours is seen before the next one replaces it."""
    c = Varlink(sock)
    while time.monotonic() - t0 < timeout:
        ev = c.call("io.nodeprep.GetReport")["parameters"]["evaluation"]
        if ev["serial"] > serial and area in ev["reprobed"]:
            return time.monotonic() - t0
        time.sleep(0.001)
    return None


def bench_watch(build, root):
    print("Watch latency (target <= 100 ms):")
    d = Nodeprepd(build, root, netns=os.geteuid() == 0)
    try:
        w = Watcher(d.socket)
        samples = []
        for i in range(10):
            conf = read(root, "/etc/iscsi/iscsid.conf")
            new = conf.replace("node.startup = manual", "node.startup = automatic") if i % 2 == 0 \
                else conf.replace("node.startup = automatic", "node.startup = manual")
            t0 = time.monotonic()
            write(root, "/etc/iscsi/iscsid.conf", new)
            r = w.next(2)
            samples.append((time.monotonic() - t0) * 1000 if r else None)
            time.sleep(0.1)
        ok = sorted(s for s in samples if s is not None)
        print("  watched file edited (iscsid.conf), edit -> new report on the Watch stream: "
              "median %.1f ms, max %.1f ms over %d edits%s"
              % (ok[len(ok) // 2], ok[-1], len(ok), "" if len(ok) == len(samples) else
                 " (%d edits gave no report)" % (len(samples) - len(ok))))
        if os.geteuid() != 0:
            print("  tap, link down, loop device: need root")
            return
        ns = ["nsenter", "-t", str(d.pid), "-n"]
        placeholder = "not available in this build" in json.dumps(
            Varlink(d.socket).call("io.nodeprep.GetFacts")["parameters"])
        print("  kernel events, event -> evaluation re-probing the area published%s:" % (
            " (disk and link probes are placeholders in this build: the report content does "
            "not change, so Watch sends nothing new)" if placeholder else ""))

        def event(what, area, argv_of, cleanup=None):
            lats = []
            for i in range(5):
                serial = Varlink(d.socket).call("io.nodeprep.GetReport")["parameters"]["evaluation"]["serial"]
                t0 = time.monotonic()
                out = subprocess.run(argv_of(i), check=True, capture_output=True, text=True).stdout
                lat = evaluation_latency(d.socket, serial, area, t0)
                lats.append(lat * 1000 if lat is not None else None)
                if cleanup:
                    cleanup(out)
                time.sleep(0.2)
            ok = sorted(x for x in lats if x is not None)
            print("    %-22s median %.1f ms, max %.1f ms over %d%s" % (
                what + ":", ok[len(ok) // 2], ok[-1], len(ok),
                "" if len(ok) == len(lats) else " (%d missed)" % (len(lats) - len(ok))))

        event("tap device added", "links",
              lambda i: ns + ["ip", "tuntap", "add", "npbench%d" % i, "mode", "tap"])
        for i in range(5):
            subprocess.run(ns + ["ip", "link", "set", "npbench%d" % i, "up"], check=True)
        time.sleep(0.3)
        event("link taken down", "links",
              lambda i: ns + ["ip", "link", "set", "npbench%d" % i, "down"])
        img = tempfile.NamedTemporaryFile(prefix="nodeprep-bench-", delete=False)
        img.truncate(64 << 20)
        img.close()
        try:
            event("loop device attached", "disks", lambda i: ["losetup", "-f", "--show", img.name],
                  cleanup=lambda out: subprocess.run(["losetup", "-d", out.strip()]))
        finally:
            os.unlink(img.name)
    finally:
        d.stop()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("builddir", nargs="?", default=os.path.join(SRCDIR, "build"))
    ap.add_argument("--idle-seconds", type=int, default=60)
    ap.add_argument("--calls", type=int, default=100000)
    a = ap.parse_args()
    build = os.path.abspath(a.builddir)
    root = make_root()
    print("nodeprepd benchmark (%s, %d CPUs)" % (os.uname().release, os.cpu_count()))

    d = Nodeprepd(build, root)
    try:
        time.sleep(0.5)
        rss_start = rss_kib(d.pid)
        c = Varlink(d.socket)
        for _ in range(10000):
            c.call("io.nodeprep.GetReport")
        c.close()
        rss_10k = rss_kib(d.pid)
        print("RSS: %d KiB after start, %d KiB after 10,000 queries" % (rss_start, rss_10k))
        bench_throughput(build, d, a.calls)
        print("RSS after the throughput runs: %d KiB" % rss_kib(d.pid))
        time.sleep(1)
        s0 = Varlink(d.socket).call("io.nodeprep.GetReport")["parameters"]["evaluation"]["serial"]
        w0 = wakeups(d.pid)
        time.sleep(a.idle_seconds)
        w1 = wakeups(d.pid)
        s1 = Varlink(d.socket).call("io.nodeprep.GetReport")["parameters"]["evaluation"]["serial"]
        print("idle wake-ups over %d s: %d (target 0); evaluations in that time: %d%s" % (
            a.idle_seconds, w1 - w0, s1 - s0,
            " (host events: other programs' mounts, block devices or links changed; each costs "
            "a few wake-ups)" if s1 > s0 else ""))
    finally:
        d.stop()
    bench_watch(build, root)
    shutil.rmtree(os.path.dirname(root), ignore_errors=True)


if __name__ == "__main__":
    main()
