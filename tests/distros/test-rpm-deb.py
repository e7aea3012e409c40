#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""The .rpm holds what the .deb holds: packaging/build-packages builds both (lintian and rpmlint
must report no error, and rpmlint no warning beyond those packaging/README.md keeps), the .rpm is
installed into an empty root with `rpm --root --nodeps --noscripts` (there is no RPM distribution
here), and compared with the .deb unpacked: the same files with the same modes and owners, the
same configuration files kept on upgrade (conffiles / %config(noreplace)), and scriptlets that do
the same things (packaging/README.md: what each package does on install, upgrade and removal).

Differences by distribution policy, allowed and listed here: the unit directory (/lib on Debian
12, /usr/lib on RPM), the documentation directories, rpm's /usr/lib/.build-id links, the Debian
changelog and copyright against %license, /var/lib/nodeprep (%dir in the .rpm, postinst in the
.deb), and Fedora's rule that an installed service is preset, not started."""
import atexit
import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import nptest  # noqa: E402
from nptest import Skip, assert_eq, assert_in  # noqa: E402

SRCDIR = nptest.SRCDIR
OUT = None
UNITS = ["nodeprepd.service", "nodeprep.socket"]
# rpmlint warnings packaging/README.md explains ("Lint results kept").
RPMLINT_KEPT = {"unstripped-binary-or-object", "no-url-tag", "no-manual-page-for-binary",
                "no-buildroot-tag", "invalid-url", "invalid-license", "dangerous-command-in-%postun"}


def sh(*cmd, **kw):
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          check=True, **kw).stdout


def normalize(path):
    """A path as both packages should have it, distribution conventions taken out; None for
    what only one of them has by policy."""
    path = re.sub(r"^/lib/systemd(?=/|$)", "/usr/lib/systemd", path)
    if path.startswith(("/usr/lib/.build-id", "/usr/share/doc/", "/usr/share/licenses/")):
        return None
    if path in ("/usr/share/doc", "/usr/share/licenses", "/var/lib/nodeprep"):
        return None
    return path


# Directories every system has: the .deb lists them (tar), rpm does not own them.
SYSTEM_DIRS = {"/", "/etc", "/lib", "/usr", "/usr/bin", "/usr/sbin", "/usr/lib", "/usr/share",
               "/usr/share/man", "/usr/share/man/man5", "/usr/share/man/man7",
               "/usr/share/man/man8", "/usr/lib/systemd", "/usr/lib/systemd/system",
               "/usr/lib/tmpfiles.d", "/usr/share/bash-completion",
               "/usr/share/bash-completion/completions", "/var", "/var/lib"}


def deb_files(deb):
    files = {}
    for line in sh("dpkg-deb", "-c", deb).splitlines():
        f = line.split()
        mode, owner, path = f[0], f[1], re.sub(r"^\./", "/", f[5]).rstrip("/") or "/"
        p = normalize(path)
        if p and p not in SYSTEM_DIRS:
            files[p] = (mode, owner)
    return files


def rpm_files(root):
    files = {}
    out = sh("rpm", "--root", root, "-q", "--qf",
             "[%{FILEMODES:perms} %{FILEUSERNAME}/%{FILEGROUPNAME} %{FILENAMES}\n]", "nodeprep")
    for line in out.splitlines():
        mode, owner, path = line.split(" ", 2)
        p = normalize(path)
        if p and p not in SYSTEM_DIRS:
            files[p] = (mode, owner)
            # Installed for real: the file on disk has the mode and owner the header says.
            st = os.lstat(os.path.join(root, path.lstrip("/")))
            assert_eq((st.st_uid, st.st_gid), (0, 0), "owner of %s in the rpm root" % path)
    return files


