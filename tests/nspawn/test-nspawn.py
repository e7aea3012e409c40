#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Tier 2 (shared/VM.md): the packaged units under a real systemd in systemd-nspawn.

Boots a cached minimal bookworm root (make-rootfs.sh) with the tree installed by
`meson install --destdir` on top (volatile overlay: the cache is never written), runs
in-container.sh as the default unit, and reports its results. Skips (77) when not root or when
debootstrap or systemd-nspawn cannot run here.

The container's network is a namespace of its own that this test makes (nspawn
--private-network --network-namespace-path=): one veth, data0 with 10.78.0.1/24,
whose other end is in a second namespace, the peer, at 10.78.0.2/24. No route leads anywhere
else. The packaged nodeprepd's net.peers reaches the peer through a raw socket (Debian leaves
ping sockets closed), through a ping socket once they are opened, and says unknown with neither.
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


# Unique per run: another run (CI's clone) may boot its container beside this one.
NETNS = "np-nspawn-%d" % os.getpid()
PEER_NETNS = NETNS + "-peer"


def ip(*args, ns=None):
    cmd = (["ip", "netns", "exec", ns] if ns else []) + ["ip"] + list(args)
    subprocess.run(cmd, check=True, capture_output=True)


def make_network():
    """The container's namespace and its one peer; False when namespaces cannot be made."""
    for name in (NETNS, PEER_NETNS):
        if subprocess.run(["ip", "netns", "add", name], capture_output=True).returncode != 0:
            return False
        ip("link", "set", "lo", "up", ns=name)
    ip("link", "add", "data0", "netns", NETNS, "type", "veth", "peer", "name", "data0",
       "netns", PEER_NETNS)
    for name, addr in ((NETNS, "10.78.0.1/24"), (PEER_NETNS, "10.78.0.2/24")):
        ip("addr", "add", addr, "dev", "data0", ns=name)
        ip("link", "set", "data0", "up", ns=name)
    return True


def remove_network():
    for name in (NETNS, PEER_NETNS):
        subprocess.run(["ip", "netns", "del", name], capture_output=True)


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

    if not shutil.which("ip"):
        skip("ip (iproute2) not installed")
    share = tempfile.mkdtemp(prefix="nodeprep-nspawn-")
    try:
        if not make_network():
            skip("cannot create network namespaces")
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
               "--volatile=overlay",
               # Both: --private-network alone makes an empty namespace, the path alone leaves
               # /proc/sys/net read-only (systemd-sysctl.service is then skipped:
               # ConditionPathIsReadWrite=/proc/sys/net/, nspawn.c MOUNT_APPLY_APIVFS_NETNS).
               "--private-network", "--network-namespace-path=/run/netns/" + NETNS, "--bind=%s:/mnt/share" % share,
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
        remove_network()
        shutil.rmtree(share, ignore_errors=True)


if __name__ == "__main__":
    main()
