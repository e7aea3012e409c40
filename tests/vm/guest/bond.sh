# SPDX-License-Identifier: LGPL-2.1-or-later
# Guest stages of the bond + VLAN scenario (tests/vm/test-vm-bond.py asserts on what they write):
# the host kernel cannot make bonds or VLANs, the guest's Debian kernel can.
# Addresses are in documentation and benchmarking ranges (RFC 5737, RFC 2544): never routed.

BOND_CIDR=203.0.113.0/24
VLAN_CIDR=198.18.100.0/24
SLOW_CIDR=198.51.100.0/24

# The interface with this MAC address (the runner sets them; names follow PCI order).
ifname() {
        ip -o link | awk -v mac="$1" 'index($0, mac) { sub(":$", "", $2); print $2 }'
}

stage_install() {
        apt-get install -y --no-install-recommends "$S"/debs/nodeprep_*-1_*.deb
        dpkg-query -W -f='${Version}\n' nodeprep >version.txt
}

stage_netdev() {
        modprobe bonding
        modprobe 8021q
        local a b data
        a=$(ifname 52:54:00:4e:50:b1)
        b=$(ifname 52:54:00:4e:50:b2)
        data=$(ifname 52:54:00:4e:50:0a)
        # The image's .network files match the NICs by MAC address, and a VLAN has its parent's:
        # networkd would give eth0.100 eth0's address and drop ours. This test's devices are
        # its own business.
        mkdir -p /run/systemd/network
        printf '[Match]\nName=bond0 %s.100\n\n[Link]\nUnmanaged=yes\n' "$data" \
                >/run/systemd/network/01-vm-test-unmanaged.network
        networkctl reload
        ip link add bond0 type bond mode active-backup miimon 100
        for m in "$a" "$b"; do
                ip link set "$m" down
                ip link set "$m" master bond0
        done
        ip link set bond0 up
        ip addr add 203.0.113.10/24 dev bond0
        ip link add link "$data" name "$data.100" type vlan id 100
        ip link set "$data.100" up
        ip addr add 198.18.100.10/24 dev "$data.100"
        # miimon: the bond reports its active member's link once the member is seen up.
        for _ in $(seq 50); do
                grep -q '^Currently Active Slave: eth' /proc/net/bonding/bond0 && break
                sleep 0.2
        done
        echo "$data" >data-nic.txt
        ip -j -d link show >links.json
        ip -j addr show >addrs.json
        ethtool bond0 >ethtool-bond0.txt
        ethtool "$data.100" >ethtool-vlan.txt || true
        cat /proc/net/bonding/bond0 >bonding.txt
}

np_check() {
        local name=$1
        shift
        local rc=0
        nodeprepctl check --json --profile iomesh "$@" >"$name.json" || rc=$?
        echo "$rc" >"$name.rc"
}

stage_check() {
        np_check bond --set DataCIDR=$BOND_CIDR
        np_check vlan --set DataCIDR=$VLAN_CIDR
        np_check slow --set DataCIDR=$SLOW_CIDR
        nodeprepctl facts --json >facts.json
}
