#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Cluster readiness on a simulated cluster (root; skipped with 77 otherwise).

Four workers, each in its own network namespace with its own fixture root (--root), whose data
link is a tap (a NIC as nic.data-cidr counts one: 10000 Mb/s) wired (tests/lib/tapwire.py) to a
port of a Linux bridge in a switch namespace: the data segment 10.77.0.0/24 (DataCIDR
10.77.0.0/16). A router namespace joins it to a second subnet, 10.77.1.0/24, on a second bridge.
Workers 1 and 2 send ICMP through ping sockets (ping_group_range opened in their namespace),
3 and 4 through raw sockets. systemd is a mock on a private bus. Driven by the real
ansible-playbook through the collection's cluster role (Peers= from the inventory, apply, every
report, one nodeprepctl cluster on the controller), each worker a local host whose Python runs
in its namespace (ansible_python_interpreter="ip netns exec NS /usr/bin/python3"):

  1. all good -> the cluster is READY;
  2. one worker at MTU 9000 while the bridge carries 1500 -> its net.peers fails naming 1500,
     and cluster reports the MTU mismatch;
  3. one worker without its data address -> it fails nic.data-cidr, the others' net.peers name
     it unreachable;
  4. one worker only reachable through the router -> "not on the data segment";
  5. two of four ready with IOMesh's MinReadyNodes=3 -> NOT READY, exit 1, the play fails;
  7. an IPv6 data network (DataCIDR fd00:77::/48, ULA, never routed; addresses without DAD):
     ICMPv6 echo through ping sockets (worker 1) and raw ones (worker 3), the full size with
     IPV6_DONTFRAG, an MTU mismatch, a peer behind the router (nodeprepctl check in the
     namespaces; the playbook is the same as for IPv4);

then nodeprepd in a worker's namespace: peers probed at start, again on a link change, on the
PeerInterval= timer, and a slow probe never delays the report of another change. Every name
starts with np-cluster-PID-; everything is removed at exit; the only addresses are 10.77.0.0/16
and fd00:77::/48 inside the namespaces.
"""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from npdaemon import Daemon  # noqa: E402
from nptest import (ISCSID_READY, NODEPREPCTL, SRCDIR, MockSystemd, Result, Skip,  # noqa: E402
                    assert_eq, assert_in, make_root, read, require_root, run_tests, write)

# Unique per run: another run of this test (CI's clone) may build its bed beside this one.
P = "np-cluster-%d-" % os.getpid()
SW, RT = P + "sw", P + "rt"
WORKERS = [P + "w%d" % i for i in range(1, 5)]
COLLECTIONS = os.path.join(SRCDIR, "packaging", "ansible")
TAPWIRE = os.path.join(os.path.dirname(__file__), "..", "lib", "tapwire.py")

PLAYBOOK = """
- name: Judge the simulated cluster
  hosts: workers
  gather_facts: false
  environment:
    DBUS_SYSTEM_BUS_ADDRESS: "{{ bus }}"
    NODEPREP_PROFILE_PATH: "{{ profiles }}"
    NO_COLOR: "1"
  roles:
    - role: nodeprep.nodeprep.cluster
