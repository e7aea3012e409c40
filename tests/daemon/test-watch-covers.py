#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Whatever a probe reads, the daemon watches (DEVELOPERS.md's trust rule), checked from outside.

strace records every path nodeprepd and `nodeprepctl facts` open, stat, list or readlink under a
fixture root (every shipped profile active, so every area is probed); `nodeprepd
--dump-watch-list` prints the watches the daemon derived from that same evaluation. Every recorded
path must be covered: watched as an entry of its directory, inside a directory watched whole, or
declared as a kernel file followed otherwise (its NpFactArea row's .unwatched, lib/probe/area.c);
no kernel file may be read without a declaration. Every area says what tells nodeprepd of its
changes: its row's event sources, or ("-") the files it reads alone. The recorder knows nothing of the implementation: a probe that
reads past the root opener (np_root_open()) fails this test as much as a stale watch list.
"""
import os
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from npdaemon import NODEPREPD  # noqa: E402
from nptest import NODEPREPCTL, SRCDIR, Skip, make_root, run_tests, write  # noqa: E402

PROFILES = sorted(f[:-5] for f in os.listdir(os.path.join(SRCDIR, "conf", "profiles"))
                  if f.endswith(".conf"))
# Written by nodeprepd (its outputs), not read.
WRITE = re.compile(r"O_WRONLY|O_RDWR|O_CREAT")
SYSCALL = re.compile(r"^(?:\[pid\s+\d+\] |\d+ +)?(\w+)\((.*)$")
FD_ARG = re.compile(r"^(-?\d+|AT_FDCWD)(?:<([^>]*)>)?, \"((?:[^\"\\]|\\.)*)\"")
PATH_ARG = re.compile(r"^\"((?:[^\"\\]|\\.)*)\"")
# Calls whose first argument is a directory descriptor, then a path.
AT_CALLS = {"openat", "openat2", "newfstatat", "fstatat64", "statx", "faccessat", "faccessat2",
            "readlinkat", "name_to_handle_at"}
READ_CALLS = AT_CALLS | {"open", "stat", "lstat", "access", "readlink", "statfs", "opendir",
                         "getxattr", "lgetxattr", "listxattr", "llistxattr"}


def env():
    e = dict(os.environ, NODEPREP_PROFILE_PATH=os.path.join(SRCDIR, "conf", "profiles"),
             DBUS_SYSTEM_BUS_ADDRESS="unix:path=/nonexistent/bus")
    e.pop("PATH_TOOLS", None)
    # LeakSanitizer stops the process with ptrace at exit, which fails under strace: the ASan
    # build is traced without leak detection (its other tests detect leaks).
    if e.get("NODEPREP_SANITIZED") == "1":
        e["ASAN_OPTIONS"] = ":".join(filter(None, [e.get("ASAN_OPTIONS", ""), "detect_leaks=0"]))
    return e


def rich_root(tmp):
    """The prepared Debian worker plus what this week's probes read: a kubelet from a package and
    one from RKE2, tools in /usr/local/sbin and /snap/bin, Kata's shim, a systemd-boot and a GRUB
    configuration, iSCSI node records, a masked systemd-modules-load."""
    root = make_root(tmp=tmp)
    # RKE2's kubelet: the probe reaches it when no packaged kubelet comes first.
    os.unlink(os.path.join(root, "usr/bin/kubelet"))
    write(root, "/var/lib/rancher/rke2/bin/kubelet", "#!/bin/sh\n", 0o755)
    write(root, "/usr/local/sbin/kubectl", "#!/bin/sh\n", 0o755)
    write(root, "/snap/bin/helm", "#!/bin/sh\n", 0o755)
    write(root, "/opt/kata/bin/containerd-shim-kata-v2", "#!/bin/sh\n", 0o755)
    write(root, "/boot/loader/loader.conf", "default debian.conf\n")
    write(root, "/boot/loader/entries/debian.conf",
          "title Debian\nlinux /vmlinuz-6.1.0-28-amd64\noptions root=/dev/sda1 ro\n")
    write(root, "/boot/grub/grub.cfg", "menuentry 'Debian' {\n\tlinux /vmlinuz-6.1.0-28-amd64\n}\n")
    write(root, "/boot/grub/grubenv", "# GRUB Environment Block\n")
    write(root, "/etc/iscsi/nodes/iqn.2016-01.com.example:t0/10.0.0.1,3260,1/default",
          "node.startup = manual\n")
    os.makedirs(os.path.join(root, "etc/systemd/system"), exist_ok=True)
    os.symlink("/dev/null", os.path.join(root, "etc/systemd/system/systemd-modules-load.service"))
    return root


def bare_root(tmp):
    """Almost nothing: every probe finds its files absent (the nearest parent must be watched)."""
    root = os.path.join(tmp, "bare")
    write(root, "/etc/os-release", "ID=debian\nVERSION_ID=12\n")
    return root


def site(root):
    # Every profile; no outputs: those files nodeprepd writes, it does not read.
    write(root, "/etc/nodeprep/nodeprep.conf",
          "[Site]\nProfiles=%s\n\n[Daemon]\nFeatureFile=\nMetricsFile=\n" % " ".join(PROFILES))
    # The Kata checks (the virt area) run only when asked for.
    write(root, "/etc/nodeprep/profiles/flow-like.conf.d/50-kata.conf", "[Settings]\nUseKata=yes\n")


def parse_strace(log, root):
    """The paths under root that the traced processes named, absolute, as on this machine."""
    paths = set()
    with open(log) as f:
        for line in f:
            m = SYSCALL.match(line)
            if not m:
                continue
            call, args = m.groups()
            if call not in READ_CALLS or WRITE.search(args):
                continue
            if call in AT_CALLS:
                a = FD_ARG.match(args)
                if not a:
                    continue
                _, dirpath, path = a.groups()
                if path == "":
                    continue  # the descriptor itself (AT_EMPTY_PATH): named when opened
                if not path.startswith("/"):
                    path = os.path.join(dirpath or os.getcwd(), path)
            else:
                a = PATH_ARG.match(args)
                if not a:
                    continue
                path = a.group(1)
            path = os.path.normpath(path) if path else ""
            if path == root or path.startswith(root + "/"):
                paths.add(path)
    return paths


def traced(root, *cmd):
    fd, log = tempfile.mkstemp(prefix="nodeprep-strace-")
    os.close(fd)
    try:
        r = subprocess.run(["strace", "-f", "-qq", "-y", "-s", "4096", "-o", log,
                            "-e", "trace=%file,openat2,readlinkat"] + list(cmd),
                           env=env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           universal_newlines=True, timeout=120)
        if r.returncode != 0 and "ptrace" in r.stderr:
            raise Skip("strace cannot trace here: %s" % r.stderr.strip())
        assert r.returncode == 0, "%s failed (%d): %s" % (cmd, r.returncode, r.stderr)
        return r.stdout, parse_strace(log, root)
    finally:
        os.unlink(log)


def dump_watch_list(root, tmp):
    out, read = traced(root, NODEPREPD, "--root", root, "--listen",
                       os.path.join(tmp, "sock"), "--dump-watch-list")
    watches, kernel, undeclared = set(), [], []
    dump_watch_list.areas, dump_watch_list.events = set(), {}
    for line in out.splitlines():
        kind, area, path, detail = line.split("\t")
        if kind in ("watch", "kernel") and area != "config":
            dump_watch_list.areas.add(area)
        if kind == "watch":
            watches.add((path.rstrip("/") or "/", detail))
        elif kind == "events":
            assert area not in dump_watch_list.events, "two event lines for " + area
            dump_watch_list.events[area] = detail
        elif kind == "kernel":
            kernel.append(path)
        elif kind == "undeclared":
            undeclared.append("%s (%s)" % (os.path.join(path, detail), area))
    assert watches, "no watches dumped:\n" + out
    return watches, kernel, undeclared, read


def covered(path, watches, kernel):
    d, n = os.path.dirname(path), os.path.basename(path)
    if (d, n) in watches or (d, "*") in watches or (path, "*") in watches:
        return True
    return any(path == k or path.startswith(k + "/") for k in kernel)


def check_root(root, tmp):
    site(root)
    watches, kernel, undeclared, read = dump_watch_list(root, tmp)
    assert not undeclared, "kernel files read without a declaration (area.c " \
        "row .unwatched):\n  " + "\n  ".join(undeclared)
    # Every area that read something has a row that says how else it is followed.
    events = dump_watch_list.events
    assert dump_watch_list.areas <= set(events), "areas without an events line: %s" % (
        dump_watch_list.areas - set(events))
    # The same root through the CLI: `facts` asks every area of every profile.
    _, cli_read = traced(root, NODEPREPCTL, "facts", "--json", "--root", root)
    missing = sorted(p for p in read | cli_read
                     if not covered(p, watches, kernel) and p != root)
    assert not missing, "read but not watched by nodeprepd:\n  " + "\n  ".join(
        p[len(root):] for p in missing)
    # The newly watched places this test was written for.
    for must in ("/usr/local/sbin/kubectl", "/snap/bin/helm", "/var/lib/rancher/rke2/bin/kubelet",
                 "/opt/kata/bin/containerd-shim-kata-v2"):
        if os.path.exists(root + must):
            assert root + must in read, must + " not read: the fixture misses its point"
            assert covered(root + must, watches, kernel), must + " not watched"
    return len(read | cli_read), len(watches)


def need_strace():
    if subprocess.run(["sh", "-c", "command -v strace"], stdout=subprocess.DEVNULL).returncode:
        raise Skip("strace not installed (package strace)")


def test_rich_root_read_is_watched():
    need_strace()
    with tempfile.TemporaryDirectory(prefix="nodeprep-watch-") as tmp:
        n, w = check_root(rich_root(tmp), tmp)
        # One events line per area, every area (13 rows probed on their own).
        assert len(dump_watch_list.events) >= 13, dump_watch_list.events
        print("# rich root: %d paths read, %d watches" % (n, w))


def test_prepared_root_read_is_watched():
    need_strace()
    with tempfile.TemporaryDirectory(prefix="nodeprep-watch-") as tmp:
        n, w = check_root(make_root(tmp=tmp), tmp)
        print("# prepared root: %d paths read, %d watches" % (n, w))


def test_bare_root_read_is_watched():
    need_strace()
    with tempfile.TemporaryDirectory(prefix="nodeprep-watch-") as tmp:
        n, w = check_root(bare_root(tmp), tmp)
        print("# bare root: %d paths read, %d watches" % (n, w))


run_tests(globals())
