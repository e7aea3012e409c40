#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""The Ansible module (packaging/ansible) with the real ansible-playbook (Debian's ansible-core)
against localhost on a fixture root: check mode with --diff changes nothing and reports the
diff, a real run changes the files, the next run reports ok (not changed), a failed fix fails
the task, and the example playbook runs. Skipped (77) without ansible-playbook."""
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from nptest import (FIXTURES, SRCDIR, Skip, assert_eq, assert_in, assert_same_tree,  # noqa: E402
                    make_failing_root, read, require_root, run_tests, snapshot)

LIBRARY = os.path.join(SRCDIR, "packaging", "ansible", "library")
EXAMPLE = os.path.join(SRCDIR, "packaging", "ansible", "playbook.yml")
NODEPREPCTL = os.path.abspath(os.environ.get("NODEPREPCTL", "nodeprepctl"))

PLAYBOOK = """
- hosts: localhost
  gather_facts: false
  tasks:
    - nodeprep:
        profile: [iomesh]
        root: "{{ root }}"
        nodeprepctl: "{{ nodeprepctl }}"
      register: r
      ignore_errors: true
    - copy:
        content: "{{ r | to_json }}"
        dest: "{{ out }}"
      check_mode: false
"""


def ansible(tmp, playbook, *args, extra=None):
    exe = shutil.which("ansible-playbook")
    if not exe:
        raise Skip("ansible-playbook not installed (apt-get install ansible-core)")
    env = dict(os.environ, ANSIBLE_LIBRARY=LIBRARY, ANSIBLE_HOME=os.path.join(tmp, "ansible"),
               ANSIBLE_LOCAL_TEMP=os.path.join(tmp, "ansible-tmp"), ANSIBLE_NOCOLOR="1",
               ANSIBLE_RETRY_FILES_ENABLED="0", ANSIBLE_PYTHON_INTERPRETER="/usr/bin/python3")
    cmd = [exe, "-i", "localhost,", "-c", "local", playbook] + list(args)
    for k, v in (extra or {}).items():
        cmd += ["-e", "%s=%s" % (k, v)]
    return subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)


def run(tmp, root, *args):
    book = os.path.join(tmp, "test.yml")
    with open(book, "w") as f:
        f.write(PLAYBOOK)
    out = os.path.join(tmp, "result.json")
    if os.path.exists(out):
        os.unlink(out)
    p = ansible(tmp, book, *args, extra={"root": root, "nodeprepctl": NODEPREPCTL, "out": out})
    assert_eq(p.returncode, 0, "ansible-playbook: %s\n%s" % (p.stdout, p.stderr))
    with open(out) as f:
        return json.load(f), p.stdout


def test_module():
    require_root()
    tmp = tempfile.mkdtemp(prefix="nodeprep-ansible-")
    try:
        root = make_failing_root(tmp)
        before = snapshot(root, skip=())

        # Check mode with --diff: would change, shows the diffs, writes nothing.
        r, out = run(tmp, root, "--check", "--diff")
        assert_eq(r.get("failed", False), False, repr(r))
        assert_eq(r["changed"], True)
        assert_eq(r["change_id"], None)
        assert_in("would change: iscsi.conf:node.startup", r["msg"])
        assert_in("+node.startup = manual", out)
        assert_in("+SELINUX=permissive", out)
        assert_same_tree(before, snapshot(root, skip=()), "root after check mode")

        # A real run changes the files.
        r, out = run(tmp, root, "--diff")
        assert_eq(r["changed"], True, repr(r))
        assert r["change_id"]
        assert_in("changed: iscsi.conf:node.startup", r["msg"])
        assert_in("skipped unit.enabled:iscsid: not the running system", r["msg"])
        with open(os.path.join(FIXTURES, "iscsi", "iscsid.conf.rhel9"), "rb") as f:
            expected = f.read().replace(b"\nnode.startup = automatic\n",
                                        b"\nnode.startup = manual\n")
        assert_eq(read(root, "/etc/iscsi/iscsid.conf", "rb"), expected)
        assert_in("iscsi_tcp\n", read(root, "/etc/modules-load.d/nodeprep.conf"))
        assert_in("+SELINUX=permissive", out)

        # Idempotent: the next run is ok, not changed.
        r, out = run(tmp, root)
        assert_eq(r["changed"], False, repr(r))
        assert_in("nothing to change", r["msg"])
        assert_in("TASK [nodeprep] ****", out)
        assert_in("ok: [localhost]", out.split("TASK [copy]")[0])

        # A fix that fails fails the task (the playbook's ignore_errors records it).
        os.unlink(os.path.join(root, "etc/modules-load.d/nodeprep.conf"))
        os.symlink("/dev/null", os.path.join(root, "etc/modules-load.d/nodeprep.conf"))
        r, out = run(tmp, root)
        assert_eq(r["failed"], True, repr(r))
        assert_in("FAILED kmod.persistent:iscsi_tcp", r["msg"])
        assert_in("masked by the administrator", r["msg"])
    finally:
        shutil.rmtree(tmp)


def test_example_playbook():
    require_root()
    tmp = tempfile.mkdtemp(prefix="nodeprep-ansible-")
    try:
        root = make_failing_root(tmp)
        p = ansible(tmp, EXAMPLE, "--syntax-check")
        assert_eq(p.returncode, 0, p.stdout + p.stderr)
        vars_ = {"nodeprep_hosts": "localhost", "nodeprep_become": "false",
                 "nodeprep_root": root, "nodeprep_nodeprepctl": NODEPREPCTL}
        p = ansible(tmp, EXAMPLE, "--check", extra=vars_)
        assert_eq(p.returncode, 0, p.stdout + p.stderr)
        assert_in("would change: iscsi.conf:node.startup", p.stdout)
        p = ansible(tmp, EXAMPLE, extra=vars_)
        assert_eq(p.returncode, 0, p.stdout + p.stderr)
        assert_in("ok=2    changed=1", p.stdout)
        p = ansible(tmp, EXAMPLE, extra=vars_)
        assert_in("ok=2    changed=0", p.stdout)
    finally:
        shutil.rmtree(tmp)


if __name__ == "__main__":
    run_tests(globals())
