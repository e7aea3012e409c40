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
        sha256sum /etc/selinux/config >config-sha.txt
        stat -c '%a %U %G %C' /etc/selinux/config >config-stat.txt
        id -Z >context.txt || true
}

# Wait (at most 20 s) for the daemon's verdict line the test expects next: the SELinux runtime
# mode cannot be watched, the daemon reads it on events of its area (an apply or rollback it
# ran). The host side asserts; this only avoids racing the daemon.
wait_daemon() {
        for _ in $(seq 100); do
                [ "$(systemctl show -p StatusText --value nodeprepd)" = "$1" ] && return 0
                sleep 0.2
        done
        echo "nodeprepd: no '$1' after 20 s" >&2
}

# What the daemon says (its report) and how it runs.
daemon_state() {
        np status.json status --json
        ps -o label= -C nodeprepd >nodeprepd-context.txt || true
        systemctl show nodeprepd -p ActiveState -p StatusText >nodeprepd-show.txt
}

# For a person reading a failed run: what the policy denied, when the stage ends (ok or not).
keep_denials() {
        trap 'grep denied /var/log/audit/audit.log >denials.txt || true' EXIT
}

stage_install() {
        keep_denials
        selinux_state
        apt-get install -y --no-install-recommends "$S"/debs/nodeprep_*-1_*.deb
        # The daemon evaluates the IOMesh profile (the packaged site file names none).
        mkdir -p /etc/nodeprep/nodeprep.conf.d
        printf '[Site]\nProfiles=iomesh\n' >/etc/nodeprep/nodeprep.conf.d/50-vm-test.conf
        np_check check
        wait_daemon "iomesh: not ready, 5 failing"
        daemon_state
}

# nodeprepctl apply through nodeprepd, only the two SELinux fixes (the IOMesh page's step 3).
stage_apply() {
        keep_denials
        np apply.json apply --json --only selinux.runtime --only selinux.config
        sed -n 's/^ *"change_id": *"\([^"]*\)".*/\1/p' apply.json >change-id.txt
        selinux_state
        np_check check
        # Still failing: kmod.loaded, kmod.persistent, fs.free:/opt.
        wait_daemon "iomesh: not ready, 3 failing"
        daemon_state
        touch "$S/reboot"
}

stage_after_reboot() {
        keep_denials
        selinux_state
        np_check check
        wait_daemon "iomesh: not ready, 3 failing"
        daemon_state
}

stage_rollback() {
        keep_denials
        np rollback.json rollback --json "$(cat "$S/out/apply/change-id.txt")"
        selinux_state
        np_check check
        wait_daemon "iomesh: not ready, 5 failing"
        daemon_state
}
