#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Watch clients that never read: each may leave a bounded backlog of updates unread, then it is
dropped (as systemd's sd-varlink drops a peer whose output buffer is full); the daemon's memory
stays bounded and every other client is served throughout."""
import os
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from npdaemon import Daemon, rss_kib  # noqa: E402
from nptest import assert_eq, make_root, read, run_tests, write  # noqa: E402

SLOW_CLIENTS = 50
UPDATES = 60
# What fifty stuck clients may cost the daemon at most, at any moment: a backlog of 128 KiB and
# one report each, and the heap's slack. Unbounded, they cost the whole stream: 50 x 60 reports.
PEAK_GROWTH_KIB = 12 * 1024
FINAL_GROWTH_KIB = 4 * 1024


def set_startup(root, value):
    conf = read(root, "/etc/iscsi/iscsid.conf")
    lines = [("node.startup = %s" % value) if l.startswith("node.startup") else l
             for l in conf.split("\n")]
    write(root, "/etc/iscsi/iscsid.conf", "\n".join(lines))


class Reader(threading.Thread):
    """A Watch client that reads every update."""

    def __init__(self, d):
        super().__init__(daemon=True)
        self.c = d.client(timeout=30)
        self.c.send("io.nodeprep.Watch", {"facts": True}, more=True)
        self.serials = [self.c.read()["parameters"]["evaluation"]["serial"]]
        self.error = None
        self.start()

    def run(self):
        try:
            while True:
                self.serials.append(self.c.read()["parameters"]["evaluation"]["serial"])
        except Exception as e:  # noqa: BLE001 - closed at the end, or a failure to report
            self.error = e

    def wait_for(self, n, timeout=10):
        deadline = time.monotonic() + timeout
        while len(self.serials) < n and time.monotonic() < deadline and self.is_alive():
            time.sleep(0.005)
        return len(self.serials) >= n


def count_dropped(socks, timeout=5):
    """How many of socks the daemon closed: read what it had sent each, until EOF."""
    open_ = list(socks)
    for s in open_:
        s.setblocking(False)
    deadline = time.monotonic() + timeout
    while open_ and time.monotonic() < deadline:
        for s in list(open_):
            try:
                while True:
                    if not s.recv(1 << 20):
                        open_.remove(s)
                        break
            except (ConnectionResetError, BrokenPipeError):
                open_.remove(s)
            except BlockingIOError:
                pass
        time.sleep(0.01)
    return len(socks) - len(open_)


def test_watch_clients_that_never_read():
    root = make_root()
    with Daemon(root) as d:
        for _ in range(20):
            d.report(facts=True)
        time.sleep(0.2)
        base = rss_kib(d.pid)
        reader = Reader(d)
        slow = []
        for _ in range(SLOW_CLIENTS):
            c = d.client()
            c.send("io.nodeprep.Watch", {"facts": True}, more=True)
            slow.append(c)
        size = len(d.client().call("io.nodeprep.GetReport", {"facts": True})["parameters"]
                   .__repr__())
        peak = base
        for i in range(UPDATES):
            set_startup(root, "automatic" if i % 2 == 0 else "manual")
            assert reader.wait_for(i + 2), \
                "the reading Watch client got no update %d (%r)" % (i + 1, reader.error)
            # Others are answered meanwhile.
            assert "report" in d.report(), "GetReport not answered"
            d.status()  # take the daemon's STATUS= messages: its notify socket's queue is short
            peak = max(peak, rss_kib(d.pid))
        time.sleep(0.5)
        after = rss_kib(d.pid)
        print("# %d Watch clients that never read, %d updates of ~%d KiB: RSS %d KiB before, "
              "peak %d KiB, %d KiB after" % (SLOW_CLIENTS, UPDATES, size // 1024, base, peak, after),
              flush=True)
        if os.environ.get("NODEPREP_SANITIZED") != "1":  # memory figures mean nothing under ASan
            assert peak - base <= PEAK_GROWTH_KIB, \
                "RSS grew by %d KiB with stuck Watch clients" % (peak - base)
            assert after - base <= FINAL_GROWTH_KIB, \
                "RSS stayed %d KiB above its baseline" % (after - base)
        assert_eq(count_dropped([c.sock for c in slow]), SLOW_CLIENTS, "stuck Watch clients dropped")
        assert reader.is_alive(), "the reading Watch client was dropped: %r" % reader.error
        assert "report" in d.report(facts=True)


if __name__ == "__main__":
    run_tests(globals())
