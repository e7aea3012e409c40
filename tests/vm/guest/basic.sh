# SPDX-License-Identifier: LGPL-2.1-or-later
# Guest stages of the basic scenario (tests/vm/test-vm-basic.py asserts on what they write).
# Each runs with `set -euxo pipefail` in its own output directory (run-stages.sh).

DATA_CIDR=192.0.2.0/24   # eth0, the 10G NIC
SLOW_CIDR=198.51.100.0/24 # eth1, the 1G NIC
NFD=/etc/kubernetes/node-feature-discovery/features.d/nodeprep
SITE_DROPIN=/etc/nodeprep/nodeprep.conf.d/50-vm-test.conf

# nodeprepctl check exits 1 when the host is not ready: keep the JSON and the exit status.
np_check() {
        local name=$1
        shift
        local rc=0
        nodeprepctl check --json "$@" >"$name.json" || rc=$?
        echo "$rc" >"$name.rc"
}

np_facts() {
        nodeprepctl facts --json --profile iomesh >"$1.json"
}

# What the daemon says now: its report (status), the systemd side, the NFD file, the metrics.
daemon_state() {
        np status.json status --json
        systemctl show nodeprepd -p ActiveState -p StatusText -p InvocationID -p TriggeredBy \
                >nodeprepd-show.txt
        cat /proc/sys/kernel/random/boot_id >boot-id.txt
        if [ -e $NFD ]; then
                cp $NFD nfd.txt
                stat -c '%a %U %G' $NFD >nfd-stat.txt
        fi
        np metrics.txt metrics
}

# The daemon re-evaluates on the events an apply or rollback causes (inotify, udev, systemd's
# unit signals), and rewrites the NFD file when a value changes. Wait (at most 20 s) for the
# verdict and readiness label the test expects next; the host side asserts, this only avoids
# racing the daemon.
wait_daemon() {
        local label=$1 text=$2
        for _ in $(seq 100); do
                if grep -qx "nodeprep.io/iomesh.ready=$label" $NFD 2>/dev/null &&
                        [ "$(systemctl show -p StatusText --value nodeprepd)" = "$text" ]; then
                        return 0
                fi
                sleep 0.2
        done
        echo "nodeprepd: no '$text' with iomesh.ready=$label after 20 s" >&2
}

# The state remediation touches, for before/after comparisons.
host_state() {
        sha256sum /etc/iscsi/iscsid.conf >"iscsid-sha-$1.txt"
        stat -c '%a %U %G %s' /etc/iscsi/iscsid.conf >"iscsid-stat-$1.txt"
        ls -A /etc/modules-load.d >"modules-load-d-$1.txt"
        echo "$(systemctl is-enabled iscsid.socket || true) $(systemctl is-active iscsid.socket || true)" \
                >"iscsid-socket-$1.txt"
        (cat /sys/module/iscsi_tcp/initstate 2>/dev/null || echo absent) >"initstate-$1.txt"
        (cd /var/lib/nodeprep && find . | sort) >"statedir-$1.txt"
}

# The files a package could leave behind: everything on the root file system but logs, caches
# and the package managers' and systemd's own state.
file_list() {
        find / -xdev \( -path /proc -o -path /sys -o -path /dev -o -path /run -o -path /tmp \
                -o -path /mnt -o -path /var/log -o -path /var/cache -o -path /var/tmp \
                -o -path /var/lib/apt -o -path /var/lib/dpkg -o -path /var/lib/systemd \
                -o -path /var/lib/dhcp \) -prune -o -print | sort
}

stage_install() {
        file_list >files-before.txt
        apt-get install -y --no-install-recommends "$S"/debs/nodeprep_*-1_*.deb
        dpkg-query -W -f='${Version}\n' nodeprep >version.txt
        dpkg -L nodeprep >dpkg-L.txt
        dpkg-query -W -f='${Conffiles}\n' nodeprep >conffiles.txt
        stat -c '%F %a %U' /var/lib/nodeprep >statedir.txt
        stat -c '%F %a %U' /etc/kubernetes/node-feature-discovery/features.d >nfd-dir.txt
        nodeprepctl --version >nodeprepctl-version.txt
        nodeprepctl profiles --json >profiles.json
        for u in nodeprep.socket nodeprepd.service; do
                echo "$u $(systemctl is-enabled $u || true) $(systemctl is-active $u || true)"
        done >units.txt
}

stage_check() {
        np_check check --profile iomesh --set DataCIDR=$DATA_CIDR
        nodeprepctl check --profile iomesh --set DataCIDR=$DATA_CIDR >check.txt || true
        # The 1G NIC's network as the data network.
        np_check slow --profile iomesh --set DataCIDR=$SLOW_CIDR
        np_facts facts
        nodeprepctl facts >facts.txt
        # What the real systemd says, to compare with nodeprep's unit facts.
        for u in iscsid.service iscsid.socket; do
                echo "$u $(systemctl is-enabled $u || true) $(systemctl is-active $u || true)"
        done >systemctl.txt
        df -B1 --output=target,fstype,avail /opt >df-opt.txt
        # What the kernel says about the disks and NICs, to compare with nodeprep's facts.
        lsblk -J -b -d -o NAME,SIZE,ROTA,TYPE,FSTYPE,MOUNTPOINT,SERIAL,TRAN >lsblk.json
        ip -j addr show >addrs.json
        for n in eth0 eth1; do
                ethtool $n >ethtool-$n.txt
        done
}

