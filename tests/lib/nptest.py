# SPDX-License-Identifier: LGPL-2.1-or-later
"""Helpers for nodeprep's end-to-end tests: fixture roots, running nodeprepctl, a mock systemd bus.

Each test script defines functions named test_*; run_tests() runs them in order, prints TAP-ish
lines, exits 1 on the first failure, or 77 (meson's "skipped") when every test skipped.
"""
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback

SRCDIR = os.environ.get("NODEPREP_SRCDIR", os.path.join(os.path.dirname(__file__), "..", ".."))
FIXTURES = os.path.join(SRCDIR, "tests", "fixtures")
NODEPREPCTL = os.environ.get("NODEPREPCTL", "nodeprepctl")


class Skip(Exception):
    pass


def require_root():
    if os.geteuid() != 0:
        raise Skip("needs root")


def make_root(base="prepared", tmp=None):
    """Copy tests/fixtures/roots/BASE to a new directory and return its path. The prepared root
    gets module files for iscsi_tcp (and its dependency chain's index) through depmod, as a real
    Debian 12 host has: the next boot's verdicts read modules.dep (see make_fake_module)."""
    tmp = tmp or tempfile.mkdtemp(prefix="nodeprep-root-")
    dst = os.path.join(tmp, "root")
    shutil.copytree(os.path.join(FIXTURES, "roots", base), dst, symlinks=True)
    if base == "prepared":
        make_fake_module(dst, "iscsi_tcp")
    return dst


class FixtureRoot:
    """A private copy of a fixture root, removed afterwards: `with FixtureRoot() as root:`."""

    def __init__(self, base="prepared"):
        self.base = base

    def __enter__(self):
        self.tmp = tempfile.mkdtemp(prefix="nodeprep-root-")
        return make_root(self.base, self.tmp)

    def __exit__(self, *exc):
        # A test may leave unwritable modes behind; make everything removable first.
        for d, dirs, files in os.walk(self.tmp):
            for n in dirs:
                p = os.path.join(d, n)
                if not os.path.islink(p):
                    os.chmod(p, 0o755)
        shutil.rmtree(self.tmp, ignore_errors=True)
        return False


def write(root, path, text, mode=None):
    p = os.path.join(root, path.lstrip("/"))
    os.makedirs(os.path.dirname(p), exist_ok=True)
    if os.path.lexists(p):
        os.unlink(p)
    with open(p, "wb" if isinstance(text, bytes) else "w") as f:
        f.write(text)
    if mode is not None:
        os.chmod(p, mode)
    return p


def mkfifo(root, path):
    """Put a FIFO at path (replacing what is there): what no file nodeprep reads may be."""
    p = os.path.join(root, path.lstrip("/"))
    os.makedirs(os.path.dirname(p), exist_ok=True)
    if os.path.lexists(p):
        os.unlink(p)
    os.mkfifo(p)


def remove(root, path):
    p = os.path.join(root, path.lstrip("/"))
    if os.path.isdir(p) and not os.path.islink(p):
        shutil.rmtree(p)
    elif os.path.lexists(p):
        os.unlink(p)


def read(root, path, mode="r"):
    with open(os.path.join(root, path.lstrip("/")), mode) as f:
        return f.read()


def install_kubelet(root, version, path="/usr/bin/kubelet", package=None):
    """Put a kubelet of VERSION into ROOT as a package install leaves it: the program (a script
    that must never run: nothing under --root is executed) and dpkg's records of the package that
    installed it, from which nodeprep reads the version under --root."""
    package = package or os.path.basename(path)
    write(root, path, "#!/bin/sh\necho 'Kubernetes v%s'\n" % version, 0o755)
    status = os.path.join(root, "var/lib/dpkg/status")
    stanzas = []
    if os.path.exists(status):
        with open(status) as f:
            stanzas = [s for s in f.read().split("\n\n")
                       if s.strip() and not s.startswith("Package: %s\n" % package)]
    stanzas.append("Package: %s\nStatus: install ok installed\nArchitecture: amd64\n"
                   "Version: %s-1.1" % (package, version))
    write(root, "/var/lib/dpkg/status", "\n\n".join(stanzas) + "\n\n")
    write(root, "/var/lib/dpkg/info/%s.list" % package,
          "/.\n%s\n%s\n" % (os.path.dirname(path), path))


