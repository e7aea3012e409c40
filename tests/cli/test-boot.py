#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""The next-boot rules of kmod.persistent, selinux.config and iscsid's defaults, one fixture root
per rule, each with the case that goes the other way (so no test passes because the rule never
fires): where a modules-load.d listing lives, what modprobe.d and the kernel command line make of
"load iscsi_tcp", built-in modules, the kernel and command line the boot loader picks, SELinux as
the kernel and libselinux's selinux_init_load_policy() decide it, iscsid without iscsid.conf, and
the fixes (plan/apply) that must not claim a load that will not happen.

The prepared root (tests/fixtures/roots/prepared) is a Debian 12 worker with one kernel,
6.1.0-28-amd64, whose iscsi_tcp is a module file in modules.dep (nptest.make_fake_module).
"""
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from nptest import (FixtureRoot, MockSystemd, Skip, assert_eq, assert_in,  # noqa: E402
                    check_json, make_fake_module, mkfifo, nodeprepctl, remove, require_root,
                    write)

KVER = "6.1.0-28-amd64"
NEW = "6.12.0-1-amd64"
KP = "kmod.persistent:iscsi_tcp"


def check(root):
    return check_json(root, "--profile", "iomesh")


def facts(root):
    r = nodeprepctl("facts", "--json", "--profile", "iomesh", "--root", root)
    assert_eq(r.code, 0, repr(r))
    return r.json


def module(root, name="iscsi_tcp"):
    for m in facts(root)["modules"]:
        if m["name"] == name:
            return m
    raise AssertionError("module %s not in the facts" % name)


def expect(r, cid, status, *texts, field="message"):
    """cid has status, and each text is in its field (message, observed or remedy)."""
    c = r.check(cid)
    assert_eq(c["status"], status, "%s: %r" % (cid, c))
    for t in texts:
        assert_in(t, c[field] or "", "%s %s" % (cid, field))
    return c


def depmod(root, kver):
    exe = shutil.which("depmod") or "/sbin/depmod"
    if not os.path.exists(exe):
        raise Skip("needs depmod")
    os.makedirs(os.path.join(root, "lib/modules", kver), exist_ok=True)
    subprocess.run([exe, "-b", root, kver], check=True, capture_output=True)


def add_kernel(root, kver, with_module):
    """Install kernel KVER in ROOT: an image in /boot, a modules.builtin, a modules.dep (with
    iscsi_tcp or without it)."""
    write(root, "/lib/modules/%s/modules.builtin" % kver, "kernel/fs/ext4/ext4.ko\n")
    if with_module:
        make_fake_module(root, "iscsi_tcp", kver)
    else:
        depmod(root, kver)
    write(root, "/boot/vmlinuz-%s" % kver, "not a kernel\n")


def two_kernels(root, new_has_module):
    add_kernel(root, KVER, True)
    add_kernel(root, NEW, new_has_module)


GRUB_CFG = """\
if [ -s $prefix/grubenv ]; then
  load_env
fi
if [ "${next_entry}" ] ; then
   set default="${next_entry}"
   set next_entry=
   save_env next_entry
   set boot_once=true
else
   set default="${saved_entry}"