"""


def sh(*args, check=True):
    p = subprocess.run(list(args), capture_output=True, text=True)
    if check and p.returncode != 0:
        raise AssertionError("%s: %s" % (" ".join(args), p.stderr.strip()))
    return p


def ns(name, *args, check=True):
    return sh("ip", "netns", "exec", name, *args, check=check)


class Bed:
    """The namespaces, links and fixture roots; use as a context manager."""

    def __enter__(self):
        require_root()
        for exe in ("ip", "ansible-playbook"):
            if not shutil.which(exe):
                raise Skip("%s not installed" % exe)
        if not os.path.exists("/dev/net/tun"):
            raise Skip("no /dev/net/tun")
        self.tmp = tempfile.mkdtemp(prefix="np-cluster-")
        self.wire = None
        self.bus = None
        self.cleanup_netns()
        try:
            self.setup()
        except BaseException:
            self.__exit__()
            raise
        return self

    @staticmethod
    def cleanup_netns():
        # Only ours: the fixed np-cluster- names this test creates.
        for name in [SW, RT] + WORKERS:
            sh("ip", "netns", "del", name, check=False)

    def setup(self):
        for name in [SW, RT] + WORKERS:
            r = sh("ip", "netns", "add", name, check=False)
            if r.returncode != 0:
                raise Skip("cannot create network namespaces: " + r.stderr.strip())
            ns(name, "ip", "link", "set", "lo", "up")
            ns(name, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1")
            ns(name, "sysctl", "-qw", "net.ipv6.conf.default.disable_ipv6=1")
        for br in ("br0", "br1"):
            ns(SW, "ip", "link", "add", br, "type", "bridge")
            ns(SW, "ip", "link", "set", br, "up")
        # The router: 10.77.0.254 on the data segment, 10.77.1.254 on the second subnet.
        for i, br in enumerate(("br0", "br1")):
            sh("ip", "link", "add", "rt%d" % i, "netns", RT, "type", "veth", "peer", "name",
               "rt%dp" % i, "netns", SW)
            ns(SW, "ip", "link", "set", "rt%dp" % i, "master", br, "up")
            ns(RT, "ip", "addr", "add", "10.77.%d.254/24" % i, "dev", "rt%d" % i)
            ns(RT, "ip", "link", "set", "rt%d" % i, "up")
        ns(RT, "sysctl", "-qw", "net.ipv4.ip_forward=1")
        # The workers' data links: a tap in the worker, wired to a tap port of br0.
        pairs = []
        for i, w in enumerate(WORKERS, 1):
            ns(w, "ip", "tuntap", "add", "dev", "data0", "mode", "tap")
            ns(SW, "ip", "tuntap", "add", "dev", "p%d" % i, "mode", "tap")
            ns(SW, "ip", "link", "set", "p%d" % i, "master", "br0", "up")
            ns(w, "ip", "link", "set", "data0", "up")
            pairs.append("%s:data0=%s:p%d" % (w, SW, i))
        self.wire = subprocess.Popen(["/usr/bin/python3", TAPWIRE] + pairs,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert_eq(self.wire.stdout.readline().strip(), "READY", "tapwire")
        # Ping sockets in workers 1 and 2 (as systemd >= 243 opens them); raw in 3 and 4.
        for w in WORKERS[:2]:
            ns(w, "sysctl", "-qw", "net.ipv4.ping_group_range=0 2147483647")
        self.roots = [self.make_worker(i) for i in range(1, 5)]
        self.bus = MockSystemd(ISCSID_READY).__enter__()

    def make_worker(self, i):
        root = make_root("prepared", os.path.join(self.tmp, "w%d" % i))
        write(root, "/proc/sys/kernel/hostname", "worker-%d\n" % i)
        write(root, "/etc/machine-id", "%032x\n" % (0x5eed0 + i))
        write(root, "/sys/class/dmi/id/product_uuid", "4c4c4544-0000-1000-8000-00000000000%d\n" % i)
        write(root, "/var/lib/dpkg/status", "Package: open-iscsi\nStatus: install ok installed\n"
                                            "Version: 2.1.8-1\n\n")
        write(root, "/etc/nodeprep/nodeprep.conf.d/10-test-bed.conf",
              "[Settings]\nDataCIDR=10.77.0.0/16\n[Cluster]\nPeerTimeout=2s\n")
        return root

    def reset(self):
        """Every worker on the data segment at 10.77.0.N/24, MTU 1500, routes to the second
        subnet through the router; nothing broken in the roots."""
        for i, w in enumerate(WORKERS, 1):
            ns(w, "ip", "addr", "flush", "dev", "data0")
            ns(w, "ip", "link", "set", "data0", "mtu", "1500")
            ns(SW, "ip", "link", "set", "p%d" % i, "mtu", "1500", "master", "br0")
            ns(w, "ip", "addr", "add", "10.77.0.%d/24" % i, "dev", "data0")
            ns(w, "ip", "route", "replace", "10.77.1.0/24", "via", "10.77.0.254")
            d = os.path.join(self.roots[i - 1], "etc/nodeprep/profiles/iomesh.conf.d/60-full.conf")
            if os.path.exists(d):
                os.unlink(d)

    def play(self, addresses=None):
        """Run the collection's cluster role over the four workers; (returncode, output)."""
        addresses = addresses or ["10.77.0.%d" % i for i in range(1, 5)]
        inv = os.path.join(self.tmp, "inventory")
        with open(inv, "w") as f:
            f.write("[workers]\n")
            for i, w in enumerate(WORKERS):
                f.write('worker-%d ansible_connection=local ansible_python_interpreter="ip netns '
                        'exec %s /usr/bin/python3" nodeprep_root=%s nodeprep_data_address=%s\n'
                        % (i + 1, w, self.roots[i], addresses[i]))
            f.write("[workers:vars]\nnodeprep_nodeprepctl=%s\nnodeprep_controller_nodeprepctl=%s\n"
                    % (os.path.abspath(NODEPREPCTL), os.path.abspath(NODEPREPCTL)))
        book = os.path.join(self.tmp, "cluster.yml")
        with open(book, "w") as f:
            f.write(PLAYBOOK)
        env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=COLLECTIONS,
                   ANSIBLE_HOME=os.path.join(self.tmp, "ansible"),
                   ANSIBLE_LOCAL_TEMP=os.path.join(self.tmp, "ansible-local"),
                   ANSIBLE_REMOTE_TEMP=os.path.join(self.tmp, "ansible-remote"),
                   ANSIBLE_NOCOLOR="1", ANSIBLE_RETRY_FILES_ENABLED="0", ANSIBLE_FORKS="4",
                   ANSIBLE_HOST_KEY_CHECKING="0")
        p = subprocess.run(["ansible-playbook", "-i", inv, book, "-e", "bus=" + self.bus.address,
                            "-e", "profiles=" + os.environ.get("NODEPREP_PROFILE_PATH", "")],
                           capture_output=True, text=True, env=env, timeout=600)
        return p.returncode, p.stdout + p.stderr

    def check(self, i):
        """worker-i's report, checked in its namespace (Peers= as the role wrote it)."""
        e = dict(os.environ, NO_COLOR="1", DBUS_SYSTEM_BUS_ADDRESS=self.bus.address)
        p = subprocess.run(["ip", "netns", "exec", WORKERS[i - 1], NODEPREPCTL, "check",
                            "--json", "--facts", "--root", self.roots[i - 1]],
                           capture_output=True, text=True, env=e, timeout=60)
        return Result(["check"], p)

    def cluster(self):
        """Every worker's report and the cluster's --json verdict."""
        reports = [self.check(i) for i in range(1, 5)]
        p = subprocess.run([NODEPREPCTL, "cluster", "--json", "-"], capture_output=True,
                           text=True, input="".join(r.out for r in reports), timeout=60)
        return reports, p.returncode, json.loads(p.stdout)

    def __exit__(self, *exc):
        if self.bus:
            self.bus.__exit__(None, None, None)
        if self.wire and self.wire.poll() is None:
            self.wire.terminate()
            self.wire.wait(10)
        self.cleanup_netns()
        shutil.rmtree(self.tmp, ignore_errors=True)
        return False