# Make the host wrong the way a real one often is (a guide's node.startup = automatic, iscsid
# disabled as RHEL ships it), give the daemon a site file, and wake it through its socket.
stage_daemon() {
        grep -qx 'node.startup = manual' /etc/iscsi/iscsid.conf
        sed -i 's/^node.startup = manual$/node.startup = automatic/' /etc/iscsi/iscsid.conf
        systemctl disable --now iscsid.socket
        mkdir -p /etc/nodeprep/nodeprep.conf.d
        # /opt is a 512 MB disk on purpose (fs.free:/opt must fail, stage check); relaxing it
        # here through the site file's [Override] lets the readiness label turn true on apply.
        cat >$SITE_DROPIN <<EOF
[Site]
Profiles=iomesh

[Settings]
DataCIDR=$DATA_CIDR

[Override]
Check=fs.free:/opt
Severity=recommended
Reason=VM test: the /opt disk is 512 MB on purpose
EOF
        # The package started nodeprepd; stop it: the socket alone must bring it back.
        systemctl stop nodeprepd.service
        echo "$(systemctl is-active nodeprep.socket || true) $(systemctl is-active nodeprepd.service || true)" \
                >active-before.txt
        # This query is what starts it.
        np first-status.json status --json
        # systemd may still be reading READY=1 when the answer is here.
        for _ in $(seq 50); do
                systemctl -q is-active nodeprepd.service && break
                sleep 0.2
        done
        echo "$(systemctl is-active nodeprep.socket || true) $(systemctl is-active nodeprepd.service || true)" \
                >active-after.txt
        wait_daemon false "iomesh: not ready, 5 failing"
        daemon_state
        journalctl -b -u nodeprepd --no-pager >journal.txt
        # The same host through the CLI, with the same site file.
        np_check check
}

stage_plan() {
        host_state before
        np plan.txt plan
        np plan.json plan --json
        host_state after
}

stage_apply() {
        np apply.json apply --json
        sed -n 's/^ *"change_id": *"\([^"]*\)".*/\1/p' apply.json >change-id.txt
        wait_daemon true "iomesh: ready"
        host_state after
        cat /etc/modules-load.d/nodeprep.conf >modules-load-nodeprep.conf
        daemon_state
        np_check check
        # Idempotent: nothing to do, nothing written.
        np apply2.json apply --json
        (cd /var/lib/nodeprep && find . | sort) >statedir-after2.txt
        journalctl -b -u nodeprepd --no-pager >journal.txt
        touch "$S/reboot"
}

stage_after_reboot() {
        # Nothing in this boot loaded the module by hand: systemd-modules-load did.
        host_state boot
        systemctl show -p ActiveState --value systemd-modules-load.service >modules-load.txt
        wait_daemon true "iomesh: ready"
        journalctl -b -t systemd-modules-load --no-pager >modules-load-journal.txt
        daemon_state
        np_check check
}

stage_rollback() {
        np rollback.json rollback --json "$(cat "$S/out/apply/change-id.txt")"
        # Failing again: node.startup, kmod.persistent, unit.enabled (README: rollback leaves
        # the module loaded and the unit running).
        wait_daemon false "iomesh: not ready, 3 failing"
        host_state after
        daemon_state
        np_check check
        # Back to the image's own state (the test's misconfiguration of stage_daemon), so that
        # purge is compared with the host as it was before the install.
        sed -i 's/^node.startup = automatic$/node.startup = manual/' /etc/iscsi/iscsid.conf
        systemctl enable --now iscsid.socket
}

stage_upgrade() {
        # From here on the packaged site file alone says what the daemon and check do.
        rm -r /etc/nodeprep/nodeprep.conf.d
        # An operator's edit of the conffile: the site's profile and data network.
        sed -i -e 's/^#Profiles=iomesh$/Profiles=iomesh/' \
                -e "s|^#DataCIDR=.*|DataCIDR=$DATA_CIDR|" /etc/nodeprep/nodeprep.conf
        echo "# edited by the VM test" >>/etc/nodeprep/nodeprep.conf
        cp /etc/nodeprep/nodeprep.conf conf-before.txt
        apt-get install -y --no-install-recommends "$S"/debs/nodeprep_*-2_*.deb
        dpkg-query -W -f='${Version}\n' nodeprep >version.txt
        cp /etc/nodeprep/nodeprep.conf conf-after.txt
        ls -A /etc/nodeprep >etc-nodeprep.txt
        # No --profile, no --set: the kept site file must say iomesh and the data CIDR.
        np_check check
        # The upgrade restarted the daemon; it answers with the same site file.
        np status.json status --json
}

stage_remove() {
        echo "a rollback record" >/var/lib/nodeprep/test-record
        if [ -e $NFD ]; then echo present; else echo absent; fi >nfd-before.txt
        apt-get remove -y nodeprep
        dpkg-query -W -f='${db:Status-Abbrev}\n' nodeprep >status.txt
        for p in /usr/bin/nodeprepctl /usr/sbin/nodeprepd /etc/nodeprep/nodeprep.conf \
                /var/lib/nodeprep/test-record /usr/share/nodeprep $NFD; do
                if [ -e "$p" ]; then echo "present $p"; else echo "absent $p"; fi
        done >paths.txt
        for u in nodeprep.socket nodeprepd.service; do
                echo "$u $(systemctl is-active $u || true)"
        done >units.txt
}

stage_purge() {
        apt-get purge -y nodeprep
        (dpkg-query -W -f='${db:Status-Abbrev}\n' nodeprep 2>&1 || true) >status.txt
        file_list >files-after.txt
        diff "$S/out/install/files-before.txt" files-after.txt >files.diff || true
}