def make_failing_root(tmp=None):
    """A Debian 12 worker that fails every file-based IOMesh check: RHEL's iscsid.conf
    (node.startup = automatic), SELinux enforcing now and in /etc/selinux/config, no
    /etc/modules-load.d at all, iscsi_tcp not loaded. The rest is the prepared root."""
    root = make_root("prepared", tmp)
    shutil.copy(os.path.join(FIXTURES, "iscsi", "iscsid.conf.rhel9"),
                os.path.join(root, "etc/iscsi/iscsid.conf"))
    shutil.copy(os.path.join(FIXTURES, "selinux", "config.rhel9"),
                os.path.join(root, "etc/selinux/config"))
    remove(root, "/etc/modules-load.d")
    remove(root, "/sys/module/iscsi_tcp")
    write(root, "/sys/fs/selinux/enforce", "1")
    return root


def make_fake_module(root, name, kver="6.1.0-28-amd64"):
    """Install a module file for NAME under ROOT's /lib/modules/KVER and run depmod, so libkmod
    finds it as available. Not a loadable module: never insert it. Raises Skip without gcc or
    depmod."""
    cc = shutil.which("cc") or shutil.which("gcc")
    depmod = shutil.which("depmod") or ("/sbin/depmod" if os.path.exists("/sbin/depmod") else None)
    if not cc or not depmod:
        raise Skip("needs a C compiler and depmod to build a module index")
    d = os.path.join(root, "lib/modules", kver, "kernel/drivers/scsi")
    os.makedirs(d, exist_ok=True)
    src = os.path.join(d, name + ".c")
    with open(src, "w") as f:
        f.write('static const char n[] __attribute__((section(".modinfo"), used)) = "name=%s";\n'
                % name)
    subprocess.run([cc, "-c", src, "-o", os.path.join(d, name + ".ko")], check=True)
    os.unlink(src)
    subprocess.run([depmod, "-b", root, kver], check=True, capture_output=True)


def snapshot(root, skip=("var",)):
    """{relative path: (kind, bytes or link target, mode, uid, gid)} of a tree. The default
    skips /var, where nodeprep keeps its journal (fixture roots have no /var of their own)."""
    out = {}
    for dirpath, dirs, files in os.walk(root):
        rel_dir = os.path.relpath(dirpath, root)
        if any(rel_dir == s or rel_dir.startswith(s + "/") for s in skip):
            dirs[:] = []
            continue
        for name in dirs + files:
            p = os.path.join(dirpath, name)
            rel = os.path.relpath(p, root)
            if any(rel == s or rel.startswith(s + "/") for s in skip):
                continue
            st = os.lstat(p)
            if os.path.islink(p):
                out[rel] = ("link", os.readlink(p), 0, st.st_uid, st.st_gid)
            elif os.path.isdir(p):
                out[rel] = ("dir", None, st.st_mode & 0o7777, st.st_uid, st.st_gid)
            else:
                with open(p, "rb") as f:
                    out[rel] = ("file", f.read(), st.st_mode & 0o7777, st.st_uid, st.st_gid)
    return out


def assert_same_tree(a, b, what="tree"):
    if a != b:
        only_a = sorted(set(a) - set(b))
        only_b = sorted(set(b) - set(a))
        differ = sorted(k for k in set(a) & set(b) if a[k] != b[k])
        raise AssertionError("%s differs: only before %s, only after %s, changed %s"
                             % (what, only_a, only_b, differ))


VALGRIND_NOTE = re.compile(r"^--\d+-- .*\n?", re.M)


class Result:
    def __init__(self, args, proc):
        self.args = args
        self.code = proc.returncode
        self.out = proc.stdout
        # valgrind's own notes ("--1234-- WARNING: unhandled syscall") are not nodeprepctl's.
        self.err = VALGRIND_NOTE.sub("", proc.stderr)
        self._json = None

    @property
    def json(self):
        if self._json is None:
            try:
                self._json = json.loads(self.out)
            except ValueError as e:
                raise AssertionError("not JSON (%s): %r\nstderr: %s" % (e, self.out[:2000], self.err))
        return self._json

    def check(self, cid, profile=None):
        """The result of check id cid (in the only, or the named, profile)."""
        for p in self.json["profiles"]:
            if profile and p["name"] != profile:
                continue
            for c in p["checks"]:
                if c["id"] == cid:
                    return c
        raise AssertionError("no check %s in %s" % (cid, [c["id"] for p in self.json["profiles"]
                                                          for c in p["checks"]]))

    def status(self, cid, profile=None):
        return self.check(cid, profile)["status"]

    def __repr__(self):
        return "nodeprepctl %s -> %d\nstdout:\n%s\nstderr:\n%s" % (
            " ".join(self.args), self.code, self.out[:4000], self.err[:4000])


