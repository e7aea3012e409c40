#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Build (once) a minimal Debian bookworm root with systemd and dbus for systemd-nspawn, cached
# outside the tree under /var/cache/nodeprep-nspawn/HASH/ where HASH covers this recipe.
# Prints the rootfs path. Exit 77 when it cannot be built here (not root, no debootstrap).
set -euo pipefail

CACHE=${NODEPREP_NSPAWN_CACHE:-/var/cache/nodeprep-nspawn}
SUITE=bookworm
# Runtime libraries of nodeprepd/nodeprepctl, systemd + dbus, python3 for the varlink client.
PACKAGES=systemd,systemd-sysv,dbus,python3,libnl-3-200,libnl-route-3-200,libnl-genl-3-200,libjson-c5,libinih1,libkmod2,libblkid1,libudev1

[ "$(id -u)" -eq 0 ] || { echo "needs root" >&2; exit 77; }
command -v debootstrap >/dev/null || { echo "debootstrap not installed" >&2; exit 77; }

# The mirror the machine's apt already uses (the only one reachable on the project's machines).
mirror=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.sources /etc/apt/sources.list.d/*.list 2>/dev/null |
        grep -E '^(URIs:|deb )' | grep -o -E 'https?://[^ ]*/debian/?( |$)' | head -n1 | tr -d ' ' || true)
[ -n "$mirror" ] || { echo "no Debian mirror in apt's sources" >&2; exit 77; }

hash=$(printf '%s\n' "$SUITE" "$PACKAGES" "$mirror" "recipe 1" | sha256sum | cut -c1-16)
dir=$CACHE/$hash
if [ -x "$dir/rootfs/lib/systemd/systemd" ]; then
        echo "$dir/rootfs"
        exit 0
fi

mkdir -p "$CACHE"
exec 9>"$CACHE/lock"
flock 9
if [ ! -x "$dir/rootfs/lib/systemd/systemd" ]; then
        rm -rf "$dir.tmp"
        mkdir -p "$dir.tmp"
        echo "building the nspawn root in $dir (once; debootstrap from $mirror)" >&2
        if ! debootstrap --variant=minbase --include="$PACKAGES" "$SUITE" "$dir.tmp/rootfs" \
                "$mirror" >"$dir.tmp/debootstrap.log" 2>&1; then
                tail -n 20 "$dir.tmp/debootstrap.log" >&2
                echo "debootstrap failed" >&2
                exit 77
        fi
        # Quiet, quick boots: no getty on the console, no network management.
        rm -f "$dir.tmp/rootfs/etc/systemd/system/getty.target.wants/"* 2>/dev/null || true
        echo nodeprep-test >"$dir.tmp/rootfs/etc/hostname"
        rm -rf "$dir"
        mv "$dir.tmp" "$dir"
fi
echo "$dir/rootfs"
