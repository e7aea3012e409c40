#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Link probe, nic.speed and nic.data-cidr on real links in a private network namespace (root).

Taps at 1000, 10000, 25000 and 40000 Mb/s (ethtool -s; a helper process holds them open, so they
have carrier and report operstate "unknown" with LOWER_UP, as some real drivers do), a tap without
carrier, a veth pair (10000 Mb/s, never a NIC), a bridge over a fast tap and one over a veth, with
IPv4 and IPv6 addresses, and an IPv6 address that fails duplicate address detection (vethB
holds it first). Addresses are documentation/ULA ranges that exist only inside the namespace;
nothing leaves it.
"""
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from nptest import (NODEPREPCTL, Result, Skip, assert_eq, assert_in,  # noqa: E402
                    make_root, require_root, run_tests)

NS = "np-links-%d" % os.getpid()

# Holds the taps open (TUNSETIFF) so the kernel gives them carrier; exits when stdin closes.
HOLDER = r"""
import fcntl, os, struct, sys
fds = []
for name in sys.argv[1:]:
    fd = os.open("/dev/net/tun", os.O_RDWR)
    fcntl.ioctl(fd, 0x400454ca, struct.pack("16sH", name.encode(), 0x0002 | 0x1000))
    fds.append(fd)
print("READY", flush=True)
sys.stdin.read()
"""


def ns(*args, check=True):
    p = subprocess.run(["ip", "netns", "exec", NS] + list(args), capture_output=True, text=True)
    if check and p.returncode != 0:
        raise AssertionError("%s: %s" % (" ".join(args), p.stderr.strip()))
    return p


def npctl(*args, env=None):
    """nodeprepctl inside the namespace."""
    e = dict(os.environ, NO_COLOR="1", **(env or {}))
    p = subprocess.run(["ip", "netns", "exec", NS, NODEPREPCTL] + list(args), capture_output=True,
                       text=True, env=e, timeout=60)
    return Result(list(args), p)


def check(*sets):
    args = ["check", "--json", "--facts", "--profile", "iomesh"]
    for s in sets:
        args += ["--set", s]
    return npctl(*args)


def setup():
    subprocess.run(["ip", "netns", "add", NS], check=True, capture_output=True)
    ns("ip", "link", "set", "lo", "up")
    taps = {"tap1g": 1000, "tap10g": 10000, "tap25g": 25000, "tapbr": 40000, "tapnc": 10000}
    for name, speed in taps.items():
        ns("ip", "tuntap", "add", "dev", name, "mode", "tap")
        ns("ethtool", "-s", name, "speed", str(speed), "duplex", "full")
    holder = subprocess.Popen(["ip", "netns", "exec", NS, "/usr/bin/python3", "-c", HOLDER,
                               "tap1g", "tap10g", "tap25g", "tapbr"],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    if holder.stdout.readline().strip() != "READY":
        holder.kill()
        raise AssertionError("tap holder did not start")
    for name in taps:
        ns("ip", "link", "set", name, "up")
    ns("ip", "link", "add", "vethA", "type", "veth", "peer", "name", "vethB")
    ns("ip", "link", "add", "vethC", "type", "veth", "peer", "name", "vethD")
    ns("ip", "link", "add", "br0", "type", "bridge")
    ns("ip", "link", "add", "br1", "type", "bridge")
    ns("ip", "link", "set", "tapbr", "master", "br0")
    ns("ip", "link", "set", "vethC", "master", "br1")
    for name in ("vethA", "vethB", "vethC", "vethD", "br0", "br1"):
        ns("ip", "link", "set", name, "up")
    addrs = [("tap25g", "10.77.25.1/24"), ("tap25g", "fd00:77:25::1/64"),
             ("tap1g", "10.77.1.1/24"), ("tap10g", "10.77.10.1/24"),
             ("vethA", "10.77.100.1/24"), ("vethA", "fd00:77:100::1/64"),
             ("br0", "10.77.40.1/24"), ("br1", "10.77.41.1/24"), ("tapnc", "10.77.99.1/24")]
    for dev, addr in addrs:
        ns("ip", "addr", "add", addr, "dev", dev, *(["nodad"] if ":" in addr else []))
    # vethB owns fd00:77:66::1 (no DAD); vethA then claims it with DAD and loses: dadfailed.
    ns("ip", "addr", "add", "fd00:77:66::1/64", "dev", "vethB", "nodad")
    ns("ip", "addr", "add", "fd00:77:66::1/64", "dev", "vethA")
    return holder


def wait_dadfailed(dev, timeout=10):
    """The kernel's DAD takes about a second (one probe, RetransTimer 1 s)."""
    for _ in range(timeout * 10):
        if "dadfailed" in ns("ip", "-6", "addr", "show", "dev", dev).stdout:
            return True
        time.sleep(0.1)
    return False


