#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""A FIFO, device or oversized file where a file nodeprep reads should be never hangs it.

Every probe and loader opens with np_root_open_regular(): O_NONBLOCK, a regular file only, the
size bounded. A FIFO gives `unknown` (probes) or an error (profiles, site file) naming the file
and its type, promptly; so does a file larger than the bound, never a silent prefix.
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from nptest import (FixtureRoot, assert_eq, assert_in, mkfifo, nodeprepctl,  # noqa: E402
                    run_tests, write)

# path -> a check whose message must name it (None: the run must fail with an error naming it)
PROBED = {
    "/etc/modprobe.d/x.conf": "kmod.loaded:iscsi_tcp",
    "/lib/modules/6.1.0-28-amd64/modules.alias.bin": "kmod.loaded:iscsi_tcp",
    "/etc/iscsi/iscsid.conf": "iscsi.conf:node.startup",
    "/etc/selinux/config": "selinux.config",
    "/etc/modules-load.d/iscsi_tcp.conf": "kmod.persistent:iscsi_tcp",
}
LOADED = ["/etc/nodeprep/nodeprep.conf", "/etc/nodeprep/profiles/iomesh.conf.d/50-fixture.conf",
          "/etc/nodeprep/profiles/iomesh.conf"]


def test_fifo_in_a_probed_file_is_unknown():
    for path, cid in PROBED.items():
        with FixtureRoot() as root:
            mkfifo(root, path)
            r = nodeprepctl("check", "--json", "--root", root, timeout=20)
            c = r.check(cid)
            assert_eq(c["status"], "unknown", path)
            assert_in(path + ": not a regular file: FIFO", c["message"])


def test_fifo_os_release_is_unknown():
    with FixtureRoot() as root:
        mkfifo(root, "/etc/os-release")
        r = nodeprepctl("facts", "--json", "--root", root, timeout=20)
        assert_eq(r.code, 0, repr(r))
        assert_in("/etc/os-release: not a regular file: FIFO", r.json["system"]["os_unknown"])


def test_fifo_in_a_loaded_file_is_an_error():
    for path in LOADED:
        with FixtureRoot() as root:
            mkfifo(root, path)
            r = nodeprepctl("check", "--root", root, timeout=20)
            assert_eq(r.code, 65, repr(r))
            assert_in(path + ": not a regular file: FIFO", r.err)


def test_oversized_file_is_unknown_not_truncated():
    with FixtureRoot() as root:
        # 17 MiB of comments and then the setting: beyond the 16 MiB bound.
        write(root, "/etc/iscsi/iscsid.conf", b"#" * 1023 + b"\n")
        with open(os.path.join(root, "etc/iscsi/iscsid.conf"), "ab") as f:
            f.write((b"#" * 1023 + b"\n") * (17 * 1024) + b"node.startup = manual\n")
        r = nodeprepctl("check", "--json", "--root", root, timeout=20)
        c = r.check("iscsi.conf:node.startup")
        assert_eq(c["status"], "unknown")
        assert_in("iscsid.conf: file too large", c["message"])


if __name__ == "__main__":
    run_tests(globals())
