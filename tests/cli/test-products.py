#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""The InfluxDB Clustered, The Things Stack and Flow-Like profiles end to end.

Reachability is tested only against listeners this test starts on loopback; the DNS failure runs
in a private network namespace, so no packet leaves the machine.
"""
import os
import shutil
import socket
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from nptest import (ISCSID_READY, NODEPREPCTL, FixtureRoot, MockSystemd, Skip,  # noqa: E402
                    assert_eq, assert_in, check_json, install_kubelet, nodeprepctl, run_tests, write)


class Listener:
    """A TCP listener on a loopback address: `with Listener("127.0.0.1") as port:`."""

    def __init__(self, host="127.0.0.1", backlog=16):
        self.host, self.backlog = host, backlog

    def __enter__(self):
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        self.sock = socket.socket(family, socket.SOCK_STREAM)
        self.sock.bind((self.host, 0))
        self.sock.listen(self.backlog)
        return self.sock.getsockname()[1]

    def __exit__(self, *exc):
        self.sock.close()
        return False


def closed_port():
    """A loopback port nothing listens on."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def test_reachable_refused_and_ipv6():
    with FixtureRoot() as root, Listener() as up:
        refused = closed_port()
        r = check_json(root, "--profile", "the-things-stack",
                       "--set", "Endpoint.postgres=127.0.0.1:%d" % up,
                       "--set", "Endpoint.redis=127.0.0.1:%d" % refused)
        c = r.check("net.reachable:postgres")
        assert_eq(c["status"], "pass", c)
        assert_in("connected to 127.0.0.1:%d" % up, c["observed"])
        c = r.check("net.reachable:redis")
        assert_eq(c["status"], "fail", c)
        assert_in("refused", c["observed"])
        assert_in("connection refused", c["message"])
        assert_eq(r.status("net.reachable:blob"), "skip")
        assert_eq(r.code, 1)
    if not socket.has_ipv6:
        return
    with FixtureRoot() as root:
        try:
            listener = Listener("::1")
            port = listener.__enter__()
        except OSError:
            return  # no IPv6 loopback here
        try:
            r = check_json(root, "--profile", "flow-like",
                           "--set", "Endpoint.postgres=[::1]:%d" % port,
                           "--set", "Endpoint.s3=localhost:%d" % closed_port())
            assert_eq(r.status("net.reachable:postgres"), "pass", r.check("net.reachable:postgres"))
            assert_in("[::1]:%d" % port, r.check("net.reachable:postgres")["observed"])
            assert_eq(r.status("net.reachable:s3"), "fail")
        finally:
            listener.__exit__(None, None, None)


def test_timeout():
    # A listener whose accept queue is full drops new SYNs: the connection times out.
    with FixtureRoot() as root, Listener(backlog=0) as port:
        fill = []
        for _ in range(3):
            s = socket.socket()
            s.setblocking(False)
            try:
                s.connect(("127.0.0.1", port))
            except BlockingIOError:
                pass
            fill.append(s)
        write(root, "/etc/nodeprep/profiles/reach.conf",
              "[Check]\nId=net.reachable:slow\nTimeoutSec=1\n")
        try:
            r = check_json(root, "--profile", "reach", "--set", "Endpoint.slow=127.0.0.1:%d" % port)
        finally:
            for s in fill:
                s.close()
        c = r.check("net.reachable:slow")
        assert_eq(c["status"], "fail", c)
        assert_in("timeout", c["observed"])
        assert_in("within 1 s", c["expected"])


def test_dns_failure_in_private_netns():
    if not shutil.which("unshare"):
        raise Skip("unshare not installed")
    userns = [] if os.geteuid() == 0 else ["-r"]
    with FixtureRoot() as root:
        cmd = ["unshare"] + userns + ["-n", "sh", "-c",
               'ip link set lo up 2>/dev/null; exec "$@"', "sh", NODEPREPCTL, "check", "--json",
               "--root", root, "--profile", "flow-like",
               "--set", "Endpoint.postgres=no-such-host.invalid:5432",
               "--set", "Endpoint.s3=s3.example.invalid:443"]
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=120,
                           env=dict(os.environ, NO_COLOR="1"))
        if p.returncode not in (0, 1, 2):
            raise Skip("cannot make a network namespace here: " + p.stderr.strip()[:200])
        import json
        checks = {c["id"]: c for c in json.loads(p.stdout)["profiles"][0]["checks"]}
        c = checks["net.reachable:postgres"]
        assert_eq(c["status"], "fail", c)
        assert_in("dns:", c["observed"])
        assert_in("does not resolve", c["message"])


