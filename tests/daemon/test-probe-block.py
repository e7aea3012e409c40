#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""nodeprepd never hangs on what it reads, and stops on SIGTERM whatever a probe is doing.

A FIFO where modprobe.d and iscsid.conf files should be: the first evaluation completes (the
checks are unknown, naming the file) and SIGTERM stops the daemon. A probe that takes long (a
version probe of a tool that sleeps): SIGTERM ends the daemon at once instead of waiting.
"""
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from nptest import (SRCDIR, assert_eq, assert_in, make_root, mkfifo,  # noqa: E402
                    run_tests, write)
from npdaemon import NODEPREPD, Daemon  # noqa: E402


def stop_within(proc, seconds):
    start = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(seconds)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        raise AssertionError("nodeprepd did not stop within %d s of SIGTERM" % seconds)
    return time.monotonic() - start


def test_fifo_first_evaluation_completes():
    root = make_root()
    try:
        mkfifo(root, "/etc/modprobe.d/x.conf")
        mkfifo(root, "/etc/iscsi/iscsid.conf")
        # Daemon() waits for READY=1, sent after the first evaluation.
        with Daemon(root) as d:
            checks = {c["id"]: c for p in d.report()["report"]["profiles"] for c in p["checks"]}
            c = checks["kmod.loaded:iscsi_tcp"]
            assert_eq(c["status"], "unknown")
            assert_in("/etc/modprobe.d/x.conf: not a regular file: FIFO", c["message"])
            c = checks["iscsi.conf:node.startup"]
            assert_eq(c["status"], "unknown")
            assert_in("/etc/iscsi/iscsid.conf: not a regular file: FIFO", c["message"])
            stop_within(d.proc, 5)
    finally:
        shutil.rmtree(os.path.dirname(root), ignore_errors=True)


def test_sigterm_while_a_probe_runs():
    tmp = tempfile.mkdtemp(prefix="nodeprep-block-")
    try:
        bindir = os.path.join(tmp, "bin")
        started = os.path.join(tmp, "started")
        write(bindir, "/kubectl", "#!/bin/sh\ntouch '%s'\nexec sleep 30\n" % started, 0o755)
        site = write(tmp, "/nodeprep.conf", "[Site]\nProfiles=influxdb-clustered-client\n")
        env = dict(os.environ, PATH=bindir + ":/usr/bin:/bin",
                   NODEPREP_PROFILE_PATH=os.path.join(SRCDIR, "conf", "profiles"),
                   DBUS_SYSTEM_BUS_ADDRESS="unix:path=/nonexistent")
        env.pop("NOTIFY_SOCKET", None)
        proc = subprocess.Popen([NODEPREPD, "--config", site, "--listen",
                                 os.path.join(tmp, "io.nodeprep")], env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            for _ in range(200):
                if os.path.exists(started):
                    break
                time.sleep(0.05)
            assert os.path.exists(started), "the version probe did not start"
            took = stop_within(proc, 5)
            assert took < 3, "SIGTERM took %.1f s while a probe ran" % took
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    run_tests(globals())
