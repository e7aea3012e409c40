#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Crash safety of apply and rollback: the process is SIGKILLed at every fault point it reaches
(each step of each atomic file edit, journal record and backup save), one run per point. After
every kill of apply: each file is the whole old one or the whole new one, the saved original is
there whenever the new contents are, a new apply finishes the job (and removes what the killed
run left), and rolling both changes back restores every original byte. After every kill of
rollback: every temporary file left (a full copy of iscsid.conf, CHAP secrets and all) is no
more readable than the file itself, and the next apply or rollback removes it.

Needs a build with -Dfault-injection=true (tools/run-tests builds one); skipped otherwise."""
import json
import os
import shutil
import signal
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from nptest import (Skip, assert_eq, assert_in, assert_same_tree, make_failing_root,  # noqa: E402
                    nodeprepctl, require_root, run_tests, snapshot)


def copy_root(template, tmp, name):
    dst = os.path.join(tmp, name)
    shutil.copytree(template, dst, symlinks=True)
    return dst


def journal_records(root):
    base = os.path.join(root, "var/lib/nodeprep/backup")
    records = []
    for change in sorted(os.listdir(base)) if os.path.isdir(base) else []:
        p = os.path.join(base, change, "journal")
        if os.path.exists(p):
            with open(p) as f:
                records += [(change, json.loads(l)) for l in f if l.strip()]
    return records


def is_temp(rel):
    return ".nodeprep-" in os.path.basename(rel)


def check_whole(rel, now, old, new, n, name):
    """Each path is what it was, or what it becomes: never a mix, never a third thing."""
    allowed = [old.get(rel), new.get(rel)]
    if now.get(rel) not in allowed:
        raise AssertionError("kill at point %d (%s): %s is neither the old nor the new version"
                             % (n, name, rel))


def require_fault_injection():
    require_root()
    if os.environ.get("NODEPREP_FAULT_INJECTION") != "1":
        raise Skip("nodeprepctl built without -Dfault-injection=true")


def points_passed(log):
    """The fault points a run passed, in order (from NODEPREP_FAULT_LOG)."""
    with open(log) as f:
        return [l.split()[1] for l in f if l.strip()]


def points_to_kill(points):
    """(n, name) of each point to kill at: all of them; under a wrapper (valgrind, 20-50 times
    slower) the first of each kind, so every recovery path still runs under it once while the
    plain, ASan and API-floor runs kill at every point."""
    if not os.environ.get("NODEPREPCTL_WRAPPER"):
        return list(enumerate(points, 1))
    first = {}
    for n, name in enumerate(points, 1):
        first.setdefault(name, n)
    print("# under NODEPREPCTL_WRAPPER: %d of %d points, the first of each kind" %
          (len(first), len(points)), flush=True)
    return sorted((n, name) for name, n in first.items())


def test_kill_at_every_point():
    require_fault_injection()
    tmp = tempfile.mkdtemp(prefix="nodeprep-fault-")
    try:
        template = make_failing_root(tmp)
        original = snapshot(template)

        # One clean run, recording the points it passes and the state it ends in.
        log = os.path.join(tmp, "points.log")
        clean = copy_root(template, tmp, "clean")
        r = nodeprepctl("apply", "--local", "--root", clean, env={"NODEPREP_FAULT_LOG": log})
        assert_eq(r.code, 0, repr(r))
        final = snapshot(clean)
        points = points_passed(log)
        # Every kind of point of an atomic edit is among them.
        for p in ("journal:created", "journal:appended", "edit:temp-created", "edit:temp-partial",
                  "edit:temp-written", "edit:temp-synced", "edit:renamed", "edit:dir-synced",
                  "backup:saved", "mkdir:done"):
            assert_in(p, points, "fault points reached")
        changed = sorted(k for k in set(original) | set(final) if original.get(k) != final.get(k))
        assert_eq(changed, ["etc/iscsi/iscsid.conf", "etc/modules-load.d",
                            "etc/modules-load.d/nodeprep.conf", "etc/selinux/config",
                            "sys/fs/selinux/enforce"])
        print("# %d fault points, %d paths changed" % (len(points), len(changed)), flush=True)

        for n, name in points_to_kill(points):
            where = "kill at point %d (%s)" % (n, name)
            root = copy_root(template, tmp, "kill-%d" % n)
            r = nodeprepctl("apply", "--local", "--root", root, env={"NODEPREP_FAULT": str(n)})
            assert_eq(r.code, -signal.SIGKILL, "%s: %r" % (where, r))
            now = snapshot(root)
            for rel in set(original) | set(final) | set(now):
                if rel not in original and rel not in final and is_temp(rel):
                    continue  # a temporary file: the journal names it, cleanup removes it
                check_whole(rel, now, original, final, n, name)
            killed = sorted({change for change, _ in journal_records(root)})
            interrupted = killed and not any(rec.get("type") == "complete"
                                             for _, rec in journal_records(root))

            # The saved original is there whenever a file already holds the new contents.
            for change, rec in journal_records(root):
                if rec.get("kind") != "edit-file" or rec.get("state") != "begin":
                    continue
                rel = rec["path"].lstrip("/")
                if rec["existed"] and now.get(rel) == final.get(rel):
                    with open(os.path.join(root, "var/lib/nodeprep/backup", change,
                                           rec["old"]), "rb") as f:
                        assert_eq(f.read(), original[rel][1], "backup of %s, %s" % (rel, where))

            # Apply again: it finishes the job, says the earlier run did not finish, and
            # removes the temporary files that run left.
            r = nodeprepctl("apply", "--local", "--root", root, "--json")
            assert_eq(r.code, 0, "apply after %s: %r" % (where, r))
            if interrupted:
                assert_in("did not finish", " ".join(r.json["notes"]), where)
            assert_same_tree(final, snapshot(root), "%s, then apply" % where)
            again = nodeprepctl("apply", "--local", "--root", root, "--json")
            assert_eq(again.json["changed"], False, "third apply, %s" % where)

            # Rollback, newest change first: back to the state the kill left (less its
            # temporary files), then to every original byte.
            if r.json["change_id"]:
                rb = nodeprepctl("rollback", "--local", "--root", root, r.json["change_id"])
                assert_eq(rb.code, 0, "rollback of the second apply, %s: %r" % (where, rb))
                assert_same_tree({k: v for k, v in now.items() if not is_temp(k)},
                                 snapshot(root), "%s, apply, rollback" % where)
            if killed:
                rb = nodeprepctl("rollback", "--local", "--root", root, killed[0])
                assert_eq(rb.code, 0, "rollback of the killed apply, %s: %r" % (where, rb))
            assert_same_tree(original, snapshot(root), "%s, apply, rollback, rollback" % where)
            shutil.rmtree(root)
    finally:
        shutil.rmtree(tmp)


SECRET = b"node.session.auth.password = not-for-anyone-else\n"


def temps(root):
    """Every temporary file in the tree outside /var: {relative path: mode}."""
    return {k: v[2] for k, v in snapshot(root).items() if is_temp(k)}


def test_kill_rollback_at_every_point():
    require_fault_injection()
    with tempfile.TemporaryDirectory(prefix="nodeprep-fault-") as tmp:
        template = make_failing_root(tmp)
        conf = os.path.join(template, "etc/iscsi/iscsid.conf")
        with open(conf, "ab") as f:
            f.write(SECRET)
        os.chmod(conf, 0o600)
        original = snapshot(template)
        r = nodeprepctl("apply", "--local", "--json", "--root", template)
        assert_eq(r.code, 0, repr(r))
        change = r.json["change_id"]
        modes = {k: v[2] for k, v in snapshot(template).items()}

        log = os.path.join(tmp, "points.log")
        clean = copy_root(template, tmp, "clean")
        r = nodeprepctl("rollback", "--local", "--root", clean, env={"NODEPREP_FAULT_LOG": log})
        assert_eq(r.code, 0, repr(r))
        assert_same_tree(original, snapshot(clean), "a clean rollback")
        points = points_passed(log)
        for p in ("edit:temp-synced", "edit:renamed"):
            assert_in(p, points, "rollback's fault points")
        print("# %d fault points in rollback" % len(points), flush=True)

        for n, name in points_to_kill(points):
            where = "rollback killed at point %d (%s)" % (n, name)
            for then in ("rollback", "apply"):
                root = copy_root(template, tmp, "kill-%d-%s" % (n, then))
                r = nodeprepctl("rollback", "--local", "--root", root,
                                env={"NODEPREP_FAULT": str(n)})
                assert_eq(r.code, -signal.SIGKILL, "%s: %r" % (where, r))
                # A copy left behind is no more readable than the file it copies.
                for rel, mode in temps(root).items():
                    target = os.path.join(os.path.dirname(rel),
                                          os.path.basename(rel)[1:].rsplit(".nodeprep-", 1)[0])
                    assert_eq(mode & ~modes[target], 0, "%s: mode of %s" % (where, rel))
                # The next run removes it: a rollback finishes the job, ...
                if then == "rollback":
                    r = nodeprepctl("rollback", "--local", "--root", root, change)
                    assert_eq(r.code, 0, "%s, then rollback: %r" % (where, r))
                    assert_same_tree(original, snapshot(root), "%s, then rollback" % where)
                # ... and so does an apply, whether or not it has anything to do.
                else:
                    r = nodeprepctl("apply", "--local", "--root", root)
                    assert_eq(r.code, 0, "%s, then apply: %r" % (where, r))
                    assert_eq(temps(root), {}, "%s, then apply" % where)
                shutil.rmtree(root)


if __name__ == "__main__":
    run_tests(globals())
