#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Start-up probes each area once: a tool's version command runs once before READY=1.

Nothing is watched when nodeprepd starts, so every file the first evaluation reads is read before
its watch. Instead of probing every such area again once its watches are armed (what the settle
step did: the tools' version commands ran twice), nodeprepd compares each input with what it was
when read (device, inode, size, times, or absent; lib/util/root.c np_root_input_changed()) and
probes again only an area whose input changed in between: none, on a quiet host.

On the running system (tools are run only there, never under --root): a program of a name nobody
has, in a directory put first in PATH, appends a line to a counter file each time it runs.
"""
import os
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from npdaemon import Daemon  # noqa: E402
from nptest import Skip, run_tests  # noqa: E402

TOOL = "nodeprep-cfg-gap-fake-tool"
# A file changed within 2 s of its read compares as changed (NP_FILE_ID_RACY_SEC).
RACY = 2.2


def setup(tmp):
    bindir = os.path.join(tmp, "bin")
    os.makedirs(bindir)
    counter = os.path.join(tmp, "runs")
    prog = os.path.join(bindir, TOOL)
    with open(prog, "w") as f:
        f.write("#!/bin/sh\necho run >> %s\necho \"%s v1.2.3\"\n" % (counter, TOOL))
    os.chmod(prog, 0o755)
    profile = os.path.join(tmp, "startup-once.conf")
    with open(profile, "w") as f:
        f.write("[Profile]\nDescription=start-up test\n\n"
                "[Check]\nId=tool.version:%s\nTitle=the fake tool\nSeverity=required\n"
                "MinVersion=1.0\nSource=tests/daemon/test-startup-once.py\n" % TOOL)
    config = os.path.join(tmp, "nodeprep.conf")
    with open(config, "w") as f:
        f.write("[Site]\nProfiles=%s\n\n[Daemon]\nFeatureFile=\nMetricsFile=\n" % profile)
    return bindir, counter, config


def runs(counter):
    if not os.path.exists(counter):
        return 0
    with open(counter) as f:
        return len(f.read().splitlines())


def check(p, cid):
    for prof in p["report"]["profiles"]:
        for c in prof["checks"]:
            if c["id"] == cid:
                return c
    raise AssertionError("no check %s: %s" % (cid, p["report"]["profiles"]))


def test_tool_runs_once_at_start():
    if os.geteuid() != 0:
        raise Skip("not root: nodeprepd on the running system reads what only root may")
    tmp = tempfile.mkdtemp(prefix="nodeprep-startup-once-")
    try:
        bindir, counter, config = setup(tmp)
        time.sleep(RACY)  # the files are not "just changed" when read
        env = {"PATH": bindir + ":" + os.environ.get("PATH", "/usr/bin:/bin")}
        start = time.monotonic()
        with Daemon("/", config=config, activate=False, extra_env=env) as d:
            ready = time.monotonic() - start
            n = runs(counter)
            p = d.report()
            print("# start-up: %d run(s) of %s, READY=1 after %.3f s, settled %s" % (
                n, TOOL, ready, p["evaluation"]["settled"]))
            c = check(p, "tool.version:" + TOOL)
            assert c["status"] == "pass", c
            assert n == 1, "%s ran %d times before READY=1 (evaluation %s)" % (
                TOOL, n, p["evaluation"])
            assert "tools" not in p["evaluation"]["settled"], p["evaluation"]
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


run_tests(globals())