fi
menuentry 'Debian GNU/Linux, with Linux %(new)s' --class debian $menuentry_id_option 'k-new' {
	linux	/boot/vmlinuz-%(new)s root=/dev/vda1 ro quiet %(opts)s
}
menuentry 'Debian GNU/Linux, with Linux %(old)s' --class debian $menuentry_id_option 'k-old' {
	linux	/boot/vmlinuz-%(old)s root=/dev/vda1 ro quiet %(opts)s
}
"""


def grubenv(**kv):
    body = "# GRUB Environment Block\n" + "".join("%s=%s\n" % i for i in kv.items())
    return body + "#" * (1024 - len(body))


def grub(root, saved, opts=""):
    write(root, "/boot/grub/grub.cfg", GRUB_CFG % {"new": NEW, "old": KVER, "opts": opts})
    write(root, "/boot/grub/grubenv", grubenv(saved_entry=saved))


# --- where a listing lives ---------------------------------------------------------------------

def test_listing_in_run_is_gone_at_next_boot():
    with FixtureRoot() as root:
        remove(root, "/etc/modules-load.d/iscsi_tcp.conf")
        write(root, "/run/modules-load.d/iscsi_tcp.conf", "iscsi_tcp\n")
        r = check(root)
        expect(r, KP, "fail", "/run/modules-load.d/iscsi_tcp.conf:1: /run is emptied at every boot")
        expect(r, KP, "fail", "not listed where the next boot reads it", field="observed")
        m = module(root)
        assert_eq(m["persisted_in"], [])
        assert_in("/run is emptied", m["not_applied"][0])
    # the other direction: the same file in /etc
    with FixtureRoot() as root:
        remove(root, "/etc/modules-load.d/iscsi_tcp.conf")
        write(root, "/etc/modules-load.d/iscsi_tcp.conf", "iscsi_tcp\n")
        r = check(root)
        expect(r, KP, "pass", "listed in /etc/modules-load.d/iscsi_tcp.conf:1", field="observed")
        assert_eq(module(root)["persisted_in"], ["/etc/modules-load.d/iscsi_tcp.conf:1"])


def test_run_file_shadowing_etc():
    # /run hides /etc's file of the same name today; at the next boot /run is empty and the /etc
    # file is read again.
    with FixtureRoot() as root:
        write(root, "/run/modules-load.d/iscsi_tcp.conf", "# nothing\n")
        r = check(root)
        expect(r, KP, "pass", "listed in /etc/modules-load.d/iscsi_tcp.conf:1", field="observed")
    # the other direction: /etc's file of that name is empty, /run's lists it
    with FixtureRoot() as root:
        write(root, "/etc/modules-load.d/iscsi_tcp.conf", "# nothing\n")
        write(root, "/run/modules-load.d/iscsi_tcp.conf", "iscsi_tcp\n")
        r = check(root)
        expect(r, KP, "fail", "/run/modules-load.d/iscsi_tcp.conf:1: /run is emptied")


# --- what loading means --------------------------------------------------------------------------

def test_install_true_prevents_the_load():
    # CIS/STIG: "install MODULE /bin/true" replaces the insertion.
    with FixtureRoot() as root:
        write(root, "/etc/modprobe.d/cis.conf", "# CIS 1.1.1\ninstall iscsi_tcp /bin/true\n")
        r = check(root)
        expect(r, KP, "fail", "/etc/modprobe.d/cis.conf:2: install iscsi_tcp /bin/true",
               "instead of inserting iscsi_tcp")
        expect(r, KP, "fail", "/etc/modprobe.d/cis.conf:2", field="remedy")
        assert_in("/etc/modprobe.d/cis.conf:2", module(root)["prevented"])
    # the other direction: the command that inserts it anyway
    with FixtureRoot() as root:
        write(root, "/etc/modprobe.d/local.conf",
              "install iscsi_tcp /sbin/modprobe --ignore-install iscsi_tcp\n")
        r = check(root)
        expect(r, KP, "pass", "systemd-modules-load loads iscsi_tcp")
        assert_eq(module(root)["prevented"], None)


def many_modprobe_files(root, n, cis=True):
    """n files of nothing in /etc/modprobe.d, then (cis) the last one replaces the load."""
    for i in range(n):
        write(root, "/etc/modprobe.d/a%04d.conf" % i, "# nothing\n")
    if cis:
        write(root, "/etc/modprobe.d/zz-cis.conf", "install iscsi_tcp /bin/true\n")
        expect(check(root), KP, "fail",
               "/etc/modprobe.d/zz-cis.conf:1: install iscsi_tcp /bin/true")


def test_many_modprobe_files_are_all_read():
    # libkmod reads every file of modprobe.d, however many: the 601st file's install command
    # still replaces the load (nodeprep once stopped at 512 files without a word).
    with FixtureRoot() as root:
        many_modprobe_files(root, 600)
    # the other direction: as many files, none of them stops it
    with FixtureRoot() as root:
        many_modprobe_files(root, 600, cis=False)
        expect(check(root), KP, "pass")


def test_modprobe_configuration_past_the_total_bound_is_unknown():
    # nodeprep reads at most 16 MiB of modprobe configuration per boot: beyond it the answer is
    # unknown and names the file and the bound, never a verdict on part of the configuration.
    comment = ("#" * 1023 + "\n") * (9 * 1024)
    with FixtureRoot() as root:
        write(root, "/etc/modprobe.d/a-big.conf", comment)
        write(root, "/etc/modprobe.d/b-big.conf", comment)
        write(root, "/etc/modprobe.d/c-cis.conf", "install iscsi_tcp /bin/true\n")
        r = check(root)
        expect(r, KP, "unknown", "/etc/modprobe.d/b-big.conf", "16 MiB in total")
    # the other direction: one such file is within the bound and read to the end
    with FixtureRoot() as root:
        write(root, "/etc/modprobe.d/a-big.conf", comment + "install iscsi_tcp /bin/true\n")
        r = check(root)
        expect(r, KP, "fail", "/etc/modprobe.d/a-big.conf:9217: install iscsi_tcp /bin/true")


def test_install_other_command_is_unknown():
    with FixtureRoot() as root:
        write(root, "/etc/modprobe.d/local.conf", "install iscsi_tcp /usr/local/sbin/load-it\n")
        r = check(root)
        expect(r, KP, "unknown", "/etc/modprobe.d/local.conf:1", "cannot tell")


def test_alias():
    # "alias iscsi_tcp other" makes the listing load another module (config aliases come first
    # in kmod_module_new_from_lookup()).
    with FixtureRoot() as root:
        make_fake_module(root, "libiscsi", KVER)
        write(root, "/etc/modprobe.d/alias.conf", "alias iscsi_tcp libiscsi\n")
        r = check(root)
        expect(r, KP, "fail", "/etc/modprobe.d/alias.conf:1: alias iscsi_tcp libiscsi",
               "load libiscsi instead")
    # the other direction: an alias that leads to iscsi_tcp from the listed name
    with FixtureRoot() as root:
        write(root, "/etc/modules-load.d/iscsi_tcp.conf", "iscsi-transport\n")
        write(root, "/etc/modprobe.d/alias.conf", "alias iscsi-transport iscsi_tcp\n")
        r = check(root)
        expect(r, KP, "pass", "/etc/modules-load.d/iscsi_tcp.conf:1", field="observed")


def test_blacklist():
    with FixtureRoot() as root:
        write(root, "/etc/modprobe.d/no-iscsi.conf", "\nblacklist iscsi_tcp\n")
        r = check(root)
        expect(r, KP, "fail", "/etc/modprobe.d/no-iscsi.conf:2: blacklist iscsi_tcp",
               "KMOD_PROBE_APPLY_BLACKLIST")
        assert_in("/etc/modprobe.d/no-iscsi.conf:2", module(root)["blacklisted"])
    # the other direction: a blacklist in /run/modprobe.d is gone at the next boot
    with FixtureRoot() as root:
        write(root, "/run/modprobe.d/no-iscsi.conf", "blacklist iscsi_tcp\n")
        r = check(root)
        expect(r, KP, "pass")
        assert_eq(module(root)["blacklisted"], None)


def test_cmdline_blacklists_from_grub():
    for word, text in (("modprobe.blacklist=iscsi_tcp", "libkmod blacklists it"),
                       ("module_blacklist=iscsi_tcp", "the kernel refuses to load it")):
        with FixtureRoot() as root:
            two_kernels(root, True)
            grub(root, "k-old", word)
            r = check(root)
            expect(r, KP, "fail", word.split("=")[0] + "=", text, "/boot/grub/grub.cfg")
            assert_in(word, facts(root)["boot"]["cmdline"])
        # the other direction: the running boot had it (/proc/cmdline), the next does not
        with FixtureRoot() as root:
            two_kernels(root, True)
            grub(root, "k-old")
            write(root, "/proc/cmdline", "root=/dev/vda1 ro %s\n" % word)
            r = check(root)
            expect(r, KP, "pass")
            assert_in("/boot/grub/grub.cfg", facts(root)["boot"]["cmdline_source"])


def test_cmdline_blacklists_from_grubenv_kernelopts():
    # RHEL 9: BLS entries' "options $kernelopts", kernelopts in grubenv
    with FixtureRoot() as root:
        two_kernels(root, True)
        write(root, "/boot/grub2/grub.cfg",
              "load_env\nset default=\"${saved_entry}\"\nblscfg\n")
        write(root, "/boot/grub2/grubenv",
              grubenv(saved_entry="k-old", kernelopts="root=/dev/vda1 ro "
                      "module_blacklist=iscsi_tcp"))
        write(root, "/boot/loader/entries/k-old.conf",
              "title old\nversion %s\nlinux /vmlinuz-%s\noptions $kernelopts\n" % (KVER, KVER))
        r = check(root)
        expect(r, KP, "fail", "module_blacklist=iscsi_tcp")
        write(root, "/boot/grub2/grubenv",
              grubenv(saved_entry="k-old", kernelopts="root=/dev/vda1 ro"))
        expect(check(root), KP, "pass")


def test_cmdline_blacklists_from_proc_without_boot_loader():
    for word in ("modprobe.blacklist=iscsi_tcp", "module_blacklist=iscsi_tcp"):
        with FixtureRoot() as root:
            write(root, "/proc/cmdline", "root=/dev/vda1 ro %s\n" % word)
            r = check(root)
            expect(r, KP, "fail", word.split("=")[0] + "=", "/proc/cmdline")
            # the other direction: another module blacklisted
            write(root, "/proc/cmdline", "root=/dev/vda1 ro %s\n" % word.replace("iscsi_tcp",
                                                                                 "floppy"))
            expect(check(root), KP, "pass")


def test_modules_load_on_cmdline():
    with FixtureRoot() as root:
        remove(root, "/etc/modules-load.d/iscsi_tcp.conf")
        write(root, "/proc/cmdline", "root=/dev/vda1 ro modules_load=dm_mod,iscsi_tcp\n")
        r = check(root)
        expect(r, KP, "pass", "modules_load=dm_mod,iscsi_tcp on the kernel command line",
               field="observed")
        # the other direction: rd.modules_load= on an initramfs-tools host is never read
        write(root, "/usr/share/initramfs-tools/init", "")
        write(root, "/proc/cmdline", "root=/dev/vda1 ro rd.modules_load=iscsi_tcp\n")
        r = check(root)
        expect(r, KP, "fail", "initramfs-tools")


def test_softdep():
    # A softdep that resolves makes libkmod ignore the install command
    # (__kmod_module_fill_softdep(): ignorecmd = pre || post): iscsi_tcp is inserted.
    with FixtureRoot() as root:
        make_fake_module(root, "libcrc32c", KVER)
        write(root, "/etc/modprobe.d/local.conf",
              "install iscsi_tcp /bin/true\nsoftdep iscsi_tcp pre: libcrc32c\n")
        r = check(root)
        expect(r, KP, "pass", "soft dependencies are loaded too")
        # the other direction: a softdep that resolves to nothing leaves the command in force
        write(root, "/etc/modprobe.d/local.conf",
              "install iscsi_tcp /bin/true\nsoftdep iscsi_tcp pre: no_such_module\n")
        r = check(root)
        expect(r, KP, "fail", "/etc/modprobe.d/local.conf:1: install iscsi_tcp /bin/true")
    # A softdep whose load fails does not stop the module (m->required is false for softdeps).
    with FixtureRoot() as root:
        make_fake_module(root, "libcrc32c", KVER)
        write(root, "/etc/modprobe.d/local.conf",
              "install libcrc32c /bin/false\nsoftdep iscsi_tcp pre: libcrc32c\n")
        r = check(root)
        expect(r, KP, "pass", "libkmod ignores their failures")


# --- built in, and the kernel the next boot runs --------------------------------------------------

def test_builtin():
    with FixtureRoot() as root:
        remove(root, "/etc/modules-load.d/iscsi_tcp.conf")
        write(root, "/lib/modules/%s/modules.builtin" % KVER, "kernel/drivers/scsi/iscsi_tcp.ko\n")
        r = check(root)
        expect(r, KP, "pass", "built into kernel %s" % KVER)
        m = module(root)
        assert_eq(m["next_state"], "builtin")
        # the other direction: not built in, not listed
        write(root, "/lib/modules/%s/modules.builtin" % KVER, "kernel/fs/ext4/ext4.ko\n")
        r = check(root)
        expect(r, KP, "fail", "not listed in any modules-load.d file", field="observed")


def test_builtin_from_modinfo_without_modules_builtin():
    # No modules.builtin (so no modules.builtin.bin), but modules.builtin.modinfo names the
    # module: it is in the kernel image.
    with FixtureRoot() as root:
        remove(root, "/etc/modules-load.d/iscsi_tcp.conf")
        remove(root, "/lib/modules/%s/modules.builtin" % KVER)
        write(root, "/lib/modules/%s/modules.builtin.modinfo" % KVER,
              b"ext4.license=GPL\0iscsi_tcp.license=GPL\0iscsi_tcp.description=iSCSI/TCP\0")
        r = check(root)
        expect(r, KP, "pass", "built into kernel %s" % KVER, "modules.builtin.modinfo")
        assert_eq(module(root)["next_state"], "builtin")
        # the other direction: modules.builtin.modinfo without it
        write(root, "/lib/modules/%s/modules.builtin.modinfo" % KVER, b"ext4.license=GPL\0")
        r = check(root)
        expect(r, KP, "fail", "not listed in any modules-load.d file", field="observed")
        # and neither list: unknown whether it is built in, never a guess
        remove(root, "/lib/modules/%s/modules.builtin.modinfo" % KVER)
        remove(root, "/lib/modules/%s/kernel/drivers/scsi/iscsi_tcp.ko" % KVER)
        depmod(root, KVER)
        r = check(root)
        expect(r, KP, "unknown", "modules.builtin")


def builtin_by_alias_root(root, alias, with_index):
    """iscsi_tcp is no module file; the built-in driver iscsi_tcp_drv has "alias=ALIAS" in
    modules.builtin.modinfo (with depmod's modules.builtin.alias.bin when with_index)."""
    remove(root, "/sys/module/iscsi_tcp")
    remove(root, "/etc/modules-load.d/iscsi_tcp.conf")
    remove(root, "/lib/modules/%s/kernel/drivers/scsi/iscsi_tcp.ko" % KVER)
    write(root, "/lib/modules/%s/modules.builtin" % KVER,
          "kernel/fs/ext4/ext4.ko\nkernel/drivers/scsi/iscsi_tcp_drv.ko\n")
    modinfo = ("iscsi_tcp_drv.license=GPL\0iscsi_tcp_drv.alias=%s\0" % alias).encode()
    if with_index:
        write(root, "/lib/modules/%s/modules.builtin.modinfo" % KVER, modinfo)
        depmod(root, KVER)
    else:
        depmod(root, KVER)
        write(root, "/lib/modules/%s/modules.builtin.modinfo" % KVER, modinfo)


def test_builtin_by_modinfo_alias():
    # A name that is only an alias of a built-in driver in modules.builtin.modinfo: libkmod
    # (kmod 28-34) finds it in modules.builtin.alias.bin, which depmod builds from that file;
    # the driver is in the kernel image whether or not depmod has run.
    for with_index in (True, False):
        with FixtureRoot() as root:
            builtin_by_alias_root(root, "iscsi-tcp", with_index)
            r = check(root)
            expect(r, KP, "pass", "built into kernel %s" % KVER)
            m = module(root)
            assert_eq(m["next_state"], "builtin", "with_index=%s" % with_index)
            assert_eq(m["state"], "builtin", "with_index=%s" % with_index)
        # the other direction: the alias names something else
        with FixtureRoot() as root:
            builtin_by_alias_root(root, "iscsi_tcp_other", with_index)
            r = check(root)
            assert r.check(KP)["status"] != "pass", repr(r.check(KP))
            assert_eq(module(root)["next_state"], "missing", "with_index=%s" % with_index)


def test_grub_default_is_another_kernel():
    with FixtureRoot() as root:
        two_kernels(root, False)
        grub(root, "k-new")
        r = check(root)
        expect(r, KP, "fail", "neither built into kernel %s nor in" % NEW, "saved_entry=")
        b = facts(root)["boot"]
        assert_eq(b["kernel"], NEW)
        assert_in("saved_entry= in grubenv", b["kernel_source"])
        assert_eq(module(root)["next_state"], "missing")
        # the other direction: the default is the kernel that has it
        grub(root, "k-old")
        r = check(root)
        expect(r, KP, "pass", "into kernel %s" % KVER)
        assert_eq(facts(root)["boot"]["kernel"], KVER)
    with FixtureRoot() as root:
        two_kernels(root, True)
        grub(root, "k-new")
        expect(check(root), KP, "pass", "into kernel %s" % NEW)


def test_several_kernels_no_default():
    with FixtureRoot() as root:
        two_kernels(root, True)
        r = check(root)
        expect(r, KP, "pass")
        b = facts(root)["boot"]
        assert_eq(b["kernel"], None)
        assert_in("2 kernels are installed", b["kernel_unknown"])
    # the other direction: they disagree about iscsi_tcp
    with FixtureRoot() as root:
        two_kernels(root, False)
        r = check(root)
        expect(r, KP, "unknown", "disagree")


def test_bls_default_entry():
    # systemd-boot: loader.conf's default picks the BLS entry
    with FixtureRoot() as root:
        two_kernels(root, False)
        write(root, "/boot/efi/loader/loader.conf", "timeout 3\ndefault new-*\n")
        for name, kver in (("new-1", NEW), ("old-1", KVER)):
            write(root, "/boot/efi/loader/entries/%s.conf" % name,
                  "title Debian\nversion %s\nlinux /%s/linux\noptions root=/dev/vda1 ro\n"
                  % (kver, kver))
        r = check(root)
        expect(r, KP, "fail", "neither built into kernel %s" % NEW, "systemd-boot")
        # the other direction
        write(root, "/boot/efi/loader/loader.conf", "timeout 3\ndefault old-*\n")
        r = check(root)
        expect(r, KP, "pass", "into kernel %s" % KVER)
        assert_in("/boot/efi/loader/entries/old-1.conf", facts(root)["boot"]["cmdline_source"])


# --- SELinux ----------------------------------------------------------------------------------------

# A RHEL-like kernel: SELinux first among the exclusive LSMs.
KCONFIG = {
    "CONFIG_SECURITY_SELINUX": "y",
    "CONFIG_SECURITY_SELINUX_BOOTPARAM": "y",
    "CONFIG_SECURITY_SELINUX_DEVELOP": "y",
    "CONFIG_SECURITY_APPARMOR": "y",
    "CONFIG_LSM": '"lockdown,yama,integrity,selinux,apparmor,bpf"',
}


def selinux_root(root, config, cmdline, **kconfig):
    opts = dict(KCONFIG, **kconfig)
    write(root, "/boot/config-%s" % KVER,
          "".join("%s=%s\n" % (k, v) if v is not None else "# %s is not set\n" % k
                  for k, v in opts.items()))
    write(root, "/etc/selinux/config", "SELINUX=%s\nSELINUXTYPE=targeted\n" % config)
    write(root, "/proc/cmdline", "root=/dev/vda1 ro %s\n" % cmdline)
    write(root, "/sys/fs/selinux/enforce", "0")
    return check(root)


SC = "selinux.config"


def test_selinux_enforcing_with_enforcing0():
    with FixtureRoot() as root:
        r = selinux_root(root, "enforcing", "enforcing=0")
        expect(r, SC, "pass", "enforcing=0 (it overrides /etc/selinux/config)")
        s = facts(root)["selinux"]
        assert_eq(s["next_mode"], "permissive")
        assert_eq(s["cmdline_enforcing"], 0)
        # the other direction
        r = selinux_root(root, "enforcing", "")
        expect(r, SC, "fail", "/etc/selinux/config")
        assert_eq(facts(root)["selinux"]["next_mode"], "enforcing")


def test_selinux_0_needs_bootparam():
    with FixtureRoot() as root:
        r = selinux_root(root, "enforcing", "selinux=0")
        expect(r, SC, "pass", "selinux=0", "CONFIG_SECURITY_SELINUX_BOOTPARAM=y")
        assert_eq(facts(root)["selinux"]["next_lsm_active"], False)
        # the other direction: without BOOTPARAM the kernel ignores the word
        r = selinux_root(root, "enforcing", "selinux=0", CONFIG_SECURITY_SELINUX_BOOTPARAM=None)
        expect(r, SC, "fail")
        assert_eq(facts(root)["selinux"]["next_lsm_active"], True)


def test_selinux_permissive_with_enforcing1():
    with FixtureRoot() as root:
        r = selinux_root(root, "permissive", "enforcing=1")
        expect(r, SC, "fail", "enforcing=1")
        expect(r, SC, "fail", "remove enforcing=1", field="remedy")
        # the other direction
        r = selinux_root(root, "permissive", "")
        expect(r, SC, "pass")


def test_selinux_other_lsm():
    with FixtureRoot() as root:
        r = selinux_root(root, "enforcing", "security=apparmor")
        expect(r, SC, "pass", "not active in the kernel")
        assert_eq(facts(root)["selinux"]["next_lsm_active"], False)
        r = selinux_root(root, "enforcing", "lsm=lockdown,yama,apparmor,bpf")
        expect(r, SC, "pass", "lsm= on the command line")
        # the other direction: lsm= that names selinux
        r = selinux_root(root, "enforcing", "lsm=lockdown,selinux,bpf")
        expect(r, SC, "fail")
        assert_eq(facts(root)["selinux"]["next_lsm_active"], True)


def test_selinux_disabled_without_runtime_disable():
    with FixtureRoot() as root:
        r = selinux_root(root, "disabled", "", CONFIG_SECURITY_SELINUX_DISABLE=None)
        expect(r, SC, "pass", "no runtime disable", "loads no policy")
        assert_eq(facts(root)["selinux"]["next_mode"], "disabled")
        # the other direction: SELINUX=enforcing on the same kernel
        r = selinux_root(root, "enforcing", "", CONFIG_SECURITY_SELINUX_DISABLE=None)
        expect(r, SC, "fail")


def test_selinux_kernel_without_develop_always_enforces():
    with FixtureRoot() as root:
        r = selinux_root(root, "permissive", "enforcing=0",
                         CONFIG_SECURITY_SELINUX_DEVELOP=None)
        expect(r, SC, "fail", "no CONFIG_SECURITY_SELINUX_DEVELOP")
        # the other direction: a DEVELOP kernel honours it
        r = selinux_root(root, "permissive", "enforcing=0")
        expect(r, SC, "pass")


# --- iSCSI ---------------------------------------------------------------------------------------

def test_iscsid_conf_absent():
    with FixtureRoot() as root:
        remove(root, "/etc/iscsi/iscsid.conf")
        r = check(root)
        expect(r, "iscsi.conf:node.startup", "pass", "iscsid's built-in default",
               field="observed")
        # the other direction: no open-iscsi at all
        remove(root, "/usr/sbin/iscsiadm")
        r = check(root)
        expect(r, "iscsi.conf:node.startup", "fail", "install open-iscsi", field="remedy")


DEBIAN12_ISCSI = os.path.join(os.path.dirname(__file__), "..", "fixtures", "iscsi", "debian12")


def debian12_iscsid(root, unit_edit=lambda t: t):
    with open(os.path.join(DEBIAN12_ISCSI, "iscsid.service")) as f:
        write(root, "/lib/systemd/system/iscsid.service", unit_edit(f.read()))
    with open(os.path.join(DEBIAN12_ISCSI, "startup-checks.sh")) as f:
        write(root, "/lib/open-iscsi/startup-checks.sh", f.read(), mode=0o755)


def test_iscsid_conf_absent_and_iscsid_refuses_to_start():
    # Debian 12's iscsid.service runs startup-checks.sh, which exits 1 without iscsid.conf: the
    # default is still iscsid's (pass, as the issue asks), but the message says iscsid will not
    # run, and unit.active:iscsid fails on the failed service.
    with FixtureRoot() as root:
        remove(root, "/etc/iscsi/iscsid.conf")
        debian12_iscsid(root)
        units = {"iscsid.socket": {"UnitFileState": "enabled", "ActiveState": "active"},
                 "iscsid.service": {"UnitFileState": "disabled", "ActiveState": "failed"}}
        with MockSystemd(units) as m:
            r = check_json(root, "--profile", "iomesh", env=m.env)
        expect(r, "iscsi.conf:node.startup", "pass", "iscsid does not start on this host",
               "/lib/systemd/system/iscsid.service:15: "
               "ExecStartPre=/lib/open-iscsi/startup-checks.sh exits 1",
               "/lib/open-iscsi/startup-checks.sh:13")
        expect(r, "unit.active:iscsid", "fail", "iscsid.service has failed")
        assert_in("startup-checks.sh", facts(root)["iscsi"]["start_requires_conf"])
    # the other direction: a failure the unit ignores ("-"), or iscsid.conf present
    with FixtureRoot() as root:
        remove(root, "/etc/iscsi/iscsid.conf")
        debian12_iscsid(root, lambda t: t.replace("ExecStartPre=/", "ExecStartPre=-/"))
        c = expect(check(root), "iscsi.conf:node.startup", "pass", "iscsid's default")
        assert "does not start" not in c["message"], repr(c)
    with FixtureRoot() as root:
        debian12_iscsid(root)
        c = check(root).check("iscsi.conf:node.startup")
        assert "does not start" not in (c["message"] or ""), repr(c)


# --- nodeprepctl facts (text) ------------------------------------------------------------------

def test_facts_text_shows_the_next_boot():
    with FixtureRoot() as root:
        two_kernels(root, False)
        grub(root, "k-new", "enforcing=0")
        write(root, "/etc/modprobe.d/cis.conf", "install iscsi_tcp /bin/true\n")
        r = nodeprepctl("facts", "--profile", "iomesh", "--root", root)
        assert_eq(r.code, 0, repr(r))
        assert_in("Next boot\n", r.out)
        assert_in("  kernel                 %s (GRUB's default entry" % NEW, r.out)
        assert_in("saved_entry= in grubenv", r.out)
        assert_in("root=/dev/vda1 ro quiet enforcing=0 (/boot/grub/grub.cfg:", r.out)
        assert_in("  after the next boot    ", r.out)
        assert_in("    next boot: missing (neither built into kernel %s" % NEW, r.out)
        # the running kernel's modprobe.d view: the install line prevents a modprobe now
        assert_in("    modprobe now: prevented: /etc/modprobe.d/cis.conf:1: install iscsi_tcp "
                  "/bin/true", r.out)
    # the other direction: the next kernel has it, the install line prevents it at boot
    with FixtureRoot() as root:
        write(root, "/etc/modprobe.d/cis.conf", "install iscsi_tcp /bin/true\n")
        r = nodeprepctl("facts", "--profile", "iomesh", "--root", root)
        assert_in("  kernel                 %s (the only installed kernel" % KVER, r.out)
        assert_in("    next boot: available (in /lib/modules/%s/modules.dep)" % KVER, r.out)
        assert_in("    prevented at boot: /etc/modprobe.d/cis.conf:1: install iscsi_tcp /bin/true",
                  r.out)


# --- the fixes -------------------------------------------------------------------------------------

def fix_entry(r, cid):
    for c in r.json["checks"]:
        if c["id"] == cid:
            return c
    raise AssertionError("no %s in %r" % (cid, r))


def test_fixes_are_manual_when_the_load_is_prevented():
    require_root()
    for line, where in (("install iscsi_tcp /bin/true\n", "/etc/modprobe.d/x.conf:1"),
                        ("blacklist iscsi_tcp\n", "/etc/modprobe.d/x.conf:1")):
        with FixtureRoot() as root:
            remove(root, "/sys/module/iscsi_tcp")
            remove(root, "/etc/modules-load.d/iscsi_tcp.conf")
            write(root, "/etc/modprobe.d/x.conf", line)
            for verb in ("plan", "apply"):
                r = nodeprepctl(verb, "--local", "--json", "--root", root)
                for cid in ("kmod.loaded:iscsi_tcp", KP):
                    e = fix_entry(r, cid)
                    assert_eq(e["outcome"], "manual", "%s %s %s: %r" % (verb, line, cid, e))
                    assert_in(where, e["message"], "%s %s" % (verb, cid))
            assert not os.path.exists(os.path.join(root, "etc/modules-load.d/nodeprep.conf"))
    # the other direction: nothing prevents it, the persist fix writes the listing
    with FixtureRoot() as root:
        remove(root, "/etc/modules-load.d/iscsi_tcp.conf")
        r = nodeprepctl("plan", "--local", "--json", "--root", root)
        assert fix_entry(r, KP)["outcome"] != "manual", repr(fix_entry(r, KP))


# --- files that exist but cannot be read: unknown with the file and why, never "absent" ---------

def unreadable(root, path, how, size=0):
    """Make path a file nodeprep must not read as absent: a FIFO, a directory, or a regular file
    of size bytes (past the bound of that file). Returns the words the reason has."""
    remove(root, path)
    if how == "fifo":
        mkfifo(root, path)
        return "not a regular file: FIFO"
    if how == "dir":
        os.makedirs(os.path.join(root, path.lstrip("/")))
        return "Is a directory"
    write(root, path, "#" * size)
    return "file too large"


def sdboot_root(root, default="*"):
    """systemd-boot with the new kernel (no iscsi_tcp) in a-new.conf and the old one in
    b-old.conf: newest version first, so "default *" is the new kernel."""
    two_kernels(root, False)
    write(root, "/boot/efi/loader/loader.conf", "timeout 3\ndefault %s\n" % default)
    for name, kver in (("a-new", NEW), ("b-old", KVER)):
        write(root, "/boot/efi/loader/entries/%s.conf" % name,
              "title Debian\nversion %s\nlinux /%s/linux\noptions root=/dev/vda1 ro\n"
              % (kver, kver))


def expect_kernel_unknown(root, path, why, how, *texts):
    """kmod.persistent is unknown and boot.kernel_unknown names path and why."""
    expect(check(root), KP, "unknown", *texts)
    b = facts(root)["boot"]
    assert_eq(b["kernel"], None, how)
    assert_in("%s: %s" % (path, why), b["kernel_unknown"], how)
    return b


def test_unreadable_bls_entry_is_unknown():
    # Skipped, the new kernel's entry left "default *" on the old kernel: a wrong pass.
    for how in ("fifo", "dir", "big"):
        with FixtureRoot() as root:
            sdboot_root(root)
            path = "/boot/efi/loader/entries/a-new.conf"
            expect_kernel_unknown(root, path, unreadable(root, path, how, 1024 * 1024 + 1), how)
    # the other direction: the entry is read, the new kernel is the default
    with FixtureRoot() as root:
        sdboot_root(root)
        expect(check(root), KP, "fail", "neither built into kernel %s" % NEW)


def test_unreadable_grubenv_is_unknown():
    # An unreadable grubenv read as empty made saved_entry unset: GRUB's first entry (the new
    # kernel without iscsi_tcp) was taken as the default.
    for how, size in (("fifo", 0), ("dir", 0), ("big", 64 * 1024 + 1)):
        with FixtureRoot() as root:
            two_kernels(root, False)
            grub(root, "k-old")
            path = "/boot/grub/grubenv"
            b = expect_kernel_unknown(root, path, unreadable(root, path, how, size), how,
                                      "disagree")
            assert_in("GRUB's environment block cannot be read", b["kernel_unknown"], how)
    # the other direction: a readable grubenv of GRUB's 1024 bytes picks the old kernel
    with FixtureRoot() as root:
        two_kernels(root, False)
        grub(root, "k-old")
        expect(check(root), KP, "pass", "into kernel %s" % KVER)
        assert_eq(facts(root)["boot"]["kernel"], KVER)


def test_unreadable_loader_conf_is_unknown():
    # An unreadable loader.conf on /boot/efi let another one (/boot/loader/loader.conf) decide.
    for how, size in (("fifo", 0), ("big", 64 * 1024 + 1)):
        with FixtureRoot() as root:
            sdboot_root(root)
            write(root, "/boot/loader/loader.conf", "default b-old\n")
            write(root, "/boot/loader/entries/b-old.conf",
                  "title Debian\nversion %s\nlinux /x/linux\noptions ro\n" % KVER)
            path = "/boot/efi/loader/loader.conf"
            expect_kernel_unknown(root, path, unreadable(root, path, how, size), how)
    # the other direction: the readable loader.conf on /boot/efi decides
    with FixtureRoot() as root:
        sdboot_root(root, "b-old")
        write(root, "/boot/loader/loader.conf", "default a-new\n")
        expect(check(root), KP, "pass", "into kernel %s" % KVER)


def test_unreadable_kernel_config_is_unknown():
    # Without the build configuration the running kernel stood in for it; one that exists and
    # cannot be read says nothing, and the running kernel is no stand-in for it.
    for how, size in (("fifo", 0), ("big", 4 * 1024 * 1024 + 1)):
        with FixtureRoot() as root:
            selinux_root(root, "enforcing", "")
            why = unreadable(root, "/boot/config-%s" % KVER, how, size)
            r = check(root)
            expect(r, SC, "unknown", "build configuration cannot be read",
                   "/boot/config-%s: %s" % (KVER, why))
            f = facts(root)
            assert_eq(f["selinux"]["next_mode"], None, how)
            assert_in(why, f["boot"]["kernel_config_unknown"], how)
    # the other direction: the same host with its configuration readable
    with FixtureRoot() as root:
        expect(selinux_root(root, "enforcing", ""), SC, "fail", "/etc/selinux/config")


def test_unreadable_proc_cmdline_for_selinux_is_unknown():
    # No build configuration: the running kernel tells when the next boot has the same LSM
    # words; an unreadable /proc/cmdline was taken as having none.
    with FixtureRoot() as root:
        selinux_root(root, "enforcing", "")
        remove(root, "/boot/config-%s" % KVER)
        add_kernel(root, KVER, True)
        write(root, "/boot/grub/grub.cfg", "set default=0\nmenuentry 'D' {\n"
              "\tlinux /boot/vmlinuz-%s root=/dev/vda1 ro\n}\n" % KVER)
        mkfifo(root, "/proc/cmdline")
        r = check(root)
        expect(r, SC, "unknown", "the running boot's command line cannot be read",
               "/proc/cmdline: not a regular file: FIFO")
        # the other direction: readable, same words: the running kernel tells
        write(root, "/proc/cmdline", "root=/dev/vda1 ro\n")
        expect(check(root), SC, "fail")


def test_unreadable_proc_cmdline_for_modprobe_now_is_unknown():
    # "modprobe now" (kmod-load's fix): an unreadable /proc/cmdline was an empty one, so a
    # modprobe.blacklist= there could not be seen.
    with FixtureRoot() as root:
        mkfifo(root, "/proc/cmdline")
        m = module(root)
        assert_in("/proc/cmdline: not a regular file: FIFO", m["load_prevented_unknown"] or "")
        assert_in("modprobe.blacklist=", m["load_prevented_unknown"])
        # what modprobe.d prevents stays prevented
        write(root, "/etc/modprobe.d/cis.conf", "install iscsi_tcp /bin/true\n")
        m = module(root)
        assert_in("/etc/modprobe.d/cis.conf:1", m["load_prevented"] or "")
        assert_eq(m["load_prevented_unknown"], None)
    # the other direction: readable, nothing on it
    with FixtureRoot() as root:
        m = module(root)
        assert_eq(m["load_prevented_unknown"], None)
        assert_eq(m["load_prevented"], None)


def test_1200_modprobe_files_with_1024_open_files():
    # libkmod's view once kept a descriptor per modprobe.d file: 1,200 files ran out of them
    # ("Too many open files") at the usual limit of 1024.
    import resource
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(1024, hard), hard))
    try:
        with FixtureRoot() as root:
            many_modprobe_files(root, 1200)
            m = module(root)
            assert_eq(m["unknown"], None)
            assert_in("/etc/modprobe.d/zz-cis.conf:1", m["load_prevented"] or "")
            # the other direction: none of them stops it
            remove(root, "/etc/modprobe.d/zz-cis.conf")
            expect(check(root), KP, "pass")
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def test_unreadable_iscsid_start_check_is_said():
    # An unreadable unit file was read as "no check": the message said nothing.
    path = "/lib/systemd/system/iscsid.service"
    with FixtureRoot() as root:
        remove(root, "/etc/iscsi/iscsid.conf")
        debian12_iscsid(root)
        mkfifo(root, path)
        r = check(root)
        c = expect(r, "iscsi.conf:node.startup", "pass", "iscsid's default",
                   "whether iscsid starts on this host without /etc/iscsi/iscsid.conf is "
                   "unknown", path + ": not a regular file: FIFO")
        assert "does not start" not in c["message"], repr(c)
        assert_in(path, facts(root)["iscsi"]["start_unknown"] or "")
    # a start check systemd cannot execute (a FIFO) fails the start (203/EXEC); one at Debian's
    # path that is not Debian's script (edited: the test of iscsid.conf gone) is not modelled
    with FixtureRoot() as root:
        debian12_iscsid(root)
        mkfifo(root, "/lib/open-iscsi/startup-checks.sh")
        expect(check(root), "iscsi.conf:node.startup", "pass", "iscsid does not start on this "
               "host", "startup-checks.sh: a FIFO, not a regular file", "203/EXEC")
    with FixtureRoot() as root:
        remove(root, "/etc/iscsi/iscsid.conf")
        debian12_iscsid(root)
        write(root, "/lib/open-iscsi/startup-checks.sh", "#!/bin/sh\nexit 0\n", mode=0o755)
        c = expect(check(root), "iscsi.conf:node.startup", "pass", "whether iscsid starts on "
                   "this host without /etc/iscsi/iscsid.conf is unknown",
                   "/lib/systemd/system/iscsid.service:15: ExecStartPre=/lib/open-iscsi/"
                   "startup-checks.sh: not the startup-checks.sh nodeprep models")
        assert "does not start" not in c["message"], repr(c)
    # the other direction: a start check that can be read is not unknown
    with FixtureRoot() as root:
        remove(root, "/etc/iscsi/iscsid.conf")
        debian12_iscsid(root)
        c = expect(check(root), "iscsi.conf:node.startup", "pass", "iscsid's default")
        assert "unknown" not in c["message"], repr(c)


