# SPDX-License-Identifier: LGPL-2.1-or-later
"""VM suite, basic scenario: the built .deb on a real Debian 12 worker under QEMU.

Boot 1: install the package (nodeprep.socket and nodeprepd.service enabled and running); check
the IOMesh profile against the real kernel, systemd, open-iscsi, disks and NICs; make the host
wrong the way real ones are (node.startup = automatic, iscsid.socket disabled) and give the daemon
a site file; stop nodeprepd so that `nodeprepctl status` must start it through the socket;
`nodeprepctl plan` shows the diffs and changes nothing; `nodeprepctl apply` through the daemon
fixes iscsid.conf, loads iscsi_tcp, persists it, enables and starts iscsid.socket; reboot.
Boot 2 (same overlay): systemd-modules-load loaded iscsi_tcp, the restarted daemon says ready;
`nodeprepctl rollback CHANGE-ID` restores iscsid.conf byte for byte and the checks fail as before;
upgrade to a second package revision keeping an edited conffile; remove (the NFD file goes);
purge leaves no file.

Each guest stage is a stage_NAME function in guest/basic.sh; each has an assert_NAME function
here. Environment variables: see scenario.py.
"""
import os
import re
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import npvm  # noqa: E402
import scenario  # noqa: E402
from npmetrics import parse_metrics  # noqa: E402
from scenario import Failure, checks, expect, load, status  # noqa: E402

# [boot label, guest stages, how the boot must end]
BOOTS = [
    ("install", ["install", "check", "daemon", "plan", "apply"], "reboot"),
    ("after-reboot", ["after_reboot", "rollback", "upgrade", "remove", "purge"], "poweroff"),
]

NFD = "/etc/kubernetes/node-feature-discovery/features.d/nodeprep"
DROPIN = "/etc/nodeprep/nodeprep.conf.d/50-vm-test.conf"
# The checks stage_daemon breaks, and what apply does to each.
BROKEN = ["iscsi.conf:node.startup", "kmod.loaded:iscsi_tcp", "kmod.persistent:iscsi_tcp",
          "unit.enabled:iscsid", "unit.active:iscsid"]
# The machine's NICs (npvm.NICS): name -> (speed, address).
NIC = {name: (speed, addr) for name, _mac, speed, addr in npvm.NICS}


def module(facts, name):
    for m in facts["modules"]:
        if m["name"] == name:
            return m
    raise Failure("facts: no module %s" % name)


def unit(facts, name):
    for u in facts["units"]:
        if u["name"] == name:
            return u
    raise Failure("facts: no unit %s" % name)


def rc(out, name):
    return int(load(out, name + ".rc").strip())


def kv(text, sep="="):
    return dict(line.split(sep, 1) for line in text.splitlines()
                if sep in line and not line.startswith("#"))


def size_setting(value):
    """'60.0 GB (/usr/share/...:20)' -> bytes."""
    m = re.match(r"([0-9.]+) (B|kB|MB|GB|TB)\b", value)
    expect(m, "cannot read the size setting %r" % value)
    return int(float(m.group(1)) * {"B": 1, "kB": 1e3, "MB": 1e6, "GB": 1e9, "TB": 1e12}[
        m.group(2)])


def statuses(cs, ids):
    return {i: cs[i]["status"] for i in ids}


