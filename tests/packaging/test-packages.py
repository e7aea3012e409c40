# SPDX-License-Identifier: LGPL-2.1-or-later
"""packaging/build-packages builds the .deb and the .rpm with no lintian or rpmlint error, and
both packages hold what the install rules promise: the binary, the seven profiles, the site file
as a conffile / %config(noreplace), the man pages, the state directory (created by the .deb's
postinst and removed only on purge), and the daemon's units with their scriptlets whenever the
source tree installs units."""
import glob
import atexit
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


def sh(*cmd):
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          check=True).stdout


def profiles_in_tree():
    return sorted(os.path.basename(p) for p in glob.glob(os.path.join(SRCDIR, "conf", "profiles",
                                                                      "*.conf")))


def units_in_tree():
    """Unit names the source tree installs (units/*.service, *.socket, or their .in templates)."""
    names = set()
    for p in glob.glob(os.path.join(SRCDIR, "units", "*")):
        n = os.path.basename(p)
        n = n[:-3] if n.endswith(".in") else n
        if n.endswith((".service", ".socket")):
            names.add(n)
    return sorted(names)


def build():
    global OUT
    need = ["dpkg-buildpackage", "dh", "lintian", "rpmbuild", "rpmlint", "git"]
    missing = [t for t in need if shutil.which(t) is None]
    if missing:
        raise Skip("missing %s (tools/install-deps --test)" % ", ".join(missing))
    OUT = tempfile.mkdtemp(prefix="nodeprep-packages-")
    atexit.register(shutil.rmtree, OUT, True)  # also when a test fails
    r = subprocess.run([os.path.join(SRCDIR, "packaging", "build-packages"), "--outdir", OUT],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    print("\n".join("# " + line for line in r.stdout.splitlines()))
    assert_eq(r.returncode, 0, "build-packages (with lintian and rpmlint) exit status")


def one(pattern):
    found = glob.glob(os.path.join(OUT, pattern))
    assert_eq(len(found), 1, "packages matching %s" % pattern)
    return found[0]


# What issues 4 and 8 add to both packages: the daemon, its tmpfiles.d snippet (the NFD
# directory), bash completion, the daemon's and the interface's man pages, the NPD example.
SHIPPED = ["/usr/bin/nodeprepctl", "/usr/sbin/nodeprepd", "/etc/nodeprep/nodeprep.conf",
           "/usr/lib/tmpfiles.d/nodeprep.conf",
           "/usr/share/bash-completion/completions/nodeprepctl",
           "/usr/share/man/man8/nodeprepctl.8.gz", "/usr/share/man/man8/nodeprepd.8.gz",
           "/usr/share/man/man7/nodeprep-varlink.7.gz", "/usr/share/man/man5/nodeprep.conf.5.gz",
           "/usr/share/man/man5/nodeprep.profile.5.gz",
           "/usr/share/nodeprep/npd/nodeprep-plugin-monitor.json"]
NFD_CLEANUP = "/etc/kubernetes/node-feature-discovery/features.d/nodeprep"


def test_build_and_lint():
    build()
    # The tree stays clean: nothing written next to the sources.
    assert not os.path.exists(os.path.join(SRCDIR, "debian")), "debian/ created in the tree"


def test_deb_contents():
    if OUT is None:
        raise Skip("no packages")
    deb = one("nodeprep_*-1_*.deb")
    files = set(re.sub(r"^\./", "/", line.split()[-1]) for line in
                sh("dpkg-deb", "-c", deb).splitlines())
    for p in SHIPPED + ["/usr/share/doc/nodeprep/copyright"]:
        assert_in(p, files, "the .deb")
    shipped = sorted(os.path.basename(p) for p in files
                     if p.startswith("/usr/share/nodeprep/profiles/") and p.endswith(".conf"))
    assert_eq(shipped, profiles_in_tree(), "profiles in the .deb")
    ctl = tempfile.mkdtemp(prefix="nodeprep-deb-control-")
    try:
        sh("dpkg-deb", "-e", deb, ctl)
        assert_eq(open(os.path.join(ctl, "conffiles")).read().split(),
                  ["/etc/nodeprep/nodeprep.conf"], "conffiles")
        postinst = open(os.path.join(ctl, "postinst")).read()
        postrm = open(os.path.join(ctl, "postrm")).read()
        assert_in("install -d -m 0755 /var/lib/nodeprep", postinst, "postinst")
        assert_in("systemd-tmpfiles", postinst, "postinst creates the NFD directory")
        assert_in(NFD_CLEANUP, postrm, "postrm removes nodeprepd's NFD labels")
        purge = re.search(r'if \[ "\$1" = purge \]; then(.*?)\nfi', postrm, re.S)
        assert purge and "rm -rf /var/lib/nodeprep" in purge.group(1), \
            "postrm removes /var/lib/nodeprep only on purge:\n" + postrm
        units = units_in_tree()
        for u in units:
            assert any(f.endswith("/systemd/system/" + u) for f in files), "%s not in .deb" % u
            assert_in(u, postinst, "postinst handles the unit")
        if not units:
            assert not any("/systemd/system/" in f for f in files), "units without units/"
            assert "deb-systemd" not in postinst, "systemd snippets without units"
    finally:
        shutil.rmtree(ctl)


def test_rpm_contents():
    if OUT is None:
        raise Skip("no packages")
    rpm = one("nodeprep-*-1.*.rpm")
    files = set(sh("rpm", "-qlp", rpm).split())
    for p in SHIPPED + ["/var/lib/nodeprep"]:
        assert_in(p, files, "the .rpm")
    shipped = sorted(os.path.basename(p) for p in files
                     if p.startswith("/usr/share/nodeprep/profiles/") and p.endswith(".conf"))
    assert_eq(shipped, profiles_in_tree(), "profiles in the .rpm")
    assert_eq(sh("rpm", "-qcp", rpm).split(), ["/etc/nodeprep/nodeprep.conf"], "%config files")
    # %config(noreplace): an edited site file survives an upgrade.
    flags = sh("rpm", "-qp", "--qf", "[%{FILENAMES} %{FILEFLAGS:fflags}\n]", rpm)
    assert_in("/etc/nodeprep/nodeprep.conf cn", flags, "file flags")
    scripts = sh("rpm", "-qp", "--scripts", rpm)
    for u in ["nodeprepd.service", "nodeprep.socket"]:
        assert_in(u, scripts, "rpm scriptlets")
    assert_in("systemd-tmpfiles --create nodeprep.conf", scripts, "rpm %post")
    assert_in(NFD_CLEANUP, scripts, "rpm %postun")
    for u in units_in_tree():
        assert any(f.endswith("/systemd/system/" + u) for f in files), "%s not in .rpm" % u


def test_revision_upgrade_erase():
    """Revision 2 sorts after 1 for dpkg; rpm (into a private root, no scriptlets: there is no
    systemd in it) keeps an edited site file on upgrade, saves it as .rpmsave on erase and
    leaves nothing else behind. The .deb side of this runs in the VM suite (vm-basic)."""
    if OUT is None:
        raise Skip("no packages")
    out = tempfile.mkdtemp(prefix="nodeprep-packages-rev-")
    try:
        env = dict(os.environ, DEB_BUILD_OPTIONS="nocheck")
        subprocess.run([os.path.join(SRCDIR, "packaging", "build-packages"), "--no-lint",
                        "--revision", "2", "--outdir", out], env=env, check=True,
                       stdout=subprocess.DEVNULL)
        deb2 = glob.glob(os.path.join(out, "nodeprep_*-2_*.deb"))[0]
        rpm2 = glob.glob(os.path.join(out, "nodeprep-*-2.*.rpm"))[0]
        v1 = sh("dpkg-deb", "-f", one("nodeprep_*-1_*.deb"), "Version").strip()
        v2 = sh("dpkg-deb", "-f", deb2, "Version").strip()
        subprocess.run(["dpkg", "--compare-versions", v2, "gt", v1], check=True)

        root = os.path.join(out, "root")
        os.mkdir(root)
        rpm = ["rpm", "--root", root, "--nodeps", "--noscripts"]
        sh("rpm", "--root", root, "--initdb")
        sh(*rpm, "-i", one("nodeprep-*-1.*.rpm"))
        conf = os.path.join(root, "etc/nodeprep/nodeprep.conf")
        with open(conf, "a") as f:
            f.write("# edited by test-packages\n")
        sh(*rpm, "-U", rpm2)
        assert_eq(sh("rpm", "--root", root, "-q", "nodeprep").strip().rsplit("-", 1)[1][:1], "2",
                  "release after the upgrade")
        assert_in("# edited by test-packages", open(conf).read(), "site file after the upgrade")
        assert_eq(sorted(os.listdir(os.path.dirname(conf))), ["nodeprep.conf"], "/etc/nodeprep")
        sh(*rpm, "-e", "nodeprep")
        left = []
        for d, dirs, files in os.walk(root):
            rel = os.path.relpath(d, root)
            dirs[:] = [n for n in dirs if os.path.join(rel, n) not in
                       ("var/lib/rpm", "root/.rpmdb", "usr/lib/sysimage")]
            left += [os.path.join("/", rel, n) for n in files]
        assert_eq(sorted(left), ["/etc/nodeprep/nodeprep.conf.rpmsave"], "files left after erase")
    finally:
        shutil.rmtree(out)


def test_zz_cleanup():
    if OUT:
        shutil.rmtree(OUT)


if __name__ == "__main__":
    nptest.run_tests(globals())
