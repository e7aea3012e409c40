#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""No change falls between a probe's read and the watch on what it read (issue 15).

The watches are derived from what the probes read, so a file read for the first time is watched
only after the read. nodeprepd closes that gap by probing such an area once more after arming its
new watches when one of its inputs changed since the read (daemon/manager.c job_settle(),
lib/util/root.c np_root_input_changed()). The test build's hook NODEPREP_TEST_PAUSE_BEFORE_ARM
stops nodeprepd between the probe and the arming; the test edits a newly read file there. Also: a
file flipping between present and absent does not start an evaluation loop.
"""
import os
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from npdaemon import Daemon, wait_file, wait_report  # noqa: E402
from nptest import Skip, make_root, run_tests, write  # noqa: E402

WITHIN = 1.0
KUBECTL = "tool.version:kubectl"
PROFILE = "flow-like-client"


def need_hook():
    if os.environ.get("NODEPREP_FAULT_INJECTION") != "1":
        raise Skip("nodeprepd built without -Dfault-injection=true (the pause hook)")


def setup_root():
    """kubectl in /usr/bin: the search stops there, /snap/bin is not read (nor watched)."""
    root = make_root()
    write(root, "/etc/nodeprep/nodeprep.conf",
          "[Site]\nProfiles=%s\n\n[Daemon]\nFeatureFile=\nMetricsFile=\n" % PROFILE)
    write(root, "/usr/bin/kubectl", "#!/bin/sh\n", 0o755)
    os.makedirs(os.path.join(root, "snap/bin"), exist_ok=True)
    return root


def status(p):
    for prof in p["report"]["profiles"]:
        if prof["name"] == PROFILE:
            for c in prof["checks"]:
                if c["id"] == KUBECTL:
                    return c["status"]
    raise AssertionError("no check %s in %s" % (KUBECTL, PROFILE))


def wait(d, pred, within=WITHIN):
    return wait_report(d, pred, within)


def test_edit_between_probe_and_arming():
    """kubectl leaves /usr/bin: the search now reads /snap/bin for the first time. nodeprepd is
    held before watching it while kubectl is installed there; once let go, the verdict must see
    that kubectl within a second (before the fix: only at the hourly re-scan)."""
    need_hook()
    root = setup_root()
    gate = os.path.join(os.path.dirname(root), "pause-gate")
    # Not socket-activated: systemd-socket-activate passes on only the variables it is told.
    with Daemon(root, activate=False, extra_env={"NODEPREP_TEST_PAUSE_BEFORE_ARM": gate}) as d:
        p = d.report()
        assert status(p) != "fail", p
        # Start-up read every file for the first time: probed again only where an input changed
        # since (here the files were written just before: "racy", compared as changed; the
        # count on a quiet host is tests/daemon/test-startup-once.py's).
        serial = p["evaluation"]["serial"]

        open(gate, "w").close()
        os.unlink(os.path.join(root, "usr/bin/kubectl"))
        wait_file(gate + ".paused")
        # Paused after the probe that found kubectl nowhere, before /snap/bin is watched.
        write(root, "/snap/bin/kubectl", "#!/bin/sh\n", 0o755)
        os.unlink(gate)
        p = wait(d, lambda p: p["evaluation"]["serial"] > serial and status(p) != "fail")
        assert p, "kubectl installed in /snap/bin between the probe and the watch: still " \
            "'fail' %.1f s later (%s)" % (WITHIN, d.report()["evaluation"])
        assert "tools" in p["evaluation"]["settled"], p["evaluation"]
        print("# the verdict saw /snap/bin/kubectl; evaluation %s" % p["evaluation"])


def test_no_settle_in_steady_state():
    """An edit to a file already watched re-probes its area once, without a settle round."""
    need_hook()
    root = setup_root()
    with Daemon(root) as d:
        serial = d.report()["evaluation"]["serial"]
        write(root, "/usr/bin/kubectl", "#!/bin/sh\n# v2\n", 0o755)
        p = d.wait_area(serial, "tools")
        assert p["evaluation"]["settled"] == [], p["evaluation"]
        time.sleep(0.5)
        assert d.report()["evaluation"]["probes"]["tools"] == p["evaluation"]["probes"]["tools"], \
            "tools probed again after one edit: %s" % d.report()["evaluation"]


def test_flipping_file_does_not_loop():
    """/usr/bin/kubectl comes and goes 25 times and goes (each time the search reads /snap/bin or stops
    before it): once it stops, nodeprepd reaches the last state within a second and then stays
    quiet: the settle rounds do not feed each other."""
    need_hook()
    root = setup_root()
    path = os.path.join(root, "usr/bin/kubectl")
    with Daemon(root) as d:
        start = d.report()["evaluation"]["probes"]["tools"]

        def flip():
            for i in range(51):
                if i % 2 == 0:
                    os.unlink(path)
                else:
                    write(root, "/usr/bin/kubectl", "#!/bin/sh\n", 0o755)
                time.sleep(0.015)

        t = threading.Thread(target=flip)
        t.start()
        t.join()
        # 51 changes, the last one removing it: not installed.
        assert not os.path.exists(path)
        p = wait(d, lambda p: status(p) == "fail")
        assert p, "kubectl removed: no 'fail' within %.1f s (%s)" % (WITHIN, d.report())
        time.sleep(0.3)  # the coalesced batch after the last change
        # The tools area's probes: host-wide areas (disks, links, fs) may change meanwhile.
        settled = d.report()["evaluation"]["probes"]["tools"]
        time.sleep(2)
        end = d.report()["evaluation"]
        assert end["probes"]["tools"] == settled, "tools still probed 2 s after the last " \
            "change: %d -> %d (%s)" % (settled, end["probes"]["tools"], end)
        print("# 51 changes: %d probes of the tools area, then quiet" % (settled - start))
        assert "keep changing" not in d.output(), d.output()


run_tests(globals())
