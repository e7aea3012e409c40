# SPDX-License-Identifier: LGPL-2.1-or-later
"""VM stage vm-boot-truth: nodeprep's next-boot verdicts (kmod.persistent, selinux.config,
iscsi.conf:node.startup) against what the kernel really does after the reboot.

Each case is set up on a real Debian 12 guest (modules-load.d, modprobe.d, the kernel command
line through QEMU's -append, /etc/selinux/config, iscsid.conf), `nodeprepctl check --json
--facts` records the prediction and the facts behind it, the guest reboots with the same kernel
command line (the guest has no boot loader: the prediction reads /proc/cmdline, and the runner
gives the next boot the identical -append), and the kernel's state is read first thing:
/sys/module/MOD/initstate (or /sys/module/MOD alone for a built-in module, or nothing),
/sys/fs/selinux/enforce. The module cases share one pair of boots of the base image; each
SELinux case needs its own pair in the SELinux image (its command line differs). The test prints
the truth table and fails when any row disagrees: a disagreement is a model bug to fix in lib/,
not a row to drop.

NODEPREP_VM_BOOT_TRUTH=base (or selinux) runs only that image's cases, for debugging."""
import os
import sys
import tempfile
import shutil

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import npvm  # noqa: E402
import scenario  # noqa: E402
from scenario import expect, load  # noqa: E402

# Both module boots run with these words (the -append of the setup boot and of the boot after).
MODULES_APPEND = "modprobe.blacklist=bonding module_blacklist=macsec modules_load=geneve"

# (case, module checked by kmod.persistent, configuration; guest/boot-truth.sh sets it up,
# other modules whose state shows the configuration took effect)
MODULE_CASES = [
    ("control", "ipvlan", "listed in /etc/modules-load.d", []),
    ("run-only", "nlmon", "listed only in /run/modules-load.d", []),
    ("run-shadow", "veth", "listed in /usr/lib/modules-load.d/np-bt-shadow.conf; an empty "
     "/run/modules-load.d/np-bt-shadow.conf hides it now", []),
    ("install-true", "dummy", "listed; modprobe.d: install dummy /bin/true", []),
    ("install-softdep", "ifb", "listed; modprobe.d: install ifb /bin/true, softdep ifb pre: nbd",
     ["nbd"]),
    ("softdep-fails", "macvlan", "listed; modprobe.d: softdep macvlan pre: team, install team "
     "/bin/false", ["team"]),
    ("alias-redirect", "vxlan", "listed; modprobe.d: alias vxlan vcan", ["vcan"]),
    ("alias-name", "8021q", "np-bt-vlan listed; modprobe.d: alias np-bt-vlan 8021q", []),
    ("blacklist", "sctp", "listed; modprobe.d: blacklist sctp", []),
    ("modprobe.blacklist=", "bonding", "listed; command line modprobe.blacklist=bonding", []),
    ("module_blacklist=", "macsec", "listed; command line module_blacklist=macsec", []),
    ("modules_load=", "geneve", "not listed; command line modules_load=geneve", []),
    ("builtin", "tcp_cubic", "not listed; in modules.builtin of 6.1", []),
    ("removed-ko", "vrf", "listed; vrf.ko deleted, depmod -a", []),
]

# (case, SELINUX= value, kernel command line words); the runner adds "security=selinux
# selinux=1" before them in the SELinux image (npvm.Vm), so selinux=0 here is the last word.
SELINUX_CASES = [
    ("enforcing0", "enforcing", "enforcing=0"),
    ("permissive1", "permissive", "enforcing=1"),
    ("selinux0", "enforcing", "selinux=0"),
    ("disabled", "disabled", ""),
]

ISCSI_ID = "iscsi.conf:node.startup"
ROWS = []  # (case, configuration, prediction, outcome, agree)


def profile():
    checks = ["kmod.persistent:%s" % m for _c, m, _w, _x in MODULE_CASES]
    checks += ["selinux.config", ISCSI_ID]
    text = "[Profile]\nDescription=vm-boot-truth: one next-boot check per case\n"
    for cid in checks:
        text += "\n[Check]\nId=%s\nSeverity=required\n" % cid
        if cid == ISCSI_ID:
            text += "Expect=manual\n"
    return text


