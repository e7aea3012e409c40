#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""nodeprepd --listen PATH never takes a live socket away from another server.

A second daemon on the path of a running one exits with an error naming the path, and the first
still answers on it; a stale socket (nothing listening) is replaced; a file that is not a socket
is refused and left alone.
"""
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from nptest import SRCDIR, assert_eq, assert_in, make_root, run_tests  # noqa: E402
from npdaemon import NODEPREPD, Daemon, Varlink  # noqa: E402


TMP = []


def second_daemon(root, path):
    env = dict(os.environ, NODEPREP_PROFILE_PATH=os.path.join(SRCDIR, "conf", "profiles"),
               DBUS_SYSTEM_BUS_ADDRESS="unix:path=/nonexistent")
    env.pop("NOTIFY_SOCKET", None)
    return subprocess.run([NODEPREPD, "--root", root, "--listen", path], env=env,
                          capture_output=True, text=True, timeout=30)


def answers(path):
    c = Varlink(path)
    try:
        return c.call("org.varlink.service.GetInfo")["parameters"]["product"] == "nodeprepd"
    finally:
        c.close()


def test_second_daemon_refuses_a_live_socket():
    root = make_root()
    TMP.append(os.path.dirname(root))
    with Daemon(root, activate=False) as first:
        ino = os.lstat(first.socket).st_ino
        r = second_daemon(root, first.socket)
        assert r.returncode != 0, r
        assert_in(first.socket, r.stderr)
        assert_in("a server answers on it", r.stderr)
        assert_eq(os.lstat(first.socket).st_ino, ino, "socket file replaced")
        assert answers(first.socket), "the first daemon no longer answers"
        assert first.proc.poll() is None


def test_stale_socket_is_replaced():
    root = make_root()
    d = tempfile.mkdtemp(prefix="nodeprep-listen-")
    TMP.extend([os.path.dirname(root), d])
    path = os.path.join(d, "io.nodeprep")
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(path)  # bound, never listening, then closed: what a killed server leaves
    s.close()
    env = dict(os.environ, NODEPREP_PROFILE_PATH=os.path.join(SRCDIR, "conf", "profiles"),
               DBUS_SYSTEM_BUS_ADDRESS="unix:path=/nonexistent")
    env.pop("NOTIFY_SOCKET", None)
    p = subprocess.Popen([NODEPREPD, "--root", root, "--listen", path], env=env,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(200):
            try:
                if answers(path):
                    break
            except (ConnectionRefusedError, FileNotFoundError):
                time.sleep(0.05)
        else:
            raise AssertionError("no daemon on the stale socket's path")
    finally:
        p.terminate()
        p.wait(10)


def test_not_a_socket_is_refused():
    root = make_root()
    d = tempfile.mkdtemp(prefix="nodeprep-listen-")
    TMP.extend([os.path.dirname(root), d])
    path = os.path.join(d, "io.nodeprep")
    with open(path, "w") as f:
        f.write("not a socket\n")
    r = second_daemon(root, path)
    assert r.returncode != 0, r
    assert_in(path, r.stderr)
    assert_in("is not a socket", r.stderr)
    with open(path) as f:
        assert_eq(f.read(), "not a socket\n")


if __name__ == "__main__":
    try:
        run_tests(globals())
    finally:
        for t in TMP:
            shutil.rmtree(t, ignore_errors=True)