def assert_daemon_report(out, ready, what):
    """status --json (the daemon's report), StatusText, the NFD file and the metrics agree with
    each other and with `ready`."""
    report = load(out, "status.json")
    expect(rc(out, "status") == (0 if ready else 1),
           "%s: nodeprepctl status exited %d" % (what, rc(out, "status")))
    expect([p["name"] for p in report["profiles"]] == ["iomesh"],
           "%s: daemon evaluates %s" % (what, [p["name"] for p in report["profiles"]]))
    expect(report["ready"] is ready, "%s: daemon report ready=%r" % (what, report["ready"]))
    show = kv(load(out, "nodeprepd-show.txt"))
    expect(show["ActiveState"] == "active", "%s: nodeprepd %s" % (what, show["ActiveState"]))
    expect(show["TriggeredBy"] == "nodeprep.socket", "%s: TriggeredBy=%s" %
           (what, show["TriggeredBy"]))
    p = report["profiles"][0]
    failing = [c["id"] for c in p["checks"] if c["status"] in ("fail", "unknown")
               and c["severity"] == "required"]
    want = "iomesh: ready" if ready else "iomesh: not ready, %d failing" % len(failing)
    expect(show["StatusText"] == want, "%s: StatusText=%r, expected %r (failing: %s)" %
           (what, show["StatusText"], want, failing))
    # The NFD feature file: 0644 root, the verdict, and the figures the report's facts give.
    expect(load(out, "nfd-stat.txt").strip() == "644 root root",
           "%s: %s is %s" % (what, NFD, load(out, "nfd-stat.txt").strip()))
    text = load(out, "nfd.txt")
    expect(text.startswith("# Node Feature Discovery labels from nodeprepd"),
           "%s: NFD file header: %r" % (what, text[:80]))
    labels = kv(text)
    expect(labels == {"nodeprep.io/iomesh.ready": "true" if ready else "false",
                      "nodeprep.io/free-ssd": "2", "nodeprep.io/free-hdd": "1",
                      "nodeprep.io/max-link-speed": str(NIC["eth0"][0])},
           "%s: NFD labels %r" % (what, labels))
    metrics(out, ready, what)
    return report


def metrics(out, ready, what):
    text = load(out, "metrics.txt")
    expect(rc(out, "metrics") == 0, "%s: nodeprepctl metrics exited %d" % (what, rc(out, "metrics")))
    scenario.promtool(text, what + ": nodeprepctl metrics")
    m = parse_metrics(text)

    def get(name, **labels):
        key = (name, frozenset(labels.items()))
        expect(key in m, "%s: no metric %s%r" % (what, name, labels))
        return m[key]

    expect(get("nodeprep_profile_ready", profile="iomesh") == (1 if ready else 0),
           "%s: nodeprep_profile_ready" % what)
    expect(get("nodeprep_free_disks", kind="ssd") == 2 and get("nodeprep_free_disks",
                                                                kind="hdd") == 1,
           "%s: nodeprep_free_disks" % what)
    for name, (speed, _addr) in NIC.items():
        expect(get("nodeprep_link_speed_mbps", link=name) == speed and
               get("nodeprep_link_up", link=name) == 1, "%s: %s metrics" % (what, name))


# ---- assertions, one per guest stage ---------------------------------------------------------

def assert_install(out):
    expect(load(out, "version.txt").strip().endswith("-1"), "version: " + load(out, "version.txt"))
    files = set(load(out, "dpkg-L.txt").split())
    for p in ["/usr/bin/nodeprepctl", "/usr/sbin/nodeprepd", "/etc/nodeprep/nodeprep.conf",
              "/usr/share/nodeprep/profiles/iomesh.conf",
              "/lib/systemd/system/nodeprep.socket", "/lib/systemd/system/nodeprepd.service",
              "/usr/lib/tmpfiles.d/nodeprep.conf",
              "/usr/share/man/man8/nodeprepctl.8.gz", "/usr/share/man/man8/nodeprepd.8.gz",
              "/usr/share/man/man5/nodeprep.conf.5.gz",
              "/usr/share/man/man5/nodeprep.profile.5.gz"]:
        expect(p in files, "package does not ship %s" % p)
    profiles = [p for p in files if p.startswith("/usr/share/nodeprep/profiles/")
                and p.endswith(".conf")]
    expect(len(profiles) == 7, "7 profiles expected, got %s" % sorted(profiles))
    expect("/etc/nodeprep/nodeprep.conf" in load(out, "conffiles.txt"),
           "nodeprep.conf is not a conffile: " + load(out, "conffiles.txt"))
    expect(load(out, "statedir.txt").strip() == "directory 755 root",
           "/var/lib/nodeprep: " + load(out, "statedir.txt"))
    expect(load(out, "nfd-dir.txt").strip() == "directory 755 root",
           "NFD directory (tmpfiles.d): " + load(out, "nfd-dir.txt"))
    names = sorted(p["name"] for p in load(out, "profiles.json"))
    expect("iomesh" in names and len(names) == 7, "installed profiles: %s" % names)
    units = dict(line.split(None, 1) for line in load(out, "units.txt").splitlines())
    expect(units == {"nodeprep.socket": "enabled active", "nodeprepd.service": "enabled active"},
           "units after install: %r" % units)