def peers_check(report):
    return [c for c in report.json["profiles"][0]["checks"] if c["id"] == "net.peers"][0]


def finding(verdict, kind):
    found = [f for f in verdict["findings"] if f["kind"] == kind]
    return found[0] if found else None


BED = None


def bed():
    global BED
    if BED is None:
        BED = Bed().__enter__()
    BED.reset()
    return BED


def test_1_all_good():
    b = bed()
    code, out = b.play()
    assert_eq(code, 0, out)
    assert_in("iomesh: 4 of 4 workers ready (at least 3 needed): READY", out)
    # The role wrote Peers= from the inventory.
    assert_in("Peers=10.77.0.1 10.77.0.2 10.77.0.3 10.77.0.4",
              read(b.roots[0], "/etc/nodeprep/nodeprep.conf.d/50-ansible-peers.conf"))
    reports, code, v = b.cluster()
    assert_eq(code, 0, json.dumps(v, indent=1))
    methods = [r.json["facts"]["peers_probe"]["method"] for r in reports]
    assert_eq(methods, ["ping socket", "ping socket", "raw socket", "raw socket"], "ICMP ways")
    for r in reports:
        c = peers_check(r)
        assert_eq(c["status"], "pass", repr(c))
        for p in r.json["facts"]["peers"]:
            if not p["self"]:
                # (the first echo may wait for ARP, and a frame may be lost on a loaded machine)
                assert_eq((p["on_segment"], p["full_size_ok"], p["sent"], p["received"] >= 3),
                          (True, True, 5, True), repr(p))
                assert p["rtt_median_usec"] > 0 and p["rtt_max_usec"] >= p["rtt_median_usec"], p
        assert_eq(r.json["cluster"]["data_mtu"], 1500)
        print("# %s: peers probed in %.0f ms" % (r.json["host"]["hostname"],
                                                 r.json["facts"]["peers_probe"]["elapsed_usec"]
                                                 / 1000))
    assert_eq(v["findings"], [], "no finding")


