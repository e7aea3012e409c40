#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""test-distro.py SUITE: nodeprep on an older or newer Debian (bullseye = 11, trixie = 13), with
that release's own toolchain and libraries.

1. A cached root of the release (make-root.sh: debootstrap from the machine's mirror).
2. Not booted (systemd-nspawn as a chroot): build-in-root.sh builds the work tree with
   -Dwerror=true, runs the unit and cli suites, builds the .deb with dpkg-buildpackage.
3. Booted (systemd-nspawn -b, the release's systemd as PID 1): in-container.sh installs the .deb
   and drives the packaged units: socket activation, status, plan, apply --local, rollback; on
   trixie also systemd's varlinkctl against nodeprepd.

The root is never written (--volatile=overlay); the work tree, the build and the packages live in
a temporary directory bound at /mnt/share. Skips (77) when not root or without debootstrap or
systemd-nspawn. NODEPREP_DISTROS_KEEP=1 keeps that directory for a look afterwards.
"""
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SRCDIR = os.environ.get("NODEPREP_SRCDIR", os.path.join(HERE, "..", ".."))

TEST_UNIT = """[Unit]
Description=nodeprep distros test
Requires=dbus.socket
After=basic.target dbus.socket systemd-journald.service

[Service]
Type=oneshot
ExecStart=/mnt/share/src/tests/distros/in-container.sh
StandardOutput=journal+console
StandardError=journal+console
"""


def skip(why):
    print("1..0 # SKIP %s" % why)
    sys.exit(77)


def log(msg):
    print("# [%s] %s" % (time.strftime("%H:%M:%S"), msg), flush=True)


def export_tree(dest):
    """The work tree as `git add -A` sees it (uncommitted edits included, build dirs not), as
    packaging/build-packages archives it; a plain copy outside a git checkout."""
    os.makedirs(dest)
    if subprocess.run(["git", "-C", SRCDIR, "rev-parse", "--is-inside-work-tree"],
                      capture_output=True).returncode == 0:
        env = dict(os.environ, GIT_INDEX_FILE=os.path.join(os.path.dirname(dest), "git-index"))
        subprocess.run(["git", "-C", SRCDIR, "add", "-A"], env=env, check=True)
        tree = subprocess.run(["git", "-C", SRCDIR, "write-tree"], env=env, check=True,
                              capture_output=True, text=True).stdout.strip()
        archive = subprocess.Popen(["git", "-C", SRCDIR, "archive", tree], stdout=subprocess.PIPE)
        subprocess.run(["tar", "-x", "-C", dest], stdin=archive.stdout, check=True)
        if archive.wait() != 0:
            raise RuntimeError("git archive failed")
    else:
        shutil.rmtree(dest)
        shutil.copytree(SRCDIR, dest, symlinks=True,
                        ignore=shutil.ignore_patterns("build*", ".git"))


def nspawn(rootfs, share, *args, boot=False, timeout=1200):
    cmd = ["systemd-nspawn", "-q", "-D", rootfs, "--register=no", "--keep-unit",
           "--private-network", "--volatile=overlay", "--bind=%s:/mnt/share" % share,
           "--setenv=TERM=dumb"]
    if boot:
        cmd += ["-b", "--console=pipe",
                "--bind-ro=%s/nodeprep-test.service:/etc/systemd/system/nodeprep-test.service"
                % share]
    return subprocess.run(cmd + ["--"] + list(args), stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, timeout=timeout)


def tail(path, n=60):
    try:
        with open(path, errors="replace") as f:
            return "".join(f.readlines()[-n:])
    except OSError:
        return "(no %s)" % os.path.basename(path)


def main():
    if len(sys.argv) != 2:
        print("usage: test-distro.py SUITE", file=sys.stderr)
        sys.exit(64)
    suite = sys.argv[1]
    if os.geteuid() != 0:
        skip("needs root")
    for tool in ("systemd-nspawn", "debootstrap", "git"):
        if not shutil.which(tool):
            skip("%s not installed" % tool)

    t0 = time.monotonic()
    mk = subprocess.run([os.path.join(HERE, "make-root.sh"), suite], capture_output=True,
                        text=True)
    if mk.returncode == 77:
        skip("no %s root: %s" % (suite, mk.stderr.strip().splitlines()[-1:]))
    if mk.returncode != 0:
        print(mk.stderr)
        sys.exit(1)
    rootfs = mk.stdout.strip()
    with open(os.path.join(os.path.dirname(rootfs), "done")) as f:
        log("root: %s (%s)" % (rootfs, f.read().strip()))
    log("root ready after %.0f s" % (time.monotonic() - t0))

    share = tempfile.mkdtemp(prefix="distros-%s-" % suite)
    ok = False
    try:
        export_tree(os.path.join(share, "src"))
        with open(os.path.join(share, "nodeprep-test.service"), "w") as f:
            f.write(TEST_UNIT)

        t1 = time.monotonic()
        b = nspawn(rootfs, share, "/bin/sh", "-c",
                   "/mnt/share/src/tests/distros/build-in-root.sh >/mnt/share/build.log 2>&1")
        print("# " + tail(os.path.join(share, "versions.txt")).strip().replace("\n", "\n# "))
        log("build, unit and cli suites, .deb: exit %d after %.0f s" %
            (b.returncode, time.monotonic() - t1))
        if b.returncode != 0:
            print("not ok - build, unit and cli suites, dpkg-buildpackage on %s" % suite)
            print(b.stdout[-2000:])
            print("# build.log (tail):\n" + tail(os.path.join(share, "build.log"), 120))
            sys.exit(1)
        print("ok - %s: -Dwerror=true build, unit and cli suites, dpkg-buildpackage" % suite)

        t2 = time.monotonic()
        try:
            boot = nspawn(rootfs, share, "systemd.unit=nodeprep-test.service", boot=True,
                          timeout=600)
            console = boot.stdout
        except subprocess.TimeoutExpired as e:
            console = "timed out\n" + (e.stdout or b"").decode(errors="replace")
        log("booted container: %.0f s" % (time.monotonic() - t2))
        results = tail(os.path.join(share, "results"), 1000)
        for line in tail(os.path.join(share, "security.txt"), 200).splitlines():
            if "Overall exposure" in line:
                print("# systemd-analyze security:%s" % line.split(":", 1)[1])
        ok = "DONE" in results and "not ok" not in results
        if not ok:
            print("# container console:\n" + console[-3000:])
            print("# journal (tail):\n" + tail(os.path.join(share, "journal.txt"), 60))
        print(results, end="")  # last: meson shows the end of a long log
        log("total %.0f s" % (time.monotonic() - t0))
        sys.exit(0 if ok else 1)
    finally:
        if os.environ.get("NODEPREP_DISTROS_KEEP") == "1":
            log("kept %s" % share)
        else:
            shutil.rmtree(share, ignore_errors=True)


if __name__ == "__main__":
    main()
