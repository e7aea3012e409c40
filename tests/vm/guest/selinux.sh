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

stage_install() {
        apt-get install -y --no-install-recommends "$S"/debs/nodeprep_*-1_*.deb
        selinux_state
        np_check check
}

# Stand-in for `nodeprepctl apply` (issue 5) until it exists: the IOMesh page's step 3.
stage_permissive() {
        setenforce 0
        sed -i 's/^SELINUX=enforcing$/SELINUX=permissive/' /etc/selinux/config
        selinux_state
        np_check check
        touch "$S/reboot"
}

stage_after_reboot() {
        selinux_state
        np_check check
}
