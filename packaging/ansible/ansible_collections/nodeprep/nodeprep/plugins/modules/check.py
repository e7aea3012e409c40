#!/usr/bin/python
# -*- coding: utf-8 -*-
# SPDX-License-Identifier: LGPL-2.1-or-later
# Copyright: nodeprep developers
# GNU Lesser General Public License v2.1 or later (see https://spdx.org/licenses/LGPL-2.1-or-later.html)
"""Ansible module: a worker's readiness report (`nodeprepctl check --json`), changing nothing."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: check
short_description: Read a worker's readiness report (nodeprepctl check --json)
author: nodeprep developers (@nodeprep)
description:
  - Runs C(nodeprepctl check --json) on the target (or asks the running nodeprepd with
    C(nodeprepctl status --json)) and returns the report. Changes nothing on the host, in check
    mode or not, and always reports C(changed=false).
  - A host that is not ready is a result, not an error; the task fails only when the report
    cannot be had (bad configuration, nodeprepd unreachable) unless I(fail_when_not_ready).
  - Collect every worker's C(report) and give them to C(nodeprepctl cluster) on the controller
    for the cluster's verdict; the C(nodeprep.nodeprep.cluster) role does that.
options:
  profile:
    description: Profiles to check (default the site file's Profiles=).
    type: list
    elements: str
  set:
    description: Settings for this run, C(KEY=VALUE) as C(nodeprepctl check --set) takes them.
    type: list
    elements: str
  facts:
    description: Include the probed facts in the report (C(facts.peers) has the round-trip times
      to the peers).
    type: bool
    default: false
  from_daemon:
    description: Ask the running nodeprepd for its current report (C(nodeprepctl status)) instead
      of probing in the task.
    type: bool
    default: false
  fail_when_not_ready:
    description: Fail the task when the host is not ready for every profile.
    type: bool
    default: false
  root:
    description: Check the files below this directory instead of the running system. For tests
      and images.
    type: path
  config:
    description: Site file to use instead of /etc/nodeprep/nodeprep.conf.
    type: path
  nodeprepctl:
    description: Path of nodeprepctl (default found in PATH).
    type: path
seealso:
  - module: nodeprep.nodeprep.apply
notes:
  - Supports check mode; it never changes anything either way.
"""

EXAMPLES = r"""
- name: Read the worker's IOMesh readiness
  nodeprep.nodeprep.check:
    profile: [iomesh]
  register: nodeprep_check

- name: Show what fails
  ansible.builtin.debug:
    msg: "{{ nodeprep_check.msg }}"
"""

RETURN = r"""
report:
  description: The report as C(nodeprepctl check --json) prints it (schema_version 1).
  type: dict
  returned: always
ready:
  description: Whether the host is ready for every profile.
  type: bool
  returned: always
exit_status:
  description: The exit status of nodeprepctl (0 ready, 1 not ready, 2 undecided). Not C(rc),
    which Ansible takes for a failure when it is not 0.
  type: int
  returned: always
failing:
  description: The ids of the required checks that fail or are unknown, per profile.
  type: dict
  returned: always
"""

import json

from ansible.module_utils.basic import AnsibleModule


def failing_checks(report):
    """{profile: [ids]} of required checks that fail or are unknown (and not ignored)."""
    out = {}
    for p in report.get("profiles", []):
        ids = [c["id"] for c in p.get("checks", [])
               if c.get("severity") == "required" and not c.get("ignored")
               and c.get("status") in ("fail", "unknown")]
        if ids:
            out[p["name"]] = ids
    return out


def main():
    module = AnsibleModule(
        argument_spec=dict(
            profile=dict(type="list", elements="str"),
            set=dict(type="list", elements="str"),
            facts=dict(type="bool", default=False),
            from_daemon=dict(type="bool", default=False),
            fail_when_not_ready=dict(type="bool", default=False),
            root=dict(type="path"),
            config=dict(type="path"),
            nodeprepctl=dict(type="path"),
        ),
        supports_check_mode=True,
    )
    p = module.params
    exe = p["nodeprepctl"] or module.get_bin_path("nodeprepctl", required=True)
    if p["from_daemon"]:
        if p["set"] or p["root"] or p["config"]:
            module.fail_json(msg="set, root and config go with a local check: nodeprepd uses its "
                                 "own configuration")
        cmd = [exe, "status", "--json"]
    else:
        cmd = [exe, "check", "--json"]
        for kv in p["set"] or []:
            cmd += ["--set", kv]
        if p["root"]:
            cmd += ["--root", p["root"]]
        if p["config"]:
            cmd += ["--config", p["config"]]
    for name in p["profile"] or []:
        cmd += ["--profile", name]
    if p["facts"]:
        cmd.append("--facts")

    rc, out, err = module.run_command(cmd)
    if rc not in (0, 1, 2):
        module.fail_json(msg="%s failed (exit %d): %s" % (" ".join(cmd[:2]), rc, err.strip()),
                         rc=rc, cmd=cmd)
    try:
        report = json.loads(out)
    except ValueError as e:
        module.fail_json(msg="nodeprepctl printed no JSON (%s): %s" % (e, err.strip()), rc=rc)

    failing = failing_checks(report)
    if rc == 0:
        msg = "ready"
    else:
        msg = "%s: %s" % ("not ready" if rc == 1 else "undecided",
                          "; ".join("%s: %s" % (k, ", ".join(v)) for k, v in failing.items()))
    result = dict(changed=False, report=report, ready=rc == 0, exit_status=rc, failing=failing,
                  msg=msg)
    if err.strip():
        result["warnings"] = [line for line in err.splitlines() if line.strip()]
    if p["fail_when_not_ready"] and rc != 0:
        module.fail_json(**result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