def test_2_mtu_mismatch():
    b = bed()
    ns(WORKERS[2], "ip", "link", "set", "data0", "mtu", "9000")
    ns(SW, "ip", "link", "set", "p3", "mtu", "9000")  # only its own port; the others carry 1500
    code, out = b.play()
    # Three ready still make the three IOMesh needs: the play passes, the finding is shown.
    assert_eq(code, 0, out)
    assert_in("iomesh: 3 of 4 workers ready (at least 3 needed): READY", out)
    assert_in("mtu-mismatch: data-network MTUs differ: MTU 1500 on worker-1, worker-2, "
              "worker-4; MTU 9000 on worker-3", out)
    reports, code, v = b.cluster()
    c = peers_check(reports[2])
    assert_eq(c["status"], "fail", repr(c))
    assert_in("10.77.0.1: a full-size echo (9000 bytes, this host's MTU on data0) with "
              "don't-fragment gets no answer; the largest that passed is 1500 bytes", c["message"])
    for i in (0, 1, 3):
        assert_eq(peers_check(reports[i])["status"], "pass", repr(peers_check(reports[i])))
    f = finding(v, "mtu-mismatch")
    assert f and f["severity"] == "fail" and f["hosts"] == ["worker-3"], v["findings"]
    assert_eq(v["profiles"][0]["ready"], 3)


def test_3_worker_without_data_address():
    b = bed()
    ns(WORKERS[3], "ip", "addr", "flush", "dev", "data0")
    code, out = b.play()
    assert code != 0, "the play fails: " + out
    assert_in("iomesh: 0 of 4 workers ready (at least 3 needed): NOT READY", out)
    reports, code, v = b.cluster()
    assert_eq(code, 1)
    nic = [c for c in reports[3].json["profiles"][0]["checks"] if c["id"] == "nic.data-cidr"][0]
    assert_eq(nic["status"], "fail", repr(nic))
    assert_in("no link holds an address in the data network 10.77.0.0/16", nic["message"])
    for i in range(3):
        c = peers_check(reports[i])
        assert_eq(c["status"], "fail", repr(c))
        assert_in("10.77.0.4 does not answer from 10.77.0.%d on data0" % (i + 1), c["message"])
    row = [x for x in v["not_passing"] if x["check"] == "net.peers"][0]
    assert_eq(row["status"], {"worker-%d" % i: "fail" for i in range(1, 5)})


