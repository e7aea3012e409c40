# SPDX-License-Identifier: LGPL-2.1-or-later
"""VM suite, basic scenario: the built .deb on a real Debian 12 worker under QEMU.

Boot 1: install the package, check the IOMesh profile against the real kernel, systemd and
open-iscsi, load iscsi_tcp, persist it in modules-load.d, reboot. Boot 2 (same overlay): the
module is back from modules-load.d; upgrade to a second package revision keeping an edited
conffile; remove; purge leaves no file.

Each guest stage is a stage_NAME function in guest/basic.sh; each has an assert_NAME function
here. A later step is one more pair (the daemon's socket activation and `status --json`,
`apply`, `rollback`, the disk and NIC checks once those probes are merged). Environment
variables: see scenario.py.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import scenario  # noqa: E402
from scenario import Failure, checks, expect, load, status  # noqa: E402

# [boot label, guest stages, how the boot must end]
BOOTS = [
    ("install", ["install", "check", "modprobe", "persist"], "reboot"),
    ("after-reboot", ["after_reboot", "upgrade", "remove", "purge"], "poweroff"),
]


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


# ---- assertions, one per guest stage ---------------------------------------------------------

def assert_install(out):
    expect(load(out, "version.txt").strip().endswith("-1"), "version: " + load(out, "version.txt"))
    files = set(load(out, "dpkg-L.txt").split())
    for p in ["/usr/bin/nodeprepctl", "/etc/nodeprep/nodeprep.conf",
              "/usr/share/nodeprep/profiles/iomesh.conf",
              "/usr/share/man/man8/nodeprepctl.8.gz", "/usr/share/man/man5/nodeprep.conf.5.gz",
              "/usr/share/man/man5/nodeprep.profile.5.gz"]:
        expect(p in files, "package does not ship %s" % p)
    profiles = [p for p in files if p.startswith("/usr/share/nodeprep/profiles/")
                and p.endswith(".conf")]
    expect(len(profiles) == 7, "7 profiles expected, got %s" % sorted(profiles))
    expect("/etc/nodeprep/nodeprep.conf" in load(out, "conffiles.txt"),
           "nodeprep.conf is not a conffile: " + load(out, "conffiles.txt"))
    expect(load(out, "statedir.txt").strip() == "directory 755 root",
           "/var/lib/nodeprep: " + load(out, "statedir.txt"))
    names = sorted(p["name"] for p in load(out, "profiles.json"))
    expect("iomesh" in names and len(names) == 7, "installed profiles: %s" % names)


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


def assert_modprobe(out):
    expect(load(out, "initstate.txt").strip() == "live", "initstate " + load(out, "initstate.txt"))
    cs, _ = checks(out)
    status(cs, "kmod.loaded:iscsi_tcp", "pass")
    status(cs, "kmod.persistent:iscsi_tcp", "fail", "(loaded by hand only)")
    state = module(load(out, "facts.json"), "iscsi_tcp")["state"]
    expect(state == "loaded", "iscsi_tcp state after modprobe: %r" % state)


def assert_persist(out):
    cs, _ = checks(out)
    c = status(cs, "kmod.persistent:iscsi_tcp", "pass")
    expect("/etc/modules-load.d/iscsi_tcp.conf" in (c["observed"] or ""),
           "observed %r does not name the file" % c["observed"])


def assert_after_reboot(out):
    expect(load(out, "initstate.txt").strip() == "live", "iscsi_tcp not loaded after the reboot")
    expect(load(out, "modules-load.txt").strip() == "active", "systemd-modules-load not active")
    cs, _ = checks(out)
    status(cs, "kmod.loaded:iscsi_tcp", "pass", "after the reboot")
    status(cs, "kmod.persistent:iscsi_tcp", "pass", "after the reboot")


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
    expect(cs["nic.data-cidr"]["status"] != "skip", "nic.data-cidr skipped: DataCIDR not read")


def assert_remove(out):
    st = load(out, "status.txt").strip()
    expect(st == "rc", "dpkg status after remove: %r" % st)
    paths = dict(reversed(line.split(None, 1)) for line in load(out, "paths.txt").splitlines())
    expect(paths["/usr/bin/nodeprepctl"] == "absent", "nodeprepctl left after remove")
    expect(paths["/usr/share/nodeprep"] == "absent", "profiles left after remove")
    expect(paths["/etc/nodeprep/nodeprep.conf"] == "present", "conffile removed without purge")
    expect(paths["/var/lib/nodeprep/test-record"] == "present", "state removed without purge")


def assert_purge(out):
    st = load(out, "status.txt")
    expect("no packages found" in st or st.strip() in ("pn", "un"), "status after purge: " + st)
    diff = load(out, "files.diff").strip()
    expect(diff == "", "files differ from before the install:\n" + diff)


if __name__ == "__main__":
    sys.exit(scenario.run("basic", "base", "basic.sh", BOOTS, globals()))
