#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Secrets never leave the probe.

A fixture root whose iscsid.conf and node record hold CHAP passwords (set, commented out and
malformed lines, next to the node.startup line a plan edits). Every output of the CLI and the
daemon is searched byte for byte for them: facts and reports in every format, NFD, metrics,
plan/apply/rollback (text and JSON diffs), the Varlink methods and Watch, and the daemon's log.
The edit itself must still keep the real secret bytes in the file.
"""
import json
import os
import shutil
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from nptest import (FIXTURES, assert_eq, assert_in, make_root, nodeprepctl, read,  # noqa: E402
                    run_tests, write)
from npdaemon import Daemon  # noqa: E402

MARK = "Np5ecret"
NODE = "/etc/iscsi/nodes/iqn.2016-01.com.example:target/10.0.0.1,3260,1/default"


def secret_root():
    root = make_root()
    with open(os.path.join(FIXTURES, "iscsi", "iscsid.conf.rhel9")) as f:
        conf = f.read()
    secrets = ("node.session.auth.authmethod = CHAP\n"
               "node.session.auth.username = chapuser\n"
               "node.session.auth.password = %sOutA1\n"
               "node.session.auth.username_in = chapin\n"
               "node.session.auth.password_in = %sInB2\n"
               "discovery.sendtargets.auth.password = %sDiscC3\n"
               "discovery.sendtargets.auth.password_in = %sDiscInD4\n"
               "#node.session.auth.password = %sCommentE5\n"
               "node.session.auth.password_in=%sBadF6\n"
               "node.session.auth.password_length = 12\n" % ((MARK,) * 6))
    # Around the line the plan edits, so that the diff's context holds them.
    conf = conf.replace("\nnode.startup = automatic\n",
                        "\n" + secrets + "node.startup = automatic\n" + secrets, 1)
    write(root, "/etc/iscsi/iscsid.conf", conf, 0o600)
    write(root, NODE, "# BEGIN RECORD 2.1.8\nnode.name = iqn.2016-01.com.example:target\n"
          "node.startup = automatic\nnode.session.auth.authmethod = CHAP\n"
          "node.session.auth.password = %sNodeG7\nnode.session.auth.password_in = %sNodeInH8\n"
          "discovery.slp.auth.password = %sSlpI9\n# END RECORD\n" % ((MARK,) * 3), 0o600)
    return root


def clean(what, text):
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    assert MARK not in text, "%s shows a secret: ...%s..." % (
        what, text[max(0, text.find(MARK) - 200):text.find(MARK) + 50])


def run(*args, **kw):
    r = nodeprepctl(*args, **kw)
    assert r.code in (0, 1, 2, 3), repr(r)
    clean("nodeprepctl " + " ".join(args), r.out)
    clean("nodeprepctl " + " ".join(args) + " (stderr)", r.err)
    return r


def tree_files(root):
    """Every file under root except the two holding the secrets and nodeprep's backups (the
    saved original bytes, mode 0600, which rollback needs)."""
    for d, dirs, files in os.walk(root):
        for n in files:
            p = os.path.join(d, n)
            rel = "/" + os.path.relpath(p, root)
            if rel in ("/etc/iscsi/iscsid.conf", NODE) or rel.startswith("/var/lib/nodeprep/backup/"):
                continue
            if os.path.islink(p) or not os.path.isfile(p):
                continue
            yield rel, p


NO_BUS = {"DBUS_SYSTEM_BUS_ADDRESS": "unix:path=/nonexistent"}


def test_cli_outputs():
    root = secret_root()
    try:
        cli_outputs(root)
    finally:
        shutil.rmtree(os.path.dirname(root), ignore_errors=True)


def cli_outputs(root):
    base = ["--root", root]
    # The facts keep the keys, with a redacted value.
    r = run("facts", "--json", *base)
    settings = {s["key"]: s["value"] for s in r.json["iscsi"]["conf"]["settings"]}
    assert_eq(settings["node.session.auth.password"], "<redacted>")
    assert_eq(settings["node.session.auth.username"], "chapuser")
    node = r.json["iscsi"]["nodes"][0]
    nset = {s["key"]: s["value"] for s in node["settings"]}
    assert_eq(nset["node.session.auth.password"], "<redacted>")
    assert_eq(nset["discovery.slp.auth.password"], "<redacted>")
    problems = json.dumps(r.json["iscsi"]["conf"]["problems"])
    assert_in("node.session.auth.password_in = <redacted>", problems)
    run("facts", *base)
    for fmt in (["--json"], ["--json", "--facts"], [], ["--format", "tap"], ["--format", "junit"],
                ["--format", "nagios"], ["--npd"]):
        run("check", *fmt, *base, env=NO_BUS)
    run("metrics", "--local", *base, env=NO_BUS)
    # A plan edits node.startup next to the secrets: the diff shows them redacted.
    r = run("plan", "--local", *base, env=NO_BUS)
    assert_in("node.startup = manual", r.out)
    assert_in("node.session.auth.password = <redacted>", r.out)
    r = run("plan", "--local", "--json", *base, env=NO_BUS)
    assert_in("node.session.auth.password = <redacted>", r.out)
    r = run("apply", "--local", "--json", "--only", "iscsi.conf:node.startup", *base, env=NO_BUS)
    conf = read(root, "/etc/iscsi/iscsid.conf")
    assert_in("node.startup = manual", conf)
    # The edit keeps the real bytes.
    assert_eq(conf.count(MARK + "OutA1"), 2)
    assert_eq(conf.count(MARK + "BadF6"), 2)
    change = r.json.get("change_id")
    run("rollback", "--local", "--json", *base, env=NO_BUS)
    assert_in(MARK + "OutA1", read(root, "/etc/iscsi/iscsid.conf"))
    run("apply", "--local", "--only", "iscsi.conf:node.startup", *base, env=NO_BUS)
    run("rollback", "--local", *base, env=NO_BUS)
    assert change
    for rel, p in tree_files(root):
        with open(p, "rb") as f:
            clean(rel, f.read())


def test_daemon_outputs():
    root = secret_root()
    try:
        daemon_outputs(root)
    finally:
        shutil.rmtree(os.path.dirname(root), ignore_errors=True)


def daemon_outputs(root):
    with Daemon(root) as d:
        c = d.client()
        r = c.call("io.nodeprep.GetFacts")
        clean("GetFacts", json.dumps(r))
        assert_in("<redacted>", json.dumps(r))
        r = c.call("io.nodeprep.GetReport", {"facts": True})
        clean("GetReport facts", json.dumps(r))
        assert_in("<redacted>", json.dumps(r))
        w = d.client()
        r = w.call("io.nodeprep.Watch", {"facts": True}, more=True)
        clean("Watch facts", json.dumps(r))
        assert_in("<redacted>", json.dumps(r))
        # A change to the file: the next Watch report is clean too.
        conf = read(root, "/etc/iscsi/iscsid.conf")
        write(root, "/etc/iscsi/iscsid.conf",
              conf + "node.session.auth.password = %sLaterJ10\n" % MARK, 0o600)
        r = w.read()
        clean("Watch facts after a change", json.dumps(r))
        w.close()
        clean("GetMetrics", json.dumps(c.call("io.nodeprep.GetMetrics")))
        r = c.call("io.nodeprep.Plan")
        clean("Plan", json.dumps(r))
        assert_in("<redacted>", json.dumps(r))
        for args in (["status", "--json", "--facts"], ["status"], ["metrics"], ["plan"],
                     ["plan", "--json"], ["watch", "--json", "--facts"]):
            if args[0] == "watch":
                continue  # a Watch over the CLI is covered by the method above
            run(*args, "--socket", d.socket)
        r = c.call("io.nodeprep.Apply", {"only": ["iscsi.conf:node.startup"]})
        clean("Apply", json.dumps(r))
        r = c.call("io.nodeprep.Rollback")
        clean("Rollback", json.dumps(r))
        c.close()
        clean("the daemon's log", d.output())
    for rel, p in tree_files(root):
        with open(p, "rb") as f:
            clean(rel, f.read())


if __name__ == "__main__":
    run_tests(globals())
