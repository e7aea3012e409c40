# SPDX-License-Identifier: LGPL-2.1-or-later
"""Start nodeprepd for a test and talk Varlink to it without any library.

Daemon(root) starts it under systemd-socket-activate (the socket is made by the activator, as
systemd's nodeprep.socket would) with a datagram NOTIFY_SOCKET, drained by a thread as systemd
reads it, and waits for READY=1.
"""
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time

from nptest import SRCDIR, Skip

NODEPREPD = os.environ.get("NODEPREPD", "nodeprepd")


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


class Varlink:
    """A minimal blocking Varlink client over a Unix socket."""

    def __init__(self, path, timeout=10):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(path)
        self.buf = b""

    def send(self, method, parameters=None, **flags):
        msg = {"method": method}
        if parameters is not None:
            msg["parameters"] = parameters
        msg.update(flags)
        self.sock.sendall(json.dumps(msg).encode() + b"\0")

    def send_raw(self, data):
        self.sock.sendall(data)

    def read(self):
        while b"\0" not in self.buf:
            chunk = self.sock.recv(1 << 20)
            if not chunk:
                raise ConnectionError("server closed the connection")
            self.buf += chunk
        msg, self.buf = self.buf.split(b"\0", 1)
        return json.loads(msg)

    def call(self, method, parameters=None, **flags):
        self.send(method, parameters, **flags)
        return self.read()

    def closed_by_server(self, timeout=5):
        """True when the server closes the connection within timeout (reads nothing else)."""
        self.sock.settimeout(timeout)
        try:
            while True:
                chunk = self.sock.recv(1 << 20)
                if not chunk:
                    return True
        except (ConnectionResetError, BrokenPipeError):
            return True
        except socket.timeout:
            return False

    def close(self):
        self.sock.close()


class Daemon:
    def __init__(self, root, config=None, activate=True, netns=False, extra_env=None, args=(),
                 wrapper=()):
        self.root = root
        self.config = config
        self.activate = activate
        self.netns = netns
        self.extra_env = extra_env or {}
        self.args = list(args)
        self.wrapper = list(wrapper)  # e.g. ["ip", "netns", "exec", NS]
        self.proc = None
        self.notify_msgs = []

    def __enter__(self):
        if self.activate and not shutil.which("systemd-socket-activate"):
            raise Skip("systemd-socket-activate not installed (package systemd)")
        self.dir = tempfile.mkdtemp(prefix="nodeprepd-test-")
        self.socket = os.path.join(self.dir, "io.nodeprep")
        self.notify_path = os.path.join(self.dir, "notify")
        self.notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.notify.bind(self.notify_path)
        self.notify_stop = False
        self.notify_cond = threading.Condition()
        self.notify_thread = threading.Thread(target=self._drain_notify, daemon=True)
        self.notify_thread.start()
        env = dict(os.environ, NOTIFY_SOCKET=self.notify_path,
                   NODEPREP_PROFILE_PATH=os.path.join(SRCDIR, "conf", "profiles"),
                   DBUS_SYSTEM_BUS_ADDRESS="unix:path=" + os.path.join(self.dir, "no-bus"))
        env.update(self.extra_env)
        cmd = [NODEPREPD, "--root", self.root] + self.args
        if self.config:
            cmd += ["--config", self.config]
        if self.activate:
            cmd = ["systemd-socket-activate", "-l", self.socket, "--fdname=varlink",
                   "-E", "NOTIFY_SOCKET", "-E", "NODEPREP_PROFILE_PATH",
                   "-E", "DBUS_SYSTEM_BUS_ADDRESS"] + cmd
        else:
            cmd += ["--listen", self.socket]
        if self.netns:
            cmd = ["unshare", "-n"] + cmd
        cmd = self.wrapper + cmd
        self.log = open(os.path.join(self.dir, "log"), "w+")
        self.proc = subprocess.Popen(cmd, env=env, stdout=self.log, stderr=subprocess.STDOUT)
        if self.activate:
            # The activator listens first; the daemon starts on the first connection.
            # The socket file appears at bind(), before listen(): retry until it accepts.
            for i in range(300):
                try:
                    self.kick = Varlink(self.socket)
                    break
                except (FileNotFoundError, ConnectionRefusedError):
                    if i == 299:
                        raise
                    time.sleep(0.01)
            self.kick.send("org.varlink.service.GetInfo")
        self.wait_notify("READY=1")
        if self.activate:
            assert self.kick.read()["parameters"]["product"] == "nodeprepd"
            self.kick.close()
        return self

    def _drain_notify(self):
        """Read every sd_notify datagram as it comes: a datagram socket's queue holds only a few
        (net.unix.max_dgram_qlen, 10 by default), and a full one blocks nodeprepd's sd_notify()
        and with it the event loop."""
        self.notify.settimeout(0.1)
        while not self.notify_stop:
            try:
                m = self.notify.recv(4096).decode()
            except socket.timeout:
                continue
            except OSError:
                break
            with self.notify_cond:
                self.notify_msgs.append(m)
                self.notify_cond.notify_all()

    def wait_notify(self, what, timeout=20):
        deadline = time.time() + timeout
        with self.notify_cond:
            while time.time() < deadline:
                for m in self.notify_msgs:
                    if what in m.split("\n"):
                        return m
                if self.proc.poll() is not None:
                    break
                self.notify_cond.wait(min(0.1, max(0.01, deadline - time.time())))
        raise AssertionError("no %s from nodeprepd (got %r); log:\n%s" % (what, self.notify_msgs, self.output()))

    def status(self):
        """The last STATUS= the daemon sent."""
        with self.notify_cond:
            msgs = list(self.notify_msgs)
        for m in reversed(msgs):
            for line in m.split("\n"):
                if line.startswith("STATUS="):
                    return line[len("STATUS="):]
        return None

    @property
    def pid(self):
        """The daemon's pid (systemd-socket-activate execs it, unshare too)."""
        return self.proc.pid

    def client(self, timeout=10):
        return Varlink(self.socket, timeout)

    def report(self, **params):
        r = self.client().call("io.nodeprep.GetReport", params or None)
        assert "error" not in r, r
        return r["parameters"]

    def wait_serial(self, after, timeout=5):
        """Wait for an evaluation newer than serial `after`; return its GetReport parameters."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            p = self.report()
            if p["evaluation"]["serial"] > after:
                return p
            time.sleep(0.02)
        raise AssertionError("no new evaluation after serial %d" % after)

    def wait_area(self, after, area, timeout=5):
        """Wait for an evaluation newer than serial `after` that re-probed `area` (other programs
        on a shared machine may cause evaluations of their own in between)."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            p = self.report()
            if p["evaluation"]["serial"] > after and area in p["evaluation"]["reprobed"]:
                return p
            time.sleep(0.02)
        raise AssertionError("no evaluation re-probing %s after serial %d" % (area, after))

    def output(self):
        self.log.flush()
        self.log.seek(0)
        return self.log.read()

    def __exit__(self, *exc):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.notify_stop = True
        self.notify_thread.join()
        self.notify.close()
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)
        return False


def wait_report(d, pred, within=1.0):
    """The first GetReport parameters for which pred holds within `within` seconds, else None."""
    start = time.time()
    while time.time() - start <= within:
        p = d.report()
        if pred(p):
            return p
        time.sleep(0.02)
    return None


def wait_file(path, timeout=10):
    """Wait for a fault-injection hook's GATE.paused (nodeprepd stopped there)."""
    deadline = time.time() + timeout
    while not os.path.exists(path):
        assert time.time() < deadline, "nodeprepd did not pause (%s)" % path
        time.sleep(0.01)