def assert_check(out):
    cs, report = checks(out)
    expect(report["host"]["os_id"] == "debian" and report["host"]["os_version"] == "12",
           "host: %r" % report["host"])
    facts = load(out, "facts.json")
    # Debian ships node.startup = manual in iscsid.conf.
    status(cs, "iscsi.installed", "pass")
    status(cs, "iscsi.conf:node.startup", "pass")
    status(cs, "iscsi.conf:node.conn[0].iscsi.MaxRecvDataSegmentLength", "pass")
    # A real module of the real Debian kernel, not loaded yet.
    status(cs, "kmod.loaded:iscsi_tcp", "fail")
    m = module(facts, "iscsi_tcp")
    expect(m["state"] == "available", "iscsi_tcp state %r, expected available" % m["state"])
    status(cs, "kmod.persistent:iscsi_tcp", "fail")
    # /opt is a 512 MB file system of its own.
    status(cs, "fs.free:/opt", "fail")
    fs = [f for f in facts["filesystems"] if f["path"] == "/opt"][0]
    expect(fs["mount_point"] == "/opt" and fs["fs_type"] == "ext4",
           "/opt facts: %r" % fs)
    df = load(out, "df-opt.txt").split("\n")[1].split()
    expect(abs(int(df[2]) - fs["free_bytes"]) < 1 << 20,
           "/opt free %d, df says %s" % (fs["free_bytes"], df[2]))
    # No SELinux in this kernel configuration.
    status(cs, "selinux.runtime", "pass")
    status(cs, "selinux.config", "pass")
    # Debian's open-iscsi enables and starts iscsid.socket, not iscsid.service.
    real = {}
    for line in load(out, "systemctl.txt").splitlines():
        name, enabled, active = line.split()
        real[name] = (enabled, active)
    expect(real["iscsid.socket"] == ("enabled", "active"), "systemctl: %r" % real)
    expect(real["iscsid.service"] == ("disabled", "inactive"), "systemctl: %r" % real)
    for name, (enabled, active) in real.items():
        u = unit(facts, name)
        expect(u["unit_file_state"] == enabled and u["active_state"] == active,
               "nodeprep sees %s as %s/%s, systemctl says %s/%s" %
               (name, u["unit_file_state"], u["active_state"], enabled, active))
    status(cs, "unit.enabled:iscsid", "pass")
    status(cs, "unit.active:iscsid", "pass")
    status(cs, "kubelet.version", "skip")
    expect(report["ready"] is False, "ready with failures")
    check_disks(cs, report, facts, load(out, "lsblk.json"))
    check_links(out, cs, facts)


