#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""nodeprepctl cluster on the reports of real `nodeprepctl check --json` runs (fixture roots, one
per worker, systemd a mock): files and a stream on stdin, arrays and GetReport replies, the
per-profile line, the matrix, the findings, --json, and the exit codes of `check`. The data
network between real hosts is tested in tests/root/test-cluster-netns.py."""
import json
import os
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from nptest import (ISCSID_READY, MockSystemd, assert_eq, assert_in, check_json,  # noqa: E402
                    make_root, nodeprepctl, read, run_tests, write)


def worker(tmp, i, machine_id=None):
    root = make_root("prepared", os.path.join(tmp, "w%d" % i))
    write(root, "/proc/sys/kernel/hostname", "worker-%d\n" % i)
    write(root, "/etc/machine-id", (machine_id or ("%032x" % (0xabc0 + i))) + "\n")
    return root


def reports(roots, env):
    out = []
    for root in roots:
        r = check_json(root, env=env)
        assert r.code in (0, 1, 2), repr(r)
        out.append(r.out)
    return out


def cluster(*args, input=None):
    return nodeprepctl("cluster", *args, input=input)


def test_ready_not_ready_undecided():
    tmp = tempfile.mkdtemp(prefix="nodeprep-cluster-")
    try:
        roots = [worker(tmp, i) for i in range(1, 5)]
        with MockSystemd(ISCSID_READY) as m:
            texts = reports(roots, m.env)
        files = []
        for i, t in enumerate(texts):
            files.append(os.path.join(tmp, "r%d.json" % (i + 1)))
            with open(files[-1], "w") as f:
                f.write(t)
        j = json.loads(texts[0])
        assert_eq(j["host"]["machine_id"], "%032x" % 0xabc1, "machine-id in the report")
        assert_eq(j["profiles"][0]["min_ready_nodes"], 3, "IOMesh's MinReadyNodes=")
        assert "cluster" in j and j["cluster"]["data_address"] is None, j.get("cluster")

        r = cluster(*files)
        assert_eq(r.code, 0, repr(r))
        assert_in("iomesh: 4 of 4 workers ready (at least 3 needed): READY\n", r.out)
        # The same reports as one stream on stdin (pretty-printed, one after the other).
        r = cluster("-", input="".join(texts))
        assert_eq(r.code, 0, repr(r))
        assert_in("4 of 4 workers ready", r.out)
        # One per line, and a JSON array of them, and GetReport replies.
        lines = "\n".join(json.dumps(json.loads(t)) for t in texts)
        assert_eq(cluster("-", input=lines).code, 0)
        arr = json.dumps([json.loads(t) for t in texts])
        assert_eq(cluster("-", input=arr).code, 0)
        replies = "".join(json.dumps({"report": json.loads(t), "evaluation": {}}) for t in texts)
        assert_eq(cluster("-", input=replies).code, 0)

        # Two of four not ready: 2 < 3, NOT READY, exit 1, the failing checks in the matrix.
        for root in roots[2:]:
            conf = read(root, "/etc/iscsi/iscsid.conf")
            write(root, "/etc/iscsi/iscsid.conf",
                  conf.replace("node.startup = manual", "node.startup = automatic"))
        with MockSystemd(ISCSID_READY) as m:
            texts = reports(roots, m.env)
        r = cluster("-", input="".join(texts))
        assert_eq(r.code, 1, repr(r))
        assert_in("iomesh: 2 of 4 workers ready (at least 3 needed): NOT READY\n", r.out)
        matrix = r.out.split("Not passing")[1].splitlines()
        header = matrix[1].split()
        assert_eq(header, ["CHECK", "worker-1", "worker-2", "worker-3", "worker-4"], "columns")
        row = [l for l in matrix if l.split()[:1] == ["iscsi.conf:node.startup"]][0]
        assert_eq(row.split()[1:], ["pass", "pass", "FAIL", "FAIL"], "row")
        # The site file's ignored checks are marked, not hidden.
        row = [l for l in matrix if l.split()[:1] == ["disk.free-ssd"]]
        assert row and "*" in row[0], matrix
        assert_in("worker-3 iscsi.conf:node.startup FAIL:", r.out)
        rj = cluster("--json", "-", input="".join(texts))
        assert_eq(rj.code, 1)
        v = json.loads(rj.out)
        assert_eq(v["verdict"], "not-ready")
        assert_eq(v["profiles"][0]["ready"], 2)
        assert_eq(v["profiles"][0]["min_ready_nodes"], 3)
        row = [x for x in v["not_passing"] if x["check"] == "iscsi.conf:node.startup"][0]
        assert_eq(row["status"], {"worker-1": "pass", "worker-2": "pass", "worker-3": "fail",
                                  "worker-4": "fail"})

        # Without systemd's answer the units are unknown everywhere: undecided, exit 2.
        for root in roots[2:]:
            conf = read(root, "/etc/iscsi/iscsid.conf")
            write(root, "/etc/iscsi/iscsid.conf",
                  conf.replace("node.startup = automatic", "node.startup = manual"))
        texts = reports(roots, {"DBUS_SYSTEM_BUS_ADDRESS": "unix:path=/nonexistent"})
        r = cluster("-", input="".join(texts))
        assert_eq(r.code, 2, repr(r))
        assert_in("0 of 4 workers ready (at least 3 needed; 4 undecided): UNDECIDED", r.out)
    finally:
        shutil.rmtree(tmp)


def test_cloned_workers():
    """Two roots with one machine-id (a cloned image): both held back, named in a finding."""
    tmp = tempfile.mkdtemp(prefix="nodeprep-cluster-")
    try:
        roots = [worker(tmp, 1), worker(tmp, 2, machine_id="f" * 32),
                 worker(tmp, 3, machine_id="f" * 32)]
        with MockSystemd(ISCSID_READY) as m:
            texts = reports(roots, m.env)
        r = cluster("-", input="".join(texts))
        assert_eq(r.code, 1, repr(r))
        assert_in("iomesh: 1 of 3 workers ready (at least 3 needed; 2 more held back by a "
                  "cluster finding): NOT READY", r.out)
        assert_in("FAIL  duplicate-machine-id: machine-id %s is on 2 hosts: worker-2, worker-3"
                  % ("f" * 32), r.out)
    finally:
        shutil.rmtree(tmp)


def test_usage_and_bad_input():
    r = cluster()
    assert_eq(r.code, 64, repr(r))
    assert_in("give the workers' reports", r.err)
    r = cluster("/nonexistent/report.json")
    assert_eq(r.code, 65, repr(r))
    assert_in("/nonexistent/report.json: No such file or directory", r.err)
    r = cluster("-", input='{"schema_version": 1, "profiles": []} {"not": "a report"}')
    assert_eq(r.code, 65, repr(r))
    assert_in("stdin #2: not a nodeprep report", r.err)
    r = cluster("-", input='{"schema_version": 1, "profiles": [')
    assert_eq(r.code, 65, repr(r))
    assert_in("the JSON ends early", r.err)
    r = cluster("-", input="  \n")
    assert_eq(r.code, 65, repr(r))
    assert_in("stdin: no report in it", r.err)
    r = nodeprepctl("cluster", "--root", "/", "-", input="")
    assert_eq(r.code, 64, repr(r))
    r = nodeprepctl("help", "cluster")
    assert_in("Exit status as check", r.out)


def test_facts_text_peers():
    """`nodeprepctl facts` shows the peers area: where they are probed from, each peer's row (the
    rows of peers that answer are in tests/root/test-cluster-netns.py, which has a network)."""
    root = make_root()
    conf = "/etc/nodeprep/nodeprep.conf.d/50-peers.conf"
    write(root, conf, "[Settings]\nDataCIDR=127.0.0.0/8\n[Cluster]\nPeers=127.0.0.1\n")
    r = nodeprepctl("facts", "--root", root)
    assert_eq(r.code, 0, repr(r))
    area = r.out[r.out.index("\nPeers\n"):]
    assert_in("  from                   127.0.0.1 on lo, MTU ", area)
    assert_in("(DataCIDR 127.0.0.0/8, ICMP by ", area)
    assert_in("  127.0.0.1              this host\n", area)
    # No address in the data network: nothing is probed, and the row says so.
    write(root, conf, "[Settings]\nDataCIDR=10.255.255.0/24\n[Cluster]\nPeers=10.255.255.7\n")
    r = nodeprepctl("facts", "--root", root)
    area = r.out[r.out.index("\nPeers\n"):]
    assert_in("  from                   unknown: no address in the data network\n"
              "  10.255.255.7           not probed\n", area)
    # Without Peers=, no peers area.
    os.unlink(os.path.join(root, conf.lstrip("/")))
    assert "\nPeers\n" not in nodeprepctl("facts", "--root", root).out
    shutil.rmtree(os.path.dirname(root), ignore_errors=True)


if __name__ == "__main__":
    run_tests(globals())
