#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Odd input in every file nodeprep reads: missing, unreadable, empty, binary, a 10 MB line.

Each gives a clear status or error and never a crash (the sanitizer build runs this too).
"""
import os
import stat
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from nptest import (FixtureRoot, assert_eq, assert_in, check_json, nodeprepctl,  # noqa: E402
                    remove, run_tests, write)

HOST_FILES = {
    "/etc/iscsi/iscsid.conf": ["iscsi.conf:node.startup"],
    "/etc/selinux/config": ["selinux.config"],
    "/sys/fs/selinux/enforce": ["selinux.runtime", "selinux.config"],
    "/etc/modules-load.d/iscsi_tcp.conf": ["kmod.persistent:iscsi_tcp"],
    "/sys/module/iscsi_tcp/initstate": ["kmod.loaded:iscsi_tcp"],
    "/etc/os-release": [],
    "/proc/cmdline": ["selinux.config"],
    "/lib/modules/6.1.0-28-amd64/modules.builtin": [],
}

GARBAGE = bytes(range(256)) * 64 + b"\x00\xff\xfe" * 1000
HUGE_LINE = b"node.startup = " + b"a" * (10 * 1024 * 1024) + b"\n"


def make_unreadable(root, path):
    """As root, permissions do not stop reads: put a directory there instead (EISDIR)."""
    p = os.path.join(root, path.lstrip("/"))
    if os.geteuid() == 0:
        remove(root, path)
        os.makedirs(p)
    else:
        if not os.path.exists(p):
            write(root, path, "x\n")
        os.chmod(p, 0)


def sane(r):
    """The run ended with a verdict or a clear error, never a crash."""
    assert r.code in (0, 1, 2, 64, 65), repr(r)
    assert r.code >= 0, "killed by signal %d" % -r.code
    if r.code in (0, 1, 2):
        statuses = {c["status"] for p in r.json["profiles"] for c in p["checks"]}
        assert statuses <= {"pass", "fail", "warn", "unknown", "skip"}, statuses
    assert "AddressSanitizer" not in r.err and "runtime error" not in r.err, r.err


def test_missing_unreadable_empty_garbage_huge():
    for path, ids in HOST_FILES.items():
        for variant in ("missing", "unreadable", "empty", "garbage", "huge"):
            with FixtureRoot() as root:
                if variant == "missing":
                    remove(root, path)
                elif variant == "unreadable":
                    make_unreadable(root, path)
                elif variant == "empty":
                    write(root, path, "")
                elif variant == "garbage":
                    write(root, path, GARBAGE)
                else:
                    write(root, path, HUGE_LINE)
                r = check_json(root)
                sane(r)
                if variant == "unreadable":
                    # What we cannot read is unknown with the reason, never pass or fail.
                    for cid in ids:
                        c = r.check(cid)
                        if c["status"] == "unknown":
                            assert_in(path.split("/")[-1], c["message"])


def test_unreadable_iscsid_conf_is_unknown():
    with FixtureRoot() as root:
        make_unreadable(root, "/etc/iscsi/iscsid.conf")
        r = check_json(root)
        assert_eq(r.status("iscsi.conf:node.startup"), "unknown")
        assert_in("iscsid.conf", r.check("iscsi.conf:node.startup")["message"])
        assert_eq(r.code, 2)


def test_huge_iscsid_line_is_reported():
    # iscsid drops the 2047-byte chunks and reads the tail as a line: here 1041 "a"s, a key
    # that overflows open-iscsi's name[128], so its reading of the file is undefined: unknown.
    with FixtureRoot() as root:
        write(root, "/etc/iscsi/iscsid.conf", HUGE_LINE)
        r = check_json(root)
        c = r.check("iscsi.conf:node.startup")
        assert_eq(c["status"], "unknown")
        assert_in("line 1: a key longer than 127 characters overflows", c["message"])
    # A long line whose tail is a short word: dropped chunks, then an ignored line; the
    # default stays and the report says the file has lines iscsid does not read.
    with FixtureRoot() as root:
        write(root, "/etc/iscsi/iscsid.conf", b"node.startup = " + b"a" * (2047 * 3 - 15) + b"b\n")
        r = check_json(root)
        c = r.check("iscsi.conf:node.startup")
        assert_eq(c["status"], "pass")
        assert_in("not set; iscsid's default", c["observed"])
        assert_in("are not read as settings by iscsid", c["message"])


def test_iscsid_conf_beyond_open_iscsi_buffers():
    # open-iscsi copies keys and values into name[128] / value[256] without a bound: with a
    # longer one its reading of the file is undefined, so every iscsid.conf check is unknown.
    with FixtureRoot() as root:
        write(root, "/etc/iscsi/iscsid.conf",
              "node.startup = manual\nnode.conn[0].iscsi.MaxRecvDataSegmentLength = 262144"
              + " " + "x" * 300 + "\n")
        r = check_json(root)
        sane(r)
        c = r.check("iscsi.conf:node.startup")
        assert_eq(c["status"], "unknown", "overlong value")
        assert_in("line 2: a value longer than 255 characters", c["message"])


def test_fifo_is_not_read():
    # A FIFO where a file should be must not block the probe.
    with FixtureRoot() as root:
        p = os.path.join(root, "etc/selinux/config")
        remove(root, "/etc/selinux/config")
        os.mkfifo(p)
        r = check_json(root)
        sane(r)
        assert_eq(r.status("selinux.config"), "unknown")
        assert_in("not a regular file", r.check("selinux.config")["message"])


def test_bad_profile_and_site_files():
    for path in ("/etc/nodeprep/profiles/iomesh.conf.d/50-fixture.conf",
                 "/etc/nodeprep/nodeprep.conf"):
        for content in (GARBAGE, HUGE_LINE, b"", b"[Check]\nId=" + b"x" * 5000 + b"\n"):
            with FixtureRoot() as root:
                write(root, path, content)
                r = nodeprepctl("check", "--json", "--root", root, "--profile", "iomesh")
                sane(r)
                if content:
                    assert_eq(r.code, 65, repr(r))
                    assert_in(path.split("/")[-1] + ":", r.err)
        with FixtureRoot() as root:
            make_unreadable(root, path)
            r = nodeprepctl("check", "--root", root, "--profile", "iomesh")
            assert_eq(r.code, 65, repr(r))
            assert_in("cannot read", r.err)


def test_huge_profile_file_is_refused():
    with FixtureRoot() as root:
        write(root, "/etc/nodeprep/profiles/big.conf", b"# x\n" * (400 * 1024))
        r = nodeprepctl("check", "--root", root, "--profile", "big")
        assert_eq(r.code, 65, repr(r))
        assert_in("file too large", r.err.lower())


def test_facts_on_odd_root():
    with FixtureRoot() as root:
        for path in HOST_FILES:
            write(root, path, GARBAGE)
        r = nodeprepctl("facts", "--json", "--root", root)
        assert_eq(r.code, 0, repr(r))
        assert_eq(r.json["root"], root)
        r = nodeprepctl("facts", "--root", root)
        assert_eq(r.code, 0, repr(r))
        assert_in("SELinux", r.out)


if __name__ == "__main__":
    run_tests(globals())
