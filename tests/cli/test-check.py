#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""nodeprepctl check end to end on fixture roots: a prepared host, then one broken item at a time.

The prepared root (tests/fixtures/roots/prepared) is a Debian 12 worker set up as the IOMesh page
asks; its site file ignores the disk and NIC checks, which read the test machine, not the root.
systemd is a mock on a private bus (tests/lib/mock-systemd.py).
"""
import os
import shutil
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from nptest import (ISCSID_READY, FixtureRoot, MockSystemd, Skip,  # noqa: E402
                    assert_eq, assert_in, check_json, install_kubelet, nodeprepctl, read, remove,
                    run_tests, write)

FILE_IDS = [
    "fs.free:/opt", "iscsi.installed", "iscsi.conf:node.startup",
    "iscsi.conf:node.conn[0].iscsi.MaxRecvDataSegmentLength", "iscsi.node-records",
    "kmod.loaded:iscsi_tcp", "kmod.persistent:iscsi_tcp", "selinux.runtime", "selinux.config",
    "kubelet.version",
]


def check(root, *args, units=ISCSID_READY):
    with MockSystemd(units) as m:
        return check_json(root, *args, env=m.env)


def set_iscsid(root, old, new):
    conf = read(root, "/etc/iscsi/iscsid.conf")
    assert old in conf, old
    write(root, "/etc/iscsi/iscsid.conf", conf.replace(old, new, 1))


def expect_only(r, cid, status, code):
    """cid has status, every other file-based id passes, and the exit code is code."""
    assert_eq(r.status(cid), status, cid + " " + repr(r.check(cid)))
    for other in FILE_IDS:
        if other != cid:
            assert_eq(r.status(other), "pass", other + " " + repr(r.check(other)))
    assert_eq(r.code, code, repr(r))


def test_prepared_host_is_ready():
    with FixtureRoot() as root:
        r = check(root)
        assert_eq(r.code, 0, repr(r))
        j = r.json
        assert_eq(j["schema_version"], 1)
        assert_eq(j["ready"], True)
        assert_eq(j["host"]["hostname"], "worker-1")
        assert_eq(j["host"]["os_id"], "debian")
        assert_eq(j["host"]["kernel"], "6.1.0-28-amd64")
        assert_in("T", j["generated_at"])
        p = j["profiles"][0]
        assert_eq(p["name"], "iomesh")
        assert_eq(p["ready"], True)
        for cid in FILE_IDS + ["unit.enabled:iscsid", "unit.active:iscsid"]:
            assert_eq(r.status(cid), "pass", cid)
        assert_eq(r.status("nic.data-cidr"), "skip")
        # The ignored hardware checks are recorded, with the site file line.
        assert_eq(r.check("disk.free-ssd")["ignored"], True)
        assert_in("nodeprep.conf:7: Ignore=yes", r.check("disk.free-ssd")["override"])
        # Every check carries the documented fields and cites its source.
        for c in p["checks"]:
            for k in ("id", "title", "severity", "status", "observed", "expected", "message",
                      "fix", "remedy", "source"):
                assert_in(k, c)
            assert_in("IOMesh", c["source"])
        assert_eq(sum(p["summary"].values()), len(p["checks"]))


def test_text_output():
    with FixtureRoot() as root, MockSystemd(ISCSID_READY) as m:
        r = nodeprepctl("check", "--root", root, env=m.env)
        assert_eq(r.code, 0, repr(r))
        assert_in("iomesh  READY", r.out)
        assert_in("Verdict: READY", r.out)
        assert_in("worker-1 · Debian GNU/Linux 12 (bookworm)", r.out)
        assert "\033[" not in r.out, "colour without a terminal"
        write(root, "/etc/iscsi/iscsid.conf", "node.startup = automatic\n")
        r = nodeprepctl("check", "--root", root, env=m.env)
        assert_eq(r.code, 1)
        # Failures come first, with observed / expected / remedy.
        first = r.out.index("FAIL")
        assert first < r.out.index("PASS")
        assert_in("observed  automatic (/etc/iscsi/iscsid.conf:1)", r.out)
        assert_in("expected  node.startup = manual", r.out)
        assert_in("remedy    set \"node.startup = manual\" on line 1", r.out)


def test_iscsid_startup_automatic():
    with FixtureRoot() as root:
        set_iscsid(root, "\nnode.startup = manual\n", "\nnode.startup = automatic\n")
        r = check(root)
        expect_only(r, "iscsi.conf:node.startup", "fail", 1)
        assert_in("automatic (/etc/iscsi/iscsid.conf:54)", r.check("iscsi.conf:node.startup")["observed"])


def test_iscsid_startup_without_spaces_is_ignored_by_iscsid():
    # RHEL's file says automatic; "node.startup=manual" below it is rejected by iscsid.
    with FixtureRoot() as root:
        set_iscsid(root, "\nnode.startup = manual\n",
                   "\nnode.startup = automatic\nnode.startup=manual\n")
        r = check(root)
        c = r.check("iscsi.conf:node.startup")
        expect_only(r, "iscsi.conf:node.startup", "fail", 1)
        assert_in("line 55", c["message"])
        assert_in("white space before '='", c["message"])


def test_iscsid_rhel9_default():
    with FixtureRoot() as root:
        write(root, "/etc/iscsi/iscsid.conf",
              read(os.path.join(os.path.dirname(__file__), "..", "fixtures"),
                   "iscsi/iscsid.conf.rhel9"))
        r = check(root)
        expect_only(r, "iscsi.conf:node.startup", "fail", 1)


def test_iscsid_mrdsl_low_is_a_warning():
    with FixtureRoot() as root:
        set_iscsid(root, "node.conn[0].iscsi.MaxRecvDataSegmentLength = 262144",
                   "node.conn[0].iscsi.MaxRecvDataSegmentLength = 32768")
        r = check(root)
        expect_only(r, "iscsi.conf:node.conn[0].iscsi.MaxRecvDataSegmentLength", "warn", 0)


def test_iscsid_session_spelling_does_not_count():
    # The IOMesh page's node.session.iscsi.MaxRecvDataSegmentLength is not an open-iscsi key.
    with FixtureRoot() as root:
        set_iscsid(root, "node.conn[0].iscsi.MaxRecvDataSegmentLength = 262144",
                   "node.conn[0].iscsi.MaxRecvDataSegmentLength = 32768\n"
                   "node.session.iscsi.MaxRecvDataSegmentLength = 163840")
        r = check(root)
        c = r.check("iscsi.conf:node.conn[0].iscsi.MaxRecvDataSegmentLength")
        assert_eq(c["status"], "warn")
        assert_in("not an open-iscsi setting", c["message"])


def test_iscsid_conf_missing():
    # open-iscsi installed without iscsid.conf: iscsid uses its built-in defaults
    # (idbm_node_setup_defaults(), node.startup = manual, MaxRecvDataSegmentLength 262144).
    with FixtureRoot() as root:
        remove(root, "/etc/iscsi/iscsid.conf")
        r = check(root)
        assert_eq(r.status("iscsi.conf:node.startup"), "pass")
        assert_in("built-in default", r.check("iscsi.conf:node.startup")["observed"])
        assert_eq(r.status("iscsi.conf:node.conn[0].iscsi.MaxRecvDataSegmentLength"), "pass")
        # Not installed at all: the file's absence fails, with the install remedy.
        remove(root, "/usr/sbin/iscsiadm")
        r = check(root)
        assert_eq(r.status("iscsi.conf:node.startup"), "fail")
        assert_in("install open-iscsi", r.check("iscsi.conf:node.startup")["remedy"])


def test_iscsi_not_installed():
    with FixtureRoot() as root:
        remove(root, "/usr/sbin/iscsiadm")
        r = check(root)
        expect_only(r, "iscsi.installed", "fail", 1)
        assert_eq(r.check("iscsi.installed")["remedy"], "apt-get install -y open-iscsi")
    with FixtureRoot() as root:
        remove(root, "/lib/systemd/system/iscsid.service")
        remove(root, "/lib/systemd/system/iscsid.socket")
        r = check(root)
        expect_only(r, "iscsi.installed", "fail", 1)


def test_iscsi_unit_files_merged_usr():
    """Merged /usr (Debian 12, RHEL 9): /lib is a symlink to usr/lib, so the iscsid units are
    found under both unit directories; each file is listed once."""
    with FixtureRoot() as root:
        os.makedirs(os.path.join(root, "usr/lib"), exist_ok=True)
        os.rename(os.path.join(root, "lib"), os.path.join(root, "usr/lib/systemd-tmp"))
        os.makedirs(os.path.join(root, "usr/lib"), exist_ok=True)
        for name in os.listdir(os.path.join(root, "usr/lib/systemd-tmp")):
            os.rename(os.path.join(root, "usr/lib/systemd-tmp", name),
                      os.path.join(root, "usr/lib", name))
        os.rmdir(os.path.join(root, "usr/lib/systemd-tmp"))
        os.symlink("usr/lib", os.path.join(root, "lib"))
        r = check(root, "--facts")
        files = r.json["facts"]["iscsi"]["unit_files"]
        assert_eq(sorted(os.path.basename(f) for f in files),
                  ["iscsid.service", "iscsid.socket"], "unit files %r" % files)
        expect_only(r, "iscsi.installed", "pass", 0)


def test_node_record_automatic_is_a_warning():
    with FixtureRoot() as root:
        rec = read(os.path.join(os.path.dirname(__file__), "..", "fixtures"),
                   "iscsi/node.debian12.automatic")
        write(root, "/etc/iscsi/nodes/iqn.2003-01.org.linux-iscsi.target.x8664:sn.0123456789ab/"
              "192.168.122.10,3260,1/default", rec)
        r = check(root)
        expect_only(r, "iscsi.node-records", "warn", 0)
        c = r.check("iscsi.node-records")
        assert_in("1 of 1 record(s) disagree", c["observed"])
        assert_in("-p 192.168.122.10:3260 -o update -n node.startup -v manual", c["remedy"])


def test_module_not_persisted():
    with FixtureRoot() as root:
        remove(root, "/etc/modules-load.d/iscsi_tcp.conf")
        r = check(root)
        expect_only(r, "kmod.persistent:iscsi_tcp", "fail", 1)
        assert_eq(r.check("kmod.persistent:iscsi_tcp")["remedy"],
                  "echo iscsi_tcp > /etc/modules-load.d/iscsi_tcp.conf")


def test_units_of_another_root_are_unknown():
    # The system bus answers for this machine, not for the tree under --root.
    if "DBUS_SYSTEM_BUS_ADDRESS" in os.environ:
        raise Skip("DBUS_SYSTEM_BUS_ADDRESS is set in this environment")
    with FixtureRoot() as root:
        r = nodeprepctl("check", "--json", "--root", root, "--profile", "iomesh")
        for cid in ("unit.enabled:iscsid", "unit.active:iscsid"):
            assert_eq(r.status(cid), "unknown", cid)
            assert_in("describes the running host, not " + root, r.check(cid)["message"])


def test_modules_load_service_masked():
    # systemctl mask systemd-modules-load.service: the modules-load.d line is never applied.
    with FixtureRoot() as root:
        os.makedirs(os.path.join(root, "etc/systemd/system"), exist_ok=True)
        os.symlink("/dev/null", os.path.join(root, "etc/systemd/system/"
                                                  "systemd-modules-load.service"))
        r = check(root)
        expect_only(r, "kmod.persistent:iscsi_tcp", "fail", 1)
        c = r.check("kmod.persistent:iscsi_tcp")
        assert_in("systemd-modules-load.service is masked", c["message"])
        assert_eq(c["remedy"], "systemctl unmask systemd-modules-load.service")
    # A runtime mask (in /run) is gone at the next boot: it says nothing about it. An empty file
    # in /etc counts as masked; a real unit file there does not.
    with FixtureRoot() as root:
        write(root, "/run/systemd/system/systemd-modules-load.service", "")
        assert_eq(check(root).status("kmod.persistent:iscsi_tcp"), "pass", "runtime mask")
        write(root, "/etc/systemd/system/systemd-modules-load.service", "")
        assert_eq(check(root).status("kmod.persistent:iscsi_tcp"), "fail", "empty file in /etc")
        write(root, "/etc/systemd/system/systemd-modules-load.service",
              "[Service]\nExecStart=/lib/systemd/systemd-modules-load\n")
        assert_eq(check(root).status("kmod.persistent:iscsi_tcp"), "pass", "override in /etc")


def test_module_line_with_comment_is_not_loaded():
    with FixtureRoot() as root:
        write(root, "/etc/modules-load.d/iscsi_tcp.conf", "iscsi_tcp # for IOMesh\n")
        r = check(root)
        expect_only(r, "kmod.persistent:iscsi_tcp", "fail", 1)
        assert_in("whole line", r.check("kmod.persistent:iscsi_tcp")["message"])


def test_module_dash_spelling_and_etc_modules():
    # "iscsi-tcp" is the same module; Debian's /etc/modules is read through modules.conf.
    with FixtureRoot() as root:
        remove(root, "/etc/modules-load.d/iscsi_tcp.conf")
        write(root, "/etc/modules", "# /etc/modules\niscsi-tcp\n")
        os.symlink("../modules", os.path.join(root, "etc/modules-load.d/modules.conf"))
        r = check(root)
        expect_only(r, "kmod.persistent:iscsi_tcp", "pass", 0)
        assert_in("/etc/modules-load.d/modules.conf:2",
                  r.check("kmod.persistent:iscsi_tcp")["observed"])


def test_module_file_masked():
    with FixtureRoot() as root:
        remove(root, "/etc/modules-load.d/iscsi_tcp.conf")
        write(root, "/usr/lib/modules-load.d/iscsi.conf", "iscsi_tcp\n")
        os.symlink("/dev/null", os.path.join(root, "etc/modules-load.d/iscsi.conf"))
        r = check(root)
        expect_only(r, "kmod.persistent:iscsi_tcp", "fail", 1)
        assert_in("hidden by /etc/modules-load.d/iscsi.conf",
                  r.check("kmod.persistent:iscsi_tcp")["message"])


def test_module_blacklisted():
    with FixtureRoot() as root:
        write(root, "/etc/modprobe.d/no-iscsi.conf", "blacklist iscsi_tcp\n")
        r = check(root)
        expect_only(r, "kmod.persistent:iscsi_tcp", "fail", 1)
        assert_in("refuses", r.check("kmod.persistent:iscsi_tcp")["message"])


def test_module_states():
    with FixtureRoot() as root:
        remove(root, "/sys/module/iscsi_tcp")
        r = check(root)
        expect_only(r, "kmod.loaded:iscsi_tcp", "fail", 1)
        # Built in (in modules.builtin of the running kernel): loaded and persistent.
        write(root, "/lib/modules/6.1.0-28-amd64/modules.builtin",
              "kernel/drivers/scsi/iscsi_tcp.ko\n")
        remove(root, "/etc/modules-load.d/iscsi_tcp.conf")
        r = check(root)
        assert_eq(r.status("kmod.loaded:iscsi_tcp"), "pass")
        assert_eq(r.status("kmod.persistent:iscsi_tcp"), "pass")
        assert_in("built into kernel 6.1.0-28-amd64", r.check("kmod.loaded:iscsi_tcp")["observed"])
        # Not loaded and no modules.builtin to tell whether it is built in: unknown, exit 2;
        # listed in modules-load.d it is persistent either way.
        remove(root, "/lib/modules/6.1.0-28-amd64/modules.builtin")
        write(root, "/etc/modules-load.d/iscsi_tcp.conf", "iscsi_tcp\n")
        r = check(root)
        assert_eq(r.status("kmod.loaded:iscsi_tcp"), "unknown")
        assert_eq(r.status("kmod.persistent:iscsi_tcp"), "pass")
        assert_eq(r.code, 2, repr(r))
        # Not listed either, and no module file: could be built in (pass) or not (fail), so
        # unknown. (With a module file in modules.dep it is not built in: a plain fail.)
        remove(root, "/etc/modules-load.d/iscsi_tcp.conf")
        remove(root, "/lib/modules/6.1.0-28-amd64/modules.dep")
        remove(root, "/lib/modules/6.1.0-28-amd64/modules.dep.bin")
        r = check(root)
        assert_eq(r.status("kmod.persistent:iscsi_tcp"), "unknown")
        assert_eq(r.code, 2, repr(r))
    with FixtureRoot() as root:
        write(root, "/sys/module/iscsi_tcp/initstate", "going\n")
        r = check(root)
        assert_eq(r.status("kmod.loaded:iscsi_tcp"), "unknown")


def test_selinux_enforcing_now():
    with FixtureRoot() as root:
        write(root, "/sys/fs/selinux/enforce", "1")
        r = check(root)
        expect_only(r, "selinux.runtime", "fail", 1)
        assert_eq(r.check("selinux.runtime")["remedy"], "setenforce 0")


def test_selinux_enforcing_elsewhere():
    # selinuxfs not at /sys/fs/selinux: libselinux also looks at /selinux and /proc/mounts.
    with FixtureRoot() as root:
        remove(root, "/sys/fs/selinux/enforce")
        os.makedirs(os.path.join(root, "sys/fs/selinux"), exist_ok=True)
        write(root, "/selinux/enforce", "1")
        r = check(root)
        expect_only(r, "selinux.runtime", "fail", 1)
        assert_in("/selinux/enforce = 1", r.check("selinux.runtime")["observed"])
    with FixtureRoot() as root:
        remove(root, "/sys/fs/selinux/enforce")
        os.makedirs(os.path.join(root, "sys/fs/selinux"), exist_ok=True)
        write(root, "/proc/self/mounts", "proc /proc proc rw 0 0\n"
                                         "selinuxfs /run/sefs selinuxfs rw,relatime 0 0\n")
        write(root, "/run/sefs/enforce", "1")
        r = check(root)
        expect_only(r, "selinux.runtime", "fail", 1)
        assert_in("/run/sefs/enforce = 1", r.check("selinux.runtime")["observed"])
    with FixtureRoot() as root:
        remove(root, "/sys/fs/selinux/enforce")
        os.makedirs(os.path.join(root, "sys/fs/selinux"), exist_ok=True)
        r = check(root)
        assert_eq(r.status("selinux.runtime"), "pass", "selinuxfs nowhere: no policy loaded")
        assert_in("selinuxfs not mounted", r.check("selinux.runtime")["observed"])


def test_selinux_config_enforcing():
    with FixtureRoot() as root:
        write(root, "/etc/selinux/config",
              read(os.path.join(os.path.dirname(__file__), "..", "fixtures"),
                   "selinux/config.rhel9"))
        write(root, "/sys/fs/selinux/enforce", "0")
        r = check(root)
        expect_only(r, "selinux.config", "fail", 1)
        assert_in("SELINUX=enforcing (/etc/selinux/config:", r.check("selinux.config")["observed"])


def test_selinux_cmdline_enforcing_wins():
    with FixtureRoot() as root:
        write(root, "/sys/fs/selinux/enforce", "0")
        write(root, "/proc/cmdline", "root=/dev/sda1 ro security=selinux enforcing=1\n")
        r = check(root)
        expect_only(r, "selinux.config", "fail", 1)
        assert_in("enforcing=1", r.check("selinux.config")["message"])


def test_selinux_cannot_tell():
    # Two enforcing= words: libselinux up to 3.9 takes the first, 3.10 the last.
    # (SELinux active now: with it inactive the words would not matter.)
    with FixtureRoot() as root:
        write(root, "/sys/fs/selinux/enforce", "0")
        write(root, "/proc/cmdline", "root=/dev/sda1 enforcing=0 enforcing=1\n")
        r = check(root)
        assert_eq(r.status("selinux.config"), "unknown", "two enforcing= words")
        assert_in("3.10", r.check("selinux.config")["message"])
        assert_eq(r.code, 2, repr(r))
    # A line that fills a 4 KiB page: on 64 KiB pages "SELINUX=enforcing" is still comment.
    with FixtureRoot() as root:
        write(root, "/sys/fs/selinux/enforce", "0")
        write(root, "/etc/selinux/config", "#" * 4095 + "SELINUX=permissive\nSELINUX=enforcing\n")
        r = check(root)
        assert_eq(r.status("selinux.config"), "unknown", "page-size dependent config")
        assert_in("page size", r.check("selinux.config")["message"])


def test_kubelet_outside_range_is_a_warning():
    with FixtureRoot() as root:
        install_kubelet(root, "1.28.2")
        r = check(root)
        expect_only(r, "kubelet.version", "warn", 0)
    with FixtureRoot() as root:
        remove(root, "/usr/bin/kubelet")
        r = check(root)
        expect_only(r, "kubelet.version", "skip", 0)
    with FixtureRoot() as root:
        # Under --root the program is never run: without a package record the version is
        # unknown, with the reason (how --version output is read is tested on the running
        # system with tools in tests/cli/test-no-exec.py).
        remove(root, "/var/lib/dpkg")
        write(root, "/usr/bin/kubelet", "#!/bin/sh\necho 'Kubernetes v1.21.14'\n", 0o755)
        r = check(root)
        assert_eq(r.status("kubelet.version"), "unknown")
        assert_in("not run: nothing under --root is executed", r.check("kubelet.version")["message"])
    with FixtureRoot() as root:
        # A package record for another file does not name this one's version.
        install_kubelet(root, "1.21.14", path="/usr/local/bin/kubelet")
        write(root, "/usr/bin/kubelet", "#!/bin/sh\necho 'Kubernetes v1.21.14'\n", 0o755)
        r = check(root)
        assert_eq(r.status("kubelet.version"), "unknown")
    with FixtureRoot() as root:
        # k3s has no kubelet binary: its own version would be the kubelet's, but it is not a
        # dpkg package: unknown under --root.
        remove(root, "/usr/bin/kubelet")
        write(root, "/usr/local/bin/k3s",
              "#!/bin/sh\necho 'k3s version v1.20.15+k3s1 (8a7d5cb4)'\necho 'go version go1.15'\n",
              0o755)
        r = check_json(root, "--profile", "the-things-stack")
        c = r.check("kubelet.version")
        assert_eq(c["status"], "unknown", "k3s under --root")
        assert_in("/usr/local/bin/k3s: not run", c["message"])
    with FixtureRoot() as root:
        # MicroK8s: a cluster node whose kubelet version is not read: unknown, not skip.
        remove(root, "/usr/bin/kubelet")
        write(root, "/snap/bin/microk8s", "#!/bin/sh\n", 0o755)
        r = check(root)
        assert_eq(r.status("kubelet.version"), "unknown")


def test_kubelet_is_a_tool_under_root():
    # facts.tools[] "kubelet" says where and how the kubelet was found; facts.system.kubelet is
    # the same entry (kept for schema_version 1).
    with FixtureRoot() as root:
        r = check(root, "--facts")
        t = [t for t in r.json["facts"]["tools"] if t["name"] == "kubelet"][0]
        assert_eq((t["path"], t["found"], t["version"]), ("/usr/bin/kubelet", "location", "1.21.14"))
        assert_eq(r.json["facts"]["system"]["kubelet"]["version"], "1.21.14")
        assert_eq(r.json["facts"]["system"]["kubelet"]["path"], "/usr/bin/kubelet")
    with FixtureRoot() as root:
        # RKE2's kubelet is a known location; k3s carries the kubelet; never run under --root.
        remove(root, "/usr/bin/kubelet")
        install_kubelet(root, "1.28.2", path="/var/lib/rancher/rke2/bin/kubelet")
        r = check(root, "--facts")
        assert_eq(r.status("kubelet.version"), "warn")
        t = [t for t in r.json["facts"]["tools"] if t["name"] == "kubelet"][0]
        assert_eq((t["path"], t["found"]), ("/var/lib/rancher/rke2/bin/kubelet", "location"))
    with FixtureRoot() as root:
        remove(root, "/usr/bin/kubelet")
        write(root, "/usr/local/bin/k3s", "#!/bin/sh\necho 'k3s version v1.20.15+k3s1'\n", 0o755)
        r = check(root, "--facts")
        t = [t for t in r.json["facts"]["tools"] if t["name"] == "kubelet"][0]
        assert_eq((t["path"], t["found"]), ("/usr/local/bin/k3s", "k3s"))
        assert_eq(r.json["facts"]["system"]["kubelet"]["path"], "/usr/local/bin/k3s")
    with FixtureRoot() as root:
        # Missing=fail in a drop-in: a node without a kubelet fails kubelet.version.
        remove(root, "/usr/bin/kubelet")
        write(root, "/etc/nodeprep/profiles/iomesh.conf.d/60-kubelet.conf",
              "[Check]\nId=kubelet.version\nSeverity=required\nMissing=fail\n")
        r = check(root)
        c = r.check("kubelet.version")
        assert_eq((c["status"], c["observed"]), ("fail", "not found in PATH"))
        assert_eq(r.code, 1, repr(r))
        write(root, "/etc/nodeprep/profiles/iomesh.conf.d/60-kubelet.conf",
              "[Check]\nId=kubelet.version\nMissing=sometimes\n")
        r = check(root)
        assert_eq(r.code, 65, repr(r))
        assert_in("Missing=sometimes: expected skip or fail", r.err)


def test_opt_too_small():
    with FixtureRoot() as root:
        write(root, "/etc/nodeprep/profiles/iomesh.conf.d/60-huge.conf",
              "[Check]\nId=fs.free:/opt\nMinFree=1000PB\n")
        r = check(root)
        expect_only(r, "fs.free:/opt", "fail", 1)
        c = r.check("fs.free:/opt")
        assert_eq(c["expected"], ">= 1.00 EB free")


def test_opt_not_there_yet():
    # /opt a symlink to a file system that is not mounted: the root file system's free space
    # says nothing about it.
    with FixtureRoot() as root:
        shutil.rmtree(os.path.join(root, "opt"), ignore_errors=True)
        os.symlink("/mnt/big/opt", os.path.join(root, "opt"))
        r = check(root)
        assert_eq(r.status("fs.free:/opt"), "unknown", "dangling /opt symlink")
        assert_in("/opt is a symbolic link to something that does not exist",
                  r.check("fs.free:/opt")["message"])
    # /opt in fstab but not mounted: the same.
    with FixtureRoot() as root:
        write(root, "/etc/fstab", "# <fs> <mp> <type>\nUUID=1 / ext4 defaults 0 1\n"
                                  "/dev/vdb1  /opt  xfs  defaults,nofail  0 2\n")
        r = check(root)
        assert_eq(r.status("fs.free:/opt"), "unknown", "fstab /opt not mounted")
        assert_in("/etc/fstab mounts a file system at /opt, but it is not mounted",
                  r.check("fs.free:/opt")["message"])
        # Entries elsewhere, swap and comments do not matter.
        write(root, "/etc/fstab", "/dev/vdc1 /srv ext4 defaults 0 2\n/dev/vdd none swap sw 0 0"
                                  "\n#/dev/vdb1 /opt xfs defaults 0 2\n")
        r = check(root)
        assert_in(r.status("fs.free:/opt"), ("pass", "fail"), "fstab without /opt")


def test_units():
    with FixtureRoot() as root:
        units = {"iscsid.socket": {"UnitFileState": "disabled", "ActiveState": "inactive"},
                 "iscsid.service": {"UnitFileState": "disabled", "ActiveState": "inactive"}}
        r = check(root, units=units)
        assert_eq(r.status("unit.enabled:iscsid"), "fail")
        assert_eq(r.status("unit.active:iscsid"), "fail")
        assert_eq(r.check("unit.enabled:iscsid")["remedy"], "systemctl enable --now iscsid.socket")
        assert_eq(r.code, 1)
        r = check(root, units={})
        assert_in("none of iscsid.service or iscsid.socket is installed",
                  r.check("unit.enabled:iscsid")["message"])
        # No system bus at all: unknown with the reason, exit 2.
        r = check_json(root, env={"DBUS_SYSTEM_BUS_ADDRESS": "unix:path=/nonexistent/bus"})
        assert_eq(r.status("unit.enabled:iscsid"), "unknown")
        assert_in("no systemd system bus", r.check("unit.enabled:iscsid")["message"])
        assert_eq(r.code, 2)


if __name__ == "__main__":
    run_tests(globals())
