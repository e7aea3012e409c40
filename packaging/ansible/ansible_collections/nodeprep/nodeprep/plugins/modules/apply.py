#!/usr/bin/python
# -*- coding: utf-8 -*-
# SPDX-License-Identifier: LGPL-2.1-or-later
# Copyright: nodeprep developers
# GNU Lesser General Public License v2.1 or later (see https://spdx.org/licenses/LGPL-2.1-or-later.html)
"""Ansible module: make a host ready for a storage product with `nodeprepctl apply`.

Also installed as packaging/ansible/library/nodeprep.py (a link) for playbooks that name it
`nodeprep` through ANSIBLE_LIBRARY; self-contained for that reason (no module_utils)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: apply
short_description: Prepare a Kubernetes worker for a storage product (nodeprepctl apply)
author: nodeprep developers (@nodeprep)
description:
  - Runs C(nodeprepctl apply --local --json) on the target and reports what it changed.
  - Idempotent; a second run changes nothing and reports C(changed=false).
  - In check mode it runs C(nodeprepctl apply --check) (a dry run that writes nothing) and
    reports what would change; with C(--diff) it shows the unified diff of every file.
  - Fails when a fix failed; checks nodeprep cannot fix (manual) and steps it skipped are
    reported in C(msg) and C(checks), and do not fail the task.
  - Needs root (C(become=true)). Every change is journaled on the host under
    /var/lib/nodeprep/backup/CHANGE-ID; C(nodeprepctl rollback --local CHANGE-ID) undoes it.
options:
  profile:
    description: Profiles to apply (default the site file's Profiles=).
    type: list
    elements: str
  only:
    description: Only these check ids (naming a recommended check asks for its fix).
    type: list
    elements: str
  include_recommended:
    description: Fix recommended checks too.
    type: bool
    default: false
  update_node_records:
    description: Update already-discovered iSCSI targets with iscsiadm -m node -o update.
    type: bool
    default: false
  install_packages:
    description: Install missing packages (apt-get, dnf/yum, zypper).
    type: bool
    default: false
  root:
    description: Apply to the files below this directory instead of the running system
      (steps on the running kernel and systemd are then skipped). For tests and images.
    type: path
  config:
    description: Site file to use instead of /etc/nodeprep/nodeprep.conf.
    type: path
  nodeprepctl:
    description: Path of nodeprepctl (default found in PATH).
    type: path
seealso:
  - module: nodeprep.nodeprep.check
notes:
  - Supports check mode and diff mode.
"""

EXAMPLES = r"""
- name: Make the worker ready for IOMesh
  nodeprep.nodeprep.apply:
    profile: [iomesh]
  become: true
"""

RETURN = r"""
change_id:
  description: The change id (null when nothing was changed); rollback takes it.
  type: str
  returned: always
ready:
  description: Whether the host passes every required check of the profiles afterwards
    (before, in check mode).
  type: bool
  returned: always
checks:
  description: Per check the outcome (changed, unchanged, failed, manual, skipped), the
    reason and the remedy, as nodeprepctl apply --json prints them.
  type: list
  elements: dict
  returned: always
"""

import json

from ansible.module_utils.basic import AnsibleModule


def summary(data):
    """One line per outcome that needs a word: what changed, failed, needs a person."""
    parts = []
    by = {}
    for c in data["checks"]:
        by.setdefault(c["outcome"], []).append(c)
    verb = "would change" if data["dry_run"] else "changed"
    if by.get("changed"):
        parts.append("%s: %s" % (verb, ", ".join(c["id"] for c in by["changed"])))
    for c in by.get("failed", []):
        parts.append("FAILED %s: %s" % (c["id"], c["message"]))
    for c in by.get("manual", []):
        parts.append("manual %s: %s" % (c["id"], c["remedy"] or c["message"]))
    for c in by.get("skipped", []):
        parts.append("skipped %s: %s" % (c["id"], c["message"]))
    if not by.get("changed") and not by.get("failed"):
        parts.insert(0, "nothing to change")
    return "; ".join(parts)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            profile=dict(type="list", elements="str"),
            only=dict(type="list", elements="str"),
            include_recommended=dict(type="bool", default=False),
            update_node_records=dict(type="bool", default=False),
            install_packages=dict(type="bool", default=False),
            root=dict(type="path"),
            config=dict(type="path"),
            nodeprepctl=dict(type="path"),
        ),
        supports_check_mode=True,
    )
    p = module.params
    exe = p["nodeprepctl"] or module.get_bin_path("nodeprepctl", required=True)
    cmd = [exe, "apply", "--local", "--json"]
    if module.check_mode:
        cmd.append("--check")
    for name in p["profile"] or []:
        cmd += ["--profile", name]
    for cid in p["only"] or []:
        cmd += ["--only", cid]
    for flag in ("include_recommended", "update_node_records", "install_packages"):
        if p[flag]:
            cmd.append("--" + flag.replace("_", "-"))
    if p["root"]:
        cmd += ["--root", p["root"]]
    if p["config"]:
        cmd += ["--config", p["config"]]

    rc, out, err = module.run_command(cmd)
    if rc == 77:
        module.fail_json(msg="nodeprepctl needs root (use become: true): %s" % err.strip(), rc=rc)
    if rc not in (0, 1):
        module.fail_json(msg="nodeprepctl apply failed (exit %d): %s" % (rc, err.strip()), rc=rc,
                         cmd=cmd)
    try:
        data = json.loads(out)
    except ValueError as e:
        module.fail_json(msg="nodeprepctl apply printed no JSON (%s): %s" % (e, err.strip()),
                         rc=rc)

    result = dict(
        changed=bool(data["changed"]),
        change_id=data["change_id"],
        backup_dir=data["backup_dir"],
        ready=data["ready_before"] if data["dry_run"] else data["ready_after"],
        checks=data["checks"],
        notes=data["notes"],
        msg=summary(data),
    )
    if module._diff:
        result["diff"] = [
            dict(before_header=s["path"], after_header=s["path"], prepared=s["diff"])
            for s in data["steps"]
            if s["diff"] and s["state"] in ("planned", "done")
        ]
    if err.strip():
        result["warnings"] = [line for line in err.splitlines() if line.strip()]
    if data["failed"]:
        module.fail_json(**result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
