#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Protocol abuse: the daemon cuts off the offender, answers everyone else throughout, and its
memory returns to where it was. Figures are printed for the record."""
import json
import os
import resource
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from npdaemon import Daemon, Varlink, rss_kib  # noqa: E402
from nptest import assert_eq, make_root, run_tests, write  # noqa: E402

MIB = 1 << 20
# Heap left over after a burst: some fragmentation is normal, a leak or a kept buffer is not.
RSS_SLACK_KIB = 3 * 1024


class Prober(threading.Thread):
    """Another client asking GetReport all along; records failures and the slowest answer."""

    def __init__(self, d):
        super().__init__(daemon=True)
        self.d = d
        self.stop = threading.Event()
        self.count = 0
        self.failures = []
        self.worst = 0.0

    def run(self):
        c = self.d.client(timeout=5)
        while not self.stop.is_set():
            t = time.monotonic()
            try:
                r = c.call("io.nodeprep.GetReport")
                assert "report" in r["parameters"], r
            except Exception as e:  # noqa: BLE001 - any failure is what we look for
                self.failures.append(repr(e))
                c = self.d.client(timeout=5)
            self.worst = max(self.worst, time.monotonic() - t)
            self.count += 1
            time.sleep(0.005)

    def finish(self):
        self.stop.set()
        self.join(10)
        assert not self.failures, "other clients failed: %s" % self.failures[:3]
        assert self.count > 0
        assert self.worst < 1.0, "another client waited %.3f s" % self.worst
        return "%d queries by another client meanwhile, slowest %.1f ms" % (self.count,
                                                                            self.worst * 1000)


def settle_rss(pid, baseline, what):
    deadline = time.time() + (5 if os.environ.get("NODEPREP_SANITIZED") != "1" else 0)
    rss = rss_kib(pid)
    while time.time() < deadline and rss > baseline + RSS_SLACK_KIB:
        time.sleep(0.1)
        rss = rss_kib(pid)
    print("# %s: RSS %d KiB (baseline %d KiB)" % (what, rss, baseline), flush=True)
    if os.environ.get("NODEPREP_SANITIZED") == "1":
        return
    assert rss <= baseline + RSS_SLACK_KIB, "%s: RSS %d KiB, baseline %d KiB" % (what, rss, baseline)


def start(root):
    write(root, "/etc/nodeprep/nodeprep.conf.d/90-test.conf", "[Daemon]\nIdleTimeoutSec=2s\n")
    d = Daemon(root).__enter__()
    for _ in range(50):
        d.report()
    return d


def warm_baseline(d):
    """RSS once the daemon has answered big and many: the level it must return to."""
    time.sleep(0.2)
    return rss_kib(d.pid)


def test_malformed_messages():
    d = start(make_root())
    try:
        base = warm_baseline(d)
        p = Prober(d)
        p.start()
        for bad in [b"{not json}\0", b"[1, 2]\0", b"\"a string\"\0", b"{\"method\": 5}\0",
                    b"{\"method\": \"io.nodeprep.GetReport\"} trailing\0",
                    b"{\"method\": \"nodots\"}\0", b"\xff\xfe{}\0",
                    b"{\"method\": \"io.nodeprep.GetReport\", \"oneway\": true, \"more\": true}\0",
                    b"{\"method\": \"io.nodeprep.GetReport\", \"bogus\": 1}\0",
                    b"{\"method\": \"io.nodeprep.GetReport\", \"upgrade\": true}\0",
                    b"{\"method\": \"io.nodeprep.GetReport\", \"parameters\": []}\0"]:
            c = d.client()
            c.send_raw(bad)
            assert c.closed_by_server(), "not cut off after %r" % bad
        # Errors the protocol has names for keep the connection.
        c = d.client()
        for method, params, error in [
                ("io.nodeprep.Nope", None, "org.varlink.service.MethodNotFound"),
                ("com.example.Nope", None, "org.varlink.service.InterfaceNotFound"),
                ("io.nodeprep.GetReport", {"bogus": 1}, "org.varlink.service.InvalidParameter"),
                ("io.nodeprep.GetReport", {"profiles": "iomesh"},
                 "org.varlink.service.InvalidParameter"),
                ("io.nodeprep.Watch", None, "org.varlink.service.ExpectedMore"),
                ("org.varlink.service.GetInterfaceDescription", {"interface": "x.y"},
                 "org.varlink.service.InterfaceNotFound")]:
            r = c.call(method, params)
            assert_eq(r.get("error"), error, "%s %s" % (method, params))
        assert "report" in c.call("io.nodeprep.GetReport")["parameters"]
        # Pipelined calls are answered in order; a oneway call gets no answer.
        c.send_raw(b"".join(json.dumps(m).encode() + b"\0" for m in [
            {"method": "io.nodeprep.ListProfiles"},
            {"method": "io.nodeprep.GetReport", "oneway": True},
            {"method": "org.varlink.service.GetInfo"},
            {"method": "io.nodeprep.Nope"}]))
        assert "profiles" in c.read()["parameters"]
        assert_eq(c.read()["parameters"]["product"], "nodeprepd", "pipelined order")
        assert_eq(c.read()["error"], "org.varlink.service.MethodNotFound", "pipelined order")
        # A message without its NUL is not answered; the hang-up ends it.
        c = d.client()
        c.send_raw(b"{\"method\": \"io.nodeprep.GetReport\"}")
        c.sock.settimeout(0.3)
        try:
            got = c.sock.recv(100)
            raise AssertionError("answered a message without NUL: %r" % got)
        except socket.timeout:
            pass
        c.sock.shutdown(socket.SHUT_WR)
        assert c.closed_by_server(), "half-message not dropped on hang-up"
        print("# " + p.finish(), flush=True)
        settle_rss(d.pid, base, "after malformed messages")
    finally:
        d.__exit__(None, None, None)


def test_huge_messages():
    d = start(make_root())
    try:
        base = warm_baseline(d)
        p = Prober(d)
        p.start()
        # 15 MiB is allowed: a complete call with an unknown parameter gets its error.
        c = d.client(timeout=30)
        c.send_raw(b"{\"method\": \"io.nodeprep.GetReport\", \"parameters\": {\"x\": \"" +
                   b"a" * (15 * MIB) + b"\"}}\0")
        assert_eq(c.read().get("error"), "org.varlink.service.InvalidParameter", "15 MiB call")
        after15 = rss_kib(d.pid)
        # 17 MiB is not: the daemon hangs up once 16 MiB arrived without a NUL.
        c = d.client(timeout=30)
        sent = 0
        chunk = b"{\"method\": \"io.nodeprep.GetReport\", \"parameters\": {\"x\": \"" + b"a" * MIB
        try:
            while sent < 17 * MIB:
                c.sock.sendall(chunk)
                sent += len(chunk)
                chunk = b"a" * MIB
        except (BrokenPipeError, ConnectionResetError):
            pass
        assert c.closed_by_server(), "17 MiB message not refused"
        assert sent < 17 * MIB + MIB, "sent %d bytes" % sent
        print("# 15 MiB call answered (RSS %d KiB right after); 17 MiB message cut off after "
              "%d MiB sent" % (after15, sent // MIB), flush=True)
        print("# " + p.finish(), flush=True)
        settle_rss(d.pid, base, "after 15 and 17 MiB messages")
    finally:
        d.__exit__(None, None, None)


def test_thousand_connections():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 4096), hard))
    d = start(make_root())
    try:
        base = warm_baseline(d)
        p = Prober(d)
        p.start()
        t = time.monotonic()
        clients = [Varlink(d.socket, timeout=30) for _ in range(1000)]
        for c in clients:
            c.send("io.nodeprep.GetReport")
        answered = sum(1 for c in clients if "report" in c.read()["parameters"])
        elapsed = time.monotonic() - t
        assert_eq(answered, 1000, "answered")
        peak = rss_kib(d.pid)
        for c in clients:
            c.close()
        print("# 1000 concurrent connections: all answered in %.2f s; RSS %d KiB with them open"
              % (elapsed, peak), flush=True)
        print("# " + p.finish(), flush=True)
        settle_rss(d.pid, base, "after 1000 connections closed")
    finally:
        d.__exit__(None, None, None)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def test_client_that_never_reads():
    d = start(make_root())
    try:
        base = warm_baseline(d)
        p = Prober(d)
        p.start()
        c = d.client()
        c.sock.setblocking(False)
        call = json.dumps({"method": "io.nodeprep.GetReport",
                           "parameters": {"facts": True}}).encode() + b"\0"
        sent = 0
        try:
            for _ in range(100000):
                c.sock.send(call)
                sent += 1
        except BlockingIOError:
            pass
        # The daemon stops reading from it once its replies pile up: the sender blocks.
        assert sent < 100000, "the daemon kept reading from a client that never reads"
        time.sleep(0.5)
        mid = rss_kib(d.pid)
        # Still answering others, and the stuck one is dropped at the idle timeout (2 s).
        time.sleep(3)
        try:
            c.sock.send(b"{}")
            raise AssertionError("the stuck client was not dropped at the idle timeout (2 s)")
        except (BrokenPipeError, ConnectionResetError):
            pass
        print("# a client that never reads: %d calls queued before it blocked; RSS %d KiB while "
              "stuck; dropped at the idle timeout" % (sent, mid), flush=True)
        print("# " + p.finish(), flush=True)
        settle_rss(d.pid, base, "after the stuck client")
    finally:
        d.__exit__(None, None, None)


def test_deep_nesting_and_trickling_client():
    d = start(make_root())
    try:
        base = warm_baseline(d)
        p = Prober(d)
        p.start()
        # 100,000 levels of nesting: json-c's depth limit refuses it; the sender is cut off.
        c = d.client(timeout=10)
        c.send_raw(b"{\"method\": \"io.nodeprep.GetReport\", \"parameters\": {\"x\": " +
                   b"[" * 100000 + b"]" * 100000 + b"}}\0")
        assert c.closed_by_server(), "100,000-deep JSON not refused"
        # A call sent one byte per 0.1 s (4 s for the message, twice the idle timeout): each
        # byte is activity, others are answered meanwhile, and the slow call gets its answer.
        c = d.client(timeout=10)
        msg = json.dumps({"method": "org.varlink.service.GetInfo"}).encode() + b"\0"
        t = time.monotonic()
        for b in msg:
            c.sock.send(bytes([b]))
            time.sleep(0.1)
        assert_eq(c.read()["parameters"]["product"], "nodeprepd", "trickled call")
        print("# 100,000-deep JSON cut off; a call trickled over %.1f s answered" %
              (time.monotonic() - t), flush=True)
        print("# " + p.finish(), flush=True)
        settle_rss(d.pid, base, "after deep nesting and a trickling client")
    finally:
        d.__exit__(None, None, None)


if __name__ == "__main__":
    run_tests(globals())