def test_bad_endpoint_settings():
    with FixtureRoot() as root:
        r = nodeprepctl("check", "--root", root, "--profile", "flow-like",
                        "--set", "Endpoint.postgres=db.example")
        assert_eq(r.code, 64)
        assert_in("is not HOST:PORT", r.err)
        r = nodeprepctl("check", "--root", root, "--profile", "flow-like",
                        "--set", "Endpoint.postgres=fd00::1:5432")
        assert_eq(r.code, 64)
        write(root, "/etc/nodeprep/nodeprep.conf",
              "[Endpoint postgres]\nAddress=db.example:99999\n")
        r = nodeprepctl("check", "--root", root, "--profile", "flow-like")
        assert_eq(r.code, 65)
        assert_in("nodeprep.conf:2: Endpoint postgres: \"db.example:99999\" is not HOST:PORT",
                  r.err)
        write(root, "/etc/nodeprep/nodeprep.conf", "[Endpoint]\nAddress=db.example:5432\n")
        r = nodeprepctl("check", "--root", root, "--profile", "flow-like")
        assert_eq(r.code, 65)
        assert_in("[Endpoint] needs a name", r.err)


KUBECTL_128 = """#!/bin/sh
[ "$1 $2" = "version --client" ] || { echo "unexpected arguments: $*" >&2; exit 1; }
echo "Client Version: v1.28.2"
echo "Kustomize Version: v5.0.4-0.20230601165947-6ce0bf390ce3"
"""
KUBECTL_121 = """#!/bin/sh
[ "$1 $2" = "version --client" ] || exit 1
echo 'Client Version: version.Info{Major:"1", Minor:"21", GitVersion:"v1.21.14", GitCommit:"0f77da5bd4809927e15d1658fb4aa8f13ad890a5", GitTreeState:"clean", BuildDate:"2022-06-15T14:17:29Z", GoVersion:"go1.16.15", Compiler:"gc", Platform:"linux/amd64"}'
"""
HELM_312 = '#!/bin/sh\n[ "$1 $2" = "version --short" ] || exit 1\necho "v3.12.0+gc9f554d"\n'
HELM_37 = '#!/bin/sh\n[ "$1 $2" = "version --short" ] || exit 1\necho "v3.7.2+g663a896"\n'
CRANE = '#!/bin/sh\n[ "$1" = "version" ] || exit 1\necho "0.19.1"\n'


def test_client_tools():
    # Client tools are looked up in PATH and run on the running system (under --root nothing is
    # executed: tests/cli/test-no-exec.py), so a private PATH directory holds the fakes.
    bindir = tempfile.mkdtemp(prefix="nodeprep-bin-")
    env = {"PATH": bindir + ":/usr/bin:/bin"}

    def tools_check(*profiles):
        args = ["check", "--json"]
        for p in profiles:
            args += ["--profile", p]
        return nodeprepctl(*args, env=env)

    try:
        write(bindir, "/kubectl", KUBECTL_128, 0o755)
        write(bindir, "/helm", HELM_312, 0o755)
        write(bindir, "/crane", CRANE, 0o755)
        r = tools_check("the-things-stack-client", "influxdb-clustered-client", "flow-like-client")
        assert_eq(r.code, 0, repr(r))
        assert_eq(r.check("tool.version:kubectl", "influxdb-clustered-client")["observed"],
                  "1.28.2 (%s/kubectl)" % bindir)
        assert_eq(r.check("tool.version:helm", "the-things-stack-client")["observed"],
                  "3.12.0 (%s/helm)" % bindir)
        assert_in("0.19.1", r.check("tool.version:crane")["observed"])
        # Too old: kubectl 1.21 for InfluxDB (1.27), Helm 3.7 for The Things Stack (3.8).
        write(bindir, "/kubectl", KUBECTL_121, 0o755)
        write(bindir, "/helm", HELM_37, 0o755)
        r = tools_check("influxdb-clustered-client", "the-things-stack-client")
        assert_eq(r.status("tool.version:kubectl", "influxdb-clustered-client"), "fail")
        assert_in("1.21.14", r.check("tool.version:kubectl", "influxdb-clustered-client")["observed"])
        assert_eq(r.status("tool.version:kubectl", "the-things-stack-client"), "pass")
        assert_eq(r.status("tool.version:helm", "the-things-stack-client"), "fail")
        # A tool that does not run is no install, whatever it printed (an asdf shim with no
        # version set; a crane that does not know the subcommand).
        write(bindir, "/kubectl",
              "#!/bin/sh\necho 'No version is set for command kubectl'; exit 126\n", 0o755)
        write(bindir, "/crane", "#!/bin/sh\necho 'Error: unknown command \"version\"'; "
                                "exit 1\n", 0o755)
        r = tools_check("flow-like-client", "influxdb-clustered-client")
        assert_eq(r.status("tool.version:kubectl", "flow-like-client"), "unknown")
        assert_in("exited with status 126",
                  r.check("tool.version:kubectl", "flow-like-client")["message"])
        assert_eq(r.status("tool.version:crane"), "unknown")
        # Missing.
        if not shutil.which("crane", path="/usr/bin:/bin"):
            os.unlink(os.path.join(bindir, "crane"))
            r = tools_check("influxdb-clustered-client")
            assert_eq(r.check("tool.version:crane")["observed"], "not found in PATH")
    finally:
        shutil.rmtree(bindir, ignore_errors=True)


