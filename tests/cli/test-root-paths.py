#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Every path a --root tree's site file names is resolved inside the tree; errors never quote
a file the caller may not read; a setting given takes effect or is refused.

- Profiles=/PATH in ROOT/etc/nodeprep/nodeprep.conf is ROOT/PATH, never the host's /PATH;
- a profile or site file given by path that is not readable by everyone (e.g. /etc/shadow,
  a 0600 file) is never quoted in an error: file:line and the problem class only;
- facts --set K=V with no profile to apply it to is refused (64), not ignored.
"""
import os
import pwd
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from nptest import (NODEPREPCTL, FixtureRoot, Skip, assert_eq, assert_in,  # noqa: E402
                    nodeprepctl, run_tests, write)

TOKEN = "rootonlyToken42"
PROFILE = "[Profile]\nDescription=in the tree\n\n[Check]\nId=sys.cpus\nMin=1\n"


def test_site_profiles_path_resolves_inside_the_root():
    tmp = tempfile.mkdtemp(prefix="nodeprep-host-")
    try:
        host_profile = write(tmp, "/p.conf", "[Profile]\nDescription=on the host\n")
        with FixtureRoot() as root:
            # The same path inside the tree holds a valid profile: that one is used.
            write(root, host_profile, PROFILE)
            write(root, "/etc/nodeprep/nodeprep.conf", "[Site]\nProfiles=%s\n" % host_profile)
            r = nodeprepctl("check", "--json", "--root", root)
            assert r.code in (0, 1, 2), repr(r)
            assert_eq([p["name"] for p in r.json["profiles"]], ["p"])
            assert_eq(r.status("sys.cpus"), "pass")
            # Absent inside the tree: an error naming the tree's path, not the host's file.
            os.unlink(os.path.join(root, host_profile.lstrip("/")))
            r = nodeprepctl("check", "--root", root)
            assert_eq(r.code, 64, repr(r))
            assert_in(root + host_profile + ": No such file or directory", r.err)
            # A host file such as /etc/shadow named by the tree is looked for in the tree.
            write(root, "/etc/nodeprep/nodeprep.conf", "[Site]\nProfiles=/etc/shadow\n")
            r = nodeprepctl("check", "--root", root)
            assert_in(root + "/etc/shadow", r.err)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def test_errors_never_quote_a_file_not_everyone_may_read():
    tmp = tempfile.mkdtemp(prefix="nodeprep-secret-")
    try:
        secret = write(tmp, "/secret.conf", "%s:$6$hash:19000:0:99999:7:::\n" % TOKEN, 0o600)
        for args in (["check", "--profile", secret], ["check", "--config", secret,
                                                       "--profile", "iomesh"]):
            with FixtureRoot() as root:
                r = nodeprepctl(*args, "--root", root)
                assert_eq(r.code, 65, repr(r))
                assert_in(secret + ":1: ", r.err)
                assert TOKEN not in r.err + r.out, r
        # Readable by everyone: the line may be quoted, as before.
        os.chmod(secret, 0o644)
        with FixtureRoot() as root:
            r = nodeprepctl("check", "--profile", secret, "--root", root)
            assert_in(TOKEN, r.err)
        # As an unprivileged user, a root-only file cannot even be read: no content either.
        if os.geteuid() == 0 and shutil.which("setpriv"):
            os.chmod(secret, 0o600)
            os.chmod(tmp, 0o755)
            nobody = pwd.getpwnam("nobody")
            with FixtureRoot() as root:
                os.chmod(os.path.dirname(root), 0o755)
                p = subprocess.run(["setpriv", "--reuid", str(nobody.pw_uid), "--regid",
                                    str(nobody.pw_gid), "--clear-groups", NODEPREPCTL, "check",
                                    "--profile", secret, "--root", root],
                                   capture_output=True, text=True, timeout=60)
                assert p.returncode == 65, (p.returncode, p.stderr)
                assert_in("Permission denied", p.stderr)
                assert TOKEN not in p.stderr + p.stdout
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def test_set_without_a_profile_is_refused():
    with FixtureRoot() as root:
        empty = tempfile.mkdtemp(prefix="nodeprep-noprofiles-")
        try:
            shutil.rmtree(os.path.join(root, "etc/nodeprep"))
            r = nodeprepctl("facts", "--json", "--root", root, "--set", "IncludeLoopDevices=yes",
                            env={"NODEPREP_PROFILE_PATH": empty})
            assert_eq(r.code, 64, repr(r))
            assert_in("--set IncludeLoopDevices=yes: no profile", r.err)
            # With a profile it takes effect.
            r = nodeprepctl("facts", "--json", "--root", root, "--set", "IncludeLoopDevices=yes")
            assert_eq(r.code, 0, repr(r))
            assert_eq(r.json["disks_include_loop"], True)
        finally:
            shutil.rmtree(empty, ignore_errors=True)


if __name__ == "__main__":
    run_tests(globals())