ISCSID_UNIT = "/lib/systemd/system/iscsid.service"
STARTUP_CHECKS = "/lib/open-iscsi/startup-checks.sh"
NO_START = "iscsid does not start on this host"
SOCKET_ONLY = {"iscsid.socket": {"UnitFileState": "enabled", "ActiveState": "active"},
               "iscsid.service": {"UnitFileState": "disabled", "ActiveState": "inactive"}}


def iscsi_facts(root):
    return facts(root)["iscsi"]


def test_missing_start_check_without_dash_stops_iscsid():
    # systemd fails the start (status 203/EXEC) when an ExecStartPre= executable is missing and
    # the line has no '-' (execute.c exec_child()): the missing script was read as "no start
    # check", so iscsid looked startable and the socket-only unit.active:iscsid passed.
    for conf in (False, True):
        with FixtureRoot() as root:
            if not conf:
                remove(root, "/etc/iscsi/iscsid.conf")
            debian12_iscsid(root)
            remove(root, STARTUP_CHECKS)
            with MockSystemd(SOCKET_ONLY) as m:
                r = check_json(root, "--profile", "iomesh", env=m.env)
            expect(r, "iscsi.conf:node.startup", "pass", NO_START,
                   ISCSID_UNIT + ":15: ExecStartPre=" + STARTUP_CHECKS + ": no such file",
                   "203/EXEC")
            expect(r, "unit.active:iscsid", "fail", "iscsid.service is not running and cannot "
                   "start", ISCSID_UNIT + ":15")
            i = iscsi_facts(root)
            assert_in(STARTUP_CHECKS + ": no such file", i["start_fails"] or "")
            assert_eq(i["start_requires_conf"], None)
    # not executable, or a directory: the same 203/EXEC
    for mode, text in ((0o644, "not executable"), (None, "a directory, not a regular file")):
        with FixtureRoot() as root:
            debian12_iscsid(root)
            if mode is None:
                remove(root, STARTUP_CHECKS)
                os.makedirs(os.path.join(root, STARTUP_CHECKS.lstrip("/")))
            else:
                os.chmod(os.path.join(root, STARTUP_CHECKS.lstrip("/")), mode)
            assert_in(text, iscsi_facts(root)["start_fails"] or "")
    # the other direction: the service runs already (it started before the script went)
    with FixtureRoot() as root:
        debian12_iscsid(root)
        remove(root, STARTUP_CHECKS)
        units = {"iscsid.socket": {"UnitFileState": "enabled", "ActiveState": "active"},
                 "iscsid.service": {"UnitFileState": "disabled", "ActiveState": "active"}}
        with MockSystemd(units) as m:
            r = check_json(root, "--profile", "iomesh", env=m.env)
        expect(r, "unit.active:iscsid", "pass")


