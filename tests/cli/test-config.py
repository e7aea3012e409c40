#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Profiles, drop-ins, the site file and --set: what loads, what is refused, and how it is said.

A bad profile or site file is exit 65 with FILE:LINE: what is wrong; a bad argument is exit 64.
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from nptest import (FixtureRoot, assert_eq, assert_in, check_json, nodeprepctl,  # noqa: E402
                    read, remove, run_tests, write)

DROPIN = "/etc/nodeprep/profiles/iomesh.conf.d/70-test.conf"
SITE = "/etc/nodeprep/nodeprep.conf"


def expect_config_error(root, path, line, text, code=65, args=()):
    r = nodeprepctl("check", "--root", root, *args)
    assert_eq(r.code, code, repr(r))
    # "nodeprepctl: FILE:LINE: what is wrong", on one line.
    first = r.err.splitlines()[0]
    if path:
        assert_in("nodeprepctl: " + os.path.join(root, path.lstrip("/")) + ":%d: " % line, first)
    assert_in(text, first)
    assert_eq(r.out, "")
    return r


def test_bad_profile_files():
    cases = [
        ("[Checks]\n", 1, "unknown section [Checks]"),
        ("[Check]\nId=fs.free:/opt\nMinFree=100QB\n", 3, "MinFree=100QB: expected a size"),
        ("[Check]\nId=fs.free:/opt\nMaxFree=1G\n", 3, "unknown key MaxFree="),
        ("[Check]\nTitle=x\n", 2, "Title= before Id="),
        ("[Check]\nId=disk.free-nvme\n", 2, "Id=disk.free-nvme: unknown check type"),
        ("[Check]\nId=kubelet.version\nMinVersion=1.25\nMaxVersion=1.21\n", 4,
         "[Check] Id=kubelet.version: bad version range: MinVersion=1.25 is above MaxVersion=1.21"),
        ("[Check]\nId=kubelet.version\nMinVersion=1.x\n", 3, "MinVersion=1.x: expected a version"),
        ("[Settings]\nDataCIDR=10.0.0.0/33\n", 2, "DataCIDR=10.0.0.0/33: not a valid CIDR"),
        ("[Settings]\nMinDiskSize=lots\n", 2, "MinDiskSize=lots: bad size"),
        ("[Settings]\nMinLinkSpeed=fast\n", 2, "MinLinkSpeed=fast: expected a speed"),
        ("[Settings]\nFoo=1\n", 2, "unknown setting Foo="),
        ("[Check]\nId=iscsi.conf:node.startup\nExpect=manual\nMin=1\n", 4,
         "[Check] Id=iscsi.conf:node.startup: needs exactly one of Expect= or Min="),
        ("[Check]\nId=iscsi.conf:node.session.iscsi.MaxRecvDataSegmentLength\n", 2,
         "is not an open-iscsi setting"),
        ("[Check]\nId=fs.free:/opt/../etc\n", 2, "is not a clean absolute path"),
        ("[Check]\nId=fs.free:my path\n", 2, "neither an absolute path nor a path name"),
        ("[Check]\nId=selinux.runtime:x\n", 2, "takes no \":INSTANCE\""),
        ("[Check]\nId=kmod.loaded\n", 2, "needs a module name"),
        ("[Check]\nId=selinux.runtime\nSeverity=critical\n", 3, "Severity=critical"),
        ("[Check]\nId=selinux.runtime\nId=selinux.config\n", 3, "Id= given twice"),
        ("Description=x\n", 1, "Description= outside of a section"),
        ("[Profile]\nthis is not a key\n", 2, "syntax error"),
        ("[Profile\n", 1, "malformed section header"),
        ("[Profile]\nDescription=" + "x" * 300 + "\n", 2, "line is longer than"),
        ("[" + "C" * 60 + "]\n", 1, "section name longer than"),
        ("[Profile]\nDescription=\xff\n", 2, "not valid UTF-8"),
    ]
    for text, line, message in cases:
        with FixtureRoot() as root:
            if "\xff" in text:
                write(root, DROPIN, text.encode("latin-1"))
            else:
                write(root, DROPIN, text)
            expect_config_error(root, DROPIN, line, message)


def test_bad_site_file():
    cases = [
        ("[Site]\nProfile=iomesh\n", 2, "unknown key Profile= in [Site]"),
        ("[Settings]\nDataCIDR=10.0.0.0/33\n", 2, "DataCIDR=10.0.0.0/33: not a valid CIDR"),
        ("[Override]\nIgnore=yes\n", 2, "Ignore= before Check="),
        ("[Override]\nCheck=selinux.runtime\nIgnore=perhaps\n", 3, "Ignore=perhaps"),
        ("[Override]\nCheck=selinux.runtime\nSeverity=low\n", 3, "Severity=low"),
        ("[Daemons]\n", 1, "unknown section [Daemons]"),
    ]
    for text, line, message in cases:
        with FixtureRoot() as root:
            write(root, SITE, text)
            expect_config_error(root, SITE, line, message, args=("--profile", "iomesh"))