# kubelet --version as kubeadm's packages ship it, a log line with another number before it.
KUBELET_128 = """#!/bin/sh
[ "$1" = "--version" ] || exit 1
echo 'W0101 00:00:00.000 flag --foo was removed in 1.99.0'
echo 'Kubernetes v1.28.2'
"""
ONE_MODEL = """[Profile]
Description=kubelet and helm through one model
Source=test

[Check]
Id=kubelet.version
Severity=required
MinVersion=1.25
Missing=fail
Source=test

[Check]
Id=tool.version:helm
Severity=required
MinVersion=3.8
Source=test

[Check]
Id=tool.version:kubelet
Severity=required
Missing=skip
Source=test
"""
# Where the kubelet probe looks before the search path: a host with one cannot run this test.
KUBELETS = ["/usr/bin/kubelet", "/usr/local/bin/kubelet", "/opt/bin/kubelet", "/usr/sbin/kubelet",
            "/var/lib/rancher/rke2/bin/kubelet", "/usr/local/bin/k3s", "/usr/bin/k3s",
            "/snap/bin/microk8s"]


def test_kubelet_is_a_tool():
    """kubelet.version and tool.version are one check over one probe: a kubelet in PATH is found
    and read as helm is (its own version command and marker), Missing=fail fails without it,
    and facts.system.kubelet is the tools[] entry."""
    for k in KUBELETS + ["/usr/local/sbin/kubelet", "/sbin/kubelet", "/bin/kubelet"]:
        if os.path.exists(k):
            raise Skip("this machine has %s" % k)
    bindir = tempfile.mkdtemp(prefix="nodeprep-bin-")
    profiles = tempfile.mkdtemp(prefix="nodeprep-profiles-")
    env = {"PATH": bindir + ":/usr/bin:/bin", "NODEPREP_PROFILE_PATH": profiles}
    try:
        write(profiles, "/one-model.conf", ONE_MODEL)
        write(bindir, "/kubelet", KUBELET_128, 0o755)
        write(bindir, "/helm", HELM_312, 0o755)
        r = nodeprepctl("check", "--json", "--facts", "--profile", "one-model", env=env)
        assert_eq(r.code, 0, repr(r))
        assert_eq(r.check("kubelet.version")["observed"], "1.28.2 (%s/kubelet)" % bindir)
        assert_eq(r.check("tool.version:helm")["observed"], "3.12.0 (%s/helm)" % bindir)
        assert_eq(r.status("tool.version:kubelet"), "pass")
        tools = {t["name"]: t for t in r.json["facts"]["tools"]}
        for name, version in (("kubelet", "1.28.2"), ("helm", "3.12.0")):
            assert_eq(tools[name]["path"], "%s/%s" % (bindir, name))
            assert_eq(tools[name]["found"], "search-path")
            assert_eq(tools[name]["version"], version)
        # Kept for schema_version 1: the same entry under facts.system.kubelet.
        k = r.json["facts"]["system"]["kubelet"]
        assert_eq((k["path"], k["version"], k["output"], k["unknown"]),
                  (tools["kubelet"]["path"], "1.28.2", tools["kubelet"]["output"], None))
        # Missing=fail: kubelet.version fails on a host without a kubelet; tool.version:kubelet
        # with Missing=skip skips.
        os.unlink(os.path.join(bindir, "kubelet"))
        r = nodeprepctl("check", "--json", "--profile", "one-model", env=env)
        assert_eq(r.code, 1, repr(r))
        c = r.check("kubelet.version")
        assert_eq((c["status"], c["observed"]), ("fail", "not found in PATH"))
        assert_eq(r.status("tool.version:kubelet"), "skip")
        # A kubelet whose output names no Kubernetes version is unknown, not a guess.
        write(bindir, "/kubelet", "#!/bin/sh\necho 'kubelet 1.28.2'\n", 0o755)
        r = nodeprepctl("check", "--json", "--profile", "one-model", env=env)
        c = r.check("kubelet.version")
        assert_eq(c["status"], "unknown")
        assert_in('printed no version after "Kubernetes "', c["message"])
    finally:
        shutil.rmtree(bindir, ignore_errors=True)
        shutil.rmtree(profiles, ignore_errors=True)