def check_disks(cs, report, facts, lsblk):
    """The machine's disks (npvm.Vm): virtio-scsi SSD (rotation_rate=1), HDD (7200) and a disk
    holding ext4, all 100 GiB; an NVMe disk of 100 GiB; the root and /opt virtio disks."""
    min_size = size_setting(report["profiles"][0]["settings"]["MinDiskSize"])
    disks = {d["serial"]: d for d in facts["disks"] if d["serial"]}
    names = {d["name"]: d for d in facts["disks"]}
    kernel = {d["name"]: d for d in lsblk["blockdevices"] if d["type"] == "disk"}
    expect(sorted(names) == sorted(kernel),
           "nodeprep sees disks %s, lsblk %s" % (sorted(names), sorted(kernel)))
    for serial, kind, tran in [("NPSSD0", "ssd", "scsi"), ("NPHDD0", "hdd", "scsi"),
                               ("NPNVME0", "ssd", "nvme")]:
        d = disks.get(serial)
        expect(d is not None, "no disk with serial %s: %s" % (serial, sorted(disks)))
        expect(d["kind"] == kind and d["transport"] == tran and d["free"] is True and
               d["reasons"] == [] and d["size_bytes"] >= min_size,
               "%s: expected a free %s on %s of >= %d bytes: %r" %
               (serial, kind, tran, min_size, d))
        k = kernel[d["name"]]
        expect(int(k["size"]) == d["size_bytes"] and bool(int(k["rota"])) == d["rotational"],
               "%s: nodeprep %r, lsblk %r" % (serial, d, k))
    d = disks.get("NPEXT4")
    expect(d is not None and d["free"] is False and d["reasons"] == ["signature:ext4"] and
           d["signatures"] == ["ext4"] and d["kind"] == "ssd",
           "the ext4 disk: %r" % d)
    root = [d for d in facts["disks"] if "/" in d["mountpoints"]]
    expect(len(root) == 1 and root[0]["free"] is False and "mounted" in root[0]["reasons"],
           "root disk: %r" % root)
    opt = [d for d in facts["disks"] if d["mountpoints"] == ["/opt"]]
    expect(len(opt) == 1 and opt[0]["free"] is False and "mounted" in opt[0]["reasons"] and
           kernel[opt[0]["name"]]["mountpoint"] == "/opt", "/opt disk: %r" % opt)
    # Free disks by the product's rules, from lsblk alone: whole disks with no file system, not
    # mounted, at least MinDiskSize; the kind from ROTA.
    want = {"ssd": [], "hdd": []}
    for name, k in kernel.items():
        if not k["fstype"] and not k["mountpoint"] and int(k["size"]) >= min_size:
            want["hdd" if int(k["rota"]) else "ssd"].append(name)
    for kind in want:
        got = sorted(d["name"] for d in facts["disks"] if d["free"] and d["kind"] == kind)
        expect(got == sorted(want[kind]), "free %s: nodeprep %s, lsblk %s" %
               (kind, got, sorted(want[kind])))
    expect(len(want["ssd"]) == 2 and len(want["hdd"]) == 1, "free disks: %r" % want)
    # IOMesh needs one free SSD and one free HDD of >= MinDiskSize: this machine has both.
    c = status(cs, "disk.free-ssd", "pass")
    for n in want["ssd"]:
        expect(n in c["observed"].split("not free:")[0], "disk.free-ssd observed %r lacks %s" %
               (c["observed"], n))
    expect("signature:ext4" in c["observed"], "disk.free-ssd observed %r" % c["observed"])
    c = status(cs, "disk.free-hdd", "pass")
    expect(want["hdd"][0] in c["observed"].split("not free:")[0],
           "disk.free-hdd observed %r" % c["observed"])


def check_links(out, cs, facts):
    links = {link["name"]: link for link in facts["links"]}
    for name, (speed, addr) in NIC.items():
        link = links.get(name)
        expect(link is not None, "no link %s: %s" % (name, sorted(links)))
        expect("Speed: %dMb/s" % speed in load(out, "ethtool-%s.txt" % name),
               "ethtool %s is not %d Mb/s" % (name, speed))
        expect(link["kind"] == "physical" and link["up"] is True and
               link["speed_mbps"] == speed and link["addresses"] == [addr],
               "%s: expected up at %d with %s: %r" % (name, speed, addr, link))
    c = status(cs, "nic.speed", "pass")
    expect("eth0" in c["observed"] and "10000" in c["observed"], "nic.speed observed %r" %
           c["observed"])
    c = status(cs, "nic.data-cidr", "pass", "with DataCIDR=%s" % npvm.DATA_CIDR)
    expect(c["observed"].startswith("eth0 192.0.2.10/24"), "nic.data-cidr observed %r" %
           c["observed"])
    # The 1G NIC's network: the address is there, the link is too slow.
    slow, report = checks(out, "slow.json")
    c = status(slow, "nic.data-cidr", "fail", "with the 1G network as DataCIDR")
    expect("eth1" in c["observed"] and "1000 Mb/s" in c["observed"],
           "nic.data-cidr observed %r (the 1G link's speed expected)" % c["observed"])
    status(slow, "nic.speed", "pass", "(eth0 is still there)")
    expect(report["ready"] is False and rc(out, "slow") == 1, "slow network: ready?")


