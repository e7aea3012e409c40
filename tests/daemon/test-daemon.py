#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""nodeprepd end to end: socket activation, sd_notify, events, reload, the CLI verbs, privileges."""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from npdaemon import NODEPREPD, Daemon, Varlink  # noqa: E402
from nptest import (Skip, assert_eq, assert_in, make_root, nodeprepctl, read,  # noqa: E402
                    remove, require_root, run_tests, write)

STARTUP = "node.startup"


def set_startup(root, value):
    conf = read(root, "/etc/iscsi/iscsid.conf")
    lines = [("node.startup = %s" % value) if l.startswith("node.startup") else l
             for l in conf.split("\n")]
    write(root, "/etc/iscsi/iscsid.conf", "\n".join(lines))


# Areas other programs on a shared machine can touch at any moment (mounts, loop devices, links).
HOST_AREAS = {"fs", "disks", "links"}


def assert_reprobed(params, area):
    """Exactly this area of the fixture root was re-probed (host-wide areas may join in)."""
    got = set(params["evaluation"]["reprobed"])
    assert area in got and got - HOST_AREAS <= {area}, "re-probed %s, expected %s" % (got, area)


def check_status(params, cid):
    for p in params["report"]["profiles"]:
        for c in p["checks"]:
            if c["id"] == cid:
                return c["status"]
    raise AssertionError("no check %s" % cid)


def test_socket_activation_ready_and_status():
    root = make_root()
    with Daemon(root) as d:
        status = d.status()
        # 5 unknown: disks and links (fixture root) and units (no bus here).
        assert status and status.startswith("iomesh: "), status
        p = d.report()
        assert_eq(p["report"]["schema_version"], 1, "schema_version")
        assert_eq(p["report"]["config_error"], None, "config_error")
        assert_eq(p["evaluation"]["serial"], 1, "first evaluation")
        assert_eq(sorted(p["evaluation"]["reprobed"]),
                  sorted(["system", "selinux", "iscsi", "modules", "units", "fs", "disks",
                          "links", "endpoints", "tools", "layouts", "virt", "peers", "mounts"]),
                  "first evaluation probes everything")
        # The report is the same object `nodeprepctl check --json` prints.
        local = nodeprepctl("check", "--json", "--root", root).json
        assert_eq(sorted(p["report"].keys()), sorted(list(local.keys()) + ["config_error"]),
                  "report keys")
        assert_eq([c["id"] for c in p["report"]["profiles"][0]["checks"]],
                  [c["id"] for c in local["profiles"][0]["checks"]], "check ids")
        # A query never probes: the serial stays (unless the shared machine's mounts, block
        # devices or links changed meanwhile, which re-probes those areas only).
        for _ in range(20):
            d.report()
        p = d.report()
        assert p["evaluation"]["serial"] == 1 or \
            set(p["evaluation"]["reprobed"]) <= HOST_AREAS, p["evaluation"]


def test_cli_status_watch_call():
    root = make_root()
    with Daemon(root) as d:
        env = {"NODEPREP_SOCKET": d.socket}
        r = nodeprepctl("status", env=env)
        assert_eq(r.code, 2, "status exit code (undecided: units unknown) %r" % r)
        assert_in("iomesh", r.out)
        assert_in("evaluated at", r.out)
        j = nodeprepctl("status", "--json", env=env)
        assert_eq(j.json["profiles"][0]["name"], "iomesh", "status --json")
        r = nodeprepctl("status", "--profile", "nope", env=env)
        assert_eq(r.code, 64, "unknown profile %r" % r)
        assert_in('does not evaluate profile "nope"', r.err)
        r = nodeprepctl("call", "io.nodeprep.ListProfiles", env=env)
        assert_eq(r.code, 0, "call %r" % r)
        assert_eq([p["name"] for p in r.json["profiles"] if p["active"]], ["iomesh"], "active")
        r = nodeprepctl("call", "io.nodeprep.Nope", env=env)
        assert_eq(r.code, 1, "call of an unknown method")
        assert_in("org.varlink.service.MethodNotFound", r.err)
        r = nodeprepctl("call", "io.nodeprep.GetReport", "{not json", env=env)
        assert_eq(r.code, 64, "bad JSON argument")

        # watch prints the current report, then the next one when a file changes.
        w = subprocess.Popen([os.environ.get("NODEPREPCTL", "nodeprepctl"), "watch", "--json"],
                             env=dict(os.environ, **env), stdout=subprocess.PIPE, text=True)
        try:
            first = json.loads(w.stdout.readline())
            set_startup(root, "automatic")
            second = json.loads(w.stdout.readline())
        finally:
            w.terminate()
            w.wait(5)
        assert_eq(check_status({"report": first}, "iscsi.conf:node.startup"), "pass", "before")
        assert_eq(check_status({"report": second}, "iscsi.conf:node.startup"), "fail", "after")