def test_influxdb_node():
    with FixtureRoot() as root, Listener() as pg, Listener() as s3:
        os.makedirs(os.path.join(root, "var/lib/kubelet"))
        install_kubelet(root, "1.28.2")
        r = check_json(root, "--profile", "influxdb-clustered",
                       "--set", "Endpoint.postgres=127.0.0.1:%d" % pg,
                       "--set", "Endpoint.s3=127.0.0.1:%d" % s3)
        assert_eq(r.code, 0, repr(r))
        assert_eq(r.status("kubelet.version"), "pass")
        assert_in("/var/lib/kubelet", r.check("fs.free:ingester-wal")["observed"])
        # The fixture: 8 CPUs, 32868148 kB MemTotal.
        assert_eq(r.status("sys.cpus"), "pass")
        assert_eq(r.status("sys.memory"), "pass")
        # A kubelet older than 1.25 fails; a WAL path elsewhere is followed.
        install_kubelet(root, "1.24.17")
        write(root, "/proc/meminfo", "MemTotal:       16303260 kB\n")
        r = check_json(root, "--profile", "influxdb-clustered",
                       "--set", "Path.ingester-wal=/data/influx/wal")
        assert_eq(r.status("kubelet.version"), "fail")
        assert_eq(r.status("sys.memory"), "warn")
        assert_in("/data/influx/wal does not exist yet; /", r.check("fs.free:ingester-wal")["observed"])


def test_tts_blob_layout():
    dirs = ["edcs", "interop", "end_device_pictures", "profile_pictures", "plugins"]
    files = ["edcs/config.yml", "interop/config.yml", "plugins/plugins.yml"]
    with FixtureRoot() as root:
        blob = os.path.join(root, "srv/tts-blob")
        os.makedirs(blob)
        r = check_json(root, "--profile", "the-things-stack", "--set", "Path.tts-blob=/srv/tts-blob")
        c = r.check("dir.layout:tts-blob")
        assert_eq(c["status"], "fail", c)
        assert_in("edcs/ missing", c["observed"])
        for d in dirs:
            os.makedirs(os.path.join(blob, d))
        for f in files:
            open(os.path.join(blob, f), "w").close()
        if os.geteuid() != 0:
            r = check_json(root, "--profile", "the-things-stack",
                           "--set", "Path.tts-blob=/srv/tts-blob")
            assert_in("owned by %d:%d" % (os.getuid(), os.getgid()),
                      r.check("dir.layout:tts-blob")["observed"])
            return
        for d, _, fs in os.walk(blob):
            os.chown(d, 886, 886)
            for f in fs:
                os.chown(os.path.join(d, f), 886, 886)
        write(root, "/etc/nodeprep/nodeprep.conf",
              "[Site]\nProfiles=the-things-stack\n[Path tts-blob]\nPath=/srv/tts-blob\n")
        r = check_json(root)
        assert_eq(r.status("dir.layout:tts-blob"), "pass", r.check("dir.layout:tts-blob"))
        os.chown(os.path.join(blob, "plugins/plugins.yml"), 0, 0)
        r = check_json(root)
        assert_in("plugins/plugins.yml owned by 0:0", r.check("dir.layout:tts-blob")["observed"])
        os.chown(os.path.join(blob, "plugins/plugins.yml"), 886, 886)
        # A folder that is a symlink out of the volume: a pod mounting it sees a dangling link.
        elsewhere = os.path.join(root, "elsewhere/edcs")
        os.makedirs(elsewhere)
        shutil.move(os.path.join(blob, "edcs/config.yml"), elsewhere)
        os.rmdir(os.path.join(blob, "edcs"))
        os.symlink("/elsewhere/edcs", os.path.join(blob, "edcs"))
        os.lchown(os.path.join(blob, "edcs"), 886, 886)
        os.chown(elsewhere, 886, 886)
        r = check_json(root)
        c = r.check("dir.layout:tts-blob")
        assert_eq(c["status"], "fail", c)
        assert_in("edcs is a symbolic link", c["observed"])


