# SPDX-License-Identifier: LGPL-2.1-or-later
"""VM suite vm-selinux (slow: the image's first boot relabels, about 4 minutes, then cached):
a Debian 12 worker booted enforcing with Debian's reference policy. Both SELinux checks fail
against the real kernel state and config; `nodeprepctl apply --only selinux.runtime --only
selinux.config` through nodeprepd makes SELinux permissive now and in the config; both pass;
after a reboot the kernel comes up permissive and both still pass; `nodeprepctl rollback` puts
back what apply replaced: the config byte for byte (SELINUX=enforcing) and, as README "Journal
and rollback" promises, the previous value of /sys/fs/selinux/enforce: enforcing again now."""
import os
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import scenario  # noqa: E402
from scenario import checks, expect, load, status  # noqa: E402

BOOTS = [
    ("enforcing", ["install", "apply"], "reboot"),
    ("after-reboot", ["after_reboot", "rollback"], "poweroff"),
]
SELINUX = ["selinux.runtime", "selinux.config"]


def state(out):
    return load(out, "enforce.txt").strip(), load(out, "config.txt").strip()


def rc(out, name):
    return int(load(out, name + ".rc").strip())


def no_denials(out, what):
    """The policy denied nodeprepd and nodeprepctl nothing (unconfined initrc_t, see README)."""
    ours = [line for line in load(out, "denials.txt").splitlines()
            if 'comm="nodeprep' in line]
    expect(not ours, "%s: SELinux denied nodeprep:\n%s" % (what, "\n".join(ours)))


def daemon(out, ready_selinux, what):
    """The daemon's report agrees on both SELinux checks; nothing of ours was denied."""
    no_denials(out, what)
    expect(rc(out, "status") in (0, 1), "%s: nodeprepctl status exited %d" % (what, rc(out, "status")))
    report = load(out, "status.json")
    cs = {c["id"]: c for c in report["profiles"][0]["checks"]}
    for cid in SELINUX:
        status(cs, cid, "pass" if ready_selinux else "fail", "(daemon, %s)" % what)


def assert_install(out):
    expect(state(out) == ("1", "enforcing"), "guest SELinux state %r" % (state(out),))
    cs, report = checks(out)
    c = status(cs, "selinux.runtime", "fail")
    expect("enforcing" in (c["observed"] or ""), "selinux.runtime observed %r" % c["observed"])
    c = status(cs, "selinux.config", "fail")
    expect("/etc/selinux/config" in (c["observed"] or ""),
           "selinux.config observed %r does not name the file" % c["observed"])
    expect(report["ready"] is False, "ready while enforcing")
    daemon(out, False, "enforcing")


def assert_apply(out):
    expect(rc(out, "apply") == 0, "apply exited %d" % rc(out, "apply"))
    a = load(out, "apply.json")
    expect(a["changed"] is True and a["failed"] is False and a["change_id"],
           "apply: %r" % {k: a[k] for k in ("changed", "failed", "change_id")})
    outcome = {c["id"]: (c["outcome"], c["status_before"], c["status_after"])
               for c in a["checks"] if c["id"] in SELINUX}
    expect(outcome == {cid: ("changed", "fail", "pass") for cid in SELINUX},
           "apply outcomes: %r" % outcome)
    changed = sorted(c["id"] for c in a["checks"] if c["changed"])
    expect(changed == sorted(SELINUX), "apply changed %s, asked for the SELinux checks only" %
           changed)
    expect(state(out) == ("0", "permissive"), "guest SELinux state %r" % (state(out),))
    cs, _ = checks(out)
    status(cs, "selinux.runtime", "pass")
    status(cs, "selinux.config", "pass")
    daemon(out, True, "after apply")


def assert_after_reboot(out):
    expect(state(out) == ("0", "permissive"), "after the reboot: %r" % (state(out),))
    cs, _ = checks(out)
    status(cs, "selinux.runtime", "pass", "after the reboot")
    status(cs, "selinux.config", "pass", "after the reboot")
    daemon(out, True, "after the reboot")


def assert_rollback(out):
    install = os.path.join(os.path.dirname(out), "install")
    expect(rc(out, "rollback") == 0, "rollback exited %d" % rc(out, "rollback"))
    rb = load(out, "rollback.json")
    expect(rb["failed"] is False, "rollback: %r" % rb)
    # The config byte for byte, with its mode, owner and label; the runtime mode as before apply.
    for what in ["config-sha", "config-stat"]:
        expect(load(out, what + ".txt") == load(install, what + ".txt"),
               "rollback did not restore %s: %r, before apply %r" %
               (what, load(out, what + ".txt"), load(install, what + ".txt")))
    expect(state(out) == ("1", "enforcing"), "after rollback: %r" % (state(out),))
    cs, report = checks(out)
    status(cs, "selinux.runtime", "fail", "after rollback")
    status(cs, "selinux.config", "fail", "after rollback")
    expect(report["ready"] is False, "ready after rollback")
    daemon(out, False, "after rollback")


if __name__ == "__main__":
    sys.exit(scenario.run("selinux", "selinux", "selinux.sh", BOOTS, globals(),
                          revisions=(1,)))