def assert_daemon(out):
    # Socket activation: the package's nodeprepd was stopped, the socket stayed; the status
    # query started the service.
    expect(load(out, "active-before.txt").split() == ["active", "inactive"],
           "before status: socket, service %s" % load(out, "active-before.txt"))
    expect(load(out, "active-after.txt").split() == ["active", "active"],
           "after status: socket, service %s" % load(out, "active-after.txt"))
    first = load(out, "first-status.json")
    expect(rc(out, "first-status") == 1 and first["ready"] is False and
           [p["name"] for p in first["profiles"]] == ["iomesh"],
           "the status that started nodeprepd: rc %d, %r" % (rc(out, "first-status"), first))
    report = assert_daemon_report(out, False, "daemon")
    dcs = {c["id"]: c for c in report["profiles"][0]["checks"]}
    for cid in BROKEN:
        status(dcs, cid, "fail", "(daemon, broken by the test)")
    c = status(dcs, "fs.free:/opt", "warn", "(site override)")
    expect(c["override"] and DROPIN in str(c["override"]), "override: %r" % c["override"])
    # The CLI sees the same host the same way.
    cs, cli = checks(out)
    expect(statuses(cs, cs) == statuses(dcs, dcs),
           "check and status differ: %r / %r" % (statuses(cs, cs), statuses(dcs, dcs)))
    expect(report["profiles"][0]["settings"]["DataCIDR"].startswith(npvm.DATA_CIDR + " (" + DROPIN),
           "DataCIDR: %r" % report["profiles"][0]["settings"]["DataCIDR"])


def assert_plan(out):
    expect(rc(out, "plan") == 0, "plan exited %d" % rc(out, "plan"))
    text = load(out, "plan.txt")
    for want in ["--- /etc/iscsi/iscsid.conf", "+++ /etc/iscsi/iscsid.conf",
                 "-node.startup = automatic", "+node.startup = manual",
                 "--- /dev/null", "+++ /etc/modules-load.d/nodeprep.conf", "+iscsi_tcp",
                 "load kernel module iscsi_tcp", "iscsid.socket",
                 "nothing is changed by this command"]:
        expect(want in text, "plan text lacks %r:\n%s" % (want, text))
    plan = load(out, "plan.json")
    expect(plan["dry_run"] is True and plan["change_id"] is None, "plan: %r" %
           {k: plan[k] for k in ("dry_run", "change_id")})
    fixing = sorted(c["id"] for c in plan["checks"] if c["outcome"] not in ("unchanged", "manual"))
    expect(fixing == sorted(BROKEN), "plan fixes %s, expected %s" % (fixing, sorted(BROKEN)))
    expect(all(s["state"] == "planned" for s in plan["steps"]), "plan steps: %r" %
           [s["state"] for s in plan["steps"]])
    # Nothing changed: iscsid.conf, modules-load.d, iscsid.socket, the module, the state dir.
    for what in ["iscsid-sha", "iscsid-stat", "modules-load-d", "iscsid-socket", "initstate",
                 "statedir"]:
        before, after = load(out, what + "-before.txt"), load(out, what + "-after.txt")
        expect(before == after, "plan changed %s: %r -> %r" % (what, before, after))
    expect(load(out, "initstate-after.txt").strip() == "absent", "iscsi_tcp loaded by plan")
    expect(load(out, "iscsid-socket-after.txt").split() == ["disabled", "inactive"],
           "iscsid.socket: %s" % load(out, "iscsid-socket-after.txt"))
    expect(load(out, "statedir-after.txt").split() == ["."], "state dir after plan: %s" %
           load(out, "statedir-after.txt").split())