def test_missing_start_check_with_dash_is_skipped():
    # '-' among the prefixes (any order, each once: load-fragment.c config_parse_exec()): a
    # missing executable is skipped ("Executable ... missing, skipping").
    # "--": the second '-' is the path's, which systemd refuses and, with '-', drops the line
    for prefix in ("-", "+-", "-@", "!!-", ":-!", "--"):
        with FixtureRoot() as root:
            remove(root, "/etc/iscsi/iscsid.conf")
            debian12_iscsid(root, lambda t: t.replace("ExecStartPre=/", "ExecStartPre=%s/" % prefix))
            remove(root, STARTUP_CHECKS)
            with MockSystemd(SOCKET_ONLY) as m:
                r = check_json(root, "--profile", "iomesh", env=m.env)
            c = expect(r, "iscsi.conf:node.startup", "pass", "iscsid's default")
            assert "does not start" not in c["message"], "%s: %r" % (prefix, c)
            expect(r, "unit.active:iscsid", "pass")
            assert_eq(iscsi_facts(root)["start_fails"], None)
    # the other direction: prefixes systemd does not take as such ('!' after '+', '+' after '!',
    # a third '!') leave a path it refuses, without '-': the unit does not load
    for prefix in ("+!", "!+", "!!!"):
        with FixtureRoot() as root:
            debian12_iscsid(root, lambda t: t.replace("ExecStartPre=/", "ExecStartPre=%s/" % prefix))
            c = expect(check(root), "iscsi.conf:node.startup", "pass", NO_START,
                       "neither an absolute path nor a file name", "bad-setting")
            assert_in("bad-setting", iscsi_facts(root)["start_fails"] or "")


