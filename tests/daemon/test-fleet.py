#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Fleet outputs of the real binaries, each read the way its consumer reads it:

- the Node Feature Discovery feature file nodeprepd keeps, parsed with NFD's local-source rules
  and Kubernetes' label validation (ported below: neither NFD nor apimachinery is packaged in
  Debian), written atomically and only when a value changes;
- Prometheus metrics (`nodeprepctl metrics`, the daemon's MetricsFile=), checked by promtool
  (Debian package prometheus) and against the report they come from;
- node-problem-detector's custom-plugin protocol for `status --npd`, run the way NPD runs a
  rule of the shipped example config (packaging/npd/), whose config is checked with NPD's own
  validation rules."""
import calendar
import json
import os
import re
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from npdaemon import Daemon  # noqa: E402
from npmetrics import parse_metrics, sample  # noqa: E402
from nptest import (NODEPREPCTL, SRCDIR, Skip, assert_eq, assert_in, make_failing_root,  # noqa: E402
                    make_root, nodeprepctl, read, require_root, run_tests, write)

NFD_FILE = "/etc/kubernetes/node-feature-discovery/features.d/nodeprep"
PROM_FILE = "/var/lib/node_exporter/textfile_collector/nodeprep.prom"

# A profile whose readiness one iscsid.conf line flips.
TOGGLE_PROFILE = """[Profile]
Description=Test profile: one iSCSI setting
Source=tests/daemon/test-fleet.py

[Check]
Id=iscsi.conf:node.startup
Severity=required
Expect=manual
Source=test
"""


# --- Node Feature Discovery's rules ------------------------------------------------------------

# k8s.io/apimachinery/pkg/util/validation: IsQualifiedName (label keys), IsValidLabelValue.
QUALIFIED_NAME = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
NFD_MAX_FILE_SIZE = 65536  # source/local/local.go MaxFeatureFileSize


def nfd_read_dir(features_d, now=None):
    """source/local/local.go getFeaturesFromFiles + parseFeatureFile: every regular file not
    starting with a dot, at most 64 KiB, split on \\n, lines trimmed, '#' lines are comments or
    '# +' directives, the rest NAME[=VALUE] (a bare NAME is "true"). parseDirectives: only
    "# +expiry-time=RFC3339" is ours; from it on, lines are ignored once it is before now (the
    time of NFD's re-discovery, default the real one)."""
    now = time.time() if now is None else now
    labels = {}
    for name in sorted(os.listdir(features_d)):
        if name.startswith("."):
            continue
        path = os.path.join(features_d, name)
        if not os.path.isfile(path):
            continue
        size = os.stat(path).st_size
        assert size <= NFD_MAX_FILE_SIZE, "%s: %d bytes, NFD ignores files over 64 KiB" % (path, size)
        expiry = now  # parsingOpts.ExpiryTime starts at now: not Before(now)
        for line in open(path, "rb").read().split(b"\n"):
            line = line.decode().strip()
            if not line:
                continue
            if line.startswith("#"):
                if line.startswith("# +"):
                    key, _, value = line[3:].partition("=")
                    assert key == "expiry-time", "unexpected NFD directive %r" % line
                    expiry = calendar.timegm(time.strptime(value.strip(), "%Y-%m-%dT%H:%M:%SZ"))
                continue
            if expiry < now:
                continue
            key, _, value = line.partition("=")
            labels[key] = value if "=" in line else "true"
    return labels


def nfd_validate_label(key, value):
    """What nfd-master accepts as a node label (apimachinery validation; kubernetes.io and
    k8s.io namespaces are NFD's own)."""
    assert "/" in key, "%s: without a namespace NFD would prefix feature.node.kubernetes.io" % key
    prefix, name = key.split("/", 1)
    assert len(prefix) <= 253 and DNS1123_SUBDOMAIN.match(prefix), "bad prefix in %r" % key
    assert not (prefix.endswith("kubernetes.io") or prefix.endswith("k8s.io")), key
    assert len(name) <= 63 and QUALIFIED_NAME.match(name), "bad label name %r" % key
    assert len(value) <= 63 and LABEL_VALUE.match(value), "bad label value %r=%r" % (key, value)


def feature_dir(root):
    return os.path.join(root, os.path.dirname(NFD_FILE).lstrip("/"))


def labels_of(root):
    labels = nfd_read_dir(feature_dir(root))
    for k, v in labels.items():
        nfd_validate_label(k, v)
    return labels


def wait_labels(root, pred, what, timeout=10):
    deadline = time.time() + timeout
    labels = None
    while time.time() < deadline:
        try:
            labels = labels_of(root)
            if pred(labels):
                return labels
        except FileNotFoundError:
            pass
        time.sleep(0.05)
    raise AssertionError("%s: labels are %r" % (what, labels))


def site(root, extra=""):
    write(root, "/etc/nodeprep/nodeprep.conf", "[Site]\nProfiles=toggle\n" + extra)
    write(root, "/etc/nodeprep/profiles/toggle.conf", TOGGLE_PROFILE)


def set_startup(root, value):
    conf = read(root, "/etc/iscsi/iscsid.conf")
    conf = re.sub(r"(?m)^node\.startup = .*$", "node.startup = " + value, conf)
    write(root, "/etc/iscsi/iscsid.conf", conf)


def test_feature_file_follows_the_verdict():
    """NFD labels: valid for NFD and Kubernetes, in step with the report, replaced by rename
    only when a value changes, no temporary file left behind."""
    require_root()
    root = make_root()
    site(root)
    with Daemon(root) as d:
        p = d.report(facts=True)
        labels = wait_labels(root, lambda l: "nodeprep.io/toggle.ready" in l, "first write")
        assert_eq(labels["nodeprep.io/toggle.ready"], "true", "ready with node.startup = manual")
        assert_eq(p["report"]["profiles"][0]["ready"], True, "report")
        # The toggle profile looks at neither disks nor links: no figures for them.
        assert_eq(sorted(labels), ["nodeprep.io/toggle.ready"], "labels")
        path = os.path.join(root, NFD_FILE.lstrip("/"))
        st = os.stat(path)
        assert_eq(st.st_mode & 0o7777, 0o644, "mode")
        assert_eq(os.listdir(feature_dir(root)), ["nodeprep"], "directory holds only the file")

        # Re-probed, nothing changed: not rewritten (same inode, same mtime).
        serial = d.report()["evaluation"]["serial"]
        write(root, "/etc/iscsi/iscsid.conf", read(root, "/etc/iscsi/iscsid.conf"))
        d.wait_area(serial, "iscsi")
        st2 = os.stat(path)
        assert_eq((st2.st_ino, st2.st_mtime_ns), (st.st_ino, st.st_mtime_ns), "unchanged file")

        # A verdict changes: a new file renamed over the old one.
        set_startup(root, "automatic")
        labels = wait_labels(root, lambda l: l.get("nodeprep.io/toggle.ready") == "false",
                             "not ready after node.startup = automatic")
        assert os.stat(path).st_ino != st.st_ino, "replaced by rename, not rewritten in place"
        assert_eq(os.listdir(feature_dir(root)), ["nodeprep"], "no temporary file left")
        set_startup(root, "manual")
        wait_labels(root, lambda l: l.get("nodeprep.io/toggle.ready") == "true", "ready again")


def nfd_expiry(root):
    for line in read(root, NFD_FILE).splitlines():
        if line.startswith("# +expiry-time="):
            return calendar.timegm(time.strptime(line.split("=", 1)[1], "%Y-%m-%dT%H:%M:%SZ"))
    return None


def test_feature_file_expires():
    """# +expiry-time: twice RescanSec= plus two minutes ahead; NFD drops the labels of a dead
    daemon after it; renewed (same labels) by the first evaluation after RescanSec=, which the
    re-scan is at the latest; none with RescanSec=0."""
    require_root()
    root = make_root()
    site(root, "[Daemon]\nRescanSec=3s\n")
    path = os.path.join(root, NFD_FILE.lstrip("/"))
    with Daemon(root) as d:
        wait_labels(root, lambda l: "nodeprep.io/toggle.ready" in l, "first write")
        first = nfd_expiry(root)
        assert first is not None, read(root, NFD_FILE)
        lines = read(root, NFD_FILE).splitlines()
        assert lines[0].startswith("# Node Feature Discovery labels from nodeprepd"), lines
        assert lines[1].startswith("# +expiry-time="), "before the labels it holds for: %r" % lines
        assert abs(first - (time.time() + 2 * 3 + 120)) < 5, (first, time.time())
        # NFD at a re-discovery after the expiry: no labels; just before it: the labels.
        assert_eq(nfd_read_dir(feature_dir(root), now=first + 1), {}, "labels after expiry")
        assert_eq(nfd_read_dir(feature_dir(root), now=first - 1),
                  {"nodeprep.io/toggle.ready": "true"}, "labels before expiry")
        # An evaluation within RescanSec= of the write: not due, not rewritten.
        st = os.stat(path)
        serial = d.report()["evaluation"]["serial"]
        write(root, "/etc/iscsi/iscsid.conf", read(root, "/etc/iscsi/iscsid.conf"))
        d.wait_area(serial, "iscsi")
        assert_eq(os.stat(path).st_ino, st.st_ino, "not renewed within RescanSec=")
        # After RescanSec=: the next evaluation renews it, labels unchanged.
        time.sleep(3.5)
        serial = d.report()["evaluation"]["serial"]
        write(root, "/etc/iscsi/iscsid.conf", read(root, "/etc/iscsi/iscsid.conf"))
        d.wait_area(serial, "iscsi")
        deadline = time.time() + 5
        while nfd_expiry(root) == first and time.time() < deadline:
            time.sleep(0.05)
        assert nfd_expiry(root) > first, "renewed after RescanSec="
        assert_eq(labels_of(root), {"nodeprep.io/toggle.ready": "true"}, "same labels")
    # RescanSec=0: nothing would renew it, so no expiry.
    site(root, "[Daemon]\nRescanSec=0\n")
    with Daemon(root) as d:
        deadline = time.time() + 5
        while nfd_expiry(root) is not None and time.time() < deadline:
            time.sleep(0.05)
        assert_eq(nfd_expiry(root), None, "no expiry with RescanSec=0")
        assert_eq(labels_of(root), {"nodeprep.io/toggle.ready": "true"}, "labels stay")


def test_feature_file_with_disk_and_link_figures():
    """With the IOMesh profile the figures are there and agree with the facts."""
    require_root()
    root = make_root()  # the prepared fixture: Profiles=iomesh
    with Daemon(root) as d:
        labels = wait_labels(root, lambda l: "nodeprep.io/iomesh.ready" in l, "first write")
        p = d.report(facts=True)
        facts = p["report"]["facts"]
        free = {"ssd": 0, "hdd": 0}
        for disk in facts["disks"]:
            if disk["free"]:
                free[disk["kind"]] += 1
        assert_eq(labels["nodeprep.io/free-ssd"], str(free["ssd"]), "free-ssd")
        assert_eq(labels["nodeprep.io/free-hdd"], str(free["hdd"]), "free-hdd")
        assert int(labels["nodeprep.io/max-link-speed"]) >= 0, labels
        ready = p["report"]["profiles"][0]["ready"]
        assert_eq(labels["nodeprep.io/iomesh.ready"], "true" if ready else "false", "ready")


def test_feature_file_turned_off_and_moved():
    """FeatureFile= empty removes the file nodeprepd wrote; a file someone else wrote stays."""
    require_root()
    root = make_root()
    site(root)
    with Daemon(root) as d:
        wait_labels(root, lambda l: "nodeprep.io/toggle.ready" in l, "first write")
        path = os.path.join(root, NFD_FILE.lstrip("/"))
        moved = os.path.join(root, "srv/features.d/nodeprep")
        site(root, "[Daemon]\nFeatureFile=/srv/features.d/nodeprep\n")
        r = nodeprepctl("call", "io.nodeprep.Reload", "--socket", d.socket)
        assert_eq(r.code, 0, repr(r))
        deadline = time.time() + 10
        while (os.path.exists(path) or not os.path.exists(moved)) and time.time() < deadline:
            time.sleep(0.05)
        assert not os.path.exists(path), "old file removed"
        assert_in("nodeprep.io/toggle.ready=true", open(moved).read())
        # Someone else's file at the configured path is replaced... but when the path is then
        # turned off, a file without nodeprepd's header is left alone.
        site(root, "[Daemon]\nFeatureFile=\n")
        with open(moved, "w") as f:
            f.write("somebody.else/label=1\n")
        r = nodeprepctl("call", "io.nodeprep.Reload", "--socket", d.socket)
        assert_eq(r.code, 0, repr(r))
        time.sleep(0.5)
        assert_eq(open(moved).read(), "somebody.else/label=1\n", "foreign file kept")


def test_feature_file_directory_not_writable():
    """A write error is logged once (not per evaluation), with the file, and retried."""
    require_root()
    root = make_root()
    site(root, "[Daemon]\nFeatureFile=/blocked/features.d/nodeprep\n")
    write(root, "/blocked", "a file where a directory should be\n")
    with Daemon(root) as d:
        serial = d.report()["evaluation"]["serial"]
        for _ in range(3):
            write(root, "/etc/iscsi/iscsid.conf", read(root, "/etc/iscsi/iscsid.conf"))
            p = d.wait_area(serial, "iscsi")
            serial = p["evaluation"]["serial"]
        out = d.output()
        assert_eq(out.count("Cannot write the feature file /blocked/features.d/nodeprep"), 1, out)
        os.unlink(os.path.join(root, "blocked"))
        write(root, "/etc/iscsi/iscsid.conf", read(root, "/etc/iscsi/iscsid.conf"))
        wait_labels_at = os.path.join(root, "blocked/features.d/nodeprep")
        deadline = time.time() + 10
        while not os.path.exists(wait_labels_at) and time.time() < deadline:
            time.sleep(0.05)
        assert os.path.exists(wait_labels_at), "written once the directory can be made"
        # Logged just after the rename: give the line a moment to reach the log.
        while time.time() < deadline and \
                "Wrote the feature file /blocked/features.d/nodeprep again" not in d.output():
            time.sleep(0.05)
        assert_in("Wrote the feature file /blocked/features.d/nodeprep again", d.output())


def test_bad_output_paths_are_config_errors():
    for line, want in (("FeatureFile=relative/path", "expected an absolute path"),
                       ("FeatureFile=/a/../b", "expected an absolute path"),
                       ("FeatureFile=/etc/kubernetes/.hidden", "ignores hidden files"),
                       ("MetricsFile=/var/lib/x/nodeprep.txt", "only files named *.prom"),
                       ("MetricsFile=/var/lib/x/", "expected an absolute path")):
        root = make_root()
        site(root, "[Daemon]\n%s\n" % line)
        r = nodeprepctl("check", "--root", root)
        assert_eq(r.code, 65, "%s: %r" % (line, r))
        assert_in("nodeprep.conf:", r.err)
        assert_in(want, r.err)
        shutil.rmtree(os.path.dirname(root), ignore_errors=True)


# --- Prometheus --------------------------------------------------------------------------------

def promtool(text, what):
    if not shutil.which("promtool"):
        raise Skip("promtool not installed (package prometheus)")
    p = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True,
                       text=True)
    assert_eq(p.returncode, 0, "promtool on %s: %s%s" % (what, p.stdout, p.stderr))


def test_metrics_local_and_from_the_daemon():
    require_root()
    root = make_failing_root()
    write(root, "/etc/nodeprep/nodeprep.conf",
          read(root, "/etc/nodeprep/nodeprep.conf") + "\n[Daemon]\nMetricsFile=%s\n" % PROM_FILE)
    r = nodeprepctl("metrics", "--local", "--root", root)
    assert_eq(r.code, 0, repr(r))
    promtool(r.out, "metrics --local")
    local = parse_metrics(r.out)
    assert_eq(sample(local, "nodeprep_evaluations_total"), 1.0, "one local evaluation")
    assert_eq(sample(local, "nodeprep_check_status", profile="iomesh",
                     check="iscsi.conf:node.startup", severity="required", status="fail"), 1.0,
              "node.startup fails")

    with Daemon(root) as d:
        sock = ["--socket", d.socket]
        r = nodeprepctl("metrics", *sock)
        assert_eq(r.code, 0, repr(r))
        promtool(r.out, "metrics from nodeprepd")
        m = parse_metrics(r.out)
        rep = d.report()["report"]
        # Each check: exactly one status is 1, and it is the report's.
        for prof in rep["profiles"]:
            assert_eq(sample(m, "nodeprep_profile_ready", profile=prof["name"]),
                      1.0 if prof["ready"] else 0.0, "ready of " + prof["name"])
            for c in prof["checks"]:
                vals = {s: sample(m, "nodeprep_check_status", profile=prof["name"], check=c["id"],
                                  severity=c["severity"], status=s)
                        for s in ("pass", "fail", "warn", "unknown", "skip")}
                assert_eq(vals[c["status"]], 1.0, "%s %r" % (c["id"], vals))
                assert_eq(sum(vals.values()), 1.0, "%s %r" % (c["id"], vals))
        evals = sample(m, "nodeprep_evaluations_total")
        assert evals >= 1, evals
        assert abs(sample(m, "nodeprep_last_evaluation_timestamp_seconds") - time.time()) < 120

        # The textfile-collector file: the same metrics, valid, counters moving.
        prom = os.path.join(root, PROM_FILE.lstrip("/"))
        promtool(open(prom).read(), "MetricsFile")
        assert_eq(os.stat(prom).st_mode & 0o7777, 0o644, "mode of the metrics file")

        # Apply through the daemon: the fixes are counted by check and result.
        r = nodeprepctl("apply", "--json", *sock)
        assert_eq(r.code, 0, repr(r))
        deadline = time.time() + 10
        while time.time() < deadline:
            m = parse_metrics(nodeprepctl("metrics", *sock).out)
            if sample(m, "nodeprep_evaluations_total") > evals and \
               sample(m, "nodeprep_fix_applied_total", check="iscsi.conf:node.startup",
                      result="changed") == 1.0:
                break
            time.sleep(0.1)
        assert_eq(sample(m, "nodeprep_fix_applied_total", check="iscsi.conf:node.startup",
                         result="changed"), 1.0, "fix counted")
        assert_eq(sample(m, "nodeprep_fix_applied_total", check="selinux.config",
                         result="changed"), 1.0, "fix counted")
        deadline = time.time() + 10
        while time.time() < deadline:
            f = parse_metrics(open(prom).read())
            if sample(f, "nodeprep_fix_applied_total", check="selinux.config",
                      result="changed") == 1.0:
                break
            time.sleep(0.1)
        promtool(open(prom).read(), "MetricsFile after apply")
        assert_eq(sample(f, "nodeprep_fix_applied_total", check="selinux.config",
                         result="changed"), 1.0, "fix counted in the file")
        assert_eq([n for n in os.listdir(os.path.dirname(prom)) if n != "nodeprep.prom"], [],
                  "no temporary files left next to the metrics file")
    shutil.rmtree(os.path.dirname(root), ignore_errors=True)


def test_metrics_usage():
    r = nodeprepctl("metrics", "--socket", "/nonexistent/io.nodeprep")
    assert_eq(r.code, 69, repr(r))
    r = nodeprepctl("metrics", "--root", "/")
    assert_eq(r.code, 64, repr(r))
    assert_in("--local", r.err)


# --- node-problem-detector ---------------------------------------------------------------------

NPD_CONFIG = os.path.join(SRCDIR, "packaging", "npd", "nodeprep-plugin-monitor.json")


def go_duration(s):
    m = re.fullmatch(r"(\d+)(ms|s|m|h)", s)
    assert m, "%r is not a Go duration NPD parses" % s
    return int(m.group(1)) * {"ms": 0.001, "s": 1, "m": 60, "h": 3600}[m.group(2)]


def npd_run(rule, global_cfg, env=None):
    """pkg/custompluginmonitor/plugin/plugin.go run(): stdout only, trimmed, cut at
    max_output_length; exit 0 OK, 1 NonOK, anything else Unknown."""
    timeout = min(go_duration(rule.get("timeout", global_cfg["timeout"])),
                  go_duration(global_cfg["timeout"]))
    path = NODEPREPCTL if rule["path"] == "/usr/bin/nodeprepctl" else rule["path"]
    p = subprocess.run([path] + rule.get("args", []), capture_output=True, text=True,
                       timeout=timeout, env=env)
    out = p.stdout.strip()[:global_cfg["max_output_length"]]
    return {0: "OK", 1: "NonOK"}.get(p.returncode, "Unknown"), out, p


def test_npd_example_config():
    """The shipped NPD custom-plugin config passes NPD's Validate(), and its rule, run as NPD
    runs it, gives OK / NonOK / Unknown with a message NPD keeps whole."""
    cfg = json.load(open(NPD_CONFIG))
    # types/config.go Validate() and ApplyConfiguration().
    assert_eq(cfg["plugin"], "custom", "plugin")
    g = cfg["pluginConfig"]
    assert_eq(g["max_output_length"], 80, "max_output_length")
    for rule in cfg["rules"]:
        assert go_duration(rule["timeout"]) <= go_duration(g["timeout"]), rule
        assert_eq(rule["path"], "/usr/bin/nodeprepctl", "installed path")
        if rule["type"] == "permanent":
            assert rule["condition"] in [c["type"] for c in cfg["conditions"]], rule
        assert_eq(rule["args"][:2], ["status", "--npd"], "the command")
    go_duration(g["invoke_interval"])
    rule = cfg["rules"][0]

    # No daemon: Unknown, with the reason on stdout (NPD reads nothing else).
    env = dict(os.environ, NODEPREP_SOCKET="/nonexistent/io.nodeprep")
    status, out, p = npd_run(rule, g, env)
    assert_eq(status, "Unknown", repr(p))
    assert_in("cannot reach nodeprepd", out)

    require_root()
    root = make_root()
    site(root)
    with Daemon(root) as d:
        env = dict(os.environ, NODEPREP_SOCKET=d.socket)
        status, out, p = npd_run(rule, g, env)
        assert_eq(status, "OK", repr(p))
        assert len(p.stdout.strip()) <= 80, p.stdout
        set_startup(root, "automatic")
        deadline = time.time() + 10
        while status != "NonOK" and time.time() < deadline:
            time.sleep(0.05)
            status, out, p = npd_run(rule, g, env)
        assert_eq(status, "NonOK", repr(p))
        assert_in("toggle", out)
        assert len(p.stdout.strip()) <= 80, p.stdout


if __name__ == "__main__":
    run_tests(globals())
