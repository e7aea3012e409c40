#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Tier 2 (shared/VM.md): the packaged units under a real systemd in systemd-nspawn.

Boots a cached minimal bookworm root (make-rootfs.sh) with the tree installed by
`meson install --destdir` on top (volatile overlay: the cache is never written), runs
in-container.sh as the default unit, and reports its results. Skips (77) when not root or when
debootstrap or systemd-nspawn cannot run here.
"""
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
BUILDDIR = os.environ.get("NODEPREP_BUILDDIR")

TEST_UNIT = """[Unit]
Description=nodeprep nspawn test
Requires=dbus.socket
After=basic.target dbus.socket systemd-journald.service

[Service]
Type=oneshot
ExecStart=/mnt/share/nspawn/in-container.sh
StandardOutput=journal+console
StandardError=journal+console
"""


def skip(why):
    print("1..0 # SKIP %s" % why)
    sys.exit(77)


def main():
    if os.geteuid() != 0:
        skip("needs root")
    if not shutil.which("systemd-nspawn"):
        skip("systemd-nspawn not installed (package systemd-container)")
    if not BUILDDIR:
        skip("NODEPREP_BUILDDIR not set (run through meson test)")
    mk = subprocess.run([os.path.join(HERE, "make-rootfs.sh")], capture_output=True, text=True)
    if mk.returncode == 77:
        skip("no nspawn root: %s" % mk.stderr.strip().splitlines()[-1:])
    if mk.returncode != 0:
        print(mk.stderr)
        sys.exit(1)
    rootfs = mk.stdout.strip()

    share = tempfile.mkdtemp(prefix="nodeprep-nspawn-")
    try:
        dest = os.path.join(share, "destdir")
        subprocess.run(["meson", "install", "-C", BUILDDIR, "--destdir", dest, "--no-rebuild",
                        "--quiet"], check=True, stdout=subprocess.DEVNULL)
        for d in ("nspawn", "lib"):
            os.mkdir(os.path.join(share, d))
        shutil.copy(os.path.join(HERE, "in-container.sh"), os.path.join(share, "nspawn"))
        shutil.copy(os.path.join(HERE, "..", "lib", "container-results.sh"),
                    os.path.join(share, "lib"))
        with open(os.path.join(share, "nodeprep-test.service"), "w") as f:
            f.write(TEST_UNIT)
        try:
            import varlink
            shutil.copytree(os.path.dirname(varlink.__file__),
                            os.path.join(share, "python-varlink"),
                            ignore=shutil.ignore_patterns("__pycache__"))
        except ImportError:
            pass
        cmd = ["systemd-nspawn", "-q", "-b", "-D", rootfs, "--register=no", "--keep-unit",
               "--volatile=overlay", "--private-network", "--bind=%s:/mnt/share" % share,
               "--bind-ro=%s/nodeprep-test.service:/etc/systemd/system/nodeprep-test.service"
               % share, "--console=pipe", "--", "systemd.unit=nodeprep-test.service"]
        try:
            boot = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
        except subprocess.TimeoutExpired:
            boot = None
        results = open(os.path.join(share, "results")).read() if os.path.exists(
            os.path.join(share, "results")) else ""
        print(results, end="")
        for name in ("statustext.txt", "security.txt"):
            p = os.path.join(share, name)
            if os.path.exists(p):
                text = open(p).read()
                print("# %s: %s" % (name, text.strip().replace("\n", "\n# ")))
        failed = "not ok" in results or "DONE" not in results
        if failed:
            print("# container console:\n" + (boot.stdout[-4000:] if boot else "timed out"))
            j = os.path.join(share, "journal.txt")
            if os.path.exists(j):
                print("# journal (tail):\n" + open(j).read()[-6000:])
        sys.exit(1 if failed else 0)
    finally:
        shutil.rmtree(share, ignore_errors=True)


if __name__ == "__main__":
    main()