def dropin(root, directory, name, text):
    write(root, "%s/iscsid.service.d/%s" % (directory, name), text)


def test_dropin_that_clears_the_start_check():
    # An admin's drop-in with an empty ExecStartPre= resets the list (config_parse_exec()): iscsid
    # then starts without iscsid.conf. Only the unit file was read: it said iscsid does not start.
    for d in ("/etc/systemd/system", "/run/systemd/system", "/usr/lib/systemd/system"):
        with FixtureRoot() as root:
            remove(root, "/etc/iscsi/iscsid.conf")
            debian12_iscsid(root)
            dropin(root, d, "no-check.conf", "# start without iscsid.conf\n[Service]\nExecStartPre=\n")
            c = expect(check(root), "iscsi.conf:node.startup", "pass", "iscsid's default")
            assert "does not start" not in c["message"], "%s: %r" % (d, c)
            i = iscsi_facts(root)
            assert_eq(i["start_requires_conf"], None)
            assert_eq(i["start_fails"], None)
    # the other direction: outside [Service], in a file not named *.conf, hidden by a /dev/null
    # link of the same name in /etc, or followed (in name order) by a drop-in that adds the
    # check back, the check stays
    for files in ({"/etc/systemd/system/iscsid.service.d/a.conf": "ExecStartPre=\n"},
                  {"/etc/systemd/system/iscsid.service.d/a.conf.off": "[Service]\nExecStartPre=\n"},
                  {"/usr/lib/systemd/system/iscsid.service.d/a.conf": "[Service]\nExecStartPre=\n",
                   "/etc/systemd/system/iscsid.service.d/a.conf": None},
                  {"/etc/systemd/system/iscsid.service.d/a.conf": "[Service]\nExecStartPre=\n",
                   "/run/systemd/system/service.d/b.conf":
                   "[Service]\nExecStartPre=" + STARTUP_CHECKS + "\n"}):
        with FixtureRoot() as root:
            remove(root, "/etc/iscsi/iscsid.conf")
            debian12_iscsid(root)
            for path, text in files.items():
                if text is None:
                    os.makedirs(os.path.dirname(os.path.join(root, path.lstrip("/"))),
                                exist_ok=True)
                    os.symlink("/dev/null", os.path.join(root, path.lstrip("/")))
                else:
                    write(root, path, text)
            expect(check(root), "iscsi.conf:node.startup", "pass", "iscsid does not start on "
                   "this host without /etc/iscsi/iscsid.conf")


