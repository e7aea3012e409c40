#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""nodeprepd sees, within a second, a change in each place its hand-kept watch list missed
(issue 15): a tool in /usr/local/sbin and in /snap/bin, RKE2's kubelet, Kata's
containerd-shim-kata-v2 in /usr/local/bin, and a unit file in each systemd unit directory."""
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from npdaemon import Daemon  # noqa: E402
from nptest import make_root, run_tests, write  # noqa: E402

WITHIN = 1.0
UNIT_DIRS = ["/etc/systemd/system", "/run/systemd/system", "/usr/local/lib/systemd/system",
             "/usr/lib/systemd/system", "/lib/systemd/system"]


def setup_root():
    root = make_root()
    write(root, "/etc/nodeprep/nodeprep.conf",
          "[Site]\nProfiles=iomesh flow-like flow-like-client\n\n"
          "[Daemon]\nFeatureFile=\nMetricsFile=\n")
    write(root, "/etc/nodeprep/profiles/flow-like.conf.d/50-kata.conf", "[Settings]\nUseKata=yes\n")
    # No packaged kubelet: the probe looks on, down to RKE2's.
    os.unlink(os.path.join(root, "usr/bin/kubelet"))
    # The directories exist: only the file written is the change (a directory created may wake
    # a watch on its parent for another reason).
    for d in ("/usr/local/sbin", "/usr/local/bin", "/snap/bin", "/var/lib/rancher/rke2/bin"):
        os.makedirs(os.path.join(root, d.lstrip("/")), exist_ok=True)
    for d in UNIT_DIRS:
        os.makedirs(os.path.join(root, d.lstrip("/")), exist_ok=True)
    # The unit directories start empty of iscsid.service (the package's copy goes).
    for d in UNIT_DIRS:
        p = os.path.join(root, d.lstrip("/"), "iscsid.service")
        if os.path.lexists(p):
            os.unlink(p)
    return root


def check(p, cid, profile):
    for prof in p["report"]["profiles"]:
        if prof["name"] == profile:
            for c in prof["checks"]:
                if c["id"] == cid:
                    return c
    raise AssertionError("no check %s in %s" % (cid, profile))


def wait(d, what, pred):
    """The first report (with facts) for which pred holds, at most WITHIN seconds away."""
    start = time.time()
    while True:
        p = d.report(facts=True)
        if pred(p):
            return time.time() - start
        if time.time() - start > WITHIN:
            return None  # listed at the end: every place is tried
        time.sleep(0.02)


def unit_file(p):
    facts = p["report"].get("facts") or p.get("facts")
    for u in facts["units"]:
        if u["name"] == "iscsid.service":
            return u["file"]
    return None


def test_previously_unwatched_places():
    root = setup_root()
    with Daemon(root) as d:
        p = d.report(facts=True)
        assert check(p, "tool.version:kubectl", "flow-like-client")["status"] == "fail", p
        assert check(p, "tool.version:helm", "flow-like-client")["status"] == "fail", p
        assert check(p, "kubelet.version", "iomesh")["status"] == "skip", p
        assert check(p, "runtime.kata", "flow-like")["status"] == "fail", p
        took = {}

        write(root, "/usr/local/sbin/kubectl", "#!/bin/sh\n", 0o755)
        took["/usr/local/sbin/kubectl"] = wait(
            d, "/usr/local/sbin/kubectl", lambda p: check(
                p, "tool.version:kubectl", "flow-like-client")["status"] != "fail")

        write(root, "/snap/bin/helm", "#!/bin/sh\n", 0o755)
        took["/snap/bin/helm"] = wait(d, "/snap/bin/helm", lambda p: check(
            p, "tool.version:helm", "flow-like-client")["status"] != "fail")

        write(root, "/var/lib/rancher/rke2/bin/kubelet", "#!/bin/sh\n", 0o755)
        took["RKE2 kubelet"] = wait(d, "/var/lib/rancher/rke2/bin/kubelet", lambda p: check(
            p, "kubelet.version", "iomesh")["status"] != "skip")

        write(root, "/usr/local/bin/containerd-shim-kata-v2", "#!/bin/sh\n", 0o755)
        took["containerd-shim-kata-v2"] = wait(
            d, "/usr/local/bin/containerd-shim-kata-v2",
            lambda p: check(p, "runtime.kata", "flow-like")["status"] == "pass")

        # Each unit directory, from the lowest to the highest priority: each copy wins.
        for u in reversed(UNIT_DIRS):
            path = u + "/iscsid.service"
            write(root, path, "[Service]\nExecStart=/sbin/iscsid\n")
            took[path] = wait(d, path, lambda p, path=path: unit_file(p) == path)
        for what, t in took.items():
            print("# %s: %s" % (what, "new verdict after %.3f s" % t if t is not None else
                                "no new verdict"))
        missed = [what for what, t in took.items() if t is None]
        assert not missed, "no new verdict within %.1f s after editing: %s" % (
            WITHIN, ", ".join(missed))


run_tests(globals())