def test_4_peer_behind_the_router():
    b = bed()
    w4 = WORKERS[3]
    ns(SW, "ip", "link", "set", "p4", "master", "br1")
    ns(w4, "ip", "addr", "flush", "dev", "data0")
    ns(w4, "ip", "addr", "add", "10.77.1.4/24", "dev", "data0")
    ns(w4, "ip", "route", "replace", "10.77.0.0/24", "via", "10.77.1.254")
    code, out = b.play(["10.77.0.1", "10.77.0.2", "10.77.0.3", "10.77.1.4"])
    assert code != 0, out
    assert_in("NOT READY", out)
    reports, code, _ = b.cluster()
    assert_eq(code, 1)
    for i in range(3):
        c = peers_check(reports[i])
        assert_eq(c["status"], "fail", repr(c))
        assert_in("10.77.1.4 is reached through 10.77.0.254 on data0, not on the data segment",
                  c["message"])
        peer = [p for p in reports[i].json["facts"]["peers"] if p["peer"] == "10.77.1.4"][0]
        # It answers (through the router): the route is what fails.
        assert_eq((peer["gateway"], peer["on_segment"], peer["received"] > 0),
                  ("10.77.0.254", False, True), repr(peer))
    assert_in("reached through 10.77.1.254 on data0, not on the data segment",
              peers_check(reports[3])["message"])
    # nodeprepctl facts shows the same per peer: route, answers, RTT, the size that passed.
    e = dict(os.environ, NO_COLOR="1", DBUS_SYSTEM_BUS_ADDRESS=b.bus.address)
    text = subprocess.run(["ip", "netns", "exec", WORKERS[0], NODEPREPCTL, "facts", "--root",
                           b.roots[0]], capture_output=True, text=True, env=e, timeout=60).stdout
    area = text[text.index("\nPeers\n"):]
    assert_in("  from                   10.77.0.1 on data0, MTU 1500 (DataCIDR 10.77.0.0/16, ICMP "
              "by ping socket)\n  10.77.0.1              this host\n", area)
    assert re.search(r"\n  10\.77\.0\.2 +on data0, on-segment; [3-5] of 5 answered, rtt "
                     r"[0-9]+\.[0-9]{3} ms median, [0-9]+\.[0-9]{3} ms max; 1500 bytes \(full "
                     r"size\) passed\n", area), area
    assert re.search(r"\n  10\.77\.1\.4 +via 10\.77\.0\.254 on data0; [1-5] of 5 answered, "
                     r"rtt [0-9.]+ ms median, [0-9.]+ ms max; 1500 bytes \(full size\) passed\n",
                     area), area


def test_5_two_of_four():
    b = bed()
    for root in b.roots[2:]:
        # A requirement apply cannot fix: 1000 PB free in /opt.
        write(root, "/etc/nodeprep/profiles/iomesh.conf.d/60-full.conf",
              "[Check]\nId=fs.free:/opt\nMinFree=1000PB\n")
    code, out = b.play()
    assert code != 0, "the play fails: " + out
    assert_in("iomesh: 2 of 4 workers ready (at least 3 needed): NOT READY", out)
    assert_in("fs.free:/opt", out.split("iomesh: 2 of 4")[1])
    assert re.search(r"failed=1", out), out[-2000:]
    _, code, v = b.cluster()
    assert_eq(code, 1, "exit 1 as check")
    assert_eq((v["verdict"], v["profiles"][0]["ready"], v["profiles"][0]["min_ready_nodes"]),
              ("not-ready", 2, 3))


def worker1_daemon(b, interval):
    """nodeprepd in worker-1's namespace with the four peers, PeerInterval=interval."""
    write(b.roots[0], "/etc/nodeprep/nodeprep.conf.d/60-daemon.conf",
          "[Cluster]\nPeers=10.77.0.1 10.77.0.2 10.77.0.3 10.77.0.4\nPeerInterval=%s\n"
          % interval)
    return Daemon(b.roots[0], wrapper=["ip", "netns", "exec", WORKERS[0]],
                  extra_env={"DBUS_SYSTEM_BUS_ADDRESS": b.bus.address})