def test_usage_errors():
    with FixtureRoot() as root:
        r = nodeprepctl("check", "--root", root, "--profile", "no-such-product")
        assert_eq(r.code, 64, repr(r))
        assert_in("no profile named \"no-such-product\"", r.err)
        r = nodeprepctl("check", "--root", root, "--set", "DataCIDR=10.1.0.0/33")
        assert_eq(r.code, 64)
        assert_in("--set DataCIDR=10.1.0.0/33: not a valid CIDR", r.err)
        r = nodeprepctl("check", "--root", root, "--set", "Colour=blue")
        assert_eq(r.code, 64)
        assert_in("unknown setting \"Colour\" (known: MinFreeSSD,", r.err)
        r = nodeprepctl("check", "--root", root, "--set", "novalue")
        assert_eq(r.code, 64)
        r = nodeprepctl("check", "--root", root, "--bogus")
        assert_eq(r.code, 64)
        r = nodeprepctl("frobnicate")
        assert_eq(r.code, 64)
        assert_in("unknown verb", r.err)
        r = nodeprepctl("profiles", "--set", "DataCIDR=10.0.0.0/8")
        assert_eq(r.code, 64)
        assert_in("option not accepted here", r.err)
        r = nodeprepctl("check", "--root", "/nonexistent/root")
        assert_eq(r.code, 64)
        # No profile requested and none configured: say which exist.
        remove(root, SITE)
        r = nodeprepctl("check", "--root", root)
        assert_eq(r.code, 64)
        assert_in("no profile requested", r.err)
        assert_in("(available: flow-like-client, flow-like, influxdb-clustered-client, "
                  "influxdb-clustered, iomesh, the-things-stack-client, the-things-stack)", r.err)


def test_empty_arguments_are_refused():
    """--root "" from an unset shell variable must not mean the live host."""
    with FixtureRoot() as root:
        for args, message in [
                (("check", "--root", ""), "--root needs a directory"),
                (("plan", "--local", "--root", ""), "--root needs a directory"),
                (("apply", "--local", "--root", ""), "--root needs a directory"),
                (("rollback", "--local", "--root", ""), "--root needs a directory"),
                (("facts", "--root", ""), "--root needs a directory"),
                (("check", "--root", root, "--config", ""), "--config needs a file"),
                (("plan", "--local", "--root", root, "--config", ""), "--config needs a file"),
                (("status", "--socket", ""), "--socket needs a path"),
                (("apply", "--socket", ""), "--socket needs a path")]:
            r = nodeprepctl(*args)
            assert_eq(r.code, 64, repr(r))
            assert_in(message, r.err, repr(r))
            assert_eq(r.out, "", repr(r))


def test_config_dev_null_is_an_empty_site_file():
    with FixtureRoot() as root:
        r = nodeprepctl("check", "--json", "--root", root, "--config", "/dev/null",
                        "--profile", "iomesh")
        assert r.code in (0, 1, 2), repr(r)
        assert_eq(r.json["profiles"][0]["name"], "iomesh")
        # Empty: no Profiles= of its own.
        r = nodeprepctl("check", "--root", root, "--config", "/dev/null")
        assert_eq(r.code, 64, repr(r))
        assert_in("no profile requested", r.err)
        # Another device or a FIFO is refused with the reason, not "bad file descriptor".
        r = nodeprepctl("check", "--root", root, "--config", "/dev/zero", "--profile", "iomesh")
        assert_eq(r.code, 65, repr(r))
        assert_in("cannot read /dev/zero: not a regular file: character device", r.err)


def test_help_and_version():
    r = nodeprepctl("--version")
    assert_eq(r.code, 0)
    assert_in("nodeprepctl ", r.out)
    r = nodeprepctl("--help")
    assert_eq(r.code, 0)
    assert_in("check [--profile P]", r.out)
    for verb in ("check", "facts", "profiles"):
        r = nodeprepctl(verb, "--help")
        assert_eq(r.code, 0)
        assert_in("Usage: nodeprepctl " + verb, r.out)


def test_set_and_site_settings():
    with FixtureRoot() as root:
        r = check_json(root)
        assert_eq(r.status("nic.data-cidr"), "skip")
        # --set enables the data-network check (unknown here: links come from the test machine).
        r = check_json(root, "--set", "DataCIDR=10.20.0.0/24")
        c = r.check("nic.data-cidr")
        assert c["status"] != "skip", c
        assert_in("10.20.0.0/24", c["expected"])
        assert_eq(r.json["profiles"][0]["settings"]["DataCIDR"], "10.20.0.0/24 (--set)")
        # The site file sets it too, and --set wins over it.
        write(root, SITE, read(root, SITE) + "\n[Settings]\nDataCIDR=10.30.0.0/16\n")
        r = check_json(root)
        assert_in("10.30.0.0/16", r.check("nic.data-cidr")["expected"])
        assert_in("nodeprep.conf:", r.json["profiles"][0]["settings"]["DataCIDR"])
        r = check_json(root, "--set", "DataCIDR=10.20.0.0/24")
        assert_in("10.20.0.0/24", r.check("nic.data-cidr")["expected"])