def prediction(out):
    """The checks by id and the facts of the setup stage's `check --json --facts`."""
    expect(int(load(out, "predict.rc")) in (0, 1, 2), "check exited %s" % load(out, "predict.rc"))
    report = load(out, "predict.json")
    return {c["id"]: c for c in report["profiles"][0]["checks"]}, report["facts"]


def show(c):
    return "%s: %s" % (c["status"], c["observed"] or c["message"])


PREDICTED = {}


def assert_install(out):
    expect(load(out, "version.txt").strip(), "nodeprep not installed")


def assert_mod_setup(out):
    cs, facts = prediction(out)
    boot = facts["boot"]
    expect(boot["cmdline"] and MODULES_APPEND in boot["cmdline"],
           "prediction read the command line %r (%s), not the one the next boot gets" %
           (boot["cmdline"], boot["cmdline_source"]))
    npvm.log("  next boot: kernel %s (%s); command line from %s" %
             (boot["kernel"], boot["kernel_source"], boot["cmdline_source"]))
    mods = {m["name"]: m for m in facts["modules"]}
    for case, mod, _what, _extra in MODULE_CASES:
        c = cs["kmod.persistent:" + mod]
        m = mods.get(mod, {})
        fields = {k: m.get(k) for k in ("next_state", "persisted_in", "prevented", "blacklisted",
                                        "not_applied", "prevented_unknown", "next_unknown",
                                        "persist_unknown", "notes") if m.get(k)}
        PREDICTED[case] = (c["status"], show(c), fields)
    c = cs[ISCSI_ID]
    PREDICTED["iscsi"] = (c["status"], show(c), {"conf": facts["iscsi"]["conf"]["present"]})


def assert_mod_truth(out):
    expect(MODULES_APPEND in load(out, "cmdline.txt"), "the second boot's command line %r" %
           load(out, "cmdline.txt"))
    truth = dict(line.split() for line in load(out, "truth.txt").splitlines())
    for case, mod, what, extra in MODULE_CASES:
        status, shown, fields = PREDICTED[case]
        state = truth[mod]
        in_kernel = state in ("live", "builtin")
        outcome = "%s %s" % (mod, state) + "".join(", %s %s" % (x, truth[x]) for x in extra)
        agree = status in ("pass", "fail") and (status == "pass") == in_kernel
        ROWS.append((case, what, "%s %s" % (shown, fields), outcome, agree))
    # iSCSI: the node record made without iscsid.conf, and the control with one.
    active = load(out, "iscsid-active.txt").strip()
    tries = os.path.join(out, "iscsid-boot-truth-control-tries.txt")
    tries = open(tries).read() if os.path.exists(tries) else ""
    if tries:
        npvm.log("  the control's iscsid start failed before it succeeded:\n" + tries)
    expect(load(out, "iscsid-active-control.txt").strip() == "active",
           "control: iscsid is %r with an iscsid.conf after 3 tries; the tries:\n%s\n"
           "the unit's log:\n%s" % (load(out, "iscsid-active-control.txt"), tries,
                                    load(out, "iscsid-boot-truth-control.log")[-3000:]))
    startup = load(out, "node-startup.txt").strip()
    control = load(out, "node-startup-control.txt").strip()
    expect(control == "automatic", "control record: node.startup %r with iscsid.conf saying "
           "automatic: the observation method does not work" % control)
    why = [line.split(": ", 1)[-1] for line in load(out, "iscsid-boot-truth.log").splitlines()
           if "startup-checks" in line][:1]
    status, shown, fields = PREDICTED["iscsi"]
    ROWS.append(("iscsi-no-conf", "open-iscsi installed, no /etc/iscsi/iscsid.conf; "
                 "Expect=manual", "%s %s" % (shown, fields),
                 "iscsid.service %s%s; new node record: node.startup = %s (control, "
                 "iscsid.conf with automatic, iscsid active: %s)" %
                 (active, " (%s)" % why[0] if why else "", startup, control),
                 status in ("pass", "fail") and (status == "pass") == (startup == "manual")))


