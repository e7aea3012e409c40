# SPDX-License-Identifier: LGPL-2.1-or-later
# Guest stages of vm-boot-truth (tests/vm/test-vm-boot-truth.py builds the truth table from what
# they write). A *_setup stage configures the guest, records nodeprep's prediction for the next
# boot (`check --json --facts` with $S/boot-truth.conf, one check per case) and asks for a
# reboot; the runner boots again with the same kernel command line; the *_truth stage records,
# before anything else runs, what the kernel shows.

predict() {
        local rc=0
        cat /proc/cmdline >cmdline.txt
        nodeprepctl check --json --facts --profile "$S/boot-truth.conf" >predict.json || rc=$?
        echo "$rc" >predict.rc
}

stage_install() {
        apt-get install -y --no-install-recommends "$S"/debs/nodeprep_*-1_*.deb
        nodeprepctl --version >version.txt
}

# --- modules (base image) ------------------------------------------------------------------
# One module per case; the module names are in $S/modules.txt (the host's table). The kernel
# command line of both boots (the host's MODULES_APPEND) adds modprobe.blacklist=bonding,
# module_blacklist=macsec and modules_load=geneve.
stage_mod_setup() {
        local kver
        kver=$(uname -r)
        mkdir -p /run/modules-load.d /usr/lib/modules-load.d /etc/modules-load.d /etc/modprobe.d
        # run-only: listed only in /run, which is empty at the next boot.
        echo nlmon >/run/modules-load.d/np-bt-run.conf
        # run-shadow: an empty /run file hides /usr/lib's file of the same name now, not at the
        # next boot.
        echo veth >/usr/lib/modules-load.d/np-bt-shadow.conf
        : >/run/modules-load.d/np-bt-shadow.conf
        {
                echo ipvlan     # control: a plain listing
                echo dummy      # install /bin/true
                echo ifb        # install /bin/true, but a softdep that resolves
                echo macvlan    # softdep whose load fails
                echo vxlan      # an alias sends "vxlan" elsewhere
                echo np-bt-vlan # an alias name for 8021q
                echo sctp       # blacklist in modprobe.d
                echo bonding    # modprobe.blacklist= on the command line
                echo macsec     # module_blacklist= on the command line
                echo vrf        # its .ko removed, depmod run
        } >/etc/modules-load.d/np-bt.conf
        cat >/etc/modprobe.d/np-bt.conf <<-'EOF'
	install dummy /bin/true
	install ifb /bin/true
	softdep ifb pre: nbd
	softdep macvlan pre: team
	install team /bin/false
	alias vxlan vcan
	alias np-bt-vlan 8021q
	blacklist sctp
	EOF
        rm -f "/lib/modules/$kver/kernel/drivers/net/vrf.ko"
        depmod -a "$kver"
        # The iSCSI case: open-iscsi installed, no iscsid.conf.
        rm -f /etc/iscsi/iscsid.conf
        predict
        touch "$S/reboot"
}

# (Re)start iscsid, make a node record for target iqn...:NAME and write its node.startup to FILE
# and iscsid's state while iscsiadm asked it to ACTIVE.
iscsi_record() {
        local iqn=iqn.2026-12.org.nodeprep:$1
        # The service alone, from a clean state (a failed start leaves both units failed): with
        # iscsid.socket listening, a start that races the socket's own activation once ended in
        # "Can not bind IPC socket". Without the socket iscsid binds its IPC socket itself.
        # A start that must succeed (the control: $4 = 3 tries) is tried again after a failure,
        # each failure's state written to iscsid-NAME-tries.txt: the socket's holders, both
        # units' status (a CI run once saw the control fail without anything to tell why).
        local try
        for try in $(seq "${4:-1}"); do
                systemctl stop iscsid.socket iscsid.service || true
                systemctl reset-failed iscsid.socket iscsid.service || true
                systemctl start iscsid.service || true
                systemctl is-active iscsid.service >"$3" || true
                [ "$(cat "$3")" = active ] && break
                {
                        echo "--- try $try: iscsid.service $(cat "$3")"
                        ss -xlp | grep -i iscsi || echo "(no listening socket named ISCSI)"
                        pgrep -a iscsid || echo "(no iscsid process)"
                        systemctl status --no-pager iscsid.socket iscsid.service || true
                } >>"iscsid-$1-tries.txt" 2>&1
                sleep 2
        done
        iscsiadm -m node -o new -T "$iqn" -p 192.0.2.99:3260
        iscsiadm -m node -T "$iqn" -p 192.0.2.99:3260 >"node-$1.txt"
        sed -n 's/^node.startup = //p' "node-$1.txt" >"$2"
        journalctl -b -u iscsid.service --no-pager >"iscsid-$1.log" || true
}

# What the kernel has, first thing after the reboot: MOD initstate (loadable, from
# /sys/module/MOD/initstate), "builtin" (/sys/module/MOD without initstate) or "absent".
stage_mod_truth() {
        cat /proc/cmdline >cmdline.txt
        while read -r m; do
                if [ -e "/sys/module/$m/initstate" ]; then
                        echo "$m $(cat "/sys/module/$m/initstate")"
                elif [ -d "/sys/module/$m" ]; then
                        echo "$m builtin"
                else
                        echo "$m absent"
                fi
        done <"$S/modules.txt" >truth.txt
        journalctl -b -u systemd-modules-load.service --no-pager >modules-load.log || true
        lsmod >lsmod.txt
        # iSCSI: iscsid takes node.startup from the node record, and iscsiadm makes a record
        # from the configuration file iscsid names (MGMT_IPC_CONFIG_FILE, get_config_file() in
        # iscsiadm.c), over the built-in defaults when that file is missing or iscsid does not
        # answer (idbm_sync_config()). Debian 12's iscsid.service does not start without
        # iscsid.conf (ExecStartPre startup-checks.sh): iscsid-active.txt and the unit's log say
        # whether it ran.
        test ! -e /etc/iscsi/iscsid.conf
        iscsi_record boot-truth node-startup.txt iscsid-active.txt
        # Control: with an iscsid.conf saying automatic the same steps must read automatic, or
        # the observation above proves nothing.
        echo "node.startup = automatic" >/etc/iscsi/iscsid.conf
        iscsi_record boot-truth-control node-startup-control.txt iscsid-active-control.txt 3
        rm -f /etc/iscsi/iscsid.conf
}

# --- SELinux (selinux image): one case per pair of boots --------------------------------------
# The case name is the stage's middle word; its SELINUX= value is in $S/selinux-CASE.txt.
se_setup() {
        sed -i "s/^SELINUX=.*/SELINUX=$(cat "$S/selinux-$1.txt")/" /etc/selinux/config
        grep '^SELINUX=' /etc/selinux/config >config.txt
        predict
        touch "$S/reboot"
}

se_truth() {
        cat /proc/cmdline >cmdline.txt
        if [ -e /sys/fs/selinux/enforce ]; then
                cat /sys/fs/selinux/enforce >enforce.txt
        else
                echo none >enforce.txt
        fi
        getenforce >getenforce.txt 2>&1 || true
        grep '^SELINUX=' /etc/selinux/config >config.txt
}

for c in enforcing0 permissive1 selinux0 disabled; do
        eval "stage_se_${c}_setup() { se_setup $c; }"
        eval "stage_se_${c}_truth() { se_truth $c; }"
done
