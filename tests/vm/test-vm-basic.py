# SPDX-License-Identifier: LGPL-2.1-or-later
"""VM suite, basic scenario: the built .deb on a real Debian 12 worker under QEMU.

Boot 1: install the package, check the IOMesh profile against the real kernel, systemd and
open-iscsi, load iscsi_tcp, persist it in modules-load.d, reboot. Boot 2 (same overlay): the
module is back from modules-load.d; upgrade to a second package revision keeping an edited
conffile; remove; purge leaves no file behind.

Each guest stage is a stage_NAME function in guest/basic.sh; each has an assert_NAME function
here. A later stage is one more pair (the daemon's socket activation and `status --json`,
`apply`, `rollback`, the disk and NIC checks once those probes are merged).

Environment: NODEPREP_VM_DEBS=DIR uses nodeprep_*-1_*.deb and nodeprep_*-2_*.deb from DIR
instead of building them; NODEPREP_VM_KEEP=1 keeps the run directory on success too;
NODEPREP_VM_LOGDIR is where run directories go (default /var/tmp).
"""
import glob
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import npvm  # noqa: E402

SRCDIR = os.environ.get("NODEPREP_SRCDIR",
                        os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
GUEST = os.path.join(os.path.dirname(os.path.abspath(__file__)), "guest")

# [boot label, guest stages, how the boot must end]
BOOTS = [
    ("install", ["install", "check", "modprobe", "persist"], "reboot"),
    ("after-reboot", ["after_reboot", "upgrade", "remove", "purge"], "poweroff"),
]


class Failure(Exception):
    pass


def expect(cond, what):
    if not cond:
        raise Failure(what)


def load(out, name):
    with open(os.path.join(out, name)) as f:
        return json.load(f) if name.endswith(".json") else f.read()


def checks(out, name="check.json"):
    report = load(out, name)
    expect(len(report["profiles"]) == 1, "%s: one profile expected" % name)
    return {c["id"]: c for c in report["profiles"][0]["checks"]}, report


def status(cs, cid, want, what=""):
    c = cs.get(cid)
    expect(c is not None, "no check %s in the report" % cid)
    expect(c["status"] == want, "%s is %s, expected %s%s (observed %r, message %r)" %
           (cid, c["status"], want, " " + what if what else "", c["observed"], c["message"]))
    return c


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
    c = status(cs, "fs.free:/opt", "fail")
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
    expect(module(load(out, "facts.json"), "iscsi_tcp")["state"] == "loaded", "state after modprobe")


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
    expect(load(out, "status.txt").strip() == "rc", "status after remove: " + load(out, "status.txt"))
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


# ---- the run ----------------------------------------------------------------------------------

def build_debs(workdir):
    prebuilt = os.environ.get("NODEPREP_VM_DEBS")
    debs = os.path.join(workdir, "share", "debs")
    os.makedirs(debs, exist_ok=True)
    if prebuilt:
        for rev in (1, 2):
            found = glob.glob(os.path.join(prebuilt, "nodeprep_*-%d_*.deb" % rev))
            expect(len(found) == 1, "NODEPREP_VM_DEBS: no single nodeprep_*-%d_*.deb" % rev)
            shutil.copy(found[0], debs)
        return debs
    env = dict(os.environ, DEB_BUILD_OPTIONS="nocheck")
    for rev in (1, 2):
        t = time.monotonic()
        out = os.path.join(workdir, "pkgs-%d" % rev)
        r = subprocess.run([os.path.join(SRCDIR, "packaging", "build-packages"), "--deb",
                            "--no-lint", "--revision", str(rev), "--outdir", out], env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        if r.returncode != 0:
            raise Failure("build-packages --revision %d failed:\n%s" % (rev, r.stdout))
        for d in glob.glob(os.path.join(out, "*.deb")):
            shutil.copy(d, debs)
        shutil.rmtree(out)
        npvm.log("step build nodeprep .deb revision %d: %.0f s" % (rev, time.monotonic() - t))
    return debs


def check_image_has_depends(image, debs):
    """The guest has no network: every Depends of the package must be in the image already."""
    have = image.packages()
    for deb in glob.glob(os.path.join(debs, "*.deb")):
        dep = subprocess.run(["dpkg-deb", "-f", deb, "Depends"], stdout=subprocess.PIPE,
                             text=True, check=True).stdout
        for clause in filter(None, (c.strip() for c in dep.split(","))):
            alts = [a.split()[0].split(":")[0] for a in clause.split("|")]
            expect(any(a in have for a in alts),
                   "%s depends on %s, which the image lacks: add it to RUNTIME_PACKAGES in "
                   "tests/vm/npvm.py" % (os.path.basename(deb), clause))


def run_boot(vm, label, stages, want):
    share = vm.share
    with open(os.path.join(share, "stages"), "w") as f:
        f.write("\n".join(stages) + "\n")
    done_file = os.path.join(share, "out", "stages.done")
    seen = len(open(done_file).read().splitlines()) if os.path.exists(done_file) else 0
    how = vm.boot(label)
    done = open(done_file).read().splitlines()[seen:] if os.path.exists(done_file) else []
    results = {}
    for line in done:
        name, rc, start, end = line.split()
        results[name] = int(rc)
        npvm.log("  guest stage %-13s rc=%s %6.1f s" % (name, rc, float(end) - float(start)))
    for name in stages:
        out = os.path.join(share, "out", name)
        if name not in results:
            raise Failure("guest stage %s did not run (boot %s ended by %s); see %s" %
                          (name, label, how, os.path.join(share, "test.log")))
        if results[name] != 0:
            log = open(os.path.join(out, "log"), errors="replace").read()
            raise Failure("guest stage %s failed (rc %d); last lines of its log:\n%s" %
                          (name, results[name], "\n".join(log.splitlines()[-30:])))
        globals()["assert_" + name](out)
        npvm.log("  assert %-18s ok" % name)
    expect(how == want, "boot %s ended by %s, expected %s" % (label, how, want))


def main():
    reason = npvm.skip_reason()
    if reason:
        print("SKIP: " + reason)
        return 77
    npvm.install_signal_handlers()
    logdir = os.environ.get("NODEPREP_VM_LOGDIR", "/var/tmp")
    os.makedirs(logdir, exist_ok=True)
    workdir = tempfile.mkdtemp(prefix="nodeprep-vm-basic-", dir=logdir)
    t0 = time.monotonic()
    vm = None
    ok = False
    try:
        t = time.monotonic()
        image = npvm.Image("base").ensure()
        npvm.log("step image: %.0f s" % (time.monotonic() - t))
        debs = build_debs(workdir)
        check_image_has_depends(image, debs)
        vm = npvm.Vm(image, workdir, persistent=True)
        for name in ["run-stages.sh", "basic.sh"]:
            shutil.copy(os.path.join(GUEST, name), vm.share)
        os.rename(os.path.join(vm.share, "run-stages.sh"), os.path.join(vm.share, "test.sh"))
        os.rename(os.path.join(vm.share, "basic.sh"), os.path.join(vm.share, "scenario.sh"))
        os.chmod(os.path.join(vm.share, "test.sh"), 0o755)
        for label, stages, want in BOOTS:
            t = time.monotonic()
            run_boot(vm, label, stages, want)
            npvm.log("step boot %s: %.0f s" % (label, time.monotonic() - t))
        ok = True
    except (Failure, npvm.VmError) as e:
        print("FAIL: %s" % e, flush=True)
    except KeyboardInterrupt as e:
        print("INTERRUPTED: %s" % e, flush=True)
    except Exception:
        traceback.print_exc()
    finally:
        if vm:
            vm.close()
        npvm.log("total %.0f s" % (time.monotonic() - t0))
        if ok and not os.environ.get("NODEPREP_VM_KEEP"):
            shutil.rmtree(workdir, ignore_errors=True)
        else:
            print("kept: %s (console logs, qemu command lines, guest outputs)" % workdir)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
