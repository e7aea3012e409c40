#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""An independent client: python3-varlink introspects nodeprepd, calls every method, streams Watch.

python's varlink parses our interface descriptions with its own scanner and filters every reply
through the declared types, so a reply that does not match io.nodeprep.varlink fails here.
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from npdaemon import Daemon  # noqa: E402
from nptest import Skip, SRCDIR, assert_eq, assert_in, make_root, read, run_tests, write  # noqa: E402

try:
    import varlink
except ImportError:
    varlink = None


def need_varlink():
    if varlink is None:
        raise Skip("python3-varlink not installed (tools/install-deps --test adds it from "
                   "bookworm-backports)")


def test_introspection():
    need_varlink()
    with Daemon(make_root()) as d, varlink.Client(address="unix:" + d.socket) as client:
        assert_eq(sorted(client.get_interfaces()), ["io.nodeprep", "org.varlink.service"],
                  "interfaces")
        assert_eq(client.info["product"], "nodeprepd", "GetInfo product")
        iface = client.get_interface("io.nodeprep")
        for m in ["GetReport", "GetFacts", "ListProfiles", "Watch", "Reload", "Plan", "Apply",
                  "Rollback", "NoSuchProfile", "ConfigurationError", "PermissionDenied",
                  "Report", "CheckResult"]:
            assert_in(m, iface.members)
        # The description served is the file in the tree, and every field has a comment.
        with client.open("org.varlink.service") as svc:
            desc = svc.GetInterfaceDescription("io.nodeprep")["description"]
        assert_eq(desc, read(SRCDIR, "daemon/io.nodeprep.varlink"), "served description")
        lines = desc.split("\n")
        for i, line in enumerate(lines):
            s = line.strip()
            if ":" in s and not s.startswith("#") and not s.startswith(("method", "type", "error")):
                assert lines[i - 1].strip().startswith("#"), "field without a comment: %r" % s
        client.get_interface("org.varlink.service")


def test_every_method():
    need_varlink()
    root = make_root()
    with Daemon(root) as d, varlink.Client(address="unix:" + d.socket) as client:
        with client.open("io.nodeprep", namespaced=False) as c:
            r = c.GetReport()
            assert_eq(r["report"]["schema_version"], 1, "GetReport")
            assert_eq(r["report"]["profiles"][0]["name"], "iomesh", "profile")
            r = c.GetReport(profiles=["iomesh"], facts=True)
            assert_in("iscsi", r["report"]["facts"])
            r = c.GetFacts()
            assert_eq(r["facts"]["system"]["hostname"], "worker-1", "GetFacts")
            r = c.ListProfiles()
            assert_eq([p["name"] for p in r["profiles"] if p["active"]], ["iomesh"], "ListProfiles")
            assert_eq(c.Reload(), {}, "Reload as root")
            # Remediation, as root: a plan, a dry-run apply, and no change to roll back.
            r = c.Plan()
            assert_eq(r["plan"]["command"], "plan", "Plan")
            assert_in("checks", r["plan"])
            assert_in("text", r)
            r = c.Apply(dry_run=True)
            assert_eq(r["result"]["dry_run"], True, "Apply dry_run")
            try:
                c.Rollback(change_id="20250101T000000-0000")
                raise AssertionError("Rollback of an unknown change answered")
            except varlink.VarlinkError as e:
                assert_eq(e.error(), "io.nodeprep.NoSuchChange", "Rollback")
            try:
                c.GetReport(profiles=["nope"])
                raise AssertionError("unknown profile answered")
            except varlink.VarlinkError as e:
                assert_eq(e.error(), "io.nodeprep.NoSuchProfile", "error name")
                assert_eq(e.parameters()["configured"], ["iomesh"], "error parameters")


def test_watch_stream():
    need_varlink()
    root = make_root()
    # SELinux active (permissive): SELINUX=enforcing then means enforcing after a reboot.
    write(root, "/sys/fs/selinux/enforce", "0")
    # SELinux active (permissive): SELINUX=enforcing then means enforcing after a reboot.
    write(root, "/sys/fs/selinux/enforce", "0")
    with Daemon(root) as d, varlink.Client(address="unix:" + d.socket) as client:
        with client.open("io.nodeprep") as c:
            stream = c.Watch(profiles=["iomesh"], _more=True)
            first = next(stream)
            statuses = {x["id"]: x["status"] for x in first["report"]["profiles"][0]["checks"]}
            assert_eq(statuses["selinux.config"], "pass", "before")
            write(root, "/etc/selinux/config", "SELINUX=enforcing\n")
            second = next(stream)
            statuses = {x["id"]: x["status"] for x in second["report"]["profiles"][0]["checks"]}
            assert_eq(statuses["selinux.config"], "fail", "after")
            assert second["evaluation"]["serial"] > first["evaluation"]["serial"]


if __name__ == "__main__":
    run_tests(globals())
