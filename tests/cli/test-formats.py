#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""CI and monitoring formats, each read back by a real consumer: TAP 13 by Perl's prove, JUnit XML
by python3-junitparser (and xmllint for well-formedness), the Nagios plugin line and the
node-problem-detector message by their documented rules."""
import os
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from nptest import (ISCSID_READY, FixtureRoot, MockSystemd, Skip, assert_eq,  # noqa: E402
                    assert_in, install_kubelet, nodeprepctl, run_tests, write)


def with_output(fmt, broken=False, units=ISCSID_READY, extra=()):
    with FixtureRoot() as root, MockSystemd(units) as m:
        if broken:
            write(root, "/etc/iscsi/iscsid.conf",
                  "node.startup = automatic\n"
                  "node.conn[0].iscsi.MaxRecvDataSegmentLength = 32768\n")
            write(root, "/etc/selinux/config", "SELINUX=enforcing\n")
            # SELinux active (permissive now): SELINUX=enforcing enforces after the next boot.
            write(root, "/sys/fs/selinux/enforce", "0")
        args = ["check", "--root", root] + (["--npd"] if fmt == "npd" else ["--format", fmt])
        return nodeprepctl(*args, *extra, env=m.env)


def prove(text):
    with tempfile.NamedTemporaryFile("w", suffix=".tap", delete=False) as f:
        f.write(text)
    try:
        return subprocess.run(["prove", "--exec", "cat", f.name], capture_output=True, text=True)
    finally:
        os.unlink(f.name)


def test_tap_read_by_prove():
    r = with_output("tap")
    assert_eq(r.code, 0, repr(r))
    assert r.out.startswith("TAP version 13\n1..17\n"), r.out[:100]
    p = prove(r.out)
    assert_eq(p.returncode, 0, p.stdout + p.stderr)
    assert_in("All tests successful", p.stdout)
    assert_in("Tests=17", p.stdout)
    # A failing required check fails the run; a recommended one is TODO (shown, not fatal).
    r = with_output("tap", broken=True)
    assert_eq(r.code, 1)
    assert re.search(r"^not ok \d+ - iomesh iscsi.conf:node.startup$", r.out, re.M), r.out
    assert re.search(r"^not ok \d+ - iomesh iscsi.conf:node.conn\[0\].iscsi.MaxRecvDataSegmentLength"
                     r" # TODO recommended: ", r.out, re.M), r.out
    assert_in('  observed: "automatic (/etc/iscsi/iscsid.conf:1)"', r.out)
    p = prove(r.out)
    assert_eq(p.returncode, 1, p.stdout)
    assert_in("Failed 2/17 subtests", p.stdout)


def test_junit_read_by_junitparser():
    import junitparser
    r = with_output("junit", broken=True)
    assert_eq(r.code, 1)
    with tempfile.NamedTemporaryFile("w", suffix=".xml", delete=False) as f:
        f.write(r.out)
    try:
        x = subprocess.run(["xmllint", "--noout", f.name], capture_output=True, text=True)
        assert_eq(x.returncode, 0, x.stderr)
        xml = junitparser.JUnitXml.fromfile(f.name)
    finally:
        os.unlink(f.name)
    suites = list(xml)
    assert_eq([s.name for s in suites], ["iomesh"])
    s = suites[0]
    assert_eq(s.tests, 17)
    assert_eq(s.failures, 2)  # iscsi.conf:node.startup, selinux.config
    assert_eq(s.skipped, 5)   # three ignored by the site, nic.data-cidr, net.peers
    cases = {c.name: c for c in s}
    assert_eq(len(cases), 17)
    fail = cases["iscsi.conf:node.startup"]
    assert_eq(type(fail.result[0]).__name__, "Failure")
    assert_in("observed: automatic (/etc/iscsi/iscsid.conf:1)", fail.result[0].text)
    assert_eq(type(cases["nic.data-cidr"].result[0]).__name__, "Skipped")
    # Recommended failures are not JUnit failures.
    assert_eq(cases["iscsi.conf:node.conn[0].iscsi.MaxRecvDataSegmentLength"].result, [])
    assert_eq(cases["selinux.runtime"].result, [])
    assert_eq(cases["iscsi.installed"].classname, "nodeprep.iomesh")


def test_junit_escapes_markup():
    with FixtureRoot() as root:
        write(root, "/etc/nodeprep/profiles/x.conf",
              '[Check]\nId=selinux.runtime\nTitle=<b>"quotes" & \'apos\'</b>\n')
        write(root, "/sys/fs/selinux/enforce", "1")
        r = nodeprepctl("check", "--root", root, "--profile", "x", "--format", "junit")
        p = subprocess.run(["xmllint", "--noout", "-"], input=r.out, capture_output=True,
                           text=True)
        assert_eq(p.returncode, 0, p.stderr + r.out)
        assert_in('message="&lt;b&gt;&quot;quotes&quot; &amp; &apos;apos&apos;&lt;/b&gt;"', r.out)


def test_nagios():
    line_re = re.compile(r"^NODEPREP (OK|WARNING|CRITICAL|UNKNOWN) - [^|\n]+ \|( '[a-z0-9_.-]+'=\d+;;;0(;1)?)+\n$")
    r = with_output("nagios")
    assert_eq(r.code, 0, repr(r))
    assert line_re.match(r.out), r.out
    assert r.out.startswith("NODEPREP OK - iomesh: ready |"), r.out
    assert_in("'iomesh_ready'=1;;;0;1", r.out)
    r = with_output("nagios", broken=True)
    assert_eq(r.code, 2)
    assert line_re.match(r.out), r.out
    assert_in("CRITICAL - iomesh: not ready, 2 failing: iscsi.conf:node.startup, selinux.config",
              r.out)
    # Undecided (no bus: the iscsid checks are unknown) is Nagios UNKNOWN, 3.
    with FixtureRoot() as root:
        r = nodeprepctl("check", "--root", root, "--format", "nagios",
                        env={"DBUS_SYSTEM_BUS_ADDRESS": "unix:path=/nonexistent"})
        assert_eq(r.code, 3, repr(r))
        assert line_re.match(r.out), r.out
    # Only a recommended item fails: WARNING, 1.
    with FixtureRoot() as root, MockSystemd(ISCSID_READY) as m:
        install_kubelet(root, "1.28.2")
        r = nodeprepctl("check", "--root", root, "--format", "nagios", env=m.env)
        assert_eq(r.code, 1, repr(r))
        assert r.out.startswith("NODEPREP WARNING - iomesh: ready with warnings |"), r.out


def test_npd():
    r = with_output("npd")
    assert_eq((r.code, r.out), (0, "iomesh ready\n"))
    r = with_output("npd", broken=True)
    assert_eq(r.code, 1)
    assert_eq(r.out, "iomesh not ready: iscsi.conf:node.startup, selinux.config\n")
    # Many failures: one line of at most 80 characters.
    with FixtureRoot() as root, MockSystemd({}) as m:
        for p in ("/usr/sbin/iscsiadm", "/etc/iscsi/iscsid.conf", "/sys/module/iscsi_tcp",
                  "/etc/modules-load.d/iscsi_tcp.conf"):
            path = os.path.join(root, p.lstrip("/"))
            subprocess.run(["rm", "-rf", path], check=True)
        r = nodeprepctl("check", "--root", root, "--npd", env=m.env)
        assert_eq(r.code, 1)
        assert_eq(r.out.count("\n"), 1)
        assert len(r.out.rstrip("\n")) <= 80, r.out
        assert r.out.rstrip("\n").endswith("..."), r.out


def test_format_usage():
    r = nodeprepctl("check", "--format", "xml")
    assert_eq(r.code, 64)
    r = nodeprepctl("check", "--json", "--npd")
    assert_eq(r.code, 64)
    assert_in("exclude each other", r.err)


if __name__ == "__main__":
    run_tests(globals())
