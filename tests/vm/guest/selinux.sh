# SPDX-License-Identifier: LGPL-2.1-or-later
# Guest stages of the SELinux scenario (tests/vm/test-vm-selinux.py asserts on what they write).
# The image boots enforcing with Debian's reference policy, labelled at its first boot.

np_check() {
        local name=$1
        shift
        local rc=0
        nodeprepctl check --json --profile iomesh "$@" >"$name.json" || rc=$?
        echo "$rc" >"$name.rc"
}

selinux_state() {
        cat /sys/fs/selinux/enforce >enforce.txt
        sed -n 's/^SELINUX=//p' /etc/selinux/config >config.txt
        id -Z >context.txt || true
}

# For a person reading a failed run: what the policy denied, when the stage ends (ok or not).
keep_denials() {
        trap 'grep denied /var/log/audit/audit.log >denials.txt || true' EXIT
}

stage_install() {
        keep_denials
        selinux_state
        apt-get install -y --no-install-recommends "$S"/debs/nodeprep_*-1_*.deb
        np_check check
}

# Stand-in for `nodeprepctl apply` (issue 5) until it exists: the IOMesh page's step 3.
stage_permissive() {
        keep_denials
        setenforce 0
        sed -i 's/^SELINUX=enforcing$/SELINUX=permissive/' /etc/selinux/config
        selinux_state
        np_check check
        touch "$S/reboot"
}

stage_after_reboot() {
        keep_denials
        selinux_state
        np_check check
}
