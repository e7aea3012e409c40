# SPDX-License-Identifier: LGPL-2.1-or-later
"""nodeprep's VM test harness: a cached Debian 12 image and a QEMU (TCG) runner.

The image is built once with debootstrap and cached outside the repository in
/var/cache/nodeprep-vm/<variant>-<hash of the recipe>/ (NODEPREP_VM_CACHE overrides the
directory). A scenario boots it with the disks and NICs of a storage worker, exchanges files with
the guest over a 9p share, and runs the guest's stages through a oneshot unit baked into the
image; the guest powers off or reboots when its stages are done, and the console log tells which.

Network rule: a VM never gets a route out. Every NIC uses a UDP socket netdev on 127.0.0.1 to a
port nothing listens on, and the image configures no gateway.
"""
import ctypes
import fcntl
import hashlib
import inspect
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

CACHE = os.environ.get("NODEPREP_VM_CACHE", "/var/cache/nodeprep-vm")
SUITE = "bookworm"

# The image recipe: these lists, the files written into the image and the Image class make the
# cache key (recipe_key).
BASE_PACKAGES = [
    "systemd", "systemd-sysv", "udev", "dbus", "linux-image-amd64", "initramfs-tools", "kmod",
    "iproute2", "ethtool", "open-iscsi", "e2fsprogs", "procps", "util-linux",
]
# nodeprep's run-time libraries: `apt-get install ./nodeprep_*.deb` has no network in the guest.
RUNTIME_PACKAGES = [
    "libsystemd0", "libudev1", "libkmod2", "libblkid1", "libnl-3-200", "libnl-route-3-200",
    "libnl-genl-3-200", "libjson-c5", "libinih1",
]
# What the guest test scripts use besides the above.
TEST_PACKAGES = ["findutils", "diffutils", "coreutils"]
SELINUX_PACKAGES = ["selinux-policy-default", "selinux-basics", "policycoreutils", "auditd"]

VARIANTS = {
    "base": {"packages": BASE_PACKAGES + RUNTIME_PACKAGES + TEST_PACKAGES, "selinux": False},
    "selinux": {
        "packages": BASE_PACKAGES + RUNTIME_PACKAGES + TEST_PACKAGES + SELINUX_PACKAGES,
        "selinux": True,
    },
}

ROOT_SIZE = "3G"
OPT_SIZE = "512M"  # /opt: far too small for IOMesh's 100 GB
BIG_DISK = "100G"  # sparse: larger than the profiles' MinDiskSize (60 GB)

# NICs: (name in the guest with net.ifnames=0, MAC, speed Mb/s, address)
DATA_CIDR = "192.0.2.0/24"  # TEST-NET-1 (RFC 5737): never routed anywhere
NICS = [
    ("eth0", "52:54:00:4e:50:0a", 10000, "192.0.2.10/24"),
    ("eth1", "52:54:00:4e:50:01", 1000, "198.51.100.10/24"),
]
# The bond scenario adds two NICs without addresses (bond members).
BOND_NICS = [
    ("eth2", "52:54:00:4e:50:b1", 10000, None),
    ("eth3", "52:54:00:4e:50:b2", 10000, None),
]

MACHINE_ID = "6e6f64657072657076d0000000000001"

NINEP_CIL = '(genfscon 9p "/" (system_u object_r nfs_t ((s0) (s0))))\n'

GUEST_DRIVER = r"""#!/bin/sh
# nodeprep VM test driver: mount the 9p share, run its test.sh, then power off or reboot.
mkdir -p /mnt/share
if ! mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144 share /mnt/share; then
    echo "nodeprep-vm: cannot mount the 9p share" >/dev/console
    systemctl poweroff
    exit 1
fi
if [ -x /mnt/share/test.sh ]; then
    /mnt/share/test.sh >>/mnt/share/test.log 2>&1
    echo "$?" >/mnt/share/test.rc
fi
sync
if [ -e /mnt/share/reboot ]; then
    rm -f /mnt/share/reboot
    sync
    umount /mnt/share
    systemctl reboot
else
    umount /mnt/share
    systemctl poweroff
fi
"""

