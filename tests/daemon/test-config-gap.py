#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""No change to the configuration falls between its load and the watches on what it loaded.

nodeprepd reads the site file and the profiles, then arms the watches that follow from them (the
profiles named, their NAME.conf.d drop-in directories). A file edited between the two, where no
watch was yet, used to be seen only at the next event or the hourly re-scan. When the arming added
watches, nodeprepd now loads the configuration once more (daemon/manager.c
manager_load_config_watched()). The test build's hook NODEPREP_TEST_PAUSE_BEFORE_CONFIG_ARM stops
nodeprepd between a load and the arming; the test edits the configuration there.
"""
import os
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from npdaemon import Daemon, wait_file, wait_report  # noqa: E402
from nptest import Skip, make_root, run_tests, write  # noqa: E402

WITHIN = 1.0
SITE = "/etc/nodeprep/nodeprep.conf"


def need_hook():
    if os.environ.get("NODEPREP_FAULT_INJECTION") != "1":
        raise Skip("nodeprepd built without -Dfault-injection=true (the pause hook)")


def site(profiles):
    return "[Site]\nProfiles=%s\n\n[Daemon]\nFeatureFile=\nMetricsFile=\n" % profiles


def profiles(p):
    return [prof["name"] for prof in p["report"]["profiles"]]


def kata(p):
    for prof in p["report"]["profiles"]:
        if prof["name"] == "flow-like":
            for c in prof["checks"]:
                if c["id"] == "runtime.kata":
                    return c["status"]
    return None


def wait(d, pred, within=WITHIN):
    return wait_report(d, pred, within)


def in_the_gap(gate, edit):
    """Once nodeprepd pauses after a load, edit, then let it go (in a thread: the start-up's
    pause comes before READY=1)."""
    def run():
        try:
            wait_file(gate + ".paused")
            edit()
        finally:
            os.unlink(gate)
    t = threading.Thread(target=run)
    t.start()
    return t


def test_site_file_edited_at_start():
    """The site file is edited between the first load and its watch: the first verdicts already
    use the edited file (before: the old profile list until the re-scan)."""
    need_hook()
    root = make_root()
    write(root, SITE, site("flow-like-client"))
    gate = os.path.join(os.path.dirname(root), "config-gate")
    open(gate, "w").close()
    t = in_the_gap(gate, lambda: write(root, SITE, site("flow-like-client iomesh")))
    with Daemon(root, activate=False,
                extra_env={"NODEPREP_TEST_PAUSE_BEFORE_CONFIG_ARM": gate}) as d:
        t.join()
        p = wait(d, lambda p: "iomesh" in profiles(p))
        assert p, "site file edited between the load and the watch: still %s %.1f s later" % (
            profiles(d.report()), WITHIN)
        assert not os.path.exists(gate + ".paused")


def test_dropin_of_a_new_profile():
    """Profiles= names flow-like: its drop-in directory is watched only after that load. A drop-in
    written there meanwhile (UseKata=yes: the Kata check is no longer skipped) is seen."""
    need_hook()
    root = make_root()
    write(root, SITE, site("flow-like-client"))
    # The directory exists: only the file written is the change (a directory created is an
    # event of the profiles directory, watched all along).
    os.makedirs(os.path.join(root, "etc/nodeprep/profiles/flow-like.conf.d"))
    gate = os.path.join(os.path.dirname(root), "config-gate")
    with Daemon(root, activate=False,
                extra_env={"NODEPREP_TEST_PAUSE_BEFORE_CONFIG_ARM": gate}) as d:
        serial = d.report()["evaluation"]["serial"]
        open(gate, "w").close()
        t = in_the_gap(gate, lambda: write(root, "/etc/nodeprep/profiles/flow-like.conf.d/50-kata.conf",
                                           "[Settings]\nUseKata=yes\n"))
        write(root, SITE, site("flow-like-client flow-like"))
        t.join()
        p = wait(d, lambda p: p["evaluation"]["serial"] > serial and kata(p) not in (None, "skip"))
        assert p, "drop-in written between the load and its directory's watch: runtime.kata " \
            "still %s %.1f s later" % (kata(d.report()), WITHIN)


run_tests(globals())
