#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""A system bus that accepts connections and never answers (dbus.service whose start is queued
behind ours, as in a container where dbus is socket-activated; a hung dbus-daemon): the unit
checks are unknown after the 5 s limit, with the reason, instead of nodeprepctl hanging for good
in libsystemd's unlimited wait for the connection."""
import os
import socket
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from nptest import FixtureRoot, assert_eq, assert_in, nodeprepctl, run_tests  # noqa: E402


def test_silent_bus_is_unknown_not_a_hang():
    with tempfile.TemporaryDirectory() as tmp, FixtureRoot() as root:
        path = os.path.join(tmp, "system_bus_socket")
        listener = socket.socket(socket.AF_UNIX)
        listener.bind(path)
        listener.listen(16)
        held = []
        stop = threading.Event()

        def accept():  # take every connection and say nothing
            listener.settimeout(0.2)
            while not stop.is_set():
                try:
                    held.append(listener.accept()[0])
                except OSError:
                    pass
        t = threading.Thread(target=accept)
        t.start()
        try:
            env = dict(os.environ, DBUS_SYSTEM_BUS_ADDRESS="unix:path=" + path)
            start = time.monotonic()
            r = nodeprepctl("check", "--json", "--root", root, "--profile", "iomesh", env=env,
                            timeout=60)
            took = time.monotonic() - start
        finally:
            stop.set()
            t.join()
            for c in held:
                c.close()
            listener.close()
        assert held, "nodeprepctl never connected to the bus"
        for cid in ("unit.enabled:iscsid", "unit.active:iscsid"):
            assert_eq(r.status(cid), "unknown", cid)
            assert_in("no systemd system bus (Connection timed out)", r.check(cid)["message"])
        assert took < 30, "check took %.1f s" % took
        print("# unit checks unknown after %.1f s" % took)


if __name__ == "__main__":
    run_tests(globals())