def assert_apply(out):
    expect(rc(out, "apply") == 0, "apply exited %d" % rc(out, "apply"))
    a = load(out, "apply.json")
    expect(a["changed"] is True and a["failed"] is False and a["ready_before"] is False and
           a["ready_after"] is True and a["dry_run"] is False,
           "apply: %r" % {k: a[k] for k in ("changed", "failed", "ready_before", "ready_after")})
    expect(load(out, "change-id.txt").strip() == a["change_id"], "change id: %r" % a["change_id"])
    expect(a["backup_dir"] == "/var/lib/nodeprep/backup/" + a["change_id"], a["backup_dir"])
    outcome = {c["id"]: (c["outcome"], c["status_before"], c["status_after"]) for c in a["checks"]}
    for cid in BROKEN:
        expect(outcome[cid] == ("changed", "fail", "pass"), "%s: %r" % (cid, outcome[cid]))
    expect(outcome["fs.free:/opt"][0] == "manual", "fs.free:/opt %r" % (outcome["fs.free:/opt"],))
    # The real host: module loaded, modules-load.d file, iscsid.socket enabled and running.
    expect(load(out, "initstate-after.txt").strip() == "live", "iscsi_tcp not loaded by apply")
    expect(load(out, "iscsid-socket-after.txt").split() == ["enabled", "active"],
           "iscsid.socket after apply: %s" % load(out, "iscsid-socket-after.txt"))
    expect(load(out, "modules-load-nodeprep.conf").splitlines()[-1] == "iscsi_tcp",
           "modules-load.d/nodeprep.conf: %r" % load(out, "modules-load-nodeprep.conf"))
    expect("nodeprep.conf" in load(out, "modules-load-d-after.txt").split(), "no nodeprep.conf")
    state = load(out, "statedir-after.txt").split()
    expect("./backup/%s/journal" % a["change_id"] in state, "no journal: %s" % state)
    report = assert_daemon_report(out, True, "after apply")
    cs, _ = checks(out)
    dcs = {c["id"]: c for c in report["profiles"][0]["checks"]}
    for cid in BROKEN:
        status(cs, cid, "pass", "after apply (check)")
        status(dcs, cid, "pass", "after apply (daemon)")
    status(cs, "iscsi.conf:node.startup", "pass")
    # A second apply: nothing to do, nothing written.
    a2 = load(out, "apply2.json")
    expect(rc(out, "apply2") == 0 and a2["changed"] is False and a2["change_id"] is None,
           "second apply: %r" % {k: a2[k] for k in ("changed", "change_id")})
    expect(load(out, "statedir-after2.txt") == load(out, "statedir-after.txt"),
           "the second apply wrote to /var/lib/nodeprep")


def assert_after_reboot(out):
    expect(load(out, "initstate-boot.txt").strip() == "live", "iscsi_tcp not loaded after the reboot")
    expect(load(out, "modules-load.txt").strip() == "active", "systemd-modules-load not active")
    expect("Inserted module 'iscsi_tcp'" in load(out, "modules-load-journal.txt"),
           "systemd-modules-load did not load iscsi_tcp:\n" + load(out, "modules-load-journal.txt"))
    expect(load(out, "iscsid-socket-boot.txt").split() == ["enabled", "active"],
           "iscsid.socket after the reboot: %s" % load(out, "iscsid-socket-boot.txt"))
    apply_out = os.path.join(os.path.dirname(out), "apply")
    expect(load(out, "boot-id.txt") != load(apply_out, "boot-id.txt"), "same boot id: no reboot?")
    before = kv(load(apply_out, "nodeprepd-show.txt"))["InvocationID"]
    expect(kv(load(out, "nodeprepd-show.txt"))["InvocationID"] != before,
           "nodeprepd has the same InvocationID after the reboot")
    report = assert_daemon_report(out, True, "after the reboot")
    cs, _ = checks(out)
    dcs = {c["id"]: c for c in report["profiles"][0]["checks"]}
    for cid in BROKEN:
        status(cs, cid, "pass", "after the reboot (check)")
        status(dcs, cid, "pass", "after the reboot (daemon)")
    c = status(cs, "kmod.persistent:iscsi_tcp", "pass")
    expect("/etc/modules-load.d/nodeprep.conf" in (c["observed"] or ""),
           "observed %r does not name the file" % c["observed"])


