#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""mount.propagation:PATH on fixture roots: ROOT/proc/1/mountinfo is a hand-written copy of PID 1's
mount table (lines as a Debian 12 host booted by systemd and a Docker container show them), the
path is resolved inside the root. A profile of its own asks for the check (no vendor profile
does)."""
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from nptest import FixtureRoot, assert_eq, assert_in, nodeprepctl, run_tests, write  # noqa: E402

PROFILE = """[Profile]
Description=a CSI node plugin with Bidirectional mounts

[Check]
Id=mount.propagation:/var/lib/kubelet

[Check]
Id=mount.propagation:/srv/my disk/data
Expect=slave

[Check]
Id=mount.propagation:/var/lib/rancher
Expect=private
"""

# Debian 12, systemd 252: / shared (mount-setup.c), a data disk whose mount point has a space
# (\040), kubelet's pod volume, a separate /var/lib/kubelet made shared,slave by a bind mount.
DEBIAN12 = r"""22 28 0:20 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw
23 28 0:21 / /proc rw,nosuid,nodev,noexec,relatime shared:12 - proc proc rw
24 28 0:5 / /dev rw,nosuid,relatime shared:2 - devtmpfs udev rw,size=4002564k,nr_inodes=1000641,mode=755,inode64
26 28 0:23 / /run rw,nosuid,nodev,noexec,relatime shared:5 - tmpfs tmpfs rw,size=804832k,mode=755,inode64
28 1 254:1 / / rw,relatime shared:1 - ext4 /dev/vda1 rw,errors=remount-ro
61 28 254:17 / /srv/my\040disk rw,relatime shared:33 - xfs /dev/vdb1 rw,attr2,inode64,logbufs=8,logbsize=32k,noquota
95 28 254:1 /var/lib/kubelet /var/lib/kubelet rw,relatime master:1 shared:40 - ext4 /dev/vda1 rw,errors=remount-ro
412 95 0:61 / /var/lib/kubelet/pods/6d1f0c3e-2b52-4a8e-9d6f-0c9e7c3b1a11/volumes/kubernetes.io~projected/kube-api-access-8wq2x rw,relatime shared:212 - tmpfs tmpfs rw,size=7992872k,inode64
"""

# Inside a Docker container (PID 1's table is the container's): everything a slave of the host,
# the optional fields in another order and with propagate_from; a private bind of /srv/my disk.
CONTAINER = r"""1021 986 0:92 / / rw,relatime master:311 - overlay overlay rw,lowerdir=/var/lib/docker/overlay2/l/ABC:/var/lib/docker/overlay2/l/DEF,upperdir=/var/lib/docker/overlay2/0f/diff,workdir=/var/lib/docker/overlay2/0f/work
1022 1021 0:95 / /proc rw,nosuid,nodev,noexec,relatime - proc proc rw
1023 1021 0:96 / /dev rw,nosuid - tmpfs tmpfs rw,size=65536k,mode=755,inode64
1030 1021 254:17 /data /srv/my\040disk/data rw,relatime - xfs /dev/vdb1 rw,attr2,inode64
1031 1021 254:1 /var/lib/kubelet /var/lib/kubelet rw,relatime propagate_from:1 master:311 - ext4 /dev/vda1 rw
"""


def profile_root(root, table):
    write(root, "/etc/nodeprep/profiles/csi.conf", PROFILE)
    if table is not None:
        write(root, "/proc/1/mountinfo", table)


def check(root):
    r = nodeprepctl("check", "--json", "--root", root, "--profile", "csi")
    assert r.code in (0, 1, 2), r
    return r


def facts(root):
    r = nodeprepctl("facts", "--json", "--root", root, "--profile", "csi")
    assert_eq(r.code, 0, repr(r))
    return {m["path"]: m for m in r.json["mount_propagation"]}


def test_debian12_systemd():
    with FixtureRoot() as root:
        profile_root(root, DEBIAN12)
        os.makedirs(os.path.join(root, "var/lib/kubelet/pods"), exist_ok=True)
        os.makedirs(os.path.join(root, "srv/my disk/data"), exist_ok=True)
        r = check(root)
        c = r.check("mount.propagation:/var/lib/kubelet")
        assert_eq(c["status"], "pass", repr(r))
        # the longest mount point above the path, not the pod volume below it
        assert_eq(c["observed"], "shared,slave (mount 95 on /var/lib/kubelet)")
        c = r.check("mount.propagation:/srv/my disk/data")
        assert_eq(c["status"], "pass")
        assert_eq(c["observed"], "shared (mount 61 on /srv/my disk)")
        c = r.check("mount.propagation:/var/lib/rancher")
        assert_eq(c["status"], "fail")
        assert_eq(c["observed"],
                  "shared (mount 28 on /; /var/lib/rancher does not exist yet, /var/lib looked at)")
        assert_in("mount --make-rprivate /", c["remedy"])
        m = facts(root)["/srv/my disk/data"]
        assert_eq(m["mount_point"], "/srv/my disk")
        assert_eq(m["peer_group"], 33)
        assert_eq(m["master"], None)
        assert_eq(m["mount_id"], 61)
        assert_in(r"/srv/my\040disk", m["mountinfo"])
        assert_eq(m["table"], os.path.join(root, "proc/1/mountinfo"))
        k = facts(root)["/var/lib/kubelet"]
        assert_eq((k["propagation"], k["peer_group"], k["master"]), ("shared,slave", 40, 1))


def test_container():
    with FixtureRoot() as root:
        profile_root(root, CONTAINER)
        os.makedirs(os.path.join(root, "var/lib/kubelet"), exist_ok=True)
        os.makedirs(os.path.join(root, "srv/my disk/data"), exist_ok=True)
        r = check(root)
        c = r.check("mount.propagation:/var/lib/kubelet")
        assert_eq(c["status"], "fail", repr(r))
        assert_eq(c["observed"], "slave (mount 1031 on /var/lib/kubelet)")
        assert_in("not shared: Bidirectional", c["message"])
        assert_in("mount --make-rshared /var/lib/kubelet", c["remedy"])
        # Expect=slave: a private bind mount fails
        c = r.check("mount.propagation:/srv/my disk/data")
        assert_eq((c["status"], c["observed"]), ("fail", "private (mount 1030 on /srv/my disk/data)"))
        assert_eq(r.check("mount.propagation:/var/lib/rancher")["status"], "fail")


def test_symlink_resolved_inside_root():
    # /var/lib/kubelet -> /data/kubelet (absolute: resolved inside the root), on a private mount.
    with FixtureRoot() as root:
        profile_root(root, DEBIAN12 + "70 28 254:33 / /data rw,relatime - ext4 /dev/vdc1 rw\n")
        os.makedirs(os.path.join(root, "data/kubelet"))
        os.makedirs(os.path.join(root, "var/lib"), exist_ok=True)
        os.symlink("/data/kubelet", os.path.join(root, "var/lib/kubelet"))
        r = check(root)
        c = r.check("mount.propagation:/var/lib/kubelet")
        assert_eq((c["status"], c["observed"]), ("fail", "private (mount 70 on /data)"))
        assert_eq(facts(root)["/var/lib/kubelet"]["probed_path"], "/data/kubelet")
    # a symlink to nowhere: the ancestor's mount says nothing of where the data would go
    with FixtureRoot() as root:
        profile_root(root, DEBIAN12)
        os.makedirs(os.path.join(root, "var/lib"), exist_ok=True)
        os.symlink("/mnt/kubelet", os.path.join(root, "var/lib/kubelet"))
        c = check(root).check("mount.propagation:/var/lib/kubelet")
        assert_eq(c["status"], "unknown")
        assert_in("/var/lib/kubelet is a symbolic link to something that does not exist",
                  c["message"])


def test_overmounted():
    # two mounts on one point: the last listed is on top (findmnt --target)
    with FixtureRoot() as root:
        profile_root(root, DEBIAN12 + "96 95 0:70 / /var/lib/kubelet rw,relatime - tmpfs tmpfs rw\n")
        os.makedirs(os.path.join(root, "var/lib/kubelet"), exist_ok=True)
        c = check(root).check("mount.propagation:/var/lib/kubelet")
        assert_eq((c["status"], c["observed"]), ("fail", "private (mount 96 on /var/lib/kubelet)"))


def test_unknown():
    # no table, a table that is not mountinfo, a FIFO in its place: unknown with the reason
    with FixtureRoot() as root:
        profile_root(root, None)
        c = check(root).check("mount.propagation:/var/lib/kubelet")
        assert_eq(c["status"], "unknown")
        assert_in("proc/1/mountinfo: No such file or directory", c["message"])
        assert_eq(c["expected"], "shared")
    with FixtureRoot() as root:
        profile_root(root, DEBIAN12 + "this is not a mount\n")
        c = check(root).check("mount.propagation:/var/lib/kubelet")
        assert_eq(c["status"], "unknown")
        assert_in("proc/1/mountinfo:9: not a mountinfo line", c["message"])
    with FixtureRoot() as root:
        profile_root(root, None)
        os.makedirs(os.path.join(root, "proc/1"), exist_ok=True)
        os.mkfifo(os.path.join(root, "proc/1/mountinfo"))
        c = check(root).check("mount.propagation:/var/lib/kubelet")
        assert_eq(c["status"], "unknown")
        assert_in("not a regular file", c["message"])


def test_profile_errors():
    with FixtureRoot() as root:
        write(root, "/etc/nodeprep/profiles/csi.conf",
              "[Profile]\nDescription=x\n\n[Check]\nId=mount.propagation:/var/lib/kubelet\n"
              "Expect=rshared\n")
        r = nodeprepctl("check", "--root", root, "--profile", "csi")
        assert r.code not in (0, 1), r
        assert_in("Expect=rshared: expected shared, slave or private", r.err + r.out)
        write(root, "/etc/nodeprep/profiles/csi.conf",
              "[Profile]\nDescription=x\n\n[Check]\nId=mount.propagation:var/lib\n")
        r = nodeprepctl("check", "--root", root, "--profile", "csi")
        assert_in("is not a clean absolute path", r.err + r.out)


def test_text():
    with FixtureRoot() as root:
        profile_root(root, DEBIAN12)
        os.makedirs(os.path.join(root, "var/lib/kubelet"), exist_ok=True)
        r = nodeprepctl("facts", "--root", root, "--profile", "csi")
        assert_in("Mount propagation", r.out)
        assert_in("/var/lib/kubelet       shared,slave on /var/lib/kubelet (mount 95)", r.out)


def test_daemon_watches_it():
    # nodeprepd --dump-watch-list: the table is a declared kernel input of the area (followed
    # by the mount-table event), the path's components are watched, nothing is undeclared.
    with FixtureRoot() as root:
        profile_root(root, DEBIAN12)
        write(root, "/etc/nodeprep/nodeprep.conf", "[Site]\nProfiles=csi\n")
        p = subprocess.run([os.environ["NODEPREPD"], "--root", root, "--dump-watch-list"],
                           capture_output=True, text=True, timeout=60)
        assert_eq(p.returncode, 0, p.stderr)
        lines = [tuple(line.split("\t")[:3]) for line in p.stdout.splitlines()]
        assert ("kernel", "mounts", os.path.join(root, "proc/1/mountinfo")) in lines, p.stdout
        assert ("watch", "mounts", os.path.join(root, "var/lib")) in lines, p.stdout
        assert not [line for line in lines if line[0] == "undeclared"], p.stdout


if __name__ == "__main__":
    run_tests(globals())