def test_status_without_daemon():
    tmp = tempfile.mkdtemp()
    try:
        r = nodeprepctl("status", env={"NODEPREP_SOCKET": os.path.join(tmp, "none")})
        assert_eq(r.code, 69, "exit code %r" % r)
        assert_in("cannot reach nodeprepd", r.err)
        assert_in("nodeprepctl check", r.err)
    finally:
        shutil.rmtree(tmp)


def test_file_change_reprobes_only_its_area():
    root = make_root()
    # SELinux active (permissive): SELINUX=enforcing then means enforcing after a reboot.
    write(root, "/sys/fs/selinux/enforce", "0")
    with Daemon(root) as d:
        serial = d.report()["evaluation"]["serial"]
        set_startup(root, "automatic")
        p = d.wait_area(serial, "iscsi")
        assert_reprobed(p, "iscsi")
        assert_eq(check_status(p, "iscsi.conf:" + STARTUP), "fail", "after the edit")
        # The verdict change is logged once, with the check and the new status.
        time.sleep(0.2)
        assert_in("iscsi.conf:node.startup pass -> fail", d.output())
        # SELinux config and modules-load.d are watched too.
        serial = p["evaluation"]["serial"]
        write(root, "/etc/selinux/config", "SELINUX=enforcing\nSELINUXTYPE=default\n")
        p = d.wait_area(serial, "selinux")
        assert_reprobed(p, "selinux")
        assert_eq(check_status(p, "selinux.config"), "fail", "selinux config")
        serial = p["evaluation"]["serial"]
        os.unlink(os.path.join(root, "etc/modules-load.d/iscsi_tcp.conf"))
        p = d.wait_area(serial, "modules")
        assert_reprobed(p, "modules")
        assert_eq(check_status(p, "kmod.persistent:iscsi_tcp"), "fail", "modules-load.d")


def wait_status(d, cid, status, within=1.0):
    """The first report in which check cid has status, waiting at most `within` seconds."""
    deadline = time.time() + within
    while True:
        p = d.report()
        if check_status(p, cid) == status:
            return p
        if time.time() > deadline:
            raise AssertionError("%s still %s %.1f s after the edit, expected %s"
                                 % (cid, check_status(p, cid), within, status))
        time.sleep(0.02)


def next_cmdline(d):
    r = d.client().call("io.nodeprep.GetFacts", None)
    assert "error" not in r, r
    return r["parameters"]["facts"]["boot"]["cmdline"]


