# SPDX-License-Identifier: LGPL-2.1-or-later
# Guest stages of the basic scenario (tests/vm/test-vm-basic.py asserts on what they write).
# Each runs with `set -euxo pipefail` in its own output directory (run-stages.sh).

DATA_CIDR=192.0.2.0/24

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
        nodeprepctl --version >nodeprepctl-version.txt
        nodeprepctl profiles --json >profiles.json
}

stage_check() {
        np_check check --profile iomesh --set DataCIDR=$DATA_CIDR
        nodeprepctl check --profile iomesh --set DataCIDR=$DATA_CIDR >check.txt || true
        np_facts facts
        # What the real systemd says, to compare with nodeprep's unit facts.
        for u in iscsid.service iscsid.socket; do
                echo "$u $(systemctl is-enabled $u || true) $(systemctl is-active $u || true)"
        done >systemctl.txt
        df -B1 --output=target,fstype,avail /opt >df-opt.txt
}

stage_modprobe() {
        modprobe iscsi_tcp
        cat /sys/module/iscsi_tcp/initstate >initstate.txt
        np_check check --profile iomesh --set DataCIDR=$DATA_CIDR
        np_facts facts
}

# Stand-in for `nodeprepctl apply` (issue 5) until it exists: the IOMesh page's own step 4.
stage_persist() {
        echo iscsi_tcp >/etc/modules-load.d/iscsi_tcp.conf
        np_check check --profile iomesh --set DataCIDR=$DATA_CIDR
        touch "$S/reboot"
}

stage_after_reboot() {
        # Nothing in this boot loaded the module by hand: systemd-modules-load did.
        cat /sys/module/iscsi_tcp/initstate >initstate.txt
        systemctl show -p ActiveState --value systemd-modules-load.service >modules-load.txt
        np_check check --profile iomesh --set DataCIDR=$DATA_CIDR
}

stage_upgrade() {
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
}

stage_remove() {
        echo "a rollback record" >/var/lib/nodeprep/test-record
        apt-get remove -y nodeprep
        dpkg-query -W -f='${db:Status-Abbrev}\n' nodeprep >status.txt
        for p in /usr/bin/nodeprepctl /etc/nodeprep/nodeprep.conf /var/lib/nodeprep/test-record \
                /usr/share/nodeprep; do
                if [ -e "$p" ]; then echo "present $p"; else echo "absent $p"; fi
        done >paths.txt
}

stage_purge() {
        apt-get purge -y nodeprep
        (dpkg-query -W -f='${db:Status-Abbrev}\n' nodeprep 2>&1 || true) >status.txt
        # The test's own change (stage_persist) is not the package's to remove.
        rm -f /etc/modules-load.d/iscsi_tcp.conf
        file_list >files-after.txt
        diff "$S/out/install/files-before.txt" files-after.txt >files.diff || true
}
