# SPDX-License-Identifier: LGPL-2.1-or-later
"""VM suite, bond + VLAN scenario: the host kernel has no bonding or 8021q, the guest's Debian
kernel has. One boot (snapshot=on): an active-backup bond of two 10G NICs with an address, a
VLAN on the 10G data NIC with an address, then the IOMesh checks with DataCIDR on each: a bond
counts its active member's speed and a VLAN its parent's (DESIGN.md), so nic.data-cidr passes on
both and fails on the 1G NIC's network; `nodeprepctl facts` shows the bond with its kind,
members and speed, and the VLAN with its parent."""
import os
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import scenario  # noqa: E402
from scenario import checks, expect, load, status  # noqa: E402

BOOTS = [("bond-vlan", ["install", "netdev", "check"], "poweroff")]


def assert_install(out):
    expect(load(out, "version.txt").strip().endswith("-1"), "nodeprep not installed")


def assert_netdev(out):
    links = {link["ifname"]: link for link in load(out, "links.json")}
    data = load(out, "data-nic.txt").strip()
    bond = links.get("bond0")
    expect(bond and bond["linkinfo"]["info_kind"] == "bond", "no bond0: %s" % sorted(links))
    members = sorted(n for n, link in links.items() if link.get("master") == "bond0")
    expect(len(members) == 2, "bond0 members: %s" % members)
    expect("UP" in bond["flags"] and "LOWER_UP" in bond["flags"], "bond0 flags %s" % bond["flags"])
    vlan = links.get(data + ".100")
    expect(vlan and vlan["linkinfo"]["info_kind"] == "vlan" and
           vlan["linkinfo"]["info_data"]["id"] == 100 and vlan.get("link") == data,
           "VLAN 100 on %s: %r" % (data, vlan))
    expect("Speed: 10000Mb/s" in load(out, "ethtool-bond0.txt"), "bond0 is not 10000Mb/s")
    addrs = {a["ifname"]: sorted("%s/%d" % (i["local"], i["prefixlen"]) for i in a["addr_info"]
                                 if i["family"] == "inet") for a in load(out, "addrs.json")}
    expect(addrs["bond0"] == ["203.0.113.10/24"] and addrs[data + ".100"] == ["198.18.100.10/24"],
           "the guest's addresses: %r" % addrs)


def assert_check(out):
    data = load(os.path.join(os.path.dirname(out), "netdev"), "data-nic.txt").strip()
    facts = load(out, "facts.json")
    expect(facts.get("links_unknown") is None, "links unknown: %r" % facts.get("links_unknown"))
    links = {link["name"]: link for link in facts["links"]}
    bond = links.get("bond0")
    expect(bond is not None, "facts: no bond0 in %s" % sorted(links))
    expect(bond["kind"] == "bond" and sorted(bond["members"]) == ["eth2", "eth3"] and
           bond["speed_mbps"] == 10000 and bond["up"] is True and
           "203.0.113.10/24" in bond["addresses"],
           "facts: bond0 %r" % bond)
    for m in bond["members"]:
        expect(links[m]["master"] == "bond0" and links[m]["speed_mbps"] == 10000,
               "facts: member %s %r" % (m, links[m]))
    vlan = links.get(data + ".100")
    expect(vlan is not None, "facts: no %s.100 in %s" % (data, sorted(links)))
    expect(vlan["kind"] == "vlan" and vlan["parent"] == data and vlan["up"] is True and
           "198.18.100.10/24" in vlan["addresses"], "facts: VLAN %r" % vlan)
    for name, want, link in [("bond", "pass", "bond0"), ("vlan", "pass", data + ".100"),
                             ("slow", "fail", "eth1")]:
        cs, report = checks(out, name + ".json")
        status(cs, "nic.speed", "pass", "(%s)" % name)
        c = status(cs, "nic.data-cidr", want, "with DataCIDR on the %s network" % name)
        expect(c["observed"].startswith(link + " "), "nic.data-cidr on the %s network names "
               "%r, expected %s" % (name, c["observed"], link))
    c = status(checks(out, "slow.json")[0], "nic.data-cidr", "fail")
    expect("1000 Mb/s" in c["observed"], "slow network: %r" % c["observed"])


if __name__ == "__main__":
    sys.exit(scenario.run("bond", "base", "bond.sh", BOOTS, globals(), persistent=False,
                          bond_nics=True, revisions=(1,)))