def test_next_boot_inputs_are_watched():
    """What the next-boot verdicts read is watched: a systemd-boot entry's options (the next
    command line), a modprobe.d file, a GRUB grubenv and a kernel's modules directory each change
    the verdict within a second."""
    root = make_root()
    write(root, "/sys/fs/selinux/enforce", "0")  # SELinux active, permissive now
    write(root, "/etc/selinux/config", "SELINUX=enforcing\nSELINUXTYPE=default\n")
    write(root, "/boot/loader/loader.conf", "default debian.conf\ntimeout 3\n")
    entry = "title Debian\nlinux /vmlinuz-6.1.0-28-amd64\noptions root=/dev/sda1 ro%s\n"
    write(root, "/boot/loader/entries/debian.conf", entry % "")
    with Daemon(root) as d:
        p = d.report()
        assert_eq(check_status(p, "selinux.config"), "fail", "enforcing after the reboot")
        assert_eq(check_status(p, "kmod.persistent:iscsi_tcp"), "pass", "before")
        # The default entry's command line gets enforcing=0: the next boot is permissive.
        write(root, "/boot/loader/entries/debian.conf", entry % " enforcing=0")
        p = wait_status(d, "selinux.config", "pass")
        assert_in("enforcing=0", next_cmdline(d))
        # modprobe.d: the CIS way of disabling a module.
        write(root, "/etc/modprobe.d/cis.conf", "install iscsi_tcp /bin/true\n")
        p = wait_status(d, "kmod.persistent:iscsi_tcp", "fail")
        remove(root, "/etc/modprobe.d/cis.conf")
        wait_status(d, "kmod.persistent:iscsi_tcp", "pass")
        # systemd-boot's entry goes; GRUB's grub.cfg with a grubenv-expanded $kernelopts counts.
        remove(root, "/boot/loader")
        write(root, "/boot/grub/grub.cfg",
              "load_env\nmenuentry 'Debian' --id debian {\n"
              "\tlinux /vmlinuz-6.1.0-28-amd64 root=/dev/sda1 ro $kernelopts\n}\n")
        write(root, "/boot/grub/grubenv", "# GRUB Environment Block\nkernelopts=quiet\n")
        p = wait_status(d, "selinux.config", "fail")
        write(root, "/boot/grub/grubenv",
              "# GRUB Environment Block\nkernelopts=quiet module_blacklist=iscsi_tcp\n")
        p = wait_status(d, "kmod.persistent:iscsi_tcp", "fail")
        assert_in("module_blacklist=iscsi_tcp", next_cmdline(d))


def test_burst_gives_one_evaluation():
    root = make_root()
    with Daemon(root) as d:
        # Count evaluations of the iscsi area only: on a shared machine, other programs' loop
        # devices and links trigger evaluations of the host-wide areas at any time.
        before = d.report()["evaluation"]["probes"]["iscsi"]
        for i in range(20):
            set_startup(root, "automatic" if i % 2 == 0 else "manual")
        time.sleep(0.5)
        after = d.report()["evaluation"]["probes"]["iscsi"]
        assert 1 <= after - before <= 2, "20 edits in a burst gave %d evaluations" % (after - before)


def test_directory_created_later_is_watched():
    root = make_root()
    shutil.rmtree(os.path.join(root, "etc/iscsi"))
    with Daemon(root) as d:
        p = d.report()
        # open-iscsi is installed: without iscsid.conf iscsid's default (manual) applies.
        assert_eq(check_status(p, "iscsi.conf:node.startup"), "pass", "no iscsid.conf")
        os.makedirs(os.path.join(root, "etc/iscsi"))
        time.sleep(0.2)
        serial = d.report()["evaluation"]["serial"]
        write(root, "/etc/iscsi/iscsid.conf", "node.startup = automatic\n")
        p = d.wait_serial(serial)
        assert_eq(check_status(p, "iscsi.conf:node.startup"), "fail", "iscsid.conf appeared")


