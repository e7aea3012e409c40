#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Another writer's change is never silently dropped by apply or rollback. An LD_PRELOAD stand-in
for renameat2()/renameat() (tests/lib/preload-rename.c) writes iscsid.conf right before the rename
that would replace it, deterministically: by appending to it (a write into the file) or by
renaming its own version over it (an editor's save). The step fails with "changed while applying"
(or "rolling back") and the other writer's bytes are what the file holds afterwards; the other
steps still run. Without RENAME_EXCHANGE (a file system that lacks it) apply still works."""
import os
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from nptest import (Skip, assert_eq, assert_in, make_failing_root, nodeprepctl, read,  # noqa: E402
                    require_root, run_tests)

ISCSID = "/etc/iscsi/iscsid.conf"
OTHER = "# added by another program while nodeprep was working\n"


def hook(tmp, mode):
    lib = os.environ.get("NODEPREP_PRELOAD_RENAME")
    if not lib or not os.path.exists(lib):
        raise Skip("the rename hook is not built (run through meson test)")
    env = {"LD_PRELOAD": lib, "NP_PRELOAD_RENAME_TARGET": "iscsid.conf",
           "NP_PRELOAD_RENAME_MODE": mode, "NP_PRELOAD_RENAME_TEXT": OTHER,
           "NP_PRELOAD_RENAME_LOG": os.path.join(tmp, "hook.log")}
    if os.environ.get("NODEPREP_SANITIZED") == "1":
        # The hook is not the first library of an ASan binary; that is fine here.
        env["ASAN_OPTIONS"] = os.environ.get("ASAN_OPTIONS", "") + ":verify_asan_link_order=0"
    return env


def hook_log(tmp):
    p = os.path.join(tmp, "hook.log")
    return open(p).read() if os.path.exists(p) else ""


def entry(result, cid):
    return [c for c in result.json["checks"] if c["id"] == cid][0]


def leftovers(root, d="etc/iscsi"):
    return [n for n in os.listdir(os.path.join(root, d.lstrip("/"))) if ".nodeprep-" in n]


def race_apply(mode):
    require_root()
    with tempfile.TemporaryDirectory(prefix="nodeprep-race-") as tmp:
        root = make_failing_root(tmp)
        before = read(root, ISCSID, "rb")
        r = nodeprepctl("apply", "--local", "--json", "--root", root, env=hook(tmp, mode))
        assert_in("iscsid.conf", hook_log(tmp), "the hook acted")
        assert_eq(r.code, 1, repr(r))
        e = entry(r, "iscsi.conf:node.startup")
        assert_eq(e["outcome"], "failed", e)
        assert_in("iscsid.conf changed while applying (another program", e["message"])
        assert_in("the other writer's version is kept", e["message"])
        # The other writer's bytes, not nodeprep's and not the original alone.
        assert_eq(read(root, ISCSID, "rb"), before + OTHER.encode())
        assert_eq(leftovers(root), [], "temporary files")
        # The other fixes still ran.
        assert_eq(entry(r, "selinux.config")["outcome"], "changed")
        assert_eq(read(root, "/etc/selinux/config").count("SELINUX=permissive"), 1)
        # And the next apply, without the race, finishes the job on top of the other change.
        r = nodeprepctl("apply", "--local", "--json", "--root", root)
        assert_eq(r.code, 0, repr(r))
        assert_in(OTHER, read(root, ISCSID))
        assert_in("\nnode.startup = manual\n", read(root, ISCSID))


def test_apply_keeps_a_write_into_the_file():
    race_apply("append")


def test_apply_keeps_a_file_renamed_over_it():
    race_apply("replace")


def test_rollback_keeps_a_write_into_the_file():
    require_root()
    with tempfile.TemporaryDirectory(prefix="nodeprep-race-") as tmp:
        root = make_failing_root(tmp)
        r = nodeprepctl("apply", "--local", "--json", "--root", root)
        assert_eq(r.code, 0, repr(r))
        written = read(root, ISCSID, "rb")
        rb = nodeprepctl("rollback", "--local", "--json", "--root", root,
                         env=hook(tmp, "append"))
        assert_in("iscsid.conf", hook_log(tmp), "the hook acted")
        assert_eq(rb.code, 1, repr(rb))
        items = {i["what"].replace(root, ""): i for i in rb.json["items"]}
        assert_eq(items[ISCSID]["state"], "failed")
        assert_in("changed while rolling back (another program wrote to it); left as the other "
                  "writer made it (the original is ", items[ISCSID]["message"])
        assert_eq(read(root, ISCSID, "rb"), written + OTHER.encode())
        assert_eq(items["/etc/selinux/config"]["state"], "restored")
        assert_eq(leftovers(root), [], "temporary files")


def test_without_rename_exchange():
    """A file system without RENAME_EXCHANGE (NFS, ZFS before 2.2): the check before a plain
    rename still guards everything but the last instant; apply and rollback work."""
    require_root()
    with tempfile.TemporaryDirectory(prefix="nodeprep-race-") as tmp:
        root = make_failing_root(tmp)
        original = read(root, ISCSID, "rb")
        env = hook(tmp, "no-exchange")
        r = nodeprepctl("apply", "--local", "--json", "--root", root, env=env)
        assert_eq(r.code, 0, repr(r))
        assert_in("refused-exchange", hook_log(tmp), "the fallback was taken")
        assert_in("\nnode.startup = manual\n", read(root, ISCSID))
        rb = nodeprepctl("rollback", "--local", "--root", root, env=env)
        assert_eq(rb.code, 0, repr(rb))
        assert_eq(read(root, ISCSID, "rb"), original)
        assert_eq(leftovers(root), [], "temporary files")


if __name__ == "__main__":
    run_tests(globals())