def assert_rollback(out):
    change = load(os.path.join(os.path.dirname(out), "apply"), "change-id.txt").strip()
    plan_out = os.path.join(os.path.dirname(out), "plan")
    expect(rc(out, "rollback") == 0, "rollback exited %d" % rc(out, "rollback"))
    rb = load(out, "rollback.json")
    expect(rb["change_id"] == change and rb["failed"] is False, "rollback: %r" % rb)
    items = {i["what"]: i["state"] for i in rb["items"]}
    expect(items.get("/etc/iscsi/iscsid.conf") == "restored" and
           items.get("/etc/modules-load.d/nodeprep.conf") == "restored" and
           items.get("iscsi_tcp") == "cannot-undo", "rollback items: %r" % rb["items"])
    # Byte for byte, with mode and owner, as before apply; the created file is gone.
    for what in ["iscsid-sha", "iscsid-stat", "modules-load-d"]:
        before, after = load(plan_out, what + "-before.txt"), load(out, what + "-after.txt")
        expect(before == after, "rollback did not restore %s: %r -> %r" % (what, before, after))
    # Rollback disables what apply enabled, leaves running what it started and the module
    # loaded (README "Journal and rollback").
    expect(load(out, "iscsid-socket-after.txt").split() == ["disabled", "active"],
           "iscsid.socket after rollback: %s" % load(out, "iscsid-socket-after.txt"))
    expect(load(out, "initstate-after.txt").strip() == "live", "iscsi_tcp unloaded by rollback")
    # The checks fail again as before apply, except what rollback does not undo.
    cs, _ = checks(out)
    report = assert_daemon_report(out, False, "after rollback")
    dcs = {c["id"]: c for c in report["profiles"][0]["checks"]}
    want = {cid: "fail" for cid in BROKEN}
    want["kmod.loaded:iscsi_tcp"] = "pass"
    want["unit.active:iscsid"] = "pass"
    expect(statuses(cs, BROKEN) == want, "check after rollback: %r" % statuses(cs, BROKEN))
    expect(statuses(dcs, BROKEN) == want, "daemon after rollback: %r" % statuses(dcs, BROKEN))


def assert_upgrade(out):
    expect(load(out, "version.txt").strip().endswith("-2"), "version: " + load(out, "version.txt"))
    before, after = load(out, "conf-before.txt"), load(out, "conf-after.txt")
    expect(before == after, "the edited /etc/nodeprep/nodeprep.conf changed on upgrade")
    expect("# edited by the VM test" in after, "edit lost")
    left = load(out, "etc-nodeprep.txt").split()
    expect(left == ["nodeprep.conf"], "/etc/nodeprep holds %s" % left)
    cs, report = checks(out)
    expect(report["profiles"][0]["name"] == "iomesh", "site file Profiles= not used")
    setting = report["profiles"][0]["settings"]["DataCIDR"]
    expect(setting.startswith("192.0.2.0/24 (/etc/nodeprep/nodeprep.conf:"),
           "DataCIDR from %r, expected the site file" % setting)
    expect(cs["nic.data-cidr"]["status"] == "pass", "nic.data-cidr: %r" % cs["nic.data-cidr"])
    daemon = load(out, "status.json")
    expect([p["name"] for p in daemon["profiles"]] == ["iomesh"] and
           daemon["profiles"][0]["settings"]["DataCIDR"] == setting,
           "the upgraded daemon does not use the site file: %r" % daemon["profiles"][0]["settings"])


def assert_remove(out):
    st = load(out, "status.txt").strip()
    expect(st == "rc", "dpkg status after remove: %r" % st)
    expect(load(out, "nfd-before.txt").strip() == "present", "no NFD file before remove")
    paths = dict(reversed(line.split(None, 1)) for line in load(out, "paths.txt").splitlines())
    expect(paths["/usr/bin/nodeprepctl"] == "absent", "nodeprepctl left after remove")
    expect(paths["/usr/sbin/nodeprepd"] == "absent", "nodeprepd left after remove")
    expect(paths["/usr/share/nodeprep"] == "absent", "profiles left after remove")
    expect(paths[NFD] == "absent", "the NFD labels outlive the package")
    expect(paths["/etc/nodeprep/nodeprep.conf"] == "present", "conffile removed without purge")
    expect(paths["/var/lib/nodeprep/test-record"] == "present", "state removed without purge")
    units = dict(line.split() for line in load(out, "units.txt").splitlines())
    expect(set(units.values()) == {"inactive"}, "units after remove: %r" % units)


def assert_purge(out):
    st = load(out, "status.txt")
    expect("no packages found" in st or st.strip() in ("pn", "un"), "status after purge: " + st)
    diff = load(out, "files.diff").strip()
    expect(diff == "", "files differ from before the install:\n" + diff)


if __name__ == "__main__":
    sys.exit(scenario.run("basic", "base", "basic.sh", BOOTS, globals(), tools=["promtool"]))