def test_bad_config_keeps_last_good():
    root = make_root()
    site = "/etc/nodeprep/nodeprep.conf"
    good = read(root, site)
    with Daemon(root) as d:
        serial = d.report()["evaluation"]["serial"]
        # An edit to the site file reloads by itself; a bad one keeps the last good config.
        write(root, site, good + "\n[Daemon]\nRescanSec=often\n")
        deadline = time.time() + 5
        while time.time() < deadline and d.report()["report"]["config_error"] is None:
            time.sleep(0.02)
        p = d.report()
        assert_in("nodeprep.conf:", p["report"]["config_error"])
        assert_in("RescanSec=often", p["report"]["config_error"])
        assert_eq([x["name"] for x in p["report"]["profiles"]], ["iomesh"], "last good profiles")
        assert_in("configuration error", d.status())
        # Reload answers ConfigurationError, the daemon stays up.
        r = d.client().call("io.nodeprep.Reload")
        assert_eq(r.get("error"), "io.nodeprep.ConfigurationError", "Reload %r" % r)
        assert_in("RescanSec=often", r["parameters"]["message"])
        r = nodeprepctl("status", env={"NODEPREP_SOCKET": d.socket})
        assert_in("Configuration error:", r.out)
        # Fixed with SIGHUP.
        write(root, site, good)
        os.kill(d.pid, 1)
        deadline = time.time() + 5
        while time.time() < deadline and d.report()["report"]["config_error"] is not None:
            time.sleep(0.02)
        assert_eq(d.report()["report"]["config_error"], None, "after the fix")
        # Reload returns once the new report is there.
        before = d.report()["evaluation"]["serial"]
        r = d.client().call("io.nodeprep.Reload")
        assert_eq(r, {"parameters": {}}, "Reload")
        assert d.report()["evaluation"]["serial"] > before
        assert d.proc.poll() is None, "daemon exited"
        del serial


def test_bad_config_at_start():
    root = make_root()
    write(root, "/etc/nodeprep/nodeprep.conf", "[Site]\nProfiles=iomesh\nBogus=1\n")
    with Daemon(root) as d:
        r = d.client().call("io.nodeprep.GetReport")
        assert_eq(r.get("error"), "io.nodeprep.ConfigurationError", "GetReport %r" % r)
        assert_in("nodeprep.conf:3", r["parameters"]["message"])
        r = nodeprepctl("status", env={"NODEPREP_SOCKET": d.socket})
        assert_eq(r.code, 65, "status exit code %r" % r)
        write(root, "/etc/nodeprep/nodeprep.conf", "[Site]\nProfiles=iomesh\n")
        deadline = time.time() + 5
        while time.time() < deadline:
            r = d.client().call("io.nodeprep.GetReport")
            if "error" not in r:
                break
            time.sleep(0.02)
        assert_eq(r.get("error"), None, "after the fix %r" % r)


def test_daemon_section_errors():
    root = make_root()
    for text, what in [("RescanSec=soon", "RescanSec=soon: expected a time span"),
                       ("MaxConnections=0", "MaxConnections=0: out of range"),
                       ("Bogus=1", "unknown key Bogus= in [Daemon]")]:
        write(root, "/etc/nodeprep/nodeprep.conf.d/90-daemon.conf", "[Daemon]\n%s\n" % text)
        r = nodeprepctl("check", "--root", root)
        assert_eq(r.code, 65, "exit code %r" % r)
        assert_in("90-daemon.conf:2: " + what, r.err)
    write(root, "/etc/nodeprep/nodeprep.conf.d/90-daemon.conf",
          "[Daemon]\nRescanSec=1h 30min\nIdleTimeoutSec=infinity\nMaxConnectionsPerUser=8\n")
    assert nodeprepctl("check", "--root", root).code in (0, 1, 2)


def test_empty_arguments_are_refused():
    """An empty --root, --config or --listen (an unset variable) is a usage error, not "/"."""
    root = make_root()
    for args, message in [(["--root", ""], "--root needs a directory"),
                          (["--root", root, "--config", ""], "--config needs a file"),
                          (["--root", root, "--listen", ""], "--listen needs a path")]:
        p = subprocess.run([NODEPREPD] + args, capture_output=True, text=True, timeout=10)
        assert_eq(p.returncode, 64, "nodeprepd %r: %s" % (args, p.stderr))
        assert_in(message, p.stderr)