def test_6_daemon():
    """nodeprepd in worker-1's namespace: peers at start, on a link change, on the timer; a
    peer probe that waits out PeerTimeout= does not hold back the report of another change."""
    b = bed()
    root = b.roots[0]
    with worker1_daemon(b, "1s") as d:
        p = d.report(facts=True)
        c = [x for x in p["report"]["profiles"][0]["checks"] if x["id"] == "net.peers"][0]
        assert_eq(c["status"], "pass", "probed before the first report: %r" % c)
        # The timer: a new peer probe (and evaluation) with nothing else happening.
        d.wait_area(p["evaluation"]["serial"], "peers", timeout=10)
        # A link change re-probes: at MTU 9000 behind 1500-byte ports the full size fails.
        serial = d.report()["evaluation"]["serial"]
        ns(WORKERS[0], "ip", "link", "set", "data0", "mtu", "9000")
        deadline = time.time() + 10
        while time.time() < deadline:
            p = d.report()
            c = [x for x in p["report"]["profiles"][0]["checks"] if x["id"] == "net.peers"][0]
            if p["evaluation"]["serial"] > serial and c["status"] == "fail":
                break
            time.sleep(0.05)
        assert_in("largest that passed is 1500 bytes", c["message"])
        ns(WORKERS[0], "ip", "link", "set", "data0", "mtu", "1500")
        # A peer that does not answer makes each probe last PeerTimeout= (2 s); a file change
        # made just after a probe starts is reported before that probe ends.
        ns(WORKERS[3], "ip", "addr", "flush", "dev", "data0")
        time.sleep(2.5)
        serial = d.report()["evaluation"]["serial"]
        ns(WORKERS[0], "ip", "addr", "add", "10.77.9.1/32", "dev", "lo")  # starts a probe
        t0 = time.time()
        conf = read(root, "/etc/iscsi/iscsid.conf")
        write(root, "/etc/iscsi/iscsid.conf", conf.replace("node.startup = manual",
                                                           "node.startup = automatic"))
        seen_iscsi = seen_peers = None
        while time.time() < t0 + 10 and seen_peers is None:
            p = d.report()
            ev = p["evaluation"]
            if ev["serial"] > serial:
                if "iscsi" in ev["reprobed"] and seen_iscsi is None:
                    seen_iscsi = time.time() - t0
                if ev["reprobed"] == ["peers"] and seen_iscsi is not None:
                    seen_peers = time.time() - t0
                serial = ev["serial"]
            time.sleep(0.02)
        print("# daemon: iscsid.conf change reported after %.2f s, the slow peer probe ended "
              "after %s s" % (seen_iscsi, "%.2f" % seen_peers if seen_peers else "?"))
        assert seen_iscsi is not None and seen_peers is not None, (seen_iscsi, seen_peers)
        assert seen_iscsi < seen_peers, "the iscsi change waited for the peer probe"
        ns(WORKERS[0], "ip", "addr", "del", "10.77.9.1/32", "dev", "lo")
        write(root, "/etc/iscsi/iscsid.conf", conf)


def daemon_peers(d):
    """(report parameters, net.peers, facts.peers_probe) from the daemon."""
    p = d.report(facts=True)
    c = [x for x in p["report"]["profiles"][0]["checks"] if x["id"] == "net.peers"][0]
    return p, c, p["report"]["facts"]["peers_probe"]


