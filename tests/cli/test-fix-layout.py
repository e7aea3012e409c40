#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""The Things Stack's local blob layout: plan, apply (owner 886:886), idempotence, rollback, and
an existing non-empty config.yml that must never be overwritten."""
import os
import shutil
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from nptest import (FixtureRoot, assert_eq, assert_in, check_json, nodeprepctl,  # noqa: E402
                    require_root, run_tests, write)

DIRS = ["edcs", "interop", "end_device_pictures", "profile_pictures", "plugins"]
FILES = ["edcs/config.yml", "interop/config.yml", "plugins/plugins.yml"]
ARGS = ["--profile", "the-things-stack", "--set", "Path.tts-blob=/srv/tts-blob"]


def tree(blob):
    out = {}
    for d, dirs, files in os.walk(blob):
        for n in dirs + files:
            p = os.path.join(d, n)
            st = os.lstat(p)
            data = None if os.path.isdir(p) else open(p, "rb").read()
            out[os.path.relpath(p, blob)] = (st.st_uid, st.st_gid, oct(st.st_mode), data)
    return out


def test_create_layout():
    require_root()
    with FixtureRoot() as root:
        blob = os.path.join(root, "srv/tts-blob")
        os.makedirs(os.path.dirname(blob))
        r = check_json(root, *ARGS)
        assert_eq(r.check("dir.layout:tts-blob")["fix"], "dir-layout-create")
        # plan: every step named, nothing created.
        r = nodeprepctl("plan", "--local", "--root", root, "--only", "dir.layout:tts-blob", *ARGS)
        assert_eq(r.code, 0, repr(r))
        assert_in("create directory /srv/tts-blob (886:886, 0755)", r.out)
        assert_in("create directory /srv/tts-blob/plugins (886:886, 0755)", r.out)
        assert_in("/srv/tts-blob/edcs/config.yml", r.out)
        assert not os.path.exists(blob), "plan created something"
        # apply: exactly the layout, owned by 886:886.
        r = nodeprepctl("apply", "--local", "--json", "--root", root,
                        "--only", "dir.layout:tts-blob", *ARGS)
        assert_eq(r.code, 0, repr(r))
        change = r.json["change_id"]
        t = tree(blob)
        assert_eq(sorted(t), sorted(DIRS + FILES))
        for d in DIRS:
            assert_eq(t[d][:3], (886, 886, "0o40755"), d)
        for f in FILES:
            assert_eq(t[f], (886, 886, "0o100644", b""), f)
        assert_eq(os.stat(blob).st_uid, 886)
        assert_eq(check_json(root, *ARGS).status("dir.layout:tts-blob"), "pass")
        # Again: nothing to do.
        r = nodeprepctl("apply", "--local", "--json", "--root", root,
                        "--only", "dir.layout:tts-blob", *ARGS)
        assert_eq((r.code, r.json["changed"]), (0, False), repr(r))
        # rollback removes what apply created.
        r = nodeprepctl("rollback", "--local", "--root", root, change)
        assert_eq(r.code, 0, repr(r))
        assert not os.path.exists(blob), os.listdir(os.path.dirname(blob))


def test_existing_files_are_not_overwritten():
    require_root()
    with FixtureRoot() as root:
        blob = os.path.join(root, "srv/tts-blob")
        os.makedirs(os.path.join(blob, "edcs"))
        write(root, "/srv/tts-blob/edcs/config.yml", "claiming: {enabled: true}\n")
        for p in (blob, os.path.join(blob, "edcs"), os.path.join(blob, "edcs/config.yml")):
            os.chown(p, 886, 886)
        before = open(os.path.join(blob, "edcs/config.yml"), "rb").read()
        r = nodeprepctl("apply", "--local", "--root", root, "--only", "dir.layout:tts-blob",
                        *ARGS)
        assert_eq(r.code, 0, repr(r))
        assert_eq(open(os.path.join(blob, "edcs/config.yml"), "rb").read(), before)
        assert_eq(check_json(root, *ARGS).status("dir.layout:tts-blob"), "pass")


def test_wrong_owner_is_left_to_a_person():
    require_root()
    with FixtureRoot() as root:
        blob = os.path.join(root, "srv/tts-blob")
        os.makedirs(os.path.join(blob, "plugins"))
        os.chown(blob, 886, 886)
        r = nodeprepctl("apply", "--local", "--json", "--root", root,
                        "--only", "dir.layout:tts-blob", *ARGS)
        c = [x for x in r.json["checks"] if x["id"] == "dir.layout:tts-blob"][0]
        assert_eq(c["outcome"], "manual", c)
        assert_eq(c["remedy"],
                  "chown -R 886:886 /srv/tts-blob, then nodeprepctl apply creates what is missing")
        assert_in("/srv/tts-blob/plugins is owned by 0:0", c["message"])
        assert_eq(r.code, 0, repr(r))
        # Nothing was touched: plugins stays root's, nothing created.
        assert_eq(sorted(os.listdir(blob)), ["plugins"])
        assert_eq(os.stat(os.path.join(blob, "plugins")).st_uid, 0)


def test_symlinked_entry_is_named_as_a_symlink():
    """A layout entry that is a symbolic link: the plan says so (stat() of the link reports
    its target's owner, which is not the problem)."""
    require_root()
    with FixtureRoot() as root:
        blob = os.path.join(root, "srv/tts-blob")
        os.makedirs(os.path.join(root, "srv/elsewhere"))
        os.makedirs(blob)
        os.chown(blob, 886, 886)
        os.symlink("../elsewhere", os.path.join(blob, "plugins"))
        r = nodeprepctl("plan", "--local", "--json", "--root", root,
                        "--only", "dir.layout:tts-blob", *ARGS)
        assert_eq(r.code, 0, repr(r))
        c = [x for x in r.json["checks"] if x["id"] == "dir.layout:tts-blob"][0]
        assert_eq(c["outcome"], "manual", c)
        assert_in("/srv/tts-blob/plugins is a symbolic link", c["message"])
        assert "owned by" not in c["message"], c
        assert_in("replace each symbolic link by the directory or file itself", c["remedy"])
        text = nodeprepctl("plan", "--local", "--root", root, "--only", "dir.layout:tts-blob",
                           *ARGS)
        assert_in("/srv/tts-blob/plugins is a symbolic link", text.out)
        assert_eq(os.readlink(os.path.join(blob, "plugins")), "../elsewhere")


if __name__ == "__main__":
    run_tests(globals())