def teardown(holder):
    if holder:
        try:
            holder.stdin.close()
            holder.wait(5)
        except Exception:
            holder.kill()
            holder.wait()
    subprocess.run(["ip", "netns", "del", NS], capture_output=True)


def wait_carrier(names):
    """Bridges take a moment to forward; wait until the kernel says they are up."""
    for _ in range(50):
        out = ns("ip", "-br", "link").stdout
        states = {l.split()[0].split("@")[0]: l.split()[1] for l in out.splitlines()}
        if all(states.get(n) in ("UP", "UNKNOWN") for n in names):
            return
        time.sleep(0.1)


def test_links():
    require_root()
    for tool in ("ip", "ethtool"):
        if not shutil.which(tool):
            raise Skip("%s missing (tools/install-deps --test)" % tool)
    if not os.path.exists("/dev/net/tun"):
        raise Skip("no /dev/net/tun")
    holder = None
    try:
        try:
            holder = setup()
        except (subprocess.CalledProcessError, AssertionError) as e:
            raise Skip("cannot build the test links here: %s" % e)
        wait_carrier(["br0", "vethA", "tap25g"])

        res = check()
        links = {l["name"]: l for l in res.json["facts"]["links"]}
        assert_eq(res.json["facts"]["links_unknown"], None, "links_unknown")
        for name, speed in (("tap1g", 1000), ("tap10g", 10000), ("tap25g", 25000),
                            ("tapbr", 40000)):
            l = links[name]
            assert_eq(l["kind"], "tap", name + " kind")
            assert_eq(l["speed_mbps"], speed, name + " speed")
            assert_eq(l["duplex"], "full", name + " duplex")
            assert_eq(l["speed_source"], "ethtool-netlink", name + " speed source")
            # A tap with carrier: RFC 2863 "unknown" plus LOWER_UP on older kernels, "up" on
            # newer ones; both count as up (the "unknown" case is also in the unit tests).
            assert_in(l["operstate"], ("unknown", "up"), name + " operstate")
            assert_eq(l["carrier"], True, name + " carrier")
            assert_eq(l["up"], True, name + " up")
        assert_eq(links["tapnc"]["carrier"], False, "tapnc carrier")
        assert_eq(links["tapnc"]["up"], False, "tapnc up")
        assert_eq(links["vethA"]["kind"], "veth", "veth kind")
        assert_eq(links["vethA"]["speed_mbps"], 10000, "veth speed")
        assert_eq(links["vethA"]["operstate"], "up", "veth operstate")
        assert_eq(links["lo"]["kind"], "loopback", "lo kind")
        assert_eq(links["br0"]["kind"], "bridge", "br0 kind")
        assert_eq(links["br0"]["members"], ["tapbr"], "br0 members")
        assert_eq(links["tapbr"]["master"], "br0", "tapbr master")
        assert_eq(links["tap25g"]["mtu"], 1500, "mtu")
        assert_in("10.77.25.1/24", links["tap25g"]["addresses"], "IPv4 address")
        assert_in("fd00:77:25::1/64", links["tap25g"]["addresses"], "IPv6 address")
        assert_in("127.0.0.1/8", links["lo"]["addresses"], "loopback address")

        # An address that failed duplicate address detection is not one the link can use.
        assert wait_dadfailed("vethA"), "vethA's fd00:77:66::1 never became dadfailed"
        fl = {l["name"]: l for l in npctl("facts", "--json", "--profile", "iomesh").json["links"]}
        assert "fd00:77:66::1/64" not in fl["vethA"]["addresses"], fl["vethA"]
        # (The link-local fe80:: addresses may still be "tentative" here: also unusable.)
        assert_in("fd00:77:66::1/64 dadfailed", fl["vethA"]["unusable_addresses"],
                  "vethA unusable_addresses")
        assert_in("fd00:77:66::1/64", fl["vethB"]["addresses"], "vethB keeps the address")
        assert "fd00:77:66::1/64 dadfailed" not in fl["vethB"]["unusable_addresses"], fl["vethB"]

        # The fallbacks for kernels without the ethtool netlink family give the same speeds.
        for source in ("ioctl", "sysfs"):
            r = npctl("facts", "--json", "--profile", "iomesh",
                      env={"NODEPREP_LINK_SPEED_SOURCE": source})
            fl = {l["name"]: l for l in r.json["links"]}
            for name, speed in (("tap1g", 1000), ("tap25g", 25000), ("vethA", 10000)):
                assert_eq(fl[name]["speed_mbps"], speed, "%s speed via %s" % (name, source))
                assert_eq(fl[name]["speed_source"], source, "%s speed source" % name)
            assert_eq(fl["tap1g"]["duplex"], "full" if source == "ioctl" else None,
                      "duplex via " + source)

        # nic.speed: 10G and 25G taps pass 10000; only the 25G (and the 40G bridge port) 25000.
        c = res.check("nic.speed")
        assert_eq(c["status"], "pass", "nic.speed at 10000")
        assert_in("tap10g up at 10000 Mb/s (tap)", c["observed"], "nic.speed observed")
        assert_in("tap25g up at 25000 Mb/s (tap)", c["observed"], "nic.speed observed")
        assert "tap1g" not in c["observed"] and "vethA" not in c["observed"], c
        c = check("MinLinkSpeed=25000").check("nic.speed")
        assert_eq(c["status"], "pass", "nic.speed at 25000")
        assert "tap10g" not in c["observed"], c
        c = check("MinLinkSpeed=100000").check("nic.speed")
        assert_eq(c["status"], "fail", "nic.speed at 100000")
        assert_in("tapbr is up at 40000 Mb/s", c["remedy"], "nic.speed remedy")
        assert_in("vethA veth", c["observed"], "veth named as not counted")

        # nic.data-cidr, IPv4 and IPv6.
        def cidr(value, *extra):
            return check("DataCIDR=" + value, *extra).check("nic.data-cidr")

        c = cidr("10.77.25.0/24")
        assert_eq(c["status"], "pass", "data-cidr on the 25G tap")
        assert_in("tap25g 10.77.25.1/24: up at 25000 Mb/s", c["observed"], "data-cidr observed")
        c = cidr("fd00:77:25::/64")
        assert_eq(c["status"], "pass", "IPv6 data-cidr")
        assert_in("tap25g fd00:77:25::1/64", c["observed"], "IPv6 observed")
        c = cidr("10.77.1.0/24")
        assert_eq(c["status"], "fail", "data-cidr on the 1G tap")
        assert_in("runs at 1000 Mb/s", c["message"], "slow message")
        c = cidr("10.77.100.0/24")
        assert_eq(c["status"], "fail", "data-cidr on a veth")
        assert_in("veth", c["message"], "veth message")
        c = cidr("10.77.40.0/24")
        assert_eq(c["status"], "pass", "data-cidr on a bridge over a 40G tap")
        assert_in("bridge, via port tapbr: up at 40000", c["observed"], "bridge observed")
        c = cidr("10.77.41.0/24")
        assert_eq(c["status"], "fail", "data-cidr on a bridge of veths")
        c = cidr("10.77.99.0/24")
        assert_eq(c["status"], "fail", "data-cidr on a tap without carrier")
        assert_in("no carrier", c["message"], "no carrier message")
        c = cidr("10.88.0.0/16")
        assert_eq(c["status"], "fail", "no address in the CIDR")
        assert_in("no address in 10.88.0.0/16", c["observed"], "no-address observed")
        c = cidr("10.77.0.0/16")
        assert_eq(c["status"], "fail", "several addresses in the CIDR")
        assert_in("addresses are in 10.77.0.0/16", c["message"], "several-addresses message")
        c = cidr("10.77.25.0/24", "MinLinkSpeed=40000")
        assert_eq(c["status"], "fail", "data-cidr link slower than MinLinkSpeed")

        # Bring the fast taps down: the 10G rule now fails and names the 1G tap.
        ns("ip", "link", "set", "tap10g", "down")
        ns("ip", "link", "set", "tap25g", "down")
        ns("ip", "link", "set", "tapbr", "down")
        res = check("DataCIDR=10.77.25.0/24")
        c = res.check("nic.speed")
        assert_eq(c["status"], "fail", "nic.speed with fast taps down")
        assert_in("tap1g is up at 1000 Mb/s", c["remedy"], "remedy names the fastest slow link")
        c = res.check("nic.data-cidr")
        assert_eq(c["status"], "fail", "data-cidr on a down link")
        assert_in("down", c["message"], "down message")

        # The text table, like ip -br link.
        text = npctl("facts", "--profile", "iomesh")
        assert_eq(text.code, 0, "facts exit code")
        rows = {l.split()[0]: l for l in text.out.splitlines()[1:] if l.startswith("  tap")}
        assert_in("1000Mb/s full", rows.get("tap1g", ""), "tap1g row")
        assert "down" not in rows.get("tap1g", "down"), rows
        assert_in("10.77.1.1/24", rows.get("tap1g", ""), "tap1g address")
    finally:
        teardown(holder)