def test_overrides_are_recorded():
    with FixtureRoot() as root:
        write(root, "/etc/iscsi/iscsid.conf", "node.startup = automatic\n")
        write(root, "/etc/nodeprep/nodeprep.conf.d/10-lab.conf",
              "[Override]\nCheck=iscsi.conf:node.startup\nSeverity=recommended\n"
              "Reason=lab hosts log in by hand\n\n"
              "[Override]\nCheck=no.such-check\nIgnore=yes\n")
        r = check_json(root)
        c = r.check("iscsi.conf:node.startup")
        # Downgraded: a warning, with the site file line and reason in the report.
        assert_eq(c["status"], "warn")
        assert_eq(c["severity"], "recommended")
        assert_in("10-lab.conf:2: Severity=recommended (profile says required)", c["override"])
        # An override that matches no check is a warning, not silence.
        assert_in("Check=no.such-check matches no check", r.err)
        assert_in("Check=no.such-check matches no check", r.json["warnings"][0])


def test_profile_by_path_and_masking():
    with FixtureRoot() as root:
        # A profile file by path, without drop-ins.
        path = os.path.join(root, "my.conf")
        write(root, "/my.conf", "[Profile]\nDescription=Mine\n[Check]\nId=selinux.runtime\n")
        r = nodeprepctl("check", "--json", "--root", root, "--profile", path)
        assert_eq(r.code, 0, repr(r))
        assert_eq(r.json["profiles"][0]["name"], "my")
        assert_eq(len(r.json["profiles"][0]["checks"]), 1)
        # /etc replaces the shipped profile of the same name.
        write(root, "/etc/nodeprep/profiles/iomesh.conf",
              "[Profile]\nDescription=Site IOMesh\n[Check]\nId=selinux.config\n")
        r = check_json(root)
        assert_eq(r.json["profiles"][0]["description"], "Site IOMesh")
        r = nodeprepctl("profiles", "--root", root)
        assert_in("(replaces ", r.out)
        # A /dev/null symlink masks it.
        remove(root, "/etc/nodeprep/profiles/iomesh.conf")
        os.symlink("/dev/null", os.path.join(root, "etc/nodeprep/profiles/iomesh.conf"))
        r = nodeprepctl("check", "--root", root)
        assert_eq(r.code, 64)
        assert_in("profile iomesh is masked", r.err)


def test_dropins_in_lexical_order():
    with FixtureRoot() as root:
        d = "/etc/nodeprep/profiles/iomesh.conf.d/"
        write(root, d + "80-b.conf", "[Check]\nId=fs.free:/opt\nMinFree=2MB\n")
        write(root, d + "90-a.conf", "[Check]\nId=fs.free:/opt\nMinFree=3MB\n")
        # A same-named drop-in in /etc hides the one in /run; an empty one changes nothing.
        write(root, "/run/nodeprep/profiles/iomesh.conf.d/99-z.conf",
              "[Check]\nId=fs.free:/opt\nMinFree=1000PB\n")
        write(root, d + "99-z.conf", "")
        r = check_json(root)
        assert_eq(r.check("fs.free:/opt")["expected"], ">= 3.00 MB free")
        assert_in("90-a.conf", r.json["profiles"][0]["source"])


def test_several_profiles():
    with FixtureRoot() as root:
        write(root, "/etc/nodeprep/profiles/lab.conf",
              "[Profile]\nDescription=Lab\n[Check]\nId=selinux.runtime\n"
              "[Check]\nId=iscsi.conf:node.startup\nExpect=automatic\n")
        r = check_json(root, "--profile", "iomesh", "--profile", "lab")
        names = [p["name"] for p in r.json["profiles"]]
        assert_eq(names, ["iomesh", "lab"])
        assert_eq(r.status("iscsi.conf:node.startup", "lab"), "fail")
        assert_eq(r.json["profiles"][1]["ready"], False)
        assert_eq(r.json["ready"], False)
        r = check_json(root, "--profile", "iomesh", "--profile", "iomesh")
        assert_eq(r.code, 64)


def test_profiles_verb():
    with FixtureRoot() as root:
        r = nodeprepctl("profiles", "--root", root, "--json")
        assert_eq(r.code, 0, repr(r))
        iomesh = [p for p in r.json if p["name"] == "iomesh"][0]
        assert_in("conf/profiles/iomesh.conf", iomesh["path"])
        assert_in("50-fixture.conf", iomesh["dropins"][0])
        write(root, "/etc/nodeprep/profiles/broken.conf", "[Nope]\n")
        r = nodeprepctl("profiles", "--root", root)
        assert_eq(r.code, 0)
        assert_in("broken", r.out)
        assert_in("unknown section [Nope]", r.out)


if __name__ == "__main__":
    run_tests(globals())
