#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""The nodeprep.nodeprep collection: `ansible-galaxy collection build` makes the artifact, and
`ansible-test sanity` (Debian 12's ansible-core 2.14) passes every test it can run here.

ansible-test runs each sanity test in a virtual environment it fills with pip from the network,
which this machine (and CI) cannot reach. Instead of pip, each environment is made here where
ansible-test looks for it (its path is in the error ansible-test stops with), with
--system-site-packages so that Debian's packages serve: python3-voluptuous (validate-modules),
pylint, python3-pycodestyle (pep8), yamllint, python3-yaml and ansible itself. Versions are
Debian's, not ansible-test's pins: a finding that only a pinned version has is missed here.
Tests ansible-test itself skips for a collection without such content (pslint, shellcheck for
no scripts, ...) are listed by it as skipped. Skipped (77) without ansible-test."""
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from nptest import SRCDIR, Skip, assert_eq, assert_in, run_tests  # noqa: E402

COLLECTION = os.path.join(SRCDIR, "packaging", "ansible", "ansible_collections", "nodeprep",
                          "nodeprep")
NO_PIP = re.compile(r'Python [0-9.]+ at "(?P<venv>[^"]+)/bin/python" does not have pip available')


def tool(name):
    exe = shutil.which(name)
    if not exe:
        raise Skip("%s not installed (apt-get install ansible-core)" % name)
    return exe


def test_galaxy_build():
    exe = tool("ansible-galaxy")
    tmp = tempfile.mkdtemp(prefix="nodeprep-galaxy-")
    try:
        p = subprocess.run([exe, "collection", "build", "--output-path", tmp, COLLECTION],
                           capture_output=True, text=True, timeout=300)
        assert_eq(p.returncode, 0, p.stdout + p.stderr)
        artifact = os.path.join(tmp, "nodeprep-nodeprep-0.1.0.tar.gz")
        assert os.path.exists(artifact), os.listdir(tmp)
        names = subprocess.run(["tar", "tzf", artifact], capture_output=True, text=True).stdout
        for f in ("plugins/modules/apply.py", "plugins/modules/check.py",
                  "roles/cluster/tasks/main.yml", "playbooks/cluster.yml", "meta/runtime.yml"):
            assert_in(f + "\n", names)
        # It installs, and ansible-doc documents both modules from the installed copy.
        inst = os.path.join(tmp, "installed")
        p = subprocess.run(["ansible-galaxy", "collection", "install", "-p", inst, artifact],
                           capture_output=True, text=True, timeout=300)
        assert_eq(p.returncode, 0, p.stdout + p.stderr)
        env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=inst, ANSIBLE_HOME=tmp)
        for m in ("apply", "check"):
            p = subprocess.run(["ansible-doc", "nodeprep.nodeprep." + m], capture_output=True,
                               text=True, env=env, timeout=300)
            assert_eq(p.returncode, 0, p.stdout + p.stderr)
            assert_in("nodeprepctl", p.stdout)
    finally:
        shutil.rmtree(tmp)


def make_venv(path):
    """What ansible-test's create_sanity_virtualenv() leaves, with Debian's packages instead
    of pip's."""
    shutil.rmtree(path, ignore_errors=True)
    subprocess.run(["/usr/bin/python3", "-m", "venv", "--system-site-packages", "--without-pip",
                    path], check=True)
    with open(os.path.join(path, "meta.install.json"), "w") as f:
        f.write("[]")
    try:
        import yaml  # noqa: F401
        cloader = hasattr(yaml, "CLoader")
        meta_yaml = "true" if cloader else "false"
    except ImportError:
        meta_yaml = "null"
    with open(os.path.join(path, "meta.yaml.json"), "w") as f:
        f.write(meta_yaml)
    open(os.path.join(path, "marker.txt"), "w").close()


def test_sanity():
    exe = tool("ansible-test")
    tmp = tempfile.mkdtemp(prefix="nodeprep-sanity-")
    try:
        # ansible-test wants ansible_collections/NS/NAME and writes tests/output there: a copy.
        dst = os.path.join(tmp, "ansible_collections", "nodeprep", "nodeprep")
        shutil.copytree(COLLECTION, dst, symlinks=True)
        env = dict(os.environ, HOME=os.path.join(tmp, "home"), ANSIBLE_HOME=os.path.join(tmp, "a"))
        made = set()
        for _ in range(40):
            p = subprocess.run([exe, "sanity", "--python", "%d.%d" % sys.version_info[:2],
                                "--color", "no"], cwd=dst, capture_output=True, text=True,
                               env=env, timeout=1200)
            out = p.stdout + p.stderr
            m = NO_PIP.search(out)
            if not m:
                break
            assert m.group("venv") not in made, "the environment did not serve:\n" + out[-3000:]
            made.add(m.group("venv"))
            make_venv(m.group("venv"))
        print("# " + "\n# ".join(l for l in out.splitlines()
                                 if l.startswith(("Running sanity test", "WARNING: Skipping"))))
        assert_eq(p.returncode, 0, "ansible-test sanity:\n" + out[-6000:])
        assert_in('Running sanity test "validate-modules"', out)
        assert_in('Running sanity test "pylint"', out)
        assert_in('Running sanity test "yamllint"', out)
    finally:
        shutil.rmtree(tmp)


if __name__ == "__main__":
    run_tests(globals())
