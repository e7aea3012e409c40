#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""A journal is data, never instructions. rollback --root DIR reads DIR's journal, which DIR's
owner wrote: a record this version of nodeprep does not write (an argv to run, a runtime write to
a host path, a path with "..", a saved file outside the change directory, a temporary name that
is not nodeprep's, ...) is rejected with the journal's file and line, and nothing at all is done.
A well-formed step on the running system (a unit, iscsiadm, a module, a package, SELinux's runtime
mode) is "skipped" under --root, as at apply. The host's own journal is checked the same way, and
the state directory, the change directory and its files must be the user's own (root) and not
writable by anyone else."""
import json
import os
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from nptest import (MockSystemd, assert_eq, assert_in, assert_same_tree,  # noqa: E402
                    make_failing_root, nodeprepctl, read, require_root, run_tests, snapshot)

CID = "20260101T000000.000001Z-0badc0de"
BACKUP = "var/lib/nodeprep/backup"


def header(cid=CID, **extra):
    h = {"type": "change", "format": 2, "id": cid, "created": "2026-01-01T00:00:00Z",
         "root": "/", "nodeprep": "0.1.0", "profiles": ["iomesh"]}
    h.update(extra)
    return h


def begin(n, kind, checks=("iscsi.node-records",), **fields):
    r = {"type": "step", "n": n, "state": "begin", "kind": kind, "checks": list(checks),
         "summary": "a step"}
    r.update(fields)
    return r


def edit(n=1, **over):
    r = begin(n, "edit-file", ("selinux.config",), path="/etc/selinux/config", existed=True,
              mode=0o644, uid=0, gid=0, old="%d.old" % n, new="%d.new" % n,
              xattrs="%d.xattrs" % n, temp=".config.nodeprep-0123abcd")
    r.update(over)
    return r


def iscsi_update(n=1, **over):
    r = begin(n, "command", command="iscsi-node-update",
              target="iqn.2003-01.org.linux-iscsi.target:sn.1", portal="192.0.2.10:3260",
              key="node.startup", value="manual", previous="automatic", cannot_undo=None)
    r.update(over)
    return r


def write_journal(root, records, cid=CID, raw=None):
    d = os.path.join(root, BACKUP, cid)
    for p in (os.path.join(root, "var/lib/nodeprep"), os.path.join(root, BACKUP), d):
        if not os.path.isdir(p):
            os.makedirs(p)
            os.chmod(p, 0o700)
    text = raw if raw is not None else "".join(json.dumps(r) + "\n" for r in records)
    with open(os.path.join(d, "journal"), "w") as f:
        f.write(text)
    os.chmod(os.path.join(d, "journal"), 0o600)
    return d


def rollback(root=None, *args, env=None):
    base = ["rollback", "--local"] + (["--root", root] if root else [])
    for _ in range(50):
        r = nodeprepctl(*(base + list(args)), env=env)
        if r.code != 75:  # another engineer's test may hold the host's lock for a moment
            return r
        time.sleep(0.1)
    return r


def canary_path(tmp):
    return os.path.join(tmp, "canary")


# (records, line, what the error says). CANARY is replaced by a host path that must stay as
# it is: each of these would have written it, run a program or left the root on 1da05f8.
HOSTILE = [
    # The format 1da05f8 wrote: an undo argv run as root.
    ([{"type": "change", "id": CID},
      begin(1, "command", module=None, unit=None, previous=None, cannot_undo=None,
            argv=["/usr/bin/touch", "CANARY"], undo=["/usr/bin/touch", "CANARY"])],
     1, "no journal format: written by an older nodeprep"),
    ([header(), begin(1, "command", module=None, unit=None, previous=None, cannot_undo=None,
                      argv=["/usr/bin/touch", "CANARY"], undo=["/usr/bin/touch", "CANARY"])],
     2, "\"command\" is not one nodeprep runs"),
    ([header(), iscsi_update(argv=["/usr/bin/touch", "CANARY"])], 2, "unexpected field \"argv\""),
    ([header(), iscsi_update(previous="--interface=x")], 2,
     "not a node record update nodeprep makes"),
    ([header(), iscsi_update(target="CANARY")], 2, "not a node record update nodeprep makes"),
    ([header(), begin(1, "runtime-write", ("selinux.runtime",), path="CANARY", old="1",
                      new="0")], 2, "\"path\" is not a kernel setting nodeprep writes"),
    ([header(), begin(1, "runtime-write", ("selinux.runtime",), path="/sys/fs/selinux/enforce",
                      old="1\nx", new="0")], 2, "\"old\" is not a string of printable text"),
    ([header(), edit(path="/etc/../../CANARY")], 2, "\"path\" is not a plain absolute path"),
    ([header(), edit(old="../../../../../../CANARY")], 2,
     "\"old\" is not this step's saved original"),
    ([header(), edit(temp="../../../../../../CANARY")], 2,
     "\"temp\" is not a temporary name nodeprep gives"),
    ([header(), edit(mode=0o104755)], 2, "\"mode\", \"uid\" or \"gid\" is out of range"),
    ([header(), begin(1, "mkdir", ("dir.layout:x",), path="/var/lib/nodeprep/backup")], 2,
     "\"path\" is not a plain absolute path"),
    ([header(), begin(1, "unit-enable", ("unit.enabled:iscsid",), unit="../../CANARY",
                      previous="disabled")], 2, "not a unit nodeprep manages"),
    ([header(), begin(1, "kmod-load", ("kmod.loaded:x",), module="../x", cannot_undo="x")], 2,
     "not a module name"),
    ([header(), begin(1, "command", ("iscsi.installed",), command="package-install",
                      tool="/bin/sh", package="CANARY", cannot_undo="x")], 2,
     "not a package install nodeprep runs"),
    ([header(), {"type": "exec", "argv": ["/usr/bin/touch", "CANARY"]}], 2,
     "\"type\" is not a record nodeprep writes"),
    ([header(), edit(n=2, old="2.old", new="2.new", xattrs="2.xattrs")], 2, "step 2 after step 0"),
    ([header(cid="20260101T000000.000002Z-0badc0de"), edit()], 1,
     "the change id is not the directory's"),
    ([header(), {"type": "complete", "changed": True, "failed": False}, edit()], 3,
     "a step after the apply ended"),
    ([header(), {"type": "rolled-back", "at": "x"}, {"type": "undo-temp", "n": 1,
                                                     "temp": ".x.nodeprep-00000000"}], 3,
     "a record after \"rolled-back\""),
]


def test_hostile_journals_are_rejected_and_nothing_is_done():
    require_root()
    with tempfile.TemporaryDirectory(prefix="nodeprep-journal-") as tmp:
        root = make_failing_root(tmp)
        canary = canary_path(tmp)
        with open(canary, "w") as f:
            f.write("1")
        before = snapshot(root)
        for records, line, message in HOSTILE:
            text = "".join(json.dumps(r).replace("CANARY", canary) + "\n" for r in records)
            d = write_journal(root, None, raw=text)
            for args in ((), (CID,)):
                r = rollback(root, *args)
                what = "%s: %r" % (message, r)
                assert_eq(r.code, 65, what)
                assert_in("%s/journal:%d: %s" % (d, line, message), r.err, what)
                assert_in("nothing was done", r.err, what)
                assert_eq(r.out, "", what)
                assert_eq(open(canary).read(), "1", what)
                assert_same_tree(before, snapshot(root), what)
            # Nothing was appended to the journal either.
            assert_eq(read(d, "journal"), text, message)
        # apply says it leaves such a change alone, and does its own work.
        r = nodeprepctl("apply", "--local", "--json", "--root", root)
        assert_eq(r.code, 0, repr(r))
        assert_in("change %s is left alone: " % CID, " ".join(r.json["notes"]))


def test_running_system_steps_are_skipped_under_root():
    """A well-formed journal of the running system's steps (say, a host's copied into an image):
    under --root none of them is performed, as at apply."""
    require_root()
    units = {"iscsid.socket": {"UnitFileState": "enabled", "ActiveState": "active"}}
    with tempfile.TemporaryDirectory(prefix="nodeprep-journal-") as tmp:
        root = make_failing_root(tmp)
        d = write_journal(root, [
            header(),
            begin(1, "runtime-write", ("selinux.runtime",), path="/sys/fs/selinux/enforce",
                  old="1", new="0"),
            begin(2, "kmod-load", ("kmod.loaded:iscsi_tcp",), module="iscsi_tcp",
                  cannot_undo="nodeprep does not unload kernel modules"),
            begin(3, "unit-enable", ("unit.enabled:iscsid",), unit="iscsid.socket",
                  previous="disabled"),
            begin(4, "unit-start", ("unit.active:iscsid",), unit="iscsid.socket",
                  previous="inactive", cannot_undo="left running"),
            iscsi_update(5),
            begin(6, "command", ("iscsi.installed",), command="package-install", tool="apt-get",
                  package="open-iscsi", cannot_undo="packages stay"),
            {"type": "complete", "changed": True, "failed": False},
        ])
        before = snapshot(root)
        with MockSystemd(units) as bus:
            r = rollback(root, "--json", env=bus.env)
            assert_eq(r.code, 0, repr(r))
            assert_eq([i["state"] for i in r.json["items"]], ["skipped"] * 6)
            for i in r.json["items"]:
                assert_in("not the running system (--root is not /)", i["message"])
            assert_eq([i["what"] for i in r.json["items"]][:4],
                      ["apt-get install -y open-iscsi",
                       "iscsiadm -m node -T iqn.2003-01.org.linux-iscsi.target:sn.1 "
                       "-p 192.0.2.10:3260 -o update -n node.startup -v manual",
                       "iscsid.socket", "iscsid.socket"])
            assert_eq([c["method"] for c in bus.calls()
                       if c["method"] in ("DisableUnitFiles", "StopUnit", "Reload")], [])
        assert_same_tree(before, snapshot(root), "root after a skipped rollback")
        assert_eq(json.loads(read(d, "journal").splitlines()[-1])["type"], "rolled-back")


def test_paths_stay_in_the_root():
    """A symlink in the tree to an absolute host path resolves inside the tree."""
    require_root()
    with tempfile.TemporaryDirectory(prefix="nodeprep-journal-") as tmp:
        root = make_failing_root(tmp)
        host_dir = os.path.join(tmp, "host-etc-selinux")
        os.makedirs(host_dir)
        with open(os.path.join(host_dir, "config"), "w") as f:
            f.write("written by nodeprep\n")
        shutil.rmtree(os.path.join(root, "etc/selinux"))
        os.symlink(host_dir, os.path.join(root, "etc/selinux"))  # absolute: the host's path
        d = write_journal(root, [header(), edit(), {"type": "complete", "changed": True,
                                                    "failed": False}])
        for name, data in (("1.old", "SELINUX=enforcing\n"), ("1.new", "written by nodeprep\n"),
                           ("1.xattrs", "{}")):
            with open(os.path.join(d, name), "w") as f:
                f.write(data)
            os.chmod(os.path.join(d, name), 0o600)
        r = rollback(root, "--json")
        # Inside the root the file is not there (not what nodeprep wrote): not restored, and
        # the host's file, which is, stays as it is.
        assert_eq(read(host_dir, "config"), "written by nodeprep\n")
        assert_eq([i["state"] for i in r.json["items"]], ["failed"], repr(r))
        assert_eq(os.listdir(host_dir), ["config"])


def test_state_directory_must_be_private():
    require_root()
    with tempfile.TemporaryDirectory(prefix="nodeprep-journal-") as tmp:
        root = make_failing_root(tmp)
        original = snapshot(root)
        r = nodeprepctl("apply", "--local", "--json", "--root", root)
        assert_eq(r.code, 0, repr(r))
        d = r.json["backup_dir"]
        applied = snapshot(root)
        backup = os.path.join(root, BACKUP)
        journal = os.path.join(d, "journal")
        for path, change, undo, message in [
                (d, lambda p: os.chmod(p, 0o770), lambda p: os.chmod(p, 0o700),
                 "%s is writable by its group or others (mode 0770)" % d),
                (backup, lambda p: os.chmod(p, 0o777), lambda p: os.chmod(p, 0o700),
                 "%s is writable by its group or others (mode 0777)" % backup),
                (journal, lambda p: os.chown(p, 65534, 0), lambda p: os.chown(p, 0, 0),
                 "%s is owned by uid 65534, not by root (uid 0)" % journal),
                (os.path.join(d, "2.old"), lambda p: os.chmod(p, 0o666),
                 lambda p: os.chmod(p, 0o600), "2.old is writable by its group or others"),
                (os.path.join(d, "2.xattrs"), lambda p: os.unlink(p),
                 lambda p: open(p, "w").write("{}") and os.chmod(p, 0o600),
                 "2.xattrs is missing")]:
            kept = open(path, "rb").read() if os.path.isfile(path) else None
            change(path)
            r = rollback(root)
            assert_eq(r.code, 65, "%s: %r" % (message, r))
            assert_in(message, r.err)
            assert_in("nothing was done", r.err)
            assert_same_tree(applied, snapshot(root), message)
            if kept is not None and not os.path.exists(path):
                with open(path, "wb") as f:
                    f.write(kept)
                os.chmod(path, 0o600)
            else:
                undo(path)
        # A journal that is a symbolic link is not read.
        os.rename(journal, journal + ".real")
        os.symlink(journal + ".real", journal)
        r = rollback(root)
        assert_eq(r.code, 65, repr(r))
        assert_in("journal is a symbolic link", r.err)
        os.unlink(journal)
        os.rename(journal + ".real", journal)
        # As it should be: the rollback goes through.
        r = rollback(root)
        assert_eq(r.code, 0, repr(r))
        assert_same_tree(original, snapshot(root), "root after rollback")


def test_host_journal_is_checked_too():
    """The running system's own /var/lib/nodeprep/backup: the same rules. The change directory
    this creates is removed afterwards."""
    require_root()
    state = "/var/lib/nodeprep"
    existed = os.path.exists(state)
    cid = "20260101T000000.000003Z-%08x" % (os.getpid() & 0xffffffff)
    tmp = tempfile.mkdtemp(prefix="nodeprep-journal-")
    try:
        canary = canary_path(tmp)
        records = [{"type": "change", "id": cid},
                   begin(1, "command", module=None, unit=None, previous=None, cannot_undo=None,
                         argv=["/usr/bin/touch", canary], undo=["/usr/bin/touch", canary])]
        d = write_journal("/", records, cid=cid)
        r = rollback(None, cid)
        assert_eq(r.code, 65, repr(r))
        assert_in("%s/journal:1: no journal format" % d, r.err)
        assert not os.path.exists(canary), "the journal's command ran"
    finally:
        shutil.rmtree(os.path.join(state, "backup", cid), ignore_errors=True)
        if not existed:
            shutil.rmtree(state, ignore_errors=True)
        shutil.rmtree(tmp)


if __name__ == "__main__":
    run_tests(globals())