def build():
    global OUT
    need = ["dpkg-buildpackage", "dh", "lintian", "rpmbuild", "rpmlint", "rpm", "git"]
    missing = [t for t in need if shutil.which(t) is None]
    if missing:
        raise Skip("missing %s (tools/install-deps --test)" % ", ".join(missing))
    OUT = tempfile.mkdtemp(prefix="distros-rpm-deb-")
    atexit.register(shutil.rmtree, OUT, True)
    r = subprocess.run([os.path.join(SRCDIR, "packaging", "build-packages"), "--outdir", OUT],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    with open(os.path.join(OUT, "build.log"), "w") as f:
        f.write(r.stdout)
    assert_eq(r.returncode, 0, "build-packages (lintian and rpmlint without errors):\n" +
              r.stdout[-3000:])
    return r.stdout


def one(pattern):
    found = glob.glob(os.path.join(OUT, pattern))
    assert_eq(len(found), 1, "packages matching %s" % pattern)
    return found[0]


def test_rpmlint_only_kept_warnings():
    log = build()
    tags = set(re.findall(r"^nodeprep[.\w]*: [WE]: (\S+)", log, re.M))
    assert not re.search(r"^nodeprep[.\w]*: E: ", log, re.M), log
    assert_eq(sorted(tags - RPMLINT_KEPT), [], "rpmlint warnings packaging/README.md does not keep")


def test_same_files_modes_owners():
    if OUT is None:
        raise Skip("no packages")
    root = os.path.join(OUT, "rpmroot")
    os.mkdir(root)
    sh("rpm", "--root", root, "--initdb")
    sh("rpm", "--root", root, "--nodeps", "--noscripts", "-i", one("nodeprep-*.rpm"))
    deb, rpm = deb_files(one("nodeprep_*.deb")), rpm_files(root)
    assert_eq(sorted(set(deb) - set(rpm)), [], "in the .deb only")
    assert_eq(sorted(set(rpm) - set(deb)), [], "in the .rpm only")
    diff = {p: (deb[p], rpm[p]) for p in deb if deb[p] != rpm[p]}
    assert_eq(diff, {}, "mode or owner differs (.deb, .rpm)")
    assert_in("/usr/lib/systemd/system/nodeprepd.service", rpm, "files")
    print("# %d files and directories alike" % len(deb))
    # What each installs as documentation: the README in both.
    assert re.search(r" \./usr/share/doc/nodeprep/README\.md(\.gz)?$",
                     sh("dpkg-deb", "-c", one("nodeprep_*.deb")), re.M), ".deb docs"
    assert any(p.endswith("/README.md") for p in sh("rpm", "--root", root, "-qd",
                                                     "nodeprep").split()), ".rpm docs"


def test_same_config_files():
    if OUT is None:
        raise Skip("no packages")
    ctl = os.path.join(OUT, "debctl")
    sh("dpkg-deb", "-e", one("nodeprep_*.deb"), ctl)
    conffiles = open(os.path.join(ctl, "conffiles")).read().split()
    flags = {}
    for line in sh("rpm", "-qp", "--qf", "[%{FILEFLAGS:fflags} %{FILENAMES}\n]",
                   one("nodeprep-*.rpm")).splitlines():
        f, path = line.split(" ", 1)
        if "c" in f:
            flags[path] = f
    assert_eq(sorted(flags), sorted(conffiles), "%config files against conffiles")
    for f in conffiles:
        assert_in("n", flags[f], "%s is %%config(noreplace)" % f)


def test_scriptlets_do_the_same():
    """Per event, what the .deb's maintainer scripts and the .rpm's scriptlets must both do."""
    if OUT is None:
        raise Skip("no packages")
    ctl = os.path.join(OUT, "debctl2")
    sh("dpkg-deb", "-e", one("nodeprep_*.deb"), ctl)
    deb = {n: open(os.path.join(ctl, n)).read() for n in ("postinst", "prerm", "postrm")}
    rpm = {}
    for m in re.finditer(r"^(\w+) scriptlet \(using [^)]*\):\n(.*?)(?=^\w+ scriptlet|\Z)",
                         sh("rpm", "-qp", "--scripts", one("nodeprep-*.rpm")), re.M | re.S):
        rpm[m.group(1)] = m.group(2)
    nfd = "/etc/kubernetes/node-feature-discovery/features.d/nodeprep"
    # [what, .deb script, pattern, .rpm scriptlet, pattern]
    table = [
        ["the NFD directory from tmpfiles.d on install", "postinst",
         r"systemd-tmpfiles .*--create nodeprep\.conf", "postinstall",
         r"systemd-tmpfiles --create nodeprep\.conf"],
        ["units enabled on install (rpm: as the preset says)", "postinst",
         r"deb-systemd-helper enable 'nodeprep\.socket'", "postinstall",
         r"systemctl --no-reload preset nodeprepd\.service nodeprep\.socket"],
        ["units restarted after an upgrade", "postinst", r"_dh_action=restart", "postuninstall",
         r"\$1 -ge 1 \]; then systemctl try-restart nodeprepd\.service nodeprep\.socket"],
        ["units stopped on removal", "prerm",
         r"\"\$1\" = remove .*\n\s*deb-systemd-invoke stop 'nodeprep\.socket' 'nodeprepd\.service'",
         "preuninstall",
         r"\$1 -eq 0 \]; then systemctl --no-reload disable --now nodeprepd\.service nodeprep\.socket"],
        ["nodeprepd's NFD labels removed on removal", "postrm", re.escape(nfd), "postuninstall",
         re.escape(nfd)],
    ]
    for what, dname, dpat, rname, rpat in table:
        assert re.search(dpat, deb[dname]), ".deb %s does not do: %s\n%s" % (dname, what,
                                                                              deb[dname])
        assert re.search(rpat, rpm.get(rname, "")), ".rpm %s does not do: %s\n%s" % (
            rname, what, rpm.get(rname))
        print("# both: %s" % what)
    # The state directory: the .deb makes it in postinst, the .rpm owns it (%dir).
    assert_in("install -d -m 0755 /var/lib/nodeprep", deb["postinst"], ".deb postinst")
    assert_in("/var/lib/nodeprep", sh("rpm", "-qlp", one("nodeprep-*.rpm")).split(), ".rpm files")
    # Only the .deb starts the units on install (Debian's policy; Fedora's presets only).
    assert_in("deb-systemd-invoke $_dh_action 'nodeprep.socket' 'nodeprepd.service'",
              deb["postinst"], ".deb postinst")
    assert "start" not in rpm.get("postinstall", ""), rpm.get("postinstall")


if __name__ == "__main__":
    nptest.run_tests(globals())
