#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Apply on full file systems (small tmpfs mounts inside a fixture root): the edited file is
always the whole old or the whole new one, the error is reported, and what was saved is usable
for rollback. Needs root (mount)."""
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from nptest import (Skip, assert_eq, assert_in, assert_same_tree, make_failing_root,  # noqa: E402
                    nodeprepctl, require_root, run_tests, snapshot)


class Tmpfs:
    """A small tmpfs over path (its files copied in), filled up until nothing more fits."""

    def __init__(self, path, size="128k", fill=True):
        self.path, self.size, self.fill = path, size, fill

    def __enter__(self):
        saved = self.path + ".saved"
        shutil.copytree(self.path, saved, symlinks=True)
        # The directory's own mode (tmpfs would make it 1777, which nodeprep refuses for its
        # state directory).
        mode = "%o" % (os.stat(self.path).st_mode & 0o7777)
        r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=%s,mode=%s" % (self.size, mode),
                            "tmpfs", self.path], capture_output=True, text=True)
        if r.returncode != 0:
            shutil.rmtree(saved)
            raise Skip("cannot mount tmpfs: " + r.stderr.strip())
        try:
            for name in os.listdir(saved):
                s, d = os.path.join(saved, name), os.path.join(self.path, name)
                if os.path.isdir(s) and not os.path.islink(s):
                    shutil.copytree(s, d, symlinks=True)
                else:
                    shutil.copy2(s, d, follow_symlinks=False)
            shutil.rmtree(saved)
            if self.fill:
                fd = os.open(os.path.join(self.path, ".filler"), os.O_WRONLY | os.O_CREAT, 0o600)
                try:
                    while os.write(fd, b"\0" * 512) > 0:
                        pass
                except OSError:
                    pass  # full: what we wanted
                finally:
                    os.close(fd)
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc):
        subprocess.run(["umount", "-l", self.path], check=False)
        return False


def test_full_target_directory():
    require_root()
    root = make_failing_root()
    try:
        iscsi = os.path.join(root, "etc/iscsi")
        with Tmpfs(iscsi):
            before = open(os.path.join(iscsi, "iscsid.conf"), "rb").read()
            r = nodeprepctl("apply", "--local", "--json", "--root", root)
            # The iscsid.conf edit fails for want of space; the rest is still done and reported.
            assert_eq(r.code, 1, repr(r))
            c = [x for x in r.json["checks"] if x["id"] == "iscsi.conf:node.startup"][0]
            assert_eq(c["outcome"], "failed", c)
            assert_in("No space left on device", c["message"])
            assert_eq(open(os.path.join(iscsi, "iscsid.conf"), "rb").read(), before)
            leftovers = [n for n in os.listdir(iscsi) if n not in ("iscsid.conf", ".filler",
                                                                  "initiatorname.iscsi")]
            assert_eq(leftovers, [], "temporary files left in /etc/iscsi")
            # What did change (SELinux config, modules-load.d) rolls back from the backup.
            change = r.json["change_id"]
            assert change
            r = nodeprepctl("rollback", "--local", "--root", root, change)
            assert_eq(r.code, 0, repr(r))
            assert_eq(open(os.path.join(iscsi, "iscsid.conf"), "rb").read(), before)
    finally:
        shutil.rmtree(os.path.dirname(root), ignore_errors=True)


def test_full_backup_directory():
    require_root()
    root = make_failing_root()
    try:
        state = os.path.join(root, "var/lib/nodeprep")
        os.makedirs(state)
        before = snapshot(root)
        with Tmpfs(state, size="16k"):
            r = nodeprepctl("apply", "--local", "--root", root)
            # Nothing is changed when the original cannot be saved first.
            assert r.code != 0, repr(r)
            assert_in("No space left on device", r.out + r.err)
            assert_same_tree(before, snapshot(root), "root after an apply that could not save")
    finally:
        shutil.rmtree(os.path.dirname(root), ignore_errors=True)


if __name__ == "__main__":
    run_tests(globals())
