#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""nodeprepctl plan / apply / rollback --local on fixture roots: plan text and JSON, the files
byte for byte afterwards (comments kept), idempotence, rollback to the original bytes, and the
refusals (not root, no --local, masked files, blacklisted modules, files changed since)."""
import fcntl
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from nptest import (FIXTURES, MockSystemd, Skip, assert_eq, assert_in, assert_same_tree,  # noqa: E402
                    make_failing_root, make_fake_module, make_root, nodeprepctl, read, remove,
                    require_root, run_tests, snapshot, write)

ISCSID = "/etc/iscsi/iscsid.conf"
MODULES = "/etc/modules-load.d/nodeprep.conf"


def fixture(rel):
    with open(os.path.join(FIXTURES, rel), "rb") as f:
        return f.read()


def replace_line(data, number, new):
    lines = data.split(b"\n")
    lines[number - 1] = new
    return b"\n".join(lines)


def apply(root, *extra, env=None):
    return nodeprepctl("apply", "--local", "--root", root, *extra, env=env)


def entry(result, cid):
    for c in result.json["checks"]:
        if c["id"] == cid:
            return c
    raise AssertionError("no %s in %s" % (cid, [c["id"] for c in result.json["checks"]]))


def steps_of(result, cid):
    return [result.json["steps"][i] for i in entry(result, cid)["steps"]]


def tmpdir():
    return tempfile.mkdtemp(prefix="nodeprep-fix-")


def test_prepared_root_needs_nothing():
    require_root()
    tmp = tmpdir()
    try:
        root = make_root("prepared", tmp)
        before = snapshot(root, skip=())
        r = nodeprepctl("plan", "--local", "--root", root)
        assert_eq(r.code, 0, repr(r))
        assert_in("0 to fix, 0 failed", r.out)
        r = apply(root, "--json")
        assert_eq(r.code, 0, repr(r))
        assert_eq(r.json["changed"], False)
        assert_eq(r.json["change_id"], None)
        # Nothing at all is written when nothing needs doing: not even the state directory.
        assert_same_tree(before, snapshot(root, skip=()), "prepared root after apply")
    finally:
        shutil.rmtree(tmp)


def test_iomesh_failing_root_plan():
    require_root()
    tmp = tmpdir()
    try:
        root = make_failing_root(tmp)
        before = snapshot(root, skip=())
        r = nodeprepctl("plan", "--local", "--root", root)
        assert_eq(r.code, 0, repr(r))
        assert_in("Plan for %s (nothing is changed by this command)" % root, r.out)
        assert_in('- set "node.startup = manual" in /etc/iscsi/iscsid.conf (line 54, was '
                  '"automatic")', r.out)
        assert_in("- create directory /etc/modules-load.d (root:root, 0755)", r.out)
        assert_in("- set SELINUX=permissive in /etc/selinux/config (line 22, was "
                  '"SELINUX=enforcing"); permissive, not disabled: switching back from disabled '
                  "needs a relabel", r.out)
        assert_in("-node.startup = automatic\n+node.startup = manual\n", r.out)
        assert_in("--- /dev/null\n+++ /etc/modules-load.d/nodeprep.conf\n@@ -0,0 +1,4 @@\n", r.out)
        assert_in("SKIPPED  unit.enabled:iscsid", r.out)
        assert_in("4 to fix, 0 failed", r.out)

        j = nodeprepctl("plan", "--local", "--root", root, "--json")
        assert_eq(j.code, 0, repr(j))
        assert_eq(j.json["command"], "plan")
        assert_eq(j.json["dry_run"], True)
        assert_eq(j.json["changed"], True)
        for cid in ("iscsi.conf:node.startup", "kmod.persistent:iscsi_tcp", "selinux.runtime",
                    "selinux.config"):
            assert_eq(entry(j, cid)["outcome"], "changed", cid)
            assert_eq(entry(j, cid)["status_before"], "fail", cid)
        assert_eq(entry(j, "iscsi.conf:node.startup")["fix"], "iscsid-conf-set")
        assert_eq(entry(j, "unit.active:iscsid")["outcome"], "skipped")
        assert_eq(entry(j, "iscsi.installed")["outcome"], "unchanged")
        # Recommended: left alone without --include-recommended (it passes here anyway).
        assert_eq(entry(j, "kubelet.version")["outcome"], "unchanged")
        kinds = [s["kind"] for s in j.json["steps"]]
        # iscsi_tcp has a module file (make_root), so loading it now is planned too.
        assert_eq(kinds, ["mkdir", "edit-file", "edit-file", "edit-file", "edit-file", "kmod-load"])
        assert_in("+node.startup = manual", j.json["diff"])
        assert_same_tree(before, snapshot(root, skip=()), "root after plan")

        # The check report names the fix of each failing check.
        c = nodeprepctl("check", "--json", "--root", root)
        assert_eq(c.check("selinux.config")["fix"], "selinux-permissive-config")
        assert_eq(c.check("kmod.persistent:iscsi_tcp")["fix"], "modules-load-persist")
    finally:
        shutil.rmtree(tmp)


def test_iomesh_apply_idempotent_rollback():
    require_root()
    tmp = tmpdir()
    try:
        root = make_failing_root(tmp)
        os.chmod(os.path.join(root, "etc/iscsi/iscsid.conf"), 0o600)
        original = snapshot(root)
        r = apply(root, "--json", "--profile", "iomesh")
        assert_eq(r.code, 0, repr(r))
        assert_eq(r.json["changed"], True)
        assert_eq(r.json["failed"], False)
        change = r.json["change_id"]
        assert change and r.json["backup_dir"].endswith("/var/lib/nodeprep/backup/" + change)
        for cid in ("iscsi.conf:node.startup", "kmod.persistent:iscsi_tcp", "selinux.runtime",
                    "selinux.config"):
            assert_eq(entry(r, cid)["outcome"], "changed", cid)
            assert_eq(entry(r, cid)["status_after"], "pass", cid)
        assert_eq(entry(r, "unit.enabled:iscsid")["outcome"], "skipped")

        # Byte for byte: only the intended lines, everything else (comments included) kept.
        assert_eq(read(root, ISCSID, "rb"),
                  replace_line(fixture("iscsi/iscsid.conf.rhel9"), 54, b"node.startup = manual"))
        assert_eq(os.stat(os.path.join(root, "etc/iscsi/iscsid.conf")).st_mode & 0o7777, 0o600)
        assert_eq(read(root, "/etc/selinux/config", "rb"),
                  replace_line(fixture("selinux/config.rhel9"), 22, b"SELINUX=permissive"))
        assert_eq(read(root, "/sys/fs/selinux/enforce"), "0")
        assert_eq(read(root, MODULES),
                  "# Kernel modules loaded at boot by systemd-modules-load.service.\n"
                  "# Written by nodeprep (nodeprepctl apply) for its kmod.persistent checks: one "
                  "module\n# name per line. nodeprepctl rollback removes what it added.\n"
                  "iscsi_tcp\n")
        st = os.stat(os.path.join(root, "etc/modules-load.d"))
        assert_eq(st.st_mode & 0o7777, 0o755)
        assert_eq(os.stat(os.path.join(root, MODULES.lstrip("/"))).st_mode & 0o7777, 0o644)
        # No temporary file left next to the edited files.
        for d in ("etc/iscsi", "etc/selinux", "etc/modules-load.d", "sys/fs/selinux"):
            left = [n for n in os.listdir(os.path.join(root, d)) if ".nodeprep-" in n]
            assert_eq(left, [], d)

        # Every file-based IOMesh check passes now.
        c = nodeprepctl("check", "--json", "--root", root)
        for cid in ("iscsi.conf:node.startup", "kmod.persistent:iscsi_tcp", "selinux.runtime",
                    "selinux.config", "iscsi.installed", "fs.free:/opt"):
            assert_eq(c.status(cid), "pass", cid)

        # A second apply changes nothing and says so.
        after = snapshot(root, skip=())
        again = apply(root)
        assert_eq(again.code, 0, repr(again))
        assert_in("No changes made: nothing nodeprep can fix needed fixing.", again.out)
        assert_in("0 changed, 0 failed", again.out)
        again_json = apply(root, "--json")
        assert_eq(again_json.json["changed"], False)
        assert_eq(again_json.json["change_id"], None)
        assert_same_tree(after, snapshot(root, skip=()), "root after the second apply")

        # Rollback restores the original bytes, modes and owners, and removes what it created.
        rb = nodeprepctl("rollback", "--local", "--root", root, "--json")
        assert_eq(rb.code, 0, repr(rb))
        assert_eq(rb.json["change_id"], change)
        assert_eq(sorted(i["state"] for i in rb.json["items"]), ["restored"] * 5)
        assert_same_tree(original, snapshot(root), "root after rollback")
        # Rolled back once: again is a no-op that says so, and the journal records it.
        rb2 = nodeprepctl("rollback", "--local", "--root", root, change)
        assert_eq(rb2.code, 0, repr(rb2))
        assert_in("was already rolled back", rb2.out)
        journal = [json.loads(l) for l in
                   read(root, "/var/lib/nodeprep/backup/%s/journal" % change).splitlines()]
        assert_eq(journal[-1]["type"], "rolled-back")
        # After "complete": rollback's own records, one temporary name per file it restored
        # or removed, each written before the file was created.
        after = [r["type"] for r in journal[[r["type"] for r in journal].index("complete") + 1:]]
        assert_eq(after, ["undo-temp"] * 4 + ["rolled-back"])
        none = nodeprepctl("rollback", "--local", "--root", root)
        assert_in("No change to roll back.", none.out)
    finally:
        shutil.rmtree(tmp)


def test_evaluations_per_run():
    """plan probes and checks once; apply once before (the plan) and once after (the verdicts),
    never inside the fix code (it was three: a look without the lock, again with it, after);
    an apply with nothing to do once; an apply that finds another apply's journal written since
    its first look evaluates again."""
    require_root()
    tmp = tmpdir()
    try:
        root = make_failing_root(tmp)
        r = nodeprepctl("plan", "--local", "--root", root, "--json", "--profile", "iomesh")
        assert_eq(r.json["evaluations"], 1, repr(r))
        r = apply(root, "--json", "--profile", "iomesh")
        assert_eq(r.json["changed"], True, repr(r))
        assert_eq(r.json["evaluations"], 2, repr(r))
        r = apply(root, "--json", "--profile", "iomesh")
        assert_eq(r.json["changed"], False, repr(r))
        assert_eq(r.json["evaluations"], 1, repr(r))
        # apply --check is a plan.
        r = nodeprepctl("rollback", "--local", "--root", root)
        assert_eq(r.code, 0, repr(r))
        r = apply(root, "--json", "--profile", "iomesh", "--check")
        assert_eq(r.json["evaluations"], 1, repr(r))
    finally:
        shutil.rmtree(tmp)


def test_fix_decides_from_facts():
    """What a planner decides from is in the facts (and the JSON): the package tool, a unit's
    file, /etc/modules-load.d; the plan follows the facts, the fix code does not look itself."""
    require_root()
    tmp = tmpdir()
    try:
        root = make_failing_root(tmp)
        f = nodeprepctl("facts", "--json", "--root", root, "--profile", "iomesh").json
        assert_eq(f["system"]["package_tool"], "apt-get")
        assert_eq(f["modules_load_etc_missing"], True)
        assert_eq(f["modules_load_etc_unusable"], None)
        units = {u["name"]: u for u in f["units"]}
        assert_eq(units["iscsid.service"]["file"], "/lib/systemd/system/iscsid.service")
        # A file where the directory should be: a fact (the check is unknown then, so nothing
        # is planned for it).
        write(root, "/etc/modules-load.d", "")
        f = nodeprepctl("facts", "--json", "--root", root, "--profile", "iomesh").json
        assert_eq(f["modules_load_etc_missing"], False)
        assert_eq(f["modules_load_etc_unusable"], "not a directory")
        remove(root, "/etc/modules-load.d")
        # RHEL: dnf where /usr/bin/dnf exists, yum where it does not.
        write(root, "/etc/os-release", 'ID="rhel"\nVERSION_ID="9.4"\n')
        remove(root, "/usr/sbin/iscsiadm")
        r = nodeprepctl("plan", "--local", "--root", root, "--json", "--profile", "iomesh")
        assert_eq(r.json["evaluations"], 1)
        assert_in("yum install -y iscsi-initiator-utils", entry(r, "iscsi.installed")["remedy"])
        write(root, "/usr/bin/dnf", "")
        f = nodeprepctl("facts", "--json", "--root", root, "--profile", "iomesh").json
        assert_eq(f["system"]["package_tool"], "dnf")
        r = nodeprepctl("plan", "--local", "--root", root, "--json", "--profile", "iomesh")
        assert_in("dnf install -y iscsi-initiator-utils", entry(r, "iscsi.installed")["remedy"])
    finally:
        shutil.rmtree(tmp)


def test_include_recommended_and_only():
    require_root()
    tmp = tmpdir()
    try:
        root = make_failing_root(tmp)
        conf = replace_line(fixture("iscsi/iscsid.conf.rhel9"), 267,
                            b"node.conn[0].iscsi.MaxRecvDataSegmentLength = 65536")
        write(root, ISCSID, conf)
        key = "iscsi.conf:node.conn[0].iscsi.MaxRecvDataSegmentLength"
        r = nodeprepctl("plan", "--local", "--root", root, "--json")
        assert_eq(entry(r, key)["outcome"], "manual")
        assert_in("--include-recommended", entry(r, key)["message"])

        # --only narrows the plan; naming a recommended check is asking for its fix.
        r = nodeprepctl("plan", "--local", "--root", root, "--json", "--only", key)
        assert_eq([c["id"] for c in r.json["checks"]], [key])
        assert_eq(entry(r, key)["outcome"], "changed")

        r = apply(root, "--json", "--include-recommended", "--only", key,
                  "--only", "iscsi.conf:node.startup")
        assert_eq(r.code, 0, repr(r))
        # Both keys in one atomic edit of the file, one diff.
        edits = [s for s in r.json["steps"] if s["kind"] == "edit-file"]
        assert_eq(len(edits), 1)
        assert_eq(sorted(edits[0]["checks"]), sorted([key, "iscsi.conf:node.startup"]))
        expected = replace_line(replace_line(conf, 54, b"node.startup = manual"), 267,
                                b"node.conn[0].iscsi.MaxRecvDataSegmentLength = 163840")
        assert_eq(read(root, ISCSID, "rb"), expected)
        # The other checks were not touched.
        assert_eq(read(root, "/sys/fs/selinux/enforce"), "1")

        bad = nodeprepctl("plan", "--local", "--root", root, "--only", "no.such-check")
        assert_eq(bad.code, 64, repr(bad))
        assert_in("--only no.such-check: no such check in profile(s) iomesh", bad.err)
    finally:
        shutil.rmtree(tmp)


# Two profiles that ask different values of one parameter of one check: one check of each
# conflicting parameter type (uid:gid, version, relative paths, size, number, string).
DISAGREE = [
    ("dir.layout:tts-blob", "Owner", "Owner=886:886", "Owner=0:0"),
    ("dir.layout:tts-blob", "Directories", "Directories=edcs", "Directories=edcs interop"),
    ("tool.version:helm", "MinVersion", "MinVersion=3.8", "MinVersion=3.12"),
    ("fs.free:/var/lib/data", "MinFree", "MinFree=100GB", "MinFree=200GB"),
    ("sys.cpus", "Min", "Min=8", "Min=16"),
    ("iscsi.conf:node.startup", "Expect", "Expect=manual", "Expect=automatic"),
]


def test_profiles_that_disagree_are_refused():
    """The planner fixes a check that two profiles share once, for both: only when they ask the
    same of it. Every parameter counts, not only Expect= and Min=."""
    require_root()
    tmp = tmpdir()
    try:
        root = make_root("prepared", tmp)
        for cid, key, a, b in DISAGREE:
            paths = []
            for name, line in (("alpha", a), ("beta", b)):
                path = os.path.join(tmp, name + ".conf")
                with open(path, "w") as f:
                    f.write("[Check]\nId=%s\n%s\n" % (cid, line))
                paths += ["--profile", path]
            r = nodeprepctl("plan", "--local", "--json", "--root", root, *paths,
                            "--set", "Path.tts-blob=/srv/tts-blob")
            assert_eq(r.code, 0, repr(r))
            e = entry(r, cid)
            assert_eq((e["outcome"], e["profiles"]), ("failed", ["alpha", "beta"]), cid)
            assert_in("profiles alpha and beta ask different things of %s (%s= differs)"
                      % (cid, key), e["message"])
            # The same value in both: one check, no conflict.
            with open(os.path.join(tmp, "beta.conf"), "w") as f:
                f.write("[Check]\nId=%s\n%s\n" % (cid, a))
            r = nodeprepctl("plan", "--local", "--json", "--root", root, *paths,
                            "--set", "Path.tts-blob=/srv/tts-blob")
            assert_eq(r.code, 0, repr(r))
            assert_eq(entry(r, cid)["outcome"] != "failed", True, repr(entry(r, cid)))
    finally:
        shutil.rmtree(tmp)


def test_site_file_apply_section():
    require_root()
    tmp = tmpdir()
    try:
        root = make_failing_root(tmp)
        conf = replace_line(fixture("iscsi/iscsid.conf.rhel9"), 267,
                            b"node.conn[0].iscsi.MaxRecvDataSegmentLength = 65536")
        write(root, ISCSID, conf)
        key = "iscsi.conf:node.conn[0].iscsi.MaxRecvDataSegmentLength"
        site = read(root, "/etc/nodeprep/nodeprep.conf")
        write(root, "/etc/nodeprep/nodeprep.conf",
              site + "\n[Apply]\nIncludeRecommended=yes\nAutoApply=selinux.runtime\n")
        r = nodeprepctl("plan", "--local", "--root", root, "--json")
        assert_eq(r.code, 0, repr(r))
        assert_eq(entry(r, key)["outcome"], "changed")
        # AutoApply= is the daemon's business: the CLI fixes every check it is asked to.
        assert_eq(entry(r, "selinux.config")["outcome"], "changed")

        write(root, "/etc/nodeprep/nodeprep.conf", site + "\n[Apply]\nAutoApply=selinux\n")
        r = nodeprepctl("plan", "--local", "--root", root)
        assert_eq(r.code, 65, repr(r))
        assert_in("nodeprep.conf:%d: AutoApply=: \"selinux\" is not a check id"
                  % (site.count("\n") + 3), r.err)
        write(root, "/etc/nodeprep/nodeprep.conf", site + "\n[Apply]\nIncludeRecommended=maybe\n")
        r = nodeprepctl("plan", "--local", "--root", root)
        assert_eq(r.code, 65, repr(r))
        assert_in("IncludeRecommended=maybe: expected yes or no", r.err)
    finally:
        shutil.rmtree(tmp)


def test_dry_run_changes_nothing():
    require_root()
    tmp = tmpdir()
    try:
        root = make_failing_root(tmp)
        before = snapshot(root, skip=())
        r = apply(root, "--check", "--json")
        assert_eq(r.code, 0, repr(r))
        assert_eq(r.json["dry_run"], True)
        assert_eq(r.json["changed"], True)
        assert_in("+SELINUX=permissive", r.json["diff"])
        t = apply(root, "--check")
        assert_eq(t.code, 0, repr(t))
        assert_in("FIX      selinux.config", t.out)
        assert_same_tree(before, snapshot(root, skip=()), "root after apply --check")
    finally:
        shutil.rmtree(tmp)


def test_refusals_not_root_and_no_local():
    tmp = tmpdir()
    try:
        root = make_failing_root(tmp)
        before = snapshot(root, skip=())
        r = nodeprepctl("apply", "--root", root)
        if os.geteuid() == 0:
            # --root describes a tree of files; nodeprepd works on its own host.
            assert_eq(r.code, 64, repr(r))
            assert_in("--root, --config and --set go with --local", r.err)
            r = nodeprepctl("apply", "--socket", os.path.join(tmp, "no-daemon"))
            assert_eq(r.code, 69, repr(r))
            assert_in("cannot reach nodeprepd", r.err)
        setpriv = shutil.which("setpriv")
        if os.geteuid() == 0 and setpriv:
            os.chmod(tmp, 0o755)
            for verb in ("plan", "apply", "rollback"):
                p = subprocess.run([setpriv, "--reuid=65534", "--regid=65534", "--clear-groups",
                                    os.environ.get("NODEPREPCTL", "nodeprepctl"), verb, "--local",
                                    "--root", root], capture_output=True, text=True)
                assert_eq(p.returncode, 77, "%s as nobody: %s" % (verb, p.stderr))
                assert_in("needs root", p.stderr)
        elif os.geteuid() != 0:
            assert_eq(r.code, 77, repr(r))
        assert_same_tree(before, snapshot(root, skip=()), "root after refused runs")
    finally:
        shutil.rmtree(tmp)


def test_comments_crlf_and_append():
    require_root()
    tmp = tmpdir()
    try:
        root = make_failing_root(tmp)
        # Only commented out, CRLF line endings: the new line follows the comment, in CRLF.
        write(root, ISCSID, b"# iSCSI settings\r\n#node.startup = automatic\r\n"
                            b"node.session.timeo.replacement_timeout = 120\r\n")
        r = apply(root, "--only", "iscsi.conf:node.startup")
        # iscsid's default is manual: a commented-out key already passes. Make it fail:
        assert_eq(r.code, 0, repr(r))
        write(root, ISCSID, b"# iSCSI settings\r\n#node.startup = manual\r\n"
                            b"node.startup=manual\r\nnode.startup = automatic\r\n"
                            b"x = 1\r\n")
        r = apply(root, "--only", "iscsi.conf:node.startup")
        assert_eq(r.code, 0, repr(r))
        assert_eq(read(root, ISCSID, "rb"),
                  b"# iSCSI settings\r\n#node.startup = manual\r\n"
                  b"node.startup=manual\r\nnode.startup = manual\r\nx = 1\r\n")

        # A rejected line does not count; the active one is changed in place; an unterminated
        # last line (which iscsid never reads) stays as it is.
        write(root, ISCSID, b"# nothing here\nnode.conn[0].iscsi.MaxRecvDataSegmentLength=1\n")
        key = "iscsi.conf:node.conn[0].iscsi.MaxRecvDataSegmentLength"
        r = apply(root, "--only", key)
        # The rejected "k=v" line does not count: iscsid's default 262144 passes.
        assert_eq(r.code, 0, repr(r))
        assert_eq(read(root, ISCSID), "# nothing here\n"
                  "node.conn[0].iscsi.MaxRecvDataSegmentLength=1\n")
        # (= 1 would pass: iscsid replaces values outside 512..16777215 by 262144.)
        write(root, ISCSID, b"# nothing here\nnode.conn[0].iscsi.MaxRecvDataSegmentLength = "
                            b"65536\nx = 1")
        r = apply(root, "--only", key, "--json")
        assert_eq(entry(r, key)["outcome"], "changed", repr(r))
        assert_eq(read(root, ISCSID), "# nothing here\n"
                  "node.conn[0].iscsi.MaxRecvDataSegmentLength = 163840\nx = 1")

        # node.startup = manual with node.conn[0].startup = automatic: discoveries still log in
        # at boot. The fix sets both in one edit; a second apply changes nothing.
        write(root, ISCSID, b"node.startup = manual\nnode.conn[0].startup = automatic\n")
        c = nodeprepctl("check", "--root", root, "--profile", "iomesh", "--json")
        assert_eq(c.status("iscsi.conf:node.startup"), "fail", "conn[0].startup automatic")
        r = apply(root, "--only", "iscsi.conf:node.startup", "--json")
        assert_eq(entry(r, "iscsi.conf:node.startup")["outcome"], "changed", repr(r))
        assert_eq(read(root, ISCSID), "node.startup = manual\nnode.conn[0].startup = manual\n")
        r = apply(root, "--only", "iscsi.conf:node.startup", "--json")
        assert_eq(entry(r, "iscsi.conf:node.startup")["outcome"], "unchanged", repr(r))
    finally:
        shutil.rmtree(tmp)


def test_node_records_and_packages():
    require_root()
    tmp = tmpdir()
    try:
        root = make_root("prepared", tmp)
        target = "iqn.2003-01.org.linux-iscsi.target.x8664:sn.0123456789ab"
        rec = "/etc/iscsi/nodes/%s/192.0.2.10,3260,1/default" % target
        write(root, rec, fixture("iscsi/node.debian12.automatic"))
        r = nodeprepctl("plan", "--local", "--root", root, "--json")
        e = entry(r, "iscsi.node-records")
        # Recommended: needs --include-recommended first.
        assert_eq(e["outcome"], "manual")
        r = nodeprepctl("plan", "--local", "--root", root, "--json", "--include-recommended")
        e = entry(r, "iscsi.node-records")
        assert_eq(e["outcome"], "manual", repr(r))
        assert_in("iscsiadm -m node -T %s -p 192.0.2.10:3260 -o update -n node.startup -v manual"
                  % target, e["remedy"])
        assert_in("-n node.conn[0].iscsi.MaxRecvDataSegmentLength -v 163840", e["remedy"])
        assert_in("nodeprepctl apply --update-node-records runs them", e["remedy"])
        assert_eq({s["state"] for s in steps_of(r, "iscsi.node-records")}, {"not-run"})
        # Asked for, under --root: iscsiadm acts on this machine's node database: skipped.
        r = nodeprepctl("plan", "--local", "--root", root, "--json", "--include-recommended",
                        "--update-node-records")
        assert_eq(entry(r, "iscsi.node-records")["outcome"], "skipped", repr(r))
        # --update-node-records alone asks for the records fix, but the recommended
        # MaxRecvDataSegmentLength stays as it is in them.
        r = nodeprepctl("plan", "--local", "--root", root, "--json", "--update-node-records")
        e = entry(r, "iscsi.node-records")
        assert_eq(e["outcome"], "skipped", repr(r))
        assert_eq(sorted(s["command"].split(" -n ")[1] for s in steps_of(r, "iscsi.node-records")),
                  ["node.startup -v manual"])

        # No open-iscsi: the exact install command, run only with --install-packages.
        remove(root, "/usr/sbin/iscsiadm")
        remove(root, "/lib/systemd/system/iscsid.service")
        remove(root, "/lib/systemd/system/iscsid.socket")
        r = nodeprepctl("plan", "--local", "--root", root, "--json")
        e = entry(r, "iscsi.installed")
        assert_eq(e["outcome"], "manual")
        assert_eq(e["remedy"], "apt-get install -y open-iscsi (nodeprepctl apply "
                               "--install-packages runs it)")
        r = nodeprepctl("plan", "--local", "--root", root, "--json", "--install-packages")
        e = entry(r, "iscsi.installed")
        assert_eq(e["outcome"], "skipped")
        assert_eq(steps_of(r, "iscsi.installed")[0]["command"], "apt-get install -y open-iscsi")
    finally:
        shutil.rmtree(tmp)


def test_kernel_module_steps():
    require_root()
    tmp = tmpdir()
    try:
        root = make_failing_root(tmp)
        make_fake_module(root, "iscsi_tcp")
        r = nodeprepctl("plan", "--local", "--root", root, "--json")
        e = entry(r, "kmod.loaded:iscsi_tcp")
        assert_eq(e["outcome"], "skipped", repr(r))
        s = steps_of(r, "kmod.loaded:iscsi_tcp")
        assert_eq([x["kind"] for x in s], ["kmod-load"])
        assert_eq(s[0]["module"], "iscsi_tcp")
        assert_eq(s[0]["state"], "skipped")
        assert_in("not the running system", s[0]["message"])

        # Blacklisted: systemd-modules-load would refuse it, so neither fix claims success.
        write(root, "/etc/modprobe.d/no-iscsi.conf", "blacklist iscsi_tcp\n")
        r = apply(root, "--json")
        for cid in ("kmod.loaded:iscsi_tcp", "kmod.persistent:iscsi_tcp"):
            assert_eq(entry(r, cid)["outcome"], "manual", cid)
            assert_in("does not override an administrator's blacklist", entry(r, cid)["message"])
        assert not os.path.exists(os.path.join(root, MODULES.lstrip("/")))
    finally:
        shutil.rmtree(tmp)


def test_masked_file_is_not_replaced():
    require_root()
    tmp = tmpdir()
    try:
        root = make_failing_root(tmp)
        os.makedirs(os.path.join(root, "etc/modules-load.d"))
        os.symlink("/dev/null", os.path.join(root, "etc/modules-load.d/nodeprep.conf"))
        r = apply(root, "--json")
        assert_eq(r.code, 1, repr(r))
        e = entry(r, "kmod.persistent:iscsi_tcp")
        assert_eq(e["outcome"], "failed")
        assert_in("a symlink to /dev/null (masked by the administrator)", e["message"])
        assert_eq(os.readlink(os.path.join(root, "etc/modules-load.d/nodeprep.conf")),
                  "/dev/null")
        # The other fixes still ran.
        assert_eq(entry(r, "selinux.config")["outcome"], "changed")

        # Two checks editing one file that is a symlink: both refused, the link kept.
        conf = os.path.join(root, "etc/iscsi/iscsid.conf")
        os.rename(conf, conf + ".real")
        with open(conf + ".real", "r+b") as f:
            data = f.read().replace(b"MaxRecvDataSegmentLength = 262144",
                                    b"MaxRecvDataSegmentLength = 65536")
            data = data.replace(b"\nnode.startup = manual\n", b"\nnode.startup = automatic\n")
            f.seek(0)
            f.write(data)
            f.truncate()
        os.symlink("iscsid.conf.real", conf)
        r = apply(root, "--json", "--include-recommended")
        assert_eq(r.code, 1, repr(r))
        for cid in ("iscsi.conf:node.startup",
                    "iscsi.conf:node.conn[0].iscsi.MaxRecvDataSegmentLength"):
            assert_eq(entry(r, cid)["outcome"], "failed", cid)
            assert_in("iscsid.conf is a symlink; nodeprep edits only regular files",
                      entry(r, cid)["message"])
        assert_eq(os.readlink(conf), "iscsid.conf.real")
    finally:
        shutil.rmtree(tmp)


def test_rollback_refuses_files_changed_since():
    require_root()
    tmp = tmpdir()
    try:
        root = make_failing_root(tmp)
        r = apply(root, "--json")
        change = r.json["change_id"]
        edited = read(root, ISCSID, "rb") + b"# an operator's later edit\n"
        write(root, ISCSID, edited)
        rb = nodeprepctl("rollback", "--local", "--root", root, "--json")
        assert_eq(rb.code, 1, repr(rb))
        states = {i["what"].replace(root, ""): i["state"] for i in rb.json["items"]}
        assert_eq(states[ISCSID], "failed")
        assert_eq(states["/etc/selinux/config"], "restored")
        msg = [i["message"] for i in rb.json["items"] if i["what"].endswith(ISCSID)][0]
        assert_in("changed since nodeprep wrote it; not restored (the original is", msg)
        assert_eq(read(root, ISCSID, "rb"), edited)
        # Not marked as rolled back: it can be finished once the file is sorted out.
        shutil.copy(os.path.join(root, "var/lib/nodeprep/backup", change, "2.new"),
                    os.path.join(root, "etc/iscsi/iscsid.conf"))
        rb = nodeprepctl("rollback", "--local", "--root", root, change, "--json")
        assert_eq(rb.code, 0, repr(rb))
        assert_eq(read(root, ISCSID, "rb"), fixture("iscsi/iscsid.conf.rhel9"))
    finally:
        shutil.rmtree(tmp)


def test_lock_held():
    require_root()
    tmp = tmpdir()
    try:
        root = make_failing_root(tmp)
        os.makedirs(os.path.join(root, "var/lib/nodeprep/backup"))
        with open(os.path.join(root, "var/lib/nodeprep/backup/.lock"), "w") as f:
            fcntl.flock(f, fcntl.LOCK_EX)
            r = apply(root)
            assert_eq(r.code, 75, repr(r))
            assert_in("another nodeprep apply or rollback is running", r.err)
    finally:
        shutil.rmtree(tmp)


def test_units_on_the_running_system():
    """Host mode, limited to the unit checks, against the mock systemd bus: nothing else on
    this machine is touched; the change directory this creates is removed afterwards."""
    require_root()
    state = "/var/lib/nodeprep"
    existed = os.path.exists(state)
    units = {
        "iscsid.socket": {"UnitFileState": "disabled", "ActiveState": "inactive"},
        "iscsid.service": {"UnitFileState": "disabled", "ActiveState": "inactive"},
    }
    only = ["--only", "unit.enabled:iscsid", "--only", "unit.active:iscsid"]
    change = None
    with MockSystemd(units) as bus:
        try:
            r = nodeprepctl("apply", "--local", "--json", "--profile", "iomesh", *only,
                            env=bus.env)
            assert_eq(r.code, 0, repr(r))
            change = r.json["change_id"]
            assert_eq(entry(r, "unit.enabled:iscsid")["outcome"], "changed")
            assert_eq(entry(r, "unit.active:iscsid")["outcome"], "changed")
            calls = [(c["method"], c["args"]) for c in bus.calls()
                     if c["method"] in ("EnableUnitFiles", "Reload", "StartUnit")]
            # The socket, as Debian ships it; enable + reload, then start and wait for the job.
            assert_eq(calls, [("EnableUnitFiles", ["iscsid.socket", "0", "0"]), ("Reload", []),
                              ("StartUnit", ["iscsid.socket", "replace"])])
            again = nodeprepctl("apply", "--local", "--json", "--profile", "iomesh", *only,
                                env=bus.env)
            assert_eq(again.json["changed"], False, repr(again))
            rb = nodeprepctl("rollback", "--local", "--json", change, env=bus.env)
            assert_eq(rb.code, 0, repr(rb))
            # Newest first: the start is left running (said so), the enable is undone.
            assert_eq([(i["what"], i["state"]) for i in rb.json["items"]],
                      [("iscsid.socket", "cannot-undo"), ("iscsid.socket", "restored")])
            assert_in("stopping iscsid can break iSCSI sessions", rb.json["items"][0]["message"])
            assert_in(("DisableUnitFiles", ["iscsid.socket", "0"]),
                      [(c["method"], c["args"]) for c in bus.calls()])
        finally:
            if change:
                shutil.rmtree(os.path.join(state, "backup", change), ignore_errors=True)
            if not existed:
                shutil.rmtree(state, ignore_errors=True)

    units["iscsid.socket"]["FailToStart"] = True
    with MockSystemd(units) as bus:
        change = None
        try:
            r = nodeprepctl("apply", "--local", "--json", "--profile", "iomesh",
                            "--only", "unit.active:iscsid", env=bus.env)
            change = r.json["change_id"]
            assert_eq(r.code, 1, repr(r))
            e = entry(r, "unit.active:iscsid")
            assert_eq(e["outcome"], "failed")
            assert_in('start job for iscsid.socket ended with "failed"', e["message"])
        finally:
            if change:
                shutil.rmtree(os.path.join(state, "backup", change), ignore_errors=True)
            if not existed:
                shutil.rmtree(state, ignore_errors=True)


if __name__ == "__main__":
    run_tests(globals())