def test_8_flapping_data_link():
    """nodeprepd with the data link toggled 20 times in 2 s: a bounded number of peer probes
    (2 per PeerInterval/2, daemon/peers.c), no pass on answers from before the link went down,
    the settled verdict equal to a fresh nodeprepctl check, an iscsid.conf edit made during the
    flap reported as fast as ever."""
    b = bed()
    root = b.roots[0]
    # PeerInterval=20s: link-caused probes at most 2 per 10 s; the timer's own never in the run.
    with worker1_daemon(b, "20s") as d:
        _, c, probe = daemon_peers(d)
        assert_eq((c["status"], probe["stale"]), ("pass", None), repr(c))
        first = probe["serial"]
        assert first >= 1, probe
        conf = read(root, "/etc/iscsi/iscsid.conf")
        seen = []  # (net.peers status, stale, data0 up in the same report's facts)
        serial = d.report()["evaluation"]["serial"]
        t0 = time.time()
        flapper = subprocess.Popen(
            ["ip", "netns", "exec", WORKERS[0], "sh", "-c",
             "for i in 1 2 3 4 5 6 7 8 9 10; do ip link set data0 down; sleep 0.09; "
             "ip link set data0 up; sleep 0.09; done"])
        edited = seen_iscsi = None
        while flapper.poll() is None or seen_iscsi is None:
            if edited is None and time.time() > t0 + 0.7:
                write(root, "/etc/iscsi/iscsid.conf", conf.replace("node.startup = manual",
                                                                   "node.startup = automatic"))
                edited = time.time()
            p, c, probe = daemon_peers(d)
            data0 = [x for x in p["report"]["facts"]["links"] if x["name"] == "data0"][0]
            seen.append((c["status"], probe["stale"], data0["up"]))
            ev = p["evaluation"]
            if edited and seen_iscsi is None and ev["serial"] > serial and \
                    "iscsi" in ev["reprobed"]:
                seen_iscsi = time.time() - edited
            serial = ev["serial"]
            assert time.time() < t0 + 20, "the flap or the iscsid.conf report never ended"
            time.sleep(0.02)
        flap = time.time() - t0
        assert_eq(flapper.wait(), 0, "the flap")
        # Never a pass on a link that is down (facts from the same evaluation), and the answers
        # from before the flap were marked stale while it went on.
        assert not [x for x in seen if x[0] == "pass" and not x[2]], seen
        assert [x for x in seen if x[1] and "link data0 changed" in x[1] and x[0] != "pass"], seen
        during = daemon_peers(d)[2]["serial"] - first
        # Settled: the re-probes end (the last at most PeerInterval/2 after the one but last).
        deadline = time.time() + 25
        while daemon_peers(d)[2]["stale"] is not None and time.time() < deadline:
            time.sleep(0.1)
        time.sleep(1.5)  # no probe more
        p, c, probe = daemon_peers(d)
        total = probe["serial"] - first
        fresh = peers_check(b.check(1))
        print("# flap: 20 link changes in %.2f s; peer probes: %d while flapping, %d in all "
              "(settled %.1f s after the flap began); iscsid.conf edit reported after %.3f s"
              % (flap, during, total, time.time() - t0, seen_iscsi))
        assert probe["stale"] is None, probe
        # 2 per PeerInterval/2 (10 s) window: ~1 s and ~2 s into the flap, one at ~10 s.
        assert 1 <= total <= 3, "peer probes: %d" % total
        assert_eq((c["status"], c["message"]), (fresh["status"], fresh["message"]),
                  "the settled verdict is a fresh check's")
        assert_eq(c["status"], "pass", repr(c))
        assert seen_iscsi < 1.0, "iscsid.conf change reported after %.3f s" % seen_iscsi
        write(root, "/etc/iscsi/iscsid.conf", conf)


V6 = ["fd00:77::%d" % i for i in range(1, 5)]


def set_ipv6(on):
    """IPv6 on (or off again: the addresses go with it) in the workers and the router. No
    duplicate address detection, for link-local addresses too: a router whose link-local address
    is still tentative answers no neighbour solicitation, and routed echoes are lost."""
    links = {RT: ["rt0", "rt1"]}
    for name in [RT] + WORKERS:
        for k in ["all", "default"] + links.get(name, ["data0"]):
            if on:
                ns(name, "sysctl", "-qw", "net.ipv6.conf.%s.accept_dad=0" % k)
            ns(name, "sysctl", "-qw", "net.ipv6.conf.%s.disable_ipv6=%d" % (k, 0 if on else 1))
    ns(RT, "sysctl", "-qw", "net.ipv6.conf.all.forwarding=%d" % (1 if on else 0))
    deadline = time.time() + 5
    while on and time.time() < deadline and any(
            ns(name, "ip", "-6", "addr", "show", "tentative").stdout for name in [RT] + WORKERS):
        time.sleep(0.05)