def test_idle_timeout_and_connection_limits():
    root = make_root()
    write(root, "/etc/nodeprep/nodeprep.conf.d/90-daemon.conf",
          "[Daemon]\nIdleTimeoutSec=1s\nMaxConnectionsPerUser=4\n")
    with Daemon(root) as d:
        idle = d.client()
        t = time.time()
        assert idle.closed_by_server(timeout=5), "idle connection not closed"
        assert 0.8 < time.time() - t < 3.5, "closed after %.1f s" % (time.time() - t)
        held = [d.client() for _ in range(4)]
        extra = d.client()
        assert extra.closed_by_server(timeout=2), "5th connection of one user not refused"
        for c in held:
            c.close()
        time.sleep(0.1)
        assert "parameters" in d.client().call("io.nodeprep.ListProfiles")


def test_privileged_methods():
    require_root()
    root = make_root()
    with Daemon(root) as d:
        r = d.client().call("io.nodeprep.Plan")
        assert "plan" in r.get("parameters", {}), "Plan as root: %r" % r
        os.chmod(d.dir, 0o755)
        os.chmod(d.socket, 0o666)
        # A client of its own: the nobody user cannot read the source tree everywhere.
        script = ("import json, socket, sys\n"
                  "s = socket.socket(socket.AF_UNIX); s.connect(%r); out = []\n"
                  "for m in sys.argv[1:]:\n"
                  "    s.sendall(json.dumps({'method': m}).encode() + b'\\0'); buf = b''\n"
                  "    while not buf.endswith(b'\\0'): buf += s.recv(1 << 20)\n"
                  "    out.append(json.loads(buf[:-1]))\n"
                  "print(json.dumps(out))\n" % d.socket)
        out = subprocess.run(["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
                              "/usr/bin/python3", "-c", script, "io.nodeprep.Reload",
                              "io.nodeprep.Plan", "io.nodeprep.Apply", "io.nodeprep.Rollback",
                              "io.nodeprep.GetReport"],
                             capture_output=True, text=True, cwd="/")
        assert_eq(out.returncode, 0, "client as nobody: %s" % out.stderr)
        replies = json.loads(out.stdout)
        for r in replies[:4]:
            assert_eq(r.get("error"), "io.nodeprep.PermissionDenied", "non-root %r" % r)
        assert "report" in replies[4]["parameters"], "read-only method open to non-root"


TAP_HOLDER = r"""
import fcntl, os, struct, sys
fd = os.open("/dev/net/tun", os.O_RDWR)
fcntl.ioctl(fd, 0x400454ca, struct.pack("16sH", sys.argv[1].encode(), 0x0002 | 0x1000))
print("READY", flush=True)
sys.stdin.read()
"""


def link_facts(params, name):
    for l in params["report"]["facts"]["links"]:
        if l["name"] == name:
            return l
    return None


def disk_facts(params, name):
    for d in params["report"]["facts"]["disks"]:
        if d["name"] == name:
            return d
    return None