def test_dropin_that_adds_a_start_pre_line():
    # A drop-in's ExecStartPre= adds to the unit file's list (applied after it, in name order):
    # only the unit file was read, so neither of these was seen.
    with FixtureRoot() as root:
        debian12_iscsid(root)
        dropin(root, "/etc/systemd/system", "50-site.conf",
               "[Service]\nExecStartPre=/usr/local/sbin/site-check \\\n  --quiet\n")
        with MockSystemd(SOCKET_ONLY) as m:
            r = check_json(root, "--profile", "iomesh", env=m.env)
        where = "/etc/systemd/system/iscsid.service.d/50-site.conf:3: " \
            "ExecStartPre=/usr/local/sbin/site-check: no such file"
        expect(r, "iscsi.conf:node.startup", "pass", NO_START, where)
        expect(r, "unit.active:iscsid", "fail", where)
    # a unit file without a check, a drop-in that adds Debian's
    with FixtureRoot() as root:
        remove(root, "/etc/iscsi/iscsid.conf")
        debian12_iscsid(root, lambda t: t.replace("ExecStartPre=", "#ExecStartPre="))
        dropin(root, "/run/systemd/system", "check.conf",
               "[Service]\nExecStartPre = " + STARTUP_CHECKS + "\n")
        expect(check(root), "iscsi.conf:node.startup", "pass", NO_START + " without",
               "/run/systemd/system/iscsid.service.d/check.conf:2: ExecStartPre=" + STARTUP_CHECKS,
               STARTUP_CHECKS + ":13")
    # a program that exists and is not Debian's start check: nodeprep runs nothing, so whether
    # iscsid starts is unknown, naming the line (it was taken as "starts")
    for line in ("/bin/sh -c true", "-/nope ; /bin/sh", "/bin//./sh"):
        with FixtureRoot() as root:
            debian12_iscsid(root)
            write(root, "/bin/sh", "#!/bin/true\n", mode=0o755)
            dropin(root, "/etc/systemd/system", "50-site.conf", "[Service]\nExecStartPre=%s\n" % line)
            c = expect(check(root), "iscsi.conf:node.startup", "pass",
                       "whether iscsid starts is unknown on this host",
                       "/etc/systemd/system/iscsid.service.d/50-site.conf:2: ExecStartPre=/bin/sh: "
                       "a program nodeprep does not run or model")
            assert "does not start" not in c["message"], "%s: %r" % (line, c)
            assert_in("50-site.conf:2", iscsi_facts(root)["start_unknown"] or "")
    # the other direction: with '-' its failure cannot stop the start, missing or not
    for line in ("-/usr/local/sbin/site-check", "-/bin/sh -c false"):
        with FixtureRoot() as root:
            debian12_iscsid(root)
            write(root, "/bin/sh", "#!/bin/true\n", mode=0o755)
            dropin(root, "/etc/systemd/system", "50-site.conf", "[Service]\nExecStartPre=%s\n" % line)
            c = expect(check(root), "iscsi.conf:node.startup", "pass", "new discoveries get")
            assert "does not start" not in c["message"], "%s: %r" % (line, c)
            assert "unknown" not in c["message"], "%s: %r" % (line, c)
            i = iscsi_facts(root)
            assert_eq((i["start_unknown"], i["start_fails"]), (None, None), line)
    # and a second command on the line that is missing fails it
    with FixtureRoot() as root:
        debian12_iscsid(root)
        write(root, "/bin/sh", "#!/bin/true\n", mode=0o755)
        dropin(root, "/etc/systemd/system", "50-site.conf",
               "[Service]\nExecStartPre=/bin/sh -c 'a ; b' ; /nope\n")
        assert_in("ExecStartPre=/nope: no such file", iscsi_facts(root)["start_fails"] or "")