GUEST_UNIT = """[Unit]
Description=nodeprep VM test driver
After=multi-user.target
ConditionKernelCommandLine=nodeprep.vmtest=1

[Service]
Type=oneshot
ExecStart=/usr/local/sbin/nodeprep-vm-driver
TimeoutStartSec=infinity
StandardOutput=journal+console

[Install]
WantedBy=multi-user.target
"""


def log(msg):
    print("[%s] %s" % (time.strftime("%H:%M:%S"), msg), flush=True)


def recipe_key(variant):
    """Hash of everything that goes into an image: the package lists, the files written into it
    and the code that builds it (not the runner: changing how a VM boots needs no new image)."""
    recipe = {
        "suite": SUITE, "variant": variant, "recipe": VARIANTS[variant], "nics": NICS + BOND_NICS,
        "sizes": [ROOT_SIZE, OPT_SIZE, BIG_DISK], "machine_id": MACHINE_ID,
        "driver": GUEST_DRIVER, "unit": GUEST_UNIT, "cil": NINEP_CIL,
        "builder": [inspect.getsource(f) for f in (Image._build_in, Image._configure,
                                                   Image._make_disk, Image._relabel)],
    }
    return hashlib.sha256(json.dumps(recipe, sort_keys=True).encode()).hexdigest()[:16]


def apt_mirror():
    """The Debian mirror the host's apt already uses (nothing else is reachable)."""
    uris = []
    paths = ["/etc/apt/sources.list"]
    d = "/etc/apt/sources.list.d"
    if os.path.isdir(d):
        paths += [os.path.join(d, n) for n in sorted(os.listdir(d))]
    for p in paths:
        try:
            text = open(p).read()
        except OSError:
            continue
        for m in re.finditer(r"^\s*URIs:\s*(\S+)", text, re.M):
            uris.append(m.group(1))
        for m in re.finditer(r"^\s*deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+\S+", text, re.M):
            uris.append(m.group(1))
    for u in uris:
        if re.search(r"/debian/?$", u):
            return u
    return "http://deb.debian.org/debian"


def run(cmd, **kw):
    kw.setdefault("check", True)
    return subprocess.run(cmd, **kw)


def missing_tools(variant="base"):
    need = ["qemu-system-x86_64", "qemu-img", "debootstrap", "mkfs.ext4", "chroot"]
    return [t for t in need if shutil.which(t) is None]


