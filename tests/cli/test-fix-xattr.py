#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""A file nodeprep replaces keeps every extended attribute: user.* and trusted.* (and security.*,
the POSIX ACL) are on the new file byte for byte, and rollback puts back exactly the original
set, removing any added since. A hard-linked file cannot be replaced by rename without breaking
the link: its fix is manual ("hard-linked: would break the link"), in the plan and at apply."""
import errno
import os
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from nptest import (Skip, assert_eq, assert_in, make_failing_root, nodeprepctl, read,  # noqa: E402
                    require_root, run_tests)

ISCSID = "etc/iscsi/iscsid.conf"
SELINUX = "etc/selinux/config"
BINARY = b"\x00\x01binary\xff\x00"


def xattrs(path):
    return {n: os.getxattr(path, n, follow_symlinks=False)
            for n in sorted(os.listxattr(path, follow_symlinks=False))}


def entry(result, cid):
    return [c for c in result.json["checks"] if c["id"] == cid][0]


def test_xattrs_survive_apply_and_rollback():
    require_root()
    with tempfile.TemporaryDirectory(prefix="nodeprep-xattr-") as tmp:
        root = make_failing_root(tmp)
        files = [os.path.join(root, p) for p in (ISCSID, SELINUX)]
        try:
            os.setxattr(files[0], "user.nodeprep-test", BINARY)
        except OSError as e:
            if e.errno in (errno.EOPNOTSUPP, errno.ENOTSUP):
                raise Skip("the file system of %s has no user xattrs" % tmp)
            raise
        for f in files:
            os.setxattr(f, "user.nodeprep-test", BINARY)
            os.setxattr(f, "user.note", b"kept by the site's tooling")
            os.setxattr(f, "trusted.nodeprep-test", b"trusted value")
        original = {f: (xattrs(f), open(f, "rb").read()) for f in files}

        r = nodeprepctl("apply", "--local", "--json", "--root", root)
        assert_eq(r.code, 0, repr(r))
        for f in files:
            assert open(f, "rb").read() != original[f][1], "%s was not edited" % f
            assert_eq(xattrs(f), original[f][0], "xattrs of %s after apply" % f)

        # Changed since (one added, one changed): rollback puts back the original set exactly.
        os.setxattr(files[0], "user.added-later", b"x")
        os.setxattr(files[0], "user.note", b"changed")
        rb = nodeprepctl("rollback", "--local", "--root", root)
        assert_eq(rb.code, 0, repr(rb))
        for f in files:
            assert_eq(open(f, "rb").read(), original[f][1], "contents of %s" % f)
            assert_eq(xattrs(f), original[f][0], "xattrs of %s after rollback" % f)


def test_hard_linked_file_is_manual():
    require_root()
    with tempfile.TemporaryDirectory(prefix="nodeprep-xattr-") as tmp:
        root = make_failing_root(tmp)
        conf = os.path.join(root, ISCSID)
        os.link(conf, conf + ".link")
        before = read(root, ISCSID, "rb")
        r = nodeprepctl("plan", "--local", "--json", "--root", root)
        assert_eq(r.code, 0, repr(r))
        e = entry(r, "iscsi.conf:node.startup")
        assert_eq(e["outcome"], "manual", e)
        assert_in("/etc/iscsi/iscsid.conf is hard-linked: would break the link (it has 2 links",
                  e["message"])
        assert_in('set "node.startup = manual" in /etc/iscsi/iscsid.conf (line 54, was '
                  '"automatic"), editing the file in place (it has 2 hard links)', e["remedy"])
        text = nodeprepctl("plan", "--local", "--root", root)
        assert_in("hard-linked: would break the link", text.out)

        r = nodeprepctl("apply", "--local", "--json", "--root", root)
        assert_eq(r.code, 0, repr(r))
        assert_eq(entry(r, "iscsi.conf:node.startup")["outcome"], "manual")
        assert_eq(entry(r, "selinux.config")["outcome"], "changed")
        # Untouched, and still one file under two names.
        assert_eq(read(root, ISCSID, "rb"), before)
        assert_eq(os.stat(conf).st_ino, os.stat(conf + ".link").st_ino)
        assert_eq(os.stat(conf).st_nlink, 2)


if __name__ == "__main__":
    run_tests(globals())