INAME = "/etc/iscsi/initiatorname.iscsi"


def test_startup_checks_initiator_name():
    # Debian's startup-checks.sh exits 1 (line 21) when initiatorname.iscsi is not a regular file
    # and (line 53) when it has no "InitiatorName=X" line; GenerateName=yes runs iscsi-iname.
    # Only the iscsid.conf test was modelled: each of these passed as "iscsid starts".
    for make, text in ((lambda root: remove(root, INAME), INAME + " is missing"),
                       (lambda root: mkfifo(root, INAME), INAME + " is not a regular file: FIFO"),
                       (lambda root: write(root, INAME, "## none\nInitiatorName= iqn.x\n"),
                        "has no valid InitiatorName= line (" + STARTUP_CHECKS + ":53)")):
        with FixtureRoot() as root:
            debian12_iscsid(root)
            make(root)
            with MockSystemd(SOCKET_ONLY) as m:
                r = check_json(root, "--profile", "iomesh", env=m.env)
            expect(r, "iscsi.conf:node.startup", "pass", NO_START,
                   ISCSID_UNIT + ":15: ExecStartPre=" + STARTUP_CHECKS + " exits 1", text)
            assert_in(text, iscsi_facts(root)["start_fails"] or "")
    with FixtureRoot() as root:
        debian12_iscsid(root)
        write(root, INAME, "GenerateName=yes\n")
        c = expect(check(root), "iscsi.conf:node.startup", "pass",
                   "whether iscsid starts is unknown on this host", "GenerateName=yes",
                   STARTUP_CHECKS + ":30")
        assert "does not start" not in c["message"], repr(c)
    # the other direction: Debian's script, iscsid.conf and a valid name: iscsid starts, said
    # neither unknown nor failing, and the bookworm and trixie paths are both recognised
    for path in (STARTUP_CHECKS, "/usr/lib/open-iscsi/startup-checks.sh"):
        with FixtureRoot() as root:
            debian12_iscsid(root, lambda t: t.replace(STARTUP_CHECKS, path))
            if path != STARTUP_CHECKS:
                os.makedirs(os.path.join(root, "usr/lib/open-iscsi"), exist_ok=True)
                os.rename(os.path.join(root, STARTUP_CHECKS.lstrip("/")),
                          os.path.join(root, path.lstrip("/")))
            c = expect(check(root), "iscsi.conf:node.startup", "pass", "new discoveries get")
            assert "does not start" not in c["message"] and "unknown" not in c["message"], repr(c)
            i = iscsi_facts(root)
            assert_eq((i["start_unknown"], i["start_fails"]), (None, None), path)
            assert_in(path + ":13", i["start_requires_conf"] or "")