LISTENER = r"""
import socket, sys
s = socket.socket()
s.bind((sys.argv[1], 0))
s.listen(8)
print(s.getsockname()[1], flush=True)
sys.stdin.read()
"""


def test_reachable_tries_every_address():
    """A name with a black-holed first address and a listening second one: each address gets
    its share of the timeout, so the second is still tried (the first alone would use it up).
    Two namespaces joined by a veth pair: the listener at 10.255.255.5 in the peer one, and
    10.255.255.1, a permanent neighbour with a MAC nobody has, where every SYN is dropped."""
    require_root()
    for tool in ("ip", "unshare", "mount", "getent"):
        if not shutil.which(tool):
            raise Skip("%s missing" % tool)
    here, peer = NS + "-r", NS + "-p"
    tmp = tempfile.mkdtemp(prefix="nodeprep-reach-")
    listener = None
    try:
        for n in (here, peer):
            subprocess.run(["ip", "netns", "add", n], check=True, capture_output=True)

        def nsx(n, *args):
            return subprocess.run(["ip", "netns", "exec", n] + list(args), check=True,
                                  capture_output=True, text=True)

        nsx(here, "ip", "link", "set", "lo", "up")
        nsx(here, "ip", "link", "add", "bhA", "type", "veth", "peer", "name", "bhB")
        nsx(here, "ip", "link", "set", "bhB", "netns", peer)
        nsx(here, "ip", "addr", "add", "10.255.255.2/24", "dev", "bhA")
        nsx(here, "ip", "link", "set", "bhA", "up")
        nsx(peer, "ip", "addr", "add", "10.255.255.5/24", "dev", "bhB")
        nsx(peer, "ip", "link", "set", "bhB", "up")
        nsx(here, "ip", "neigh", "add", "10.255.255.1", "lladdr", "02:00:00:00:00:01", "dev",
            "bhA", "nud", "permanent")
        listener = subprocess.Popen(["ip", "netns", "exec", peer, "/usr/bin/python3", "-c",
                                     LISTENER, "10.255.255.5"], stdin=subprocess.PIPE,
                                    stdout=subprocess.PIPE, text=True)
        port = int(listener.stdout.readline())
        hosts = os.path.join(tmp, "hosts")
        with open(hosts, "w") as f:
            f.write("10.255.255.1 twohomed.test\n10.255.255.5 twohomed.test\n")
        root = make_root(tmp=tmp)

        def in_ns(*argv):
            return subprocess.run(["ip", "netns", "exec", here, "unshare", "-m",
                                   "--propagation", "private", "sh", "-c",
                                   'mount --bind "$0" /etc/hosts && exec "$@"', hosts] +
                                  list(argv), capture_output=True, text=True, timeout=60,
                                  env=dict(os.environ, NO_COLOR="1"))

        order = in_ns("getent", "ahostsv4", "twohomed.test").stdout.split()
        if not order or order[0] != "10.255.255.1":
            raise Skip("the resolver puts %s first" % (order[:1] or "nothing"))
        t = time.monotonic()
        p = in_ns(NODEPREPCTL, "check", "--json", "--root", root, "--profile", "flow-like",
                  "--set", "Endpoint.postgres=twohomed.test:%d" % port)
        elapsed = time.monotonic() - t
        c = Result(["check"], p).check("net.reachable:postgres")
        assert_eq(c["status"], "pass", "the second address within the timeout: %r" % c)
        assert_in("10.255.255.5:%d" % port, c["observed"])
        print("# connected after %.1f s (timeout 5 s, the first address got 2.5 s)" % elapsed)
    finally:
        if listener:
            listener.stdin.close()
            listener.wait(5)
        for n in (here, peer):
            subprocess.run(["ip", "netns", "del", n], capture_output=True)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    run_tests(globals())