def nodeprepctl(*args, env=None, timeout=60, input=None):
    e = dict(os.environ)
    e.setdefault("NO_COLOR", "1")
    if env:
        e.update(env)
    # NODEPREPCTL_WRAPPER (e.g. valgrind) runs in front of every nodeprepctl call.
    wrapper = shlex.split(os.environ.get("NODEPREPCTL_WRAPPER", ""))
    proc = subprocess.run(wrapper + [NODEPREPCTL] + list(args), capture_output=True, text=True,
                          env=e, timeout=timeout * (10 if wrapper else 1), input=input)
    return Result(list(args), proc)


def check_json(root, *extra, env=None):
    return nodeprepctl("check", "--json", "--root", root, *extra, env=env)


class MockSystemd:
    """A private D-Bus daemon with mock-systemd.py on it; use as a context manager.

    Sets DBUS_SYSTEM_BUS_ADDRESS in self.env for the programs under test."""

    def __init__(self, units):
        self.units = units

    def __enter__(self):
        if not shutil.which("dbus-daemon"):
            raise Skip("dbus-daemon not installed")
        self.dir = tempfile.mkdtemp(prefix="nodeprep-bus-")
        sock = os.path.join(self.dir, "bus")
        self.address = "unix:path=" + sock
        self.daemon = subprocess.Popen(
            ["dbus-daemon", "--config-file=" + os.path.join(os.path.dirname(__file__), "dbus-test.conf"),
             "--nofork", "--nopidfile", "--address=" + self.address],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(100):
            if os.path.exists(sock):
                break
            time.sleep(0.05)
        units_file = os.path.join(self.dir, "units.json")
        with open(units_file, "w") as f:
            json.dump(self.units, f)
        self.log = os.path.join(self.dir, "calls.log")
        open(self.log, "w").close()
        self.env = {"DBUS_SYSTEM_BUS_ADDRESS": self.address}
        e = dict(os.environ, **self.env)
        self.mock = subprocess.Popen(
            ["/usr/bin/python3", os.path.join(os.path.dirname(__file__), "mock-systemd.py"),
             units_file, self.log], stdout=subprocess.PIPE, env=e, text=True)
        line = self.mock.stdout.readline()
        if line.strip() != "READY":
            self.__exit__(None, None, None)
            raise AssertionError("mock systemd did not start")
        return self

    def calls(self):
        with open(self.log) as f:
            return [json.loads(l) for l in f if l.strip()]

    def __exit__(self, *exc):
        for p in (getattr(self, "mock", None), getattr(self, "daemon", None)):
            if p and p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(5)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
        shutil.rmtree(self.dir, ignore_errors=True)
        return False


# The systemd state of a host where iscsid is ready (Debian: socket-activated iscsid).
ISCSID_READY = {
    "iscsid.socket": {"UnitFileState": "enabled", "ActiveState": "active", "SubState": "listening"},
    "iscsid.service": {"UnitFileState": "disabled", "ActiveState": "inactive", "SubState": "dead"},
}


def assert_eq(a, b, what=""):
    if a != b:
        raise AssertionError("%s: expected %r, got %r" % (what or "value", b, a))


def assert_in(needle, hay, what=""):
    if needle not in hay:
        raise AssertionError("%s: %r not in %r" % (what or "text", needle, hay))


def run_tests(namespace):
    tests = [(n, f) for n, f in namespace.items() if n.startswith("test_") and callable(f)]
    ran = skipped = 0
    for name, fn in tests:
        try:
            fn()
            print("ok - %s" % name, flush=True)
            ran += 1
        except Skip as e:
            print("ok - %s # SKIP %s" % (name, e), flush=True)
            skipped += 1
        except Exception:
            print("not ok - %s" % name, flush=True)
            traceback.print_exc()
            sys.exit(1)
    if ran == 0 and skipped > 0:
        sys.exit(77)
    sys.exit(0)
