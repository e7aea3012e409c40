#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Remediation through nodeprepd: nodeprepctl plan/apply/rollback without --local talk to the
daemon's Plan/Apply/Rollback methods; the report follows the change; AutoApply= fixes what the
site file names, once per failure."""
import os
import shutil
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from npdaemon import Daemon  # noqa: E402
from nptest import (assert_eq, assert_in, assert_same_tree, make_failing_root,  # noqa: E402
                    nodeprepctl, read, require_root, run_tests, snapshot, write)

FILE_IDS = ["iscsi.conf:node.startup", "kmod.persistent:iscsi_tcp", "selinux.runtime",
            "selinux.config"]


def statuses(params):
    return {c["id"]: c["status"] for c in params["report"]["profiles"][0]["checks"]}


def wait_statuses(d, want, timeout=10):
    deadline = time.time() + timeout
    while time.time() < deadline:
        s = statuses(d.report())
        if all(s[k] == v for k, v in want.items()):
            return s
        time.sleep(0.05)
    raise AssertionError("report did not reach %r: %r" % (want, statuses(d.report())))


def test_apply_and_rollback_through_the_daemon():
    require_root()
    root = make_failing_root()
    try:
        # The daemon's own outputs (the NFD feature file) are not the host being fixed.
        skip = ("var", "etc/kubernetes")
        before = snapshot(root, skip)
        with Daemon(root) as d:
            s = statuses(d.report())
            for cid in FILE_IDS:
                assert_eq(s[cid], "fail", cid)
            sock = ["--socket", d.socket]
            # plan: what would change, nothing written.
            r = nodeprepctl("plan", *sock)
            assert_eq(r.code, 0, repr(r))
            assert_in("node.startup = manual", r.out)
            assert_same_tree(before, snapshot(root, skip), "root after plan")
            # apply: the daemon edits the files; the report follows.
            r = nodeprepctl("apply", "--json", *sock)
            assert_eq(r.code, 0, repr(r))
            assert_eq(r.json["changed"], True)
            change = r.json["change_id"]
            assert change, r.json
            assert_in("node.startup = manual", read(root, "/etc/iscsi/iscsid.conf"))
            wait_statuses(d, {cid: "pass" for cid in FILE_IDS})
            # A second apply changes nothing.
            r = nodeprepctl("apply", "--json", *sock)
            assert_eq((r.code, r.json["changed"]), (0, False), repr(r))
            # rollback through the daemon: the original bytes, and the report fails again.
            r = nodeprepctl("rollback", change, *sock)
            assert_eq(r.code, 0, repr(r))
            assert_same_tree(before, snapshot(root, skip), "root after rollback")
            wait_statuses(d, {cid: "fail" for cid in FILE_IDS})
            r = nodeprepctl("rollback", "20200101T000000-dead", *sock)
            assert_eq(r.code, 64, repr(r))
            # A change directory another user could have written: io.nodeprep.BadJournal.
            os.chmod(os.path.join(root, "var/lib/nodeprep/backup", change), 0o777)
            r = nodeprepctl("rollback", change, *sock)
            assert_eq(r.code, 65, repr(r))
            assert_in("is writable by its group or others (mode 0777)", r.err)
            assert_in("nothing was done", r.err)
            assert_in("Apply requested over Varlink", d.output())
    finally:
        shutil.rmtree(os.path.dirname(root), ignore_errors=True)


def wait_count(d, text, n, timeout=10):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if d.output().count(text) >= n:
            return
        time.sleep(0.05)
    raise AssertionError("%r not logged %d times:\n%s" % (text, n, d.output()[-2000:]))


def test_auto_apply_once_per_failure():
    require_root()
    root = make_failing_root()
    try:
        write(root, "/etc/nodeprep/nodeprep.conf",
              read(root, "/etc/nodeprep/nodeprep.conf") +
              "\n[Apply]\nAutoApply=iscsi.conf:node.startup\n")
        with Daemon(root) as d:
            # Only the named check is fixed, by the daemon on its own.
            s = wait_statuses(d, {"iscsi.conf:node.startup": "pass"})
            assert_eq(s["selinux.config"], "fail")
            assert_in("AutoApply: fixing iscsi.conf:node.startup", d.output())
            # It breaks again after passing: a new failure, fixed again.
            conf = read(root, "/etc/iscsi/iscsid.conf")
            write(root, "/etc/iscsi/iscsid.conf",
                  conf.replace("node.startup = manual", "node.startup = automatic"))
            wait_count(d, "AutoApply: fixing iscsi.conf:node.startup", 2)
            wait_statuses(d, {"iscsi.conf:node.startup": "pass"})
            # A fix that cannot hold is tried once, not in a loop: make iscsid.conf a symlink,
            # which the editor refuses to replace.
            target = os.path.join(root, "etc/iscsi/iscsid.conf.real")
            os.rename(os.path.join(root, "etc/iscsi/iscsid.conf"), target)
            with open(target) as f:
                text = f.read().replace("node.startup = manual", "node.startup = automatic")
            with open(target, "w") as f:
                f.write(text)
            os.symlink("iscsid.conf.real", os.path.join(root, "etc/iscsi/iscsid.conf"))
            wait_count(d, "AutoApply: fixing iscsi.conf:node.startup", 3)
            wait_statuses(d, {"iscsi.conf:node.startup": "fail"})
            time.sleep(1.5)
            assert_eq(d.output().count("AutoApply: fixing iscsi.conf:node.startup"), 3,
                      "attempts")
            assert_eq(statuses(d.report())["iscsi.conf:node.startup"], "fail")
    finally:
        shutil.rmtree(os.path.dirname(root), ignore_errors=True)


if __name__ == "__main__":
    run_tests(globals())