def test_7_ipv6():
    """The data network in IPv6: ping sockets and raw ones, IPV6_DONTFRAG at full size, an MTU
    mismatch, a peer behind the router."""
    b = bed()
    set_ipv6(True)
    try:
        for i, br in enumerate(("br0", "br1")):
            ns(RT, "ip", "-6", "addr", "add", "fd00:77:0:%d::fe/64" % i, "dev", "rt%d" % i, "nodad")
        for i, w in enumerate(WORKERS, 1):
            ns(w, "ip", "-6", "addr", "add", V6[i - 1] + "/64", "dev", "data0", "nodad")
            ns(w, "ip", "-6", "route", "replace", "fd00:77:0:1::/64", "via", "fd00:77::fe")
            write(b.roots[i - 1], "/etc/nodeprep/nodeprep.conf.d/70-ipv6.conf",
                  "[Settings]\nDataCIDR=fd00:77::/48\n[Cluster]\nPeers=\nPeers=%s\n"
                  % " ".join(V6))

        # All good.
        reports = [b.check(i) for i in range(1, 5)]
        assert_eq([r.json["facts"]["peers_probe"]["method"] for r in reports],
                  ["ping socket", "ping socket", "raw socket", "raw socket"], "ICMPv6 ways")
        for r in reports:
            c = peers_check(r)
            assert_eq(c["status"], "pass", repr(c))
            for p in r.json["facts"]["peers"]:
                if not p["self"]:
                    assert_eq((p["on_segment"], p["full_size_ok"], p["full_size"],
                               p["received"] >= 3), (True, True, 1500, True), repr(p))
                    assert p["rtt_median_usec"] > 0, p

        # Worker 3 at MTU 9000 behind 1500-byte ports: its full-size echo (DF) is dropped.
        ns(WORKERS[2], "ip", "link", "set", "data0", "mtu", "9000")
        ns(SW, "ip", "link", "set", "p3", "mtu", "9000")
        c = peers_check(b.check(3))
        assert_eq(c["status"], "fail", repr(c))
        assert_in("fd00:77::1: a full-size echo (9000 bytes, this host's MTU on data0) with "
                  "don't-fragment gets no answer; the largest that passed is 1500 bytes",
                  c["message"])
        ns(WORKERS[2], "ip", "link", "set", "data0", "mtu", "1500")
        ns(SW, "ip", "link", "set", "p3", "mtu", "1500")

        # Worker 4 on the second subnet, behind the router.
        w4 = WORKERS[3]
        ns(SW, "ip", "link", "set", "p4", "master", "br1")
        ns(w4, "ip", "-6", "addr", "flush", "dev", "data0", "scope", "global")
        ns(w4, "ip", "-6", "addr", "add", "fd00:77:0:1::4/64", "dev", "data0", "nodad")
        ns(w4, "ip", "-6", "route", "replace", "fd00:77::/64", "via", "fd00:77:0:1::fe")
        peers = "fd00:77::1 fd00:77::2 fd00:77::3 fd00:77:0:1::4"
        for root in b.roots:
            write(root, "/etc/nodeprep/nodeprep.conf.d/70-ipv6.conf",
                  "[Settings]\nDataCIDR=fd00:77::/48\n[Cluster]\nPeers=\nPeers=%s\n" % peers)
        r = b.check(1)
        c = peers_check(r)
        assert_eq(c["status"], "fail", repr(c))
        assert_in("fd00:77:0:1::4 is reached through fd00:77::fe on data0, not on the data "
                  "segment", c["message"])
        peer = [p for p in r.json["facts"]["peers"] if p["peer"] == "fd00:77:0:1::4"][0]
        assert_eq((peer["gateway"], peer["on_segment"], peer["received"] > 0),
                  ("fd00:77::fe", False, True), repr(peer))
        assert_in("reached through fd00:77:0:1::fe on data0, not on the data segment",
                  peers_check(b.check(4))["message"])
    finally:
        for root in b.roots:
            d = os.path.join(root, "etc/nodeprep/nodeprep.conf.d/70-ipv6.conf")
            if os.path.exists(d):
                os.unlink(d)
        set_ipv6(False)


if __name__ == "__main__":
    # meson's timeout sends SIGTERM: clean up then too.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    try:
        run_tests(globals())
    finally:
        if BED is not None:
            BED.__exit__()
