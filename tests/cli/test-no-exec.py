#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""A --root tree is data, never code; version probes on the running system are contained.

Under --root nothing in the tree is run (kubelet, kubectl, helm are scripts that would leave a
marker): a version is read from dpkg's database or is unknown with the reason. On the running
system a version probe gets a 10 s timeout after which its whole process group is killed, at
most 4096 bytes of output, stdin from /dev/null and a fixed environment.
"""
import os
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from nptest import (FixtureRoot, assert_eq, assert_in, install_kubelet, nodeprepctl,  # noqa: E402
                    remove, run_tests, write)


def marker_script(marker, version_line):
    return "#!/bin/sh\ntouch '%s'\necho '%s'\n" % (marker, version_line)


def test_nothing_under_root_is_executed():
    with FixtureRoot() as root:
        marker = os.path.join(os.path.dirname(root), "ran")
        remove(root, "/var/lib/dpkg")
        write(root, "/usr/bin/kubelet", marker_script(marker, "Kubernetes v1.21.14"), 0o755)
        write(root, "/usr/local/bin/kubectl", marker_script(marker, "Client Version: v1.28.2"),
              0o755)
        write(root, "/usr/bin/helm", marker_script(marker, "v3.12.0+gc9f554d"), 0o755)
        write(root, "/usr/bin/crane", marker_script(marker, "0.19.1"), 0o755)
        profiles = ["--profile", "iomesh", "--profile", "influxdb-clustered-client",
                    "--profile", "the-things-stack-client"]
        r = nodeprepctl("check", "--json", "--root", root, *profiles)
        assert r.code in (0, 1, 2), repr(r)
        c = r.check("kubelet.version", "iomesh")
        assert_eq(c["status"], "unknown")
        assert_in("/usr/bin/kubelet: not run: nothing under --root is executed", c["message"])
        c = r.check("tool.version:kubectl", "influxdb-clustered-client")
        assert_eq(c["status"], "unknown")
        assert_in("/usr/local/bin/kubectl: not run: nothing under --root is executed",
                  c["message"])
        assert_eq(r.status("tool.version:helm", "the-things-stack-client"), "unknown")
        # Every verb that probes.
        for args in (["facts", "--json"], ["facts"], ["check"], ["plan", "--local", "--json"],
                     ["metrics", "--local"], ["check", "--npd"]):
            r = nodeprepctl(*args, "--root", root, *profiles)
            assert r.code in (0, 1, 2), repr(r)
        assert not os.path.exists(marker), "a program of the --root tree was run"


def test_version_from_dpkg_database():
    with FixtureRoot() as root:
        marker = os.path.join(os.path.dirname(root), "ran")
        install_kubelet(root, "1.21.14")
        write(root, "/usr/bin/kubelet", marker_script(marker, "Kubernetes v1.99.0"), 0o755)
        r = nodeprepctl("check", "--json", "--root", root)
        c = r.check("kubelet.version")
        assert_eq(c["status"], "pass", c)
        assert_in("1.21.14", c["observed"])
        f = nodeprepctl("facts", "--json", "--root", root).json
        assert_in("dpkg database", f["system"]["kubelet"]["output"])
        assert not os.path.exists(marker)
        # A package that is removed (config files left) says nothing.
        status = os.path.join(root, "var/lib/dpkg/status")
        with open(status) as fh:
            text = fh.read().replace("install ok installed", "deinstall ok config-files")
        write(root, "/var/lib/dpkg/status", text)
        r = nodeprepctl("check", "--json", "--root", root)
        assert_eq(r.status("kubelet.version"), "unknown")


class FakeTools:
    """A private PATH directory for tools on the running system."""

    def __enter__(self):
        self.dir = tempfile.mkdtemp(prefix="nodeprep-bin-")
        self.env = {"PATH": self.dir + ":/usr/bin:/bin", "NODEPREP_LEAK_TEST": "leaked",
                    "LD_LIBRARY_PATH": "/nonexistent"}
        return self

    def add(self, name, text):
        write(self.dir, "/" + name, text, 0o755)

    def __exit__(self, *exc):
        shutil.rmtree(self.dir, ignore_errors=True)
        return False


def kubectl_check(tools):
    return nodeprepctl("check", "--json", "--profile", "influxdb-clustered-client",
                       env=tools.env, timeout=120)


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is gone for our purpose.
    with open("/proc/%d/stat" % pid) as f:
        return f.read().split(")")[-1].split()[0] != "Z"


def test_timeout_kills_the_process_group():
    with FakeTools() as t:
        pidfile = os.path.join(t.dir, "child.pid")
        t.add("kubectl", "#!/bin/sh\nsleep 1000 &\necho $! > '%s'\nexec sleep 1000\n" % pidfile)
        start = time.monotonic()
        r = kubectl_check(t)
        took = time.monotonic() - start
        c = r.check("tool.version:kubectl")
        assert_eq(c["status"], "unknown")
        assert_in("timed out after 10 s (killed)", c["message"])
        assert took < 60, took
        with open(pidfile) as f:
            child = int(f.read())
        for _ in range(50):
            if not alive(child):
                break
            time.sleep(0.1)
        assert not alive(child), "the tool's own child survived the timeout"


def test_output_is_bounded():
    with FakeTools() as t:
        t.add("kubectl", "#!/bin/sh\nwhile :; do echo 'Client Version: v1.28.2 and more'; done\n")
        r = kubectl_check(t)
        c = r.check("tool.version:kubectl")
        assert_eq(c["status"], "unknown")
        assert_in("printed more than 4096 bytes (killed)", c["message"])


def test_clean_environment_and_no_stdin():
    with FakeTools() as t:
        t.add("kubectl", "#!/bin/sh\n"
                         "[ -z \"$NODEPREP_LEAK_TEST$LD_LIBRARY_PATH\" ] || { echo env leaked; exit 3; }\n"
                         "[ \"$PATH\" = /usr/sbin:/usr/bin:/sbin:/bin ] || { echo PATH $PATH; exit 4; }\n"
                         "if read line; then echo stdin open; exit 5; fi\n"
                         "echo 'Client Version: v1.28.2'\n")
        r = nodeprepctl("check", "--json", "--profile", "influxdb-clustered-client",
                        env=t.env, input="a line on stdin\n")
        c = r.check("tool.version:kubectl")
        assert_eq(c["status"], "pass", c)


if __name__ == "__main__":
    run_tests(globals())
