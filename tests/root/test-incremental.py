#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""nodeprepd re-reads only what events name: its facts must equal a fresh full probe's (root).

test_randomized_equivalence: a seeded random walk over what happens to disks and links
(attach, detach, mkfs, mkswap, swapon and swapoff, wipefs, partition, set rotational, a burst of
attach and detach; links up and down, addresses added and removed, veth pairs added and removed,
ports enslaved to a bridge and freed) for NODEPREP_INCREMENTAL_SECONDS (default 40). After each
step the daemon's GetFacts (disks and links) must equal `nodeprepctl facts --json` run in the
same network namespace, and the daemon must not have probed the disks or links in full. The
first difference fails the test with the seed (NODEPREP_INCREMENTAL_SEED=N repeats a run).

Other programs attach and detach loop devices meanwhile, and the kernel reports some changes late
(operstates through its link watch, IPv6 link-local addresses and the end of their duplicate
address detection, up to two seconds after a link comes up): both sides list every device and
address of the host, so a change between the daemon's evaluation and the CLI's probe makes them
differ for a moment. Each comparison therefore waits until the daemon's evaluations have settled
(no new one for 300 ms); when the two still differ, it waits two seconds, lets the daemon settle
again and compares a fresh pair once more. A difference that survives that is a failure: nothing
is ignored or filtered. The test prints each difference the second comparison no longer saw.

test_lost_uevents / test_lost_rtnetlink: a receive buffer shrunk to the kernel's minimum
(NODEPREP_NETLINK_RCVBUF) and the daemon stopped (SIGSTOP) while devices or links appear: the
queue overflows (ENOBUFS), the daemon logs it once and reads the area in full.

test_rescan_finds_what_no_event_said: queue/rotational written without a uevent (the kernel sends
none); the safety re-scan (RescanSec=) logs where its facts differ from the incremental ones.