def test_kata():
    with FixtureRoot() as root:
        r = check_json(root, "--profile", "flow-like")
        assert_eq(r.status("virt.kvm"), "skip")
        assert_in("UseKata=no", r.check("virt.kvm")["message"])
        write(root, "/proc/cpuinfo", "processor\t: 0\nflags\t\t: fpu vme de pse vmx sse\n")
        r = check_json(root, "--profile", "flow-like", "--set", "UseKata=yes")
        assert_eq(r.status("virt.kvm"), "fail")
        assert_eq(r.check("virt.kvm")["remedy"], "modprobe kvm_intel")
        assert_eq(r.status("runtime.kata"), "fail")
        write(root, "/opt/kata/bin/containerd-shim-kata-v2", "#!/bin/sh\n", 0o755)
        r = check_json(root, "--profile", "flow-like", "--set", "UseKata=yes")
        assert_eq(r.status("runtime.kata"), "pass")
        if os.geteuid() == 0:
            os.makedirs(os.path.join(root, "dev"), exist_ok=True)
            os.mknod(os.path.join(root, "dev/kvm"), 0o660 | 0o020000, os.makedev(10, 232))
            r = check_json(root, "--profile", "flow-like", "--set", "UseKata=yes")
            assert_eq(r.status("virt.kvm"), "pass")


def test_several_profiles_one_report():
    with FixtureRoot() as root, Listener() as pg, MockSystemd(ISCSID_READY) as m:
        # kubelet 1.25: enough for InfluxDB, above IOMesh's tested range (a warning there).
        install_kubelet(root, "1.25.16")
        r = check_json(root, "--profile", "iomesh", "--profile", "influxdb-clustered",
                       "--profile", "the-things-stack", "--set", "Endpoint.postgres=127.0.0.1:%d" % pg,
                       "--set", "Endpoint.redis=127.0.0.1:%d" % closed_port(), env=m.env)
        names = [p["name"] for p in r.json["profiles"]]
        assert_eq(names, ["iomesh", "influxdb-clustered", "the-things-stack"])
        ready = {p["name"]: p["ready"] for p in r.json["profiles"]}
        # Each profile has its own verdict; TTS fails on Redis, so the host is not ready.
        assert_eq(ready, {"iomesh": True, "influxdb-clustered": True, "the-things-stack": False})
        assert_eq(r.status("kubelet.version", "iomesh"), "warn")
        assert_eq(r.status("kubelet.version", "influxdb-clustered"), "pass")
        assert_eq(r.json["ready"], False)
        assert_eq(r.code, 1)
        assert_eq(r.status("net.reachable:postgres", "influxdb-clustered"), "pass")
        assert_eq(r.status("net.reachable:redis", "the-things-stack"), "fail")


def test_profiles_listed():
    r = nodeprepctl("profiles", "--json")
    names = {p["name"] for p in r.json}
    for n in ("iomesh", "influxdb-clustered", "influxdb-clustered-client", "the-things-stack",
              "the-things-stack-client", "flow-like", "flow-like-client"):
        assert_in(n, names)
    for p in r.json:
        assert_eq(p["error"], None, p)


if __name__ == "__main__":
    run_tests(globals())