def wait_until(d, after, area, pred, what, timeout=10):
    """GetReport with facts until an evaluation after serial `after` re-probed area and
    pred(params) holds."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        p = d.report(facts=True)
        if p["evaluation"]["serial"] > after and area in p["evaluation"]["reprobed"] and pred(p):
            return p
        if p["evaluation"]["serial"] > after and area in p["evaluation"]["reprobed"]:
            after = p["evaluation"]["serial"]
        time.sleep(0.02)
    raise AssertionError("%s: not seen in an evaluation re-probing %s" % (what, area))


def test_events_tap_loop_and_link_down():
    """A 25G tap appears and comes up, goes down; a loop device appears and goes: each event
    re-probes its area and the facts and verdicts the daemon serves follow the kernel."""
    require_root()
    for tool in ("ip", "losetup", "unshare", "ethtool", "nsenter"):
        if not shutil.which(tool):
            raise Skip("%s not installed" % tool)
    if not os.path.exists("/dev/net/tun"):
        raise Skip("no /dev/net/tun")
    root = make_root()
    write(root, "/etc/nodeprep/nodeprep.conf",
          "[Site]\nProfiles=iomesh\n\n[Settings]\nIncludeLoopDevices=yes\nMinDiskSize=32M\n")
    with Daemon(root, netns=True) as d:
        ns = ["nsenter", "-t", str(d.pid), "-n"]
        p = d.report(facts=True)
        assert_eq(check_status(p, "nic.speed"), "fail", "nic.speed with only lo")
        serial = p["evaluation"]["serial"]
        subprocess.run(ns + ["ip", "tuntap", "add", "nptap0", "mode", "tap"], check=True)
        subprocess.run(ns + ["ethtool", "-s", "nptap0", "speed", "25000", "duplex", "full"],
                       check=True)
        holder = subprocess.Popen(ns + ["/usr/bin/python3", "-c", TAP_HOLDER, "nptap0"],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        try:
            assert_eq(holder.stdout.readline().strip(), "READY", "tap holder")
            subprocess.run(ns + ["ip", "link", "set", "nptap0", "up"], check=True)
            p = wait_until(d, serial, "links",
                           lambda p: check_status(p, "nic.speed") == "pass", "nptap0 up at 25G")
            tap = link_facts(p, "nptap0")
            assert_eq(tap["speed_mbps"], 25000, "tap speed served by the daemon")
            assert_eq(tap["kind"], "tap", "tap kind")
            serial = p["evaluation"]["serial"]
            subprocess.run(ns + ["ip", "link", "set", "nptap0", "down"], check=True)
            p = wait_until(d, serial, "links",
                           lambda p: check_status(p, "nic.speed") == "fail", "nptap0 down")
            assert_eq(link_facts(p, "nptap0")["admin_up"], False, "tap admin state")
        finally:
            holder.kill()
            holder.wait()

        img = tempfile.NamedTemporaryFile(prefix="nodeprep-loop-", delete=False)
        img.truncate(64 << 20)
        img.close()
        loop = None
        try:
            serial = d.report()["evaluation"]["serial"]
            try:
                loop = subprocess.run(["losetup", "-f", "--show", img.name], check=True,
                                      capture_output=True, text=True).stdout.strip()
            except subprocess.CalledProcessError as e:
                raise Skip("no loop devices here: %s" % e.stderr)
            name = os.path.basename(loop)
            p = wait_until(d, serial, "disks", lambda p: disk_facts(p, name) is not None,
                           "%s appears" % name)
            disk = disk_facts(p, name)
            assert_eq(disk["free"], True, "%s free: %r" % (name, disk.get("reasons")))
            assert_eq(disk["size_bytes"], 64 << 20, "loop size")
            serial = p["evaluation"]["serial"]
            subprocess.run(["losetup", "-d", loop], check=True)
            loop = None
            wait_until(d, serial, "disks", lambda p: disk_facts(p, name) is None,
                       "%s goes" % name)
        finally:
            if loop:
                subprocess.run(["losetup", "-d", loop])
            os.unlink(img.name)


def test_unit_exposure():
    """systemd-analyze rates the packaged service (offline mode, systemd >= 250)."""
    unit = os.path.join(os.environ.get("NODEPREP_BUILDDIR", ""), "units", "nodeprepd.service")
    if not shutil.which("systemd-analyze") or not os.path.exists(unit):
        raise Skip("systemd-analyze or the built unit missing")
    r = subprocess.run(["systemd-analyze", "security", "--offline=yes", "--threshold=25", unit],
                       capture_output=True, text=True)
    line = [l for l in r.stdout.splitlines() if "Overall exposure level" in l]
    print("# " + (line[0] if line else r.stderr.strip()))
    assert_eq(r.returncode, 0, "exposure above 2.5:\n" + r.stdout[-2000:])


if __name__ == "__main__":
    run_tests(globals())