class Image:
    """A cached image: kernel, initrd, root.qcow2, opt.qcow2, ext4disk.qcow2, packages.txt."""

    def __init__(self, variant="base"):
        self.variant = variant
        self.recipe = VARIANTS[variant]
        self.dir = os.path.join(CACHE, "%s-%s" % (variant, recipe_key(variant)))

    def path(self, name):
        return os.path.join(self.dir, name)

    def ready(self):
        return os.path.exists(self.path("done"))

    def packages(self):
        with open(self.path("packages.txt")) as f:
            return dict(line.split()[:2] for line in f if line.strip())

    def ensure(self):
        """Build the image unless the cache has it; one builder at a time (flock)."""
        if self.ready():
            log("image %s: cached in %s" % (self.variant, self.dir))
            return self
        os.makedirs(CACHE, exist_ok=True)
        with open(os.path.join(CACHE, ".lock"), "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if self.ready():
                log("image %s: cached in %s" % (self.variant, self.dir))
                return self
            t0 = time.monotonic()
            self._build()
            log("image %s: built in %.0f s (%s)" %
                (self.variant, time.monotonic() - t0, self.dir))
            self._prune()
        return self

    def _prune(self):
        # Older recipes of the same variant are dead weight (each is ~1 GB).
        for n in os.listdir(CACHE):
            p = os.path.join(CACHE, n)
            if n.startswith(self.variant + "-") and p != self.dir and os.path.isdir(p):
                shutil.rmtree(p, ignore_errors=True)

    def _build(self):
        tmp = tempfile.mkdtemp(prefix=".build-%s-" % self.variant, dir=CACHE)
        try:
            self._build_in(tmp)
            if os.path.exists(self.dir):
                shutil.rmtree(self.dir)
            os.rename(tmp, self.dir)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise

    def _build_in(self, tmp):
        rootfs = os.path.join(tmp, "rootfs")
        mirror = apt_mirror()
        t = time.monotonic()
        log("image %s: debootstrap %s from %s" % (self.variant, SUITE, mirror))
        with open(os.path.join(tmp, "debootstrap.log"), "w") as dlog:
            run(["debootstrap", "--variant=minbase",
                 "--include=" + ",".join(self.recipe["packages"]), SUITE, rootfs, mirror],
                stdout=dlog, stderr=subprocess.STDOUT)
        log("image %s: debootstrap done in %.0f s" % (self.variant, time.monotonic() - t))
        self._configure(rootfs)
        q = run(["chroot", rootfs, "dpkg-query", "-W", "-f", "${Package} ${Version}\\n"],
                stdout=subprocess.PIPE, text=True)
        with open(os.path.join(tmp, "packages.txt"), "w") as f:
            f.write(q.stdout)
        boot = os.path.join(rootfs, "boot")
        kernels = sorted(n for n in os.listdir(boot) if n.startswith("vmlinuz-"))
        if not kernels:
            raise RuntimeError("no kernel in %s" % boot)
        kver = kernels[-1][len("vmlinuz-"):]
        shutil.copy(os.path.join(boot, "vmlinuz-" + kver), os.path.join(tmp, "vmlinuz"))
        shutil.copy(os.path.join(boot, "initrd.img-" + kver), os.path.join(tmp, "initrd"))
        with open(os.path.join(tmp, "kernel-version"), "w") as f:
            f.write(kver + "\n")

        t = time.monotonic()
        raw = os.path.join(tmp, "root.raw")
        run(["mkfs.ext4", "-q", "-F", "-L", "nproot", "-d", rootfs, raw, ROOT_SIZE],
            stdout=subprocess.DEVNULL)
        run(["qemu-img", "convert", "-O", "qcow2", raw, os.path.join(tmp, "root.qcow2")])
        os.unlink(raw)
        shutil.rmtree(rootfs)
        self._make_disk(tmp, "opt", OPT_SIZE, "npopt")
        self._make_disk(tmp, "ext4disk", BIG_DISK, "npdata")
        log("image %s: disk images in %.0f s" % (self.variant, time.monotonic() - t))
        if self.recipe["selinux"]:
            self._relabel(tmp)
        with open(os.path.join(tmp, "done"), "w") as f:
            f.write(time.strftime("%Y-%m-%dT%H:%M:%SZ\n", time.gmtime()))

    def _relabel(self, tmp):
        """First boot of the SELinux image: label the file system (/.autorelabel; the guest
        reboots when done), then boot it enforcing once to prove it comes up that way. Both
        boots write into the image itself, so the tests start from a labelled system."""
        staged = Image(self.variant)
        staged.dir = tmp
        work = tempfile.mkdtemp(prefix="firstboot-", dir=tmp)
        vm = Vm(staged, work, root_image=os.path.join(tmp, "root.qcow2"), append="enforcing=0",
                timeout=1800)
        kept = os.path.join(CACHE, "firstboot-failed-%s" % time.strftime("%Y%m%dT%H%M%S"))
        try:
            t = time.monotonic()
            how = vm.boot("relabel")
            if how != "reboot":
                raise VmError("SELinux relabel boot ended by %s, not a reboot; see %s" %
                              (how, kept))
            log("image %s: relabelled in %.0f s" % (self.variant, time.monotonic() - t))
            with open(os.path.join(vm.share, "test.sh"), "w") as f:
                f.write("#!/bin/sh\ncat /sys/fs/selinux/enforce >/mnt/share/enforce\n"
                        "test ! -e /.autorelabel\necho $? >/mnt/share/relabelled\n")
            os.chmod(os.path.join(vm.share, "test.sh"), 0o755)
            vm.append = ""
            vm.boot("enforcing")
            enforce = open(os.path.join(vm.share, "enforce")).read().strip()
            relabelled = open(os.path.join(vm.share, "relabelled")).read().strip()
            if enforce != "1" or relabelled != "0":
                raise VmError("SELinux image: enforce=%s, /.autorelabel %s after the relabel; "
                              "see %s" % (enforce, "gone" if relabelled == "0" else "still there",
                                          kept))
        except BaseException:
            vm.close()
            # The build directory goes away with the failure: keep the console logs.
            shutil.move(work, kept)
            raise
        vm.close()
        shutil.rmtree(work)

    @staticmethod
    def _make_disk(tmp, name, size, label):
        raw = os.path.join(tmp, name + ".raw")
        run(["truncate", "-s", size, raw])
        run(["mkfs.ext4", "-q", "-F", "-L", label,
             "-E", "lazy_itable_init=1,lazy_journal_init=1", raw])
        run(["qemu-img", "convert", "-O", "qcow2", raw, os.path.join(tmp, name + ".qcow2")])
        os.unlink(raw)

    def _configure(self, rootfs):
        def write(path, text, mode=0o644):
            p = os.path.join(rootfs, path.lstrip("/"))
            os.makedirs(os.path.dirname(p), exist_ok=True)
            with open(p, "w") as f:
                f.write(text)
            os.chmod(p, mode)

        clog = open(os.path.join(os.path.dirname(rootfs), "configure.log"), "a")

        def chroot(*cmd):
            run(["chroot", rootfs] + list(cmd), stdout=clog, stderr=subprocess.STDOUT)

        write("/etc/hostname", "npvm\n")
        write("/etc/hosts", "127.0.0.1 localhost\n127.0.1.1 npvm\n")
        # A fixed machine-id: without one every boot is a "first boot" and systemd runs
        # preset-all, which would change the units' shipped enablement state.
        write("/etc/machine-id", MACHINE_ID + "\n", 0o444)
        write("/etc/fstab",
           "/dev/vda / ext4 rw,errors=remount-ro 0 1\n"
           "LABEL=npopt /opt ext4 defaults,nofail,x-systemd.device-timeout=30s 0 2\n")
        for name, mac, _speed, addr in NICS + BOND_NICS:
            if addr is None:
                continue
            write("/etc/systemd/network/10-%s.network" % name,
               "[Match]\nMACAddress=%s\n\n[Network]\nAddress=%s\n"
               "ConfigureWithoutCarrier=yes\nLinkLocalAddressing=no\n"
               "IPv6AcceptRA=no\n" % (mac, addr))
        write("/usr/local/sbin/nodeprep-vm-driver", GUEST_DRIVER, 0o755)
        write("/etc/systemd/system/nodeprep-vm-test.service", GUEST_UNIT)
        chroot("systemctl", "enable", "nodeprep-vm-test.service", "systemd-networkd.service")
        # Nothing waits for a network that has no route out anyway; timers only cost time.
        chroot("systemctl", "disable", "systemd-networkd-wait-online.service")
        for unit in ["apt-daily.timer", "apt-daily-upgrade.timer", "e2scrub_all.timer",
              "fstrim.timer", "e2scrub_reap.service"]:
            chroot("systemctl", "mask", unit)
        # Root has no password: the serial getty is only for a person debugging a kept run.
        chroot("passwd", "-d", "root")
        # The downloaded .debs are a third of the image and never used again.
        chroot("apt-get", "clean")
        if self.recipe["selinux"]:
            write("/etc/selinux/config", "SELINUX=enforcing\nSELINUXTYPE=default\n")
            write("/.autorelabel", "")
            # Debian 12's reference policy has no genfscon for 9p: the share would be
            # unlabeled_t, which mount_t may not mount when enforcing. This test-only module
            # labels 9p as NFS (nfs_t); it touches nothing nodeprep checks.
            write("/root/nodeprep-vm-9p.cil", NINEP_CIL)
            chroot("semodule", "-n", "-i", "/root/nodeprep-vm-9p.cil")
            os.unlink(os.path.join(rootfs, "root/nodeprep-vm-9p.cil"))
        clog.close()


def _die_with_parent():
    # QEMU gets SIGKILL if the runner dies without running its finally blocks (SIGKILL, OOM).
    PR_SET_PDEATHSIG = 1
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


class VmError(Exception):
    pass


class Vm:
    """One QEMU run of an image. persistent=True boots a per-run qcow2 overlay on the cached
    image (kept across boots of this Vm, deleted in close()); otherwise snapshot=on."""

    def __init__(self, image, workdir, persistent=False, bond_nics=False, root_image=None,
                 append="", timeout=900):
        self.image = image
        self.workdir = workdir
        self.share = os.path.join(workdir, "share")
        os.makedirs(self.share, exist_ok=True)
        self.persistent = persistent or root_image is not None
        self.bond_nics = bond_nics
        self.selinux = image.recipe["selinux"]
        self.append = append
        self.timeout = timeout
        self.proc = None
        self.boots = 0
        self.overlays = []
        # root_image: boot that file writable (the image build's first boot); persistent: a
        # per-run overlay on the cached image, kept across this Vm's boots.
        if root_image:
            self.root = root_image
        elif persistent:
            self.root = self._overlay("root")
        self.disks = {}
        for name in ["ssd", "hdd", "nvme"]:
            self.disks[name] = os.path.join(workdir, name + ".qcow2")
            run(["qemu-img", "create", "-q", "-f", "qcow2", self.disks[name], BIG_DISK])
            self.overlays.append(self.disks[name])

    def _overlay(self, name):
        p = os.path.join(self.workdir, name + "-overlay.qcow2")
        run(["qemu-img", "create", "-q", "-f", "qcow2", "-F", "qcow2",
             "-b", self.image.path(name + ".qcow2"), p])
        self.overlays.append(p)
        return p

    def _cmdline(self, console):
        img = self.image
        append = "root=/dev/vda rw console=ttyS0 net.ifnames=0 panic=-1 quiet " \
            "nodeprep.vmtest=1"
        if self.selinux:
            append += " security=selinux selinux=1"
        if self.append:
            append += " " + self.append
        if self.persistent:
            root = "file=%s,format=qcow2,if=none,id=root" % self.root
        else:
            root = "file=%s,format=qcow2,if=none,id=root,snapshot=on" % img.path(
                "root.qcow2")
        ro = "format=qcow2,if=none,snapshot=on"
        cmd = [
            "qemu-system-x86_64", "-accel", "tcg", "-cpu", "max", "-smp", "2",
            "-m", "2048", "-nodefaults", "-no-reboot", "-display", "none",
            "-serial", "file:" + console,
            "-kernel", img.path("vmlinuz"), "-initrd", img.path("initrd"),
            "-append", append,
            "-drive", root, "-device", "virtio-blk-pci,drive=root",
            "-drive", "file=%s,%s,id=opt" % (img.path("opt.qcow2"), ro),
            "-device", "virtio-blk-pci,drive=opt",
            "-device", "virtio-scsi-pci,id=scsi0",
            "-drive", "file=%s,format=qcow2,if=none,id=ssd" % self.disks["ssd"],
            "-device", "scsi-hd,drive=ssd,bus=scsi0.0,rotation_rate=1,serial=NPSSD0",
            "-drive", "file=%s,format=qcow2,if=none,id=hdd" % self.disks["hdd"],
            "-device", "scsi-hd,drive=hdd,bus=scsi0.0,rotation_rate=7200,serial=NPHDD0",
            "-drive", "file=%s,%s,id=ext4disk" % (img.path("ext4disk.qcow2"), ro),
            "-device", "scsi-hd,drive=ext4disk,bus=scsi0.0,rotation_rate=1,serial=NPEXT4",
            "-drive", "file=%s,format=qcow2,if=none,id=nvme" % self.disks["nvme"],
            "-device", "nvme,drive=nvme,serial=NPNVME0",
            "-virtfs", "local,path=%s,mount_tag=share,security_model=none,id=share" %
            self.share,
        ]
        nics = NICS + (BOND_NICS if self.bond_nics else [])
        for i, (_name, mac, speed, _addr) in enumerate(nics):
            # UDP to a loopback port nothing listens on: frames go nowhere.
            port = 40000 + (os.getpid() % 2000) * 8 + i
            cmd += ["-netdev", "socket,id=n%d,udp=127.0.0.1:%d,localaddr=127.0.0.1:%d" %
                    (i, port, port + 4),
                    "-device", "virtio-net-pci,netdev=n%d,mac=%s,speed=%d,duplex=full" %
                    (i, mac, speed)]
        return cmd

    def boot(self, label):
        """Boot once; return "poweroff" or "reboot" (from the console log)."""
        self.boots += 1
        console = os.path.join(self.workdir, "console-%d-%s.log" % (self.boots, label))
        cmd = self._cmdline(console)
        with open(os.path.join(self.workdir, "qemu-%d.cmd" % self.boots), "w") as f:
            f.write(" ".join(cmd) + "\n")
        t0 = time.monotonic()
        qlog = open(os.path.join(self.workdir, "qemu-%d.log" % self.boots), "w")
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=qlog,
                                     stderr=subprocess.STDOUT, start_new_session=True,
                                     preexec_fn=_die_with_parent)
        try:
            rc = self.proc.wait(timeout=self.timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise VmError("boot %d (%s): no power-off after %d s; console: %s" %
                          (self.boots, label, self.timeout, console))
        finally:
            qlog.close()
        self.proc = None
        took = time.monotonic() - t0
        text = open(console, errors="replace").read() if os.path.exists(console) else ""
        if rc != 0:
            raise VmError("boot %d (%s): qemu exited %d; see %s" %
                          (self.boots, label, rc, qlog.name))
        if "reboot: Power down" in text:
            how = "poweroff"
        elif "Restarting system" in text:
            how = "reboot"
        else:
            raise VmError("boot %d (%s): qemu ended without a power-off or reboot "
                          "message; console: %s" % (self.boots, label, console))
        log("boot %d (%s): %s after %.1f s" % (self.boots, label, how, took))
        return how

    def kill(self):
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.proc = None

    def close(self):
        self.kill()
        for p in self.overlays:
            if os.path.exists(p):
                os.unlink(p)
        self.overlays = []


def install_signal_handlers():
    """Turn SIGTERM/SIGHUP (meson's timeout, a closed terminal) into KeyboardInterrupt so the
    finally blocks kill QEMU and remove overlays."""
    def handler(signum, _frame):
        raise KeyboardInterrupt("signal %d" % signum)
    for s in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(s, handler)


def skip_reason(variant="base"):
    if os.geteuid() != 0:
        return "needs root (debootstrap, chroot)"
    missing = missing_tools(variant)
    if missing:
        return "missing %s (tools/install-deps --test)" % ", ".join(missing)
    return None


if __name__ == "__main__":
    # tests/vm/npvm.py build [VARIANT]: build (or find) the cached image and print its directory.
    if len(sys.argv) >= 2 and sys.argv[1] == "build":
        print(Image(sys.argv[2] if len(sys.argv) > 2 else "base").ensure().dir)
    else:
        print("usage: %s build [base|selinux]" % sys.argv[0], file=sys.stderr)
        sys.exit(64)