def test_selinuxfs_elsewhere_with_a_long_device_name():
    # selinuxfs mounted elsewhere (libselinux's init_selinuxmnt() reads /proc/mounts): a device
    # name past a fixed 63-byte field shifted the fields and the mount was missed.
    dev = "/dev/mapper/" + "x" * 80
    with FixtureRoot() as root:
        remove(root, "/sys/fs/selinux")
        os.makedirs(os.path.join(root, "sys/fs/selinux"))
        write(root, "/proc/self/mounts", "%s /mnt/sel selinuxfs rw,relatime 0 0\n" % dev)
        write(root, "/mnt/sel/enforce", "1")
        s = facts(root)["selinux"]
        assert_eq(s["runtime"], "enforcing", repr(s))
        # the other direction: a mounts file that cannot be read is unknown, not "not mounted"
        mkfifo(root, "/proc/self/mounts")
        s = facts(root)["selinux"]
        assert_eq(s["runtime"], None, repr(s))
        assert_in("/proc/self/mounts: not a regular file: FIFO", s["runtime_unknown"] or "")


def test_kernel_image_that_cannot_be_looked_at_is_unknown():
    # A symlink loop at the new kernel's image made it "no image": the old kernel was then "the
    # only installed kernel" and its iscsi_tcp a pass.
    with FixtureRoot() as root:
        two_kernels(root, False)
        remove(root, "/boot/vmlinuz-%s" % NEW)
        os.symlink("vmlinuz-%s" % NEW, os.path.join(root, "boot/vmlinuz-%s" % NEW))
        b = expect_kernel_unknown(root, "/boot/vmlinuz-%s" % NEW, "Too many levels of symbolic "
                                  "links", "loop")
        assert_in("the installed kernels cannot be told", b["kernel_unknown"])
    # the other direction: no image at all for the new kernel: the old one is the only one
    with FixtureRoot() as root:
        two_kernels(root, False)
        remove(root, "/boot/vmlinuz-%s" % NEW)
        expect(check(root), KP, "pass", "into kernel %s" % KVER)


if __name__ == "__main__":
    from nptest import run_tests
    run_tests(dict(globals()))