def selinux_asserts(case, value, words):
    def setup(out):
        expect(load(out, "config.txt").strip() == "SELINUX=" + value, "config not set")
        cs, facts = prediction(out)
        boot = facts["boot"]
        expect(words in boot["cmdline"], "prediction read the command line %r (%s)" %
               (boot["cmdline"], boot["cmdline_source"]))
        s = facts["selinux"]
        c = cs["selinux.config"]
        fields = {k: s.get(k) for k in ("next_mode", "next_lsm_active", "cmdline_enforcing")}
        PREDICTED["se-" + case] = (c["status"], show(c), fields)

    def truth(out):
        expect(words in load(out, "cmdline.txt"), "the second boot's command line %r" %
               load(out, "cmdline.txt"))
        enforce = load(out, "enforce.txt").strip()
        status, shown, fields = PREDICTED["se-" + case]
        ROWS.append(("selinux " + case, "SELINUX=%s, command line %s" %
                     (value, words or "(nothing added)"), "%s %s" % (shown, fields),
                     "/sys/fs/selinux/enforce %s, getenforce %s" %
                     (enforce, load(out, "getenforce.txt").strip()),
                     status in ("pass", "fail") and (status == "fail") == (enforce == "1")))
    return setup, truth


def table():
    print("\nvm-boot-truth: nodeprep's prediction before the reboot against the kernel after it")
    print("| case | configuration | prediction (check: observed; facts) | outcome after reboot "
          "| agree |")
    print("|---|---|---|---|---|")
    for case, what, pred, outcome, agree in ROWS:
        print("| %s | %s | %s | %s | %s |" % (case, what, pred, outcome, "yes" if agree else
                                             "**NO**"))
    bad = [r[0] for r in ROWS if not r[4]]
    print("%d rows, %d disagree%s\n" % (len(ROWS), len(bad), (": " + ", ".join(bad)) if bad
                                          else ""), flush=True)
    return bad


def main():
    reason = npvm.skip_reason("selinux")
    if reason:
        print("SKIP: " + reason)
        return 77
    asserts = dict(globals())
    share = {"boot-truth.conf": profile(),
             "modules.txt": "".join("%s\n" % m for _c, mod, _w, extra in MODULE_CASES
                                    for m in [mod] + extra)}
    se_boots = []
    for i, (case, value, words) in enumerate(SELINUX_CASES):
        share["selinux-%s.txt" % case] = value + "\n"
        asserts["assert_se_%s_setup" % case], asserts["assert_se_%s_truth" % case] = \
            selinux_asserts(case, value, words)
        se_boots.append((case + "-setup", (["install"] if i == 0 else []) +
                         ["se_%s_setup" % case], "reboot", words))
        se_boots.append((case + "-truth", ["se_%s_truth" % case], "poweroff", words))
    mod_boots = [("modules-setup", ["install", "mod_setup"], "reboot", MODULES_APPEND),
                 ("modules-truth", ["mod_truth"], "poweroff", MODULES_APPEND)]
    # One .deb for both images.
    tmp = None
    if not os.environ.get("NODEPREP_VM_DEBS"):
        tmp = tempfile.mkdtemp(prefix="nodeprep-vm-boot-truth-debs-",
                               dir=os.environ.get("NODEPREP_VM_LOGDIR", "/var/tmp"))
        os.environ["NODEPREP_VM_DEBS"] = scenario.build_debs(tmp, (1,))
    only = os.environ.get("NODEPREP_VM_BOOT_TRUTH")
    try:
        rcs = []
        if only in (None, "", "base"):
            rcs.append(scenario.run("boot-truth", "base", "boot-truth.sh", mod_boots, asserts,
                                    revisions=(1,), share_files=share))
        if only in (None, "", "selinux"):
            rcs.append(scenario.run("boot-truth-selinux", "selinux", "boot-truth.sh", se_boots,
                                    asserts, revisions=(1,), share_files=share))
    finally:
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)
    bad = table()
    if any(rc == 1 for rc in rcs):
        return 1
    if bad:
        print("FAIL: prediction and kernel disagree: %s" % ", ".join(bad))
        return 1
    return 77 if all(rc == 77 for rc in rcs) else 0


if __name__ == "__main__":
    sys.exit(main())
