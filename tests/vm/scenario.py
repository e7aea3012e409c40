# SPDX-License-Identifier: LGPL-2.1-or-later
"""Shared body of the VM scenarios (test-vm-*.py).

A scenario is a list of boots, each a list of guest stages (stage_NAME functions of a shell file
in guest/), how the boot must end ("reboot" or "poweroff") and optionally words to add to the
kernel command line, plus one assert_NAME function per
stage in the test script, called with the stage's output directory. run() builds or finds the
image, builds the .deb (revisions 1 and 2 when the scenario upgrades), boots, prints each step
with its timing, and keeps the run directory on failure.

Environment: NODEPREP_VM_DEBS=DIR takes nodeprep_*-1_*.deb and nodeprep_*-2_*.deb from DIR
instead of building them; NODEPREP_VM_KEEP=1 keeps the run directory on success too;
NODEPREP_VM_LOGDIR is where run directories go (default /var/tmp).
"""
import glob
import json
import os
import shutil
import subprocess
import tempfile
import time
import traceback

import npvm

SRCDIR = os.environ.get("NODEPREP_SRCDIR",
                        os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
GUEST = os.path.join(os.path.dirname(os.path.abspath(__file__)), "guest")


class Failure(Exception):
    pass


class Skipped(Exception):
    """What the scenario needs from nodeprep is not in this build: exit 77 with the reason."""


def expect(cond, what):
    if not cond:
        raise Failure(what)


def load(out, name):
    with open(os.path.join(out, name)) as f:
        return json.load(f) if name.endswith(".json") else f.read()


def checks(out, name="check.json"):
    """The checks of a one-profile `check --json` report, by id, and the report."""
    report = load(out, name)
    expect(len(report["profiles"]) == 1, "%s: one profile expected" % name)
    return {c["id"]: c for c in report["profiles"][0]["checks"]}, report


def status(cs, cid, want, what=""):
    c = cs.get(cid)
    expect(c is not None, "no check %s in the report" % cid)
    expect(c["status"] == want, "%s is %s, expected %s%s (observed %r, message %r)" %
           (cid, c["status"], want, " " + what if what else "", c["observed"], c["message"]))
    return c


def promtool(text, what):
    """Prometheus' own parser and linter on a metrics text (package prometheus)."""
    p = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True,
                       text=True)
    expect(p.returncode == 0, "promtool check metrics on %s: %s%s" % (what, p.stdout, p.stderr))


def build_debs(workdir, revisions):
    prebuilt = os.environ.get("NODEPREP_VM_DEBS")
    debs = os.path.join(workdir, "share", "debs")
    os.makedirs(debs, exist_ok=True)
    if prebuilt:
        for rev in revisions:
            found = glob.glob(os.path.join(prebuilt, "nodeprep_*-%d_*.deb" % rev))
            expect(len(found) == 1, "NODEPREP_VM_DEBS: no single nodeprep_*-%d_*.deb" % rev)
            shutil.copy(found[0], debs)
        return debs
    # The package's own unit tests ran in the package suite; here only the .deb matters.
    env = dict(os.environ, DEB_BUILD_OPTIONS="nocheck")
    for rev in revisions:
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
        npvm.log("step build .deb revision %d: %.0f s" % (rev, time.monotonic() - t))
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


def run_boot(vm, label, stages, want, asserts):
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
        asserts["assert_" + name](out)
        npvm.log("  assert %-18s ok" % name)
    expect(how == want, "boot %s ended by %s, expected %s" % (label, how, want))


def run(name, variant, guest_script, boots, asserts, persistent=True, bond_nics=False,
        revisions=(1, 2), tools=(), share_files=None):
    """Run one scenario; return the exit status for meson (0, 1, or 77 when it cannot run).
    revisions: the .deb revisions the guest gets in /mnt/share/debs (2 is for upgrades);
    tools: host programs the assertions need besides the VM's (skip without them);
    share_files: {name: text} written to the share (/mnt/share/NAME) for the guest stages."""
    reason = npvm.skip_reason(variant)
    missing = [t for t in tools if shutil.which(t) is None]
    if not reason and missing:
        reason = "missing %s (tools/install-deps --test)" % ", ".join(missing)
    if reason:
        print("SKIP: " + reason)
        return 77
    npvm.install_signal_handlers()
    logdir = os.environ.get("NODEPREP_VM_LOGDIR", "/var/tmp")
    os.makedirs(logdir, exist_ok=True)
    workdir = tempfile.mkdtemp(prefix="nodeprep-vm-%s-" % name, dir=logdir)
    t0 = time.monotonic()
    vm = None
    ok = False
    skipped = None
    try:
        t = time.monotonic()
        image = npvm.Image(variant).ensure()
        npvm.log("step image %s: %.0f s" % (variant, time.monotonic() - t))
        debs = build_debs(workdir, revisions)
        check_image_has_depends(image, debs)
        vm = npvm.Vm(image, workdir, persistent=persistent, bond_nics=bond_nics)
        shutil.copy(os.path.join(GUEST, "run-stages.sh"), os.path.join(vm.share, "test.sh"))
        shutil.copy(os.path.join(GUEST, guest_script), os.path.join(vm.share, "scenario.sh"))
        os.chmod(os.path.join(vm.share, "test.sh"), 0o755)
        for fname, text in (share_files or {}).items():
            with open(os.path.join(vm.share, fname), "w") as f:
                f.write(text)
        for label, stages, want, *append in boots:
            # A boot may carry its own kernel command line words (QEMU -append).
            vm.append = append[0] if append else ""
            t = time.monotonic()
            run_boot(vm, label, stages, want, asserts)
            npvm.log("step boot %s: %.0f s" % (label, time.monotonic() - t))
        ok = True
    except Skipped as e:
        skipped = str(e)
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
        if (ok or skipped) and not os.environ.get("NODEPREP_VM_KEEP"):
            shutil.rmtree(workdir, ignore_errors=True)
        else:
            print("kept: %s (console logs, qemu command lines, guest outputs)" % workdir)
    if skipped:
        print("SKIP: " + skipped)
        return 77
    return 0 if ok else 1
