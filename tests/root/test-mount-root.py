#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""mount.propagation on the running kernel's own mount table (root).

The test runs itself again in a private mount namespace AND a private PID namespace (unshare
--mount --pid --fork --mount-proc): there it is PID 1, so /proc/1/mountinfo, which the probe reads,
is the kernel's table of the test's own namespace. A mount namespace alone would not do: PID 1
would still be the host's init, and the probe would read the host's table, which the test must
not change. A copy of a table under --root would not test the kernel's text (its field order,
its escapes). Inside, a tmpfs is made shared, then private, and a bind of it a slave; nothing
propagates out (--propagation private), and every mount goes with the namespace.
"""
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from nptest import NODEPREPCTL, Skip, assert_eq, assert_in, require_root, run_tests  # noqa: E402

INNER = "NODEPREP_TEST_MOUNT_INNER"


def sh(*args):
    subprocess.run(list(args), check=True)


def check(profile):
    p = subprocess.run([NODEPREPCTL, "check", "--json", "--profile", profile],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode in (0, 1, 2), (p.returncode, p.stderr)
    return {c["id"]: c for pr in json.loads(p.stdout)["profiles"] for c in pr["checks"]}


def inner(tmp):
    """In the namespaces: PID 1, a private copy of the mounts."""
    assert_eq(os.getpid(), 1, "PID 1 in the new PID namespace")
    d = os.path.join(tmp, "with space")
    bound = os.path.join(tmp, "bound")
    os.makedirs(d)
    os.makedirs(bound)
    profile = os.path.join(tmp, "csi.conf")
    with open(profile, "w") as f:
        f.write("[Profile]\nDescription=x\n\n"
                "[Check]\nId=mount.propagation:%s/kubelet\n\n"
                "[Check]\nId=mount.propagation:%s/kubelet\nExpect=slave\n\n"
                "[Check]\nId=mount.propagation:%s/not-yet\n" % (d, bound, d))
    sh("mount", "-t", "tmpfs", "np-arch-mount", d)
    os.makedirs(os.path.join(d, "kubelet"))
    sh("mount", "--make-shared", d)
    sh("mount", "--bind", d, bound)
    sh("mount", "--make-slave", bound)
    r = check(profile)
    c = r["mount.propagation:%s/kubelet" % d]
    assert_eq(c["status"], "pass", repr(c))
    assert_in("shared (mount ", c["observed"])
    assert_in(" on %s)" % d, c["observed"])  # the kernel's \040 undone
    c = r["mount.propagation:%s/kubelet" % bound]
    assert_eq(c["status"], "pass", repr(c))
    assert_in("slave (mount ", c["observed"])
    c = r["mount.propagation:%s/not-yet" % d]
    assert_eq(c["status"], "pass", repr(c))
    assert_in("does not exist yet, %s looked at" % d, c["observed"])

    sh("mount", "--make-private", d)
    r = check(profile)
    c = r["mount.propagation:%s/kubelet" % d]
    assert_eq(c["status"], "fail", repr(c))
    assert_in("private (mount ", c["observed"])
    assert_in("mount --make-rshared %s" % d, c["remedy"])
    # the bind is a slave of a group that is gone: private now
    assert_eq(r["mount.propagation:%s/kubelet" % bound]["status"], "fail")
    print("inner: shared, slave, not yet, private: as the kernel says", flush=True)


def test_namespace():
    require_root()
    if subprocess.run(["unshare", "--mount", "--pid", "--fork", "--mount-proc", "true"],
                      capture_output=True).returncode != 0:
        raise Skip("cannot make mount and PID namespaces (unshare)")
    with tempfile.TemporaryDirectory(prefix="np-arch-mount-") as tmp:
        p = subprocess.run(["unshare", "--mount", "--pid", "--fork", "--mount-proc",
                            "--propagation", "private", sys.executable, __file__, tmp],
                           env=dict(os.environ, **{INNER: "1"}), capture_output=True, text=True,
                           timeout=300)
        sys.stdout.write(p.stdout)
        assert p.returncode == 0, p.stderr


if __name__ == "__main__":
    if os.environ.get(INNER):
        inner(sys.argv[1])
        sys.exit(0)
    run_tests(globals())