Only loop devices, backing files (incremental-*) and links this test makes are changed; every one
is removed on exit, whatever happens. Links live in the daemon's private network namespace.
"""
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from npdaemon import Daemon  # noqa: E402
from nptest import NODEPREPCTL, Skip, make_root, require_root, run_tests  # noqa: E402

TOOLS = ["losetup", "mkfs.ext4", "mkswap", "swapon", "swapoff", "wipefs", "sfdisk", "ip", "unshare",
         "nsenter"]
MAX_LOOPS = 6
SETTLE_QUIET = 0.3  # no new evaluation for this long: the daemon has taken every event


def need_tools():
    require_root()
    missing = [t for t in TOOLS if not shutil.which(t)]
    if missing:
        raise Skip("needs %s" % ", ".join(missing))
    if subprocess.run(["unshare", "-n", "true"], capture_output=True).returncode != 0:
        raise Skip("cannot make a network namespace here")


def sh(*args, check=True, **kw):
    return subprocess.run(list(args), check=check, capture_output=True, text=True, **kw)


class Host:
    """Loop devices (backing files incremental-*) and links made by this test."""

    def __init__(self, ns_pid):
        self.dir = tempfile.mkdtemp(prefix="incremental-")
        self.ns = ["nsenter", "-t", str(ns_pid), "-n"]
        self.loops = {}  # /dev/loopN -> backing file
        self.files = 0
        self.veths = []
        self.ports = {}  # veth -> enslaved to the bridge
        self.swapped = set()

    def attach(self, rng, partscan=None):
        self.files += 1
        path = os.path.join(self.dir, "incremental-%d.img" % self.files)
        with open(path, "wb") as f:
            f.truncate(rng.choice([64, 128, 256, 1024]) << 20)
        args = ["-P"] if (rng.random() < 0.5 if partscan is None else partscan) else []
        dev = sh("losetup", "-f", "--show", *args, path).stdout.strip()
        self.loops[dev] = path
        return dev

    def detach(self, dev):
        if dev in self.swapped:
            sh("swapoff", dev, check=False)
            self.swapped.discard(dev)
        sh("losetup", "-d", dev, check=False)
        os.unlink(self.loops.pop(dev))

    def ip(self, *args, check=True):
        return sh(*(self.ns + ["ip"] + list(args)), check=check)

    def close(self):
        for dev in self.swapped:
            sh("swapoff", dev, check=False)
        for dev in list(self.loops):
            sh("losetup", "-d", dev, check=False)
        self.loops.clear()
        shutil.rmtree(self.dir, ignore_errors=True)


class Run:
    """The daemon in a private network namespace, and the CLI beside it."""

    def __init__(self, extra_env=None, rescan="0", args=()):
        self.root = make_root()
        self.config = os.path.join(os.path.dirname(self.root), "site.conf")
        with open(self.config, "w") as f:
            f.write("[Site]\nProfiles=iomesh\n[Settings]\nIncludeLoopDevices=yes\n"
                    "[Daemon]\nRescanSec=%s\n" % rescan)
        self.d = Daemon(self.root, config=self.config, activate=False, netns=True,
                        extra_env=extra_env, args=args)

    def __enter__(self):
        self.d.__enter__()
        self.host = Host(self.d.pid)
        self.host.ip("link", "set", "lo", "up")
        return self

    def __exit__(self, *exc):
        try:
            self.host.close()
        finally:
            self.d.__exit__(*exc)
            shutil.rmtree(os.path.dirname(self.root), ignore_errors=True)
        return False

    def evaluation(self):
        return self.d.report()["evaluation"]

    def settle(self, timeout=15):
        """Wait until the daemon has had no new evaluation for SETTLE_QUIET seconds."""
        deadline = time.monotonic() + timeout
        last = self.evaluation()["serial"]
        quiet_since = time.monotonic()
        while time.monotonic() < deadline:
            time.sleep(0.02)
            self.d.status()  # take its STATUS= messages: the notify socket's queue is short
            s = self.evaluation()["serial"]
            if s != last:
                last, quiet_since = s, time.monotonic()
            elif time.monotonic() - quiet_since >= SETTLE_QUIET:
                return last
        raise AssertionError("the daemon did not settle within %d s" % timeout)

    def daemon_facts(self):
        r = self.d.client().call("io.nodeprep.GetFacts")["parameters"]
        return r["facts"], r["evaluation"]

    def cli_facts(self):
        env = dict(os.environ, NODEPREP_PROFILE_PATH=os.path.join(
            os.environ.get("NODEPREP_SRCDIR", "."), "conf", "profiles"))
        out = sh(*(self.host.ns + [NODEPREPCTL, "facts", "--json", "--root", self.root,
                                   "--config", self.config]), env=env)
        return json.loads(out.stdout)


KEYS = ["disks", "disks_unknown", "disks_include_loop", "links", "links_unknown"]


def first_difference(a, b, path=""):
    if a == b:
        return None
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b)):
            d = first_difference(a.get(k), b.get(k), "%s.%s" % (path, k))
            if d:
                return d
    if isinstance(a, list) and isinstance(b, list):
        names_a = [x.get("name") if isinstance(x, dict) else None for x in a]
        names_b = [x.get("name") if isinstance(x, dict) else None for x in b]
        if names_a != names_b and None not in names_a + names_b:
            only_a = [n for n in names_a if n not in names_b]
            only_b = [n for n in names_b if n not in names_a]
            return "%s: only in the daemon's %s, only in the CLI's %s" % (path, only_a, only_b)
        for i, (x, y) in enumerate(zip(a, b)):
            label = names_a[i] if names_a[i] is not None else i
            d = first_difference(x, y, "%s[%s]" % (path, label))
            if d:
                return d
    return "%s: daemon %s, CLI %s" % (path, json.dumps(a), json.dumps(b))


def compare(run, seed, log):
    """The daemon's disks and links against a full probe's; once more after settling again.
    Returns None, or the difference the second comparison no longer saw."""
    first = None
    for attempt in (1, 2):
        if first:
            # The kernel reports some changes up to two seconds late (operstates through its
            # link watch, IPv6 link-local addresses and the end of duplicate address
            # detection): let them come too.
            time.sleep(2)
        run.settle()
        facts, ev = run.daemon_facts()
        cli = run.cli_facts()
        ours = {k: facts.get(k) for k in KEYS}
        theirs = {k: cli.get(k) for k in KEYS}
        diff = first_difference(ours, theirs)
        if diff is None:
            return first
        first = first or diff
    raise AssertionError("seed %d, after %d steps (%s): %s" % (seed, len(log), "; ".join(log[-5:]),
                                                               diff))


def own_dev(run, rng):
    return rng.choice(sorted(run.host.loops)) if run.host.loops else None


def step_attach(run, rng):
    if len(run.host.loops) >= MAX_LOOPS:
        return step_detach(run, rng)
    return "attach %s" % run.host.attach(rng)


def step_detach(run, rng):
    dev = own_dev(run, rng)
    if not dev:
        return step_attach(run, rng)
    run.host.detach(dev)
    return "detach %s" % dev


def step_mkfs(run, rng):
    dev = own_dev(run, rng)
    if not dev or dev in run.host.swapped:
        return step_attach(run, rng)
    if rng.random() < 0.5:
        sh("mkfs.ext4", "-q", "-F", "-E", "lazy_itable_init=1,lazy_journal_init=1", dev)
        return "mkfs.ext4 %s" % dev
    sh("mkswap", dev)
    return "mkswap %s" % dev


def step_swap(run, rng):
    """swapon or swapoff: no uevent, /proc/swaps changes."""
    h = run.host
    if h.swapped and rng.random() < 0.6:
        dev = rng.choice(sorted(h.swapped))
        sh("swapoff", dev, check=False)
        h.swapped.discard(dev)
        return "swapoff %s" % dev
    dev = own_dev(run, rng)
    if not dev:
        return step_attach(run, rng)
    if dev in h.swapped:
        return "swap on %s already" % dev
    sh("mkswap", dev)
    if sh("swapon", dev, check=False).returncode == 0:
        h.swapped.add(dev)
        return "mkswap, swapon %s" % dev
    return "mkswap %s (swapon refused)" % dev


def step_wipefs(run, rng):
    dev = own_dev(run, rng)
    if not dev or dev in run.host.swapped:
        return step_attach(run, rng)
    sh("wipefs", "-a", dev, check=False)
    return "wipefs -a %s" % dev


def step_partition(run, rng):
    dev = own_dev(run, rng)
    if not dev or dev in run.host.swapped:
        return step_attach(run, rng)
    n = rng.choice([1, 2])
    table = "label: %s\n" % rng.choice(["gpt", "dos"]) + "size=16M\n" * (n - 1) + ",\n"
    # Without partition scanning (losetup -P) the kernel cannot re-read the table: sfdisk says
    # so; libblkid still sees it.
    sh("sfdisk", "-q", "-w", "never", dev, input=table, check=False)
    return "sfdisk %d partition(s) %s" % (n, dev)


def step_rotational(run, rng):
    dev = own_dev(run, rng)
    if not dev:
        return step_attach(run, rng)
    name = os.path.basename(dev)
    with open("/sys/block/%s/queue/rotational" % name, "w") as f:
        f.write(rng.choice(["0", "1"]))
    # The kernel sends no uevent for queue/rotational: udev rules that set it do so while
    # handling the device's own event, after which the daemon hears of it. Do as udevadm
    # trigger does.
    with open("/sys/block/%s/uevent" % name, "w") as f:
        f.write("change")
    return "rotational %s" % dev


def step_burst(run, rng):
    devs = [run.host.attach(rng, partscan=False) for _ in range(4)]
    for dev in devs:
        run.host.detach(dev)
    return "burst attach+detach %s" % " ".join(devs)


def step_veth(run, rng):
    h = run.host
    if len(h.veths) >= 4 or (h.veths and rng.random() < 0.3):
        v = h.veths.pop(rng.randrange(len(h.veths)))
        h.ports.pop(v, None)
        h.ip("link", "del", v)
        return "del veth %s" % v
    v = "incr%d" % rng.randrange(1000)
    if v in h.veths:
        return "veth %s exists" % v
    h.ip("link", "add", v, "type", "veth", "peer", "name", v + "p")
    h.veths.append(v)
    return "add veth %s" % v


def step_updown(run, rng):
    h = run.host
    if not h.veths:
        return step_veth(run, rng)
    v = rng.choice(h.veths)
    ends = [v, v + "p"] if rng.random() < 0.5 else [rng.choice([v, v + "p"])]
    state = rng.choice(["up", "down"])
    for e in ends:
        h.ip("link", "set", e, state)
    return "%s %s" % (" ".join(ends), state)


def step_address(run, rng):
    h = run.host
    if not h.veths:
        return step_veth(run, rng)
    v = rng.choice(h.veths)
    if rng.random() < 0.5:
        addr = "10.%d.%d.1/24" % (rng.randrange(200), rng.randrange(250))
    else:
        addr = "fd00:%x::1/64" % rng.randrange(0xffff)
    have = h.ip("-o", "addr", "show", "dev", v).stdout
    if addr.split("/")[0] + "/" in have:
        h.ip("addr", "del", addr, "dev", v)
        return "del %s %s" % (addr, v)
    h.ip("addr", "add", addr, "dev", v, check=False)  # a clash with another link: no change
    return "add %s %s" % (addr, v)


def step_bridge(run, rng):
    h = run.host
    if not h.veths:
        return step_veth(run, rng)
    if h.ip("link", "show", "incrbr", check=False).returncode != 0:
        h.ip("link", "add", "incrbr", "type", "bridge")
        h.ip("link", "set", "incrbr", "up")
    v = rng.choice(h.veths)
    if h.ports.get(v):
        h.ip("link", "set", v, "nomaster")
        h.ports[v] = False
        return "%s leaves incrbr" % v
    h.ip("link", "set", v, "master", "incrbr")
    h.ports[v] = True
    return "%s joins incrbr" % v


STEPS = [(step_attach, 3), (step_detach, 2), (step_mkfs, 2), (step_wipefs, 2), (step_swap, 1),
         (step_partition, 2), (step_rotational, 2), (step_burst, 1), (step_veth, 2),
         (step_updown, 3), (step_address, 3), (step_bridge, 2)]


def test_randomized_equivalence():
    need_tools()
    seed = int(os.environ.get("NODEPREP_INCREMENTAL_SEED", random.randrange(1 << 31)))
    seconds = float(os.environ.get("NODEPREP_INCREMENTAL_SECONDS", "40"))
    rng = random.Random(seed)
    print("# seed %d (NODEPREP_INCREMENTAL_SEED=%d repeats it), %g s" % (seed, seed, seconds),
          flush=True)
    steps, weights = zip(*STEPS)
    log = []
    resampled = []
    with Run() as run:
        compare(run, seed, ["start"])
        full0 = run.evaluation()["probes"]
        start = time.monotonic()
        while time.monotonic() - start < seconds:
            log.append(rng.choices(steps, weights)[0](run, rng))
            gone = compare(run, seed, log)
            if gone:
                resampled.append("after %s: %s" % (log[-1], gone))
        ev = run.evaluation()
        reread = ev.get("reread", {})
        # Every evaluation re-read what its events named, never every disk and link (which
        # would make the equality above trivial): the last one read a handful.
        assert reread.get("disks", 0) <= MAX_LOOPS + 8 and reread.get("links", 0) <= 16, ev
        assert "Lost " not in run.d.output(), run.d.output()[-2000:]
        print("# %d steps in %.0f s, %d evaluations; %d compared twice (the host changed between "
              "the two probes: another program's device, or a late kernel event)%s" % (
                  len(log), time.monotonic() - start, ev["serial"] - full0["disks"],
                  len(resampled), "".join("\n#   " + r for r in resampled[:5])), flush=True)


def wait_log(run, text, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if text in run.d.output():
            return True
        time.sleep(0.05)
    return False


def test_lost_uevents():
    need_tools()
    # 8 KiB (the kernel doubles what it is given) hold a few uevents, not twelve devices' worth.
    with Run(extra_env={"NODEPREP_NETLINK_RCVBUF": "4096"}) as run:
        run.settle()
        n_before = len(run.daemon_facts()[0]["disks"])
        os.kill(run.d.pid, signal.SIGSTOP)
        try:
            devs = [run.host.attach(random.Random(1), partscan=False) for _ in range(12)]
        finally:
            os.kill(run.d.pid, signal.SIGCONT)
        assert wait_log(run, "Lost uevent events"), run.d.output()[-2000:]
        compare(run, 0, ["attach %s while stopped" % " ".join(devs)])
        facts, ev = run.daemon_facts()
        out = run.d.output()
        lines = [l for l in out.splitlines() if "Lost uevent events" in l]
        print("# %d disks before, 12 attached while the daemon was stopped: %r; the evaluation "
              "after re-read %s" % (n_before, lines, ev.get("reread")), flush=True)
        # Once for the overflow, not once per lost event (a second overflow by other programs'
        # devices in the same moment would be a second re-probe, and say so).
        assert 1 <= len(lines) <= 2, lines
        assert "probing the disks again in full" in lines[0], lines


def test_lost_rtnetlink():
    need_tools()
    # 32 KiB: twenty veth pairs' messages do not fit, the late ones (the kernel's link watch
    # reports operstates up to a second later) do.
    with Run(extra_env={"NODEPREP_NETLINK_RCVBUF": "16384"}, args=("--debug",)) as run:
        run.settle()
        os.kill(run.d.pid, signal.SIGSTOP)
        try:
            for i in range(20):
                run.host.ip("link", "add", "incrl%d" % i, "type", "veth", "peer", "name",
                            "incrl%dp" % i)
        finally:
            os.kill(run.d.pid, signal.SIGCONT)
        assert wait_log(run, "Lost rtnetlink events"), run.d.output()[-2000:]
        compare(run, 0, ["20 veth pairs added while stopped"])
        facts, ev = run.daemon_facts()
        out = run.d.output().splitlines()
        lines = [l for l in out if "Lost rtnetlink events" in l]
        # An evaluation after the overflow read every link (not necessarily the newest: the
        # disks and mounts are the host's, and another program's may come after; nor the first:
        # one may have been under way): "Evaluation S (areas ..., N links read) ...".
        lost = next(i for i, l in enumerate(out) if "Lost rtnetlink events" in l)
        after = [re.search(r"(\d+) links read", l) for l in out[lost:] if "Evaluation " in l]
        after = [int(m.group(1)) for m in after if m]
        print("# %d links; %r; links read by the evaluations after it: %s (newest: %s)" %
              (len(facts["links"]), lines, after, ev), flush=True)
        # The namespace is the daemon's own: nobody else's links can overflow it again.
        assert len(lines) == 1, lines
        assert len(facts["links"]) in after, (after, out[lost:][:20])


def test_rescan_finds_what_no_event_said():
    need_tools()
    with Run(rescan="2s") as run:
        dev = run.host.attach(random.Random(2), partscan=False)
        run.settle()
        name = os.path.basename(dev)
        with open("/sys/block/%s/queue/rotational" % name) as f:
            now = f.read().strip()
        with open("/sys/block/%s/queue/rotational" % name, "w") as f:
            f.write("0" if now == "1" else "1")
        want = "Safety re-scan: the disks differ from what events had told: disks[%s]" % name
        assert wait_log(run, want, timeout=15), run.d.output()[-2000:]
        line = [l for l in run.d.output().splitlines() if want in l][0]
        print("# %s" % line, flush=True)
        assert "rotational" in line, line


if __name__ == "__main__":
    # meson ends a test that runs too long with SIGTERM: leave through the finally blocks, which
    # detach the loop devices.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("SIGTERM"))
    run_tests(globals())
