#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# make-root.sh SUITE: build (once) a Debian SUITE root (bullseye, trixie) with that release's
# toolchain, nodeprep's build dependencies, what the unit and cli suites and dpkg-buildpackage
# need, and systemd + dbus to boot it with systemd-nspawn. Cached outside the tree in
# /var/cache/nodeprep-distros/SUITE-HASH/ (NODEPREP_DISTROS_CACHE overrides), where HASH covers
# this recipe; older recipes of the same suite are removed. Prints the rootfs path.
# Exit 77 when it cannot be built here (not root, no debootstrap, no mirror).
set -euo pipefail

CACHE=${NODEPREP_DISTROS_CACHE:-/var/cache/nodeprep-distros}
SUITE=${1:?usage: make-root.sh SUITE}

# Build dependencies (packaging/debian/control) and the test suites' tools: python3-dbus,
# python3-gi and dbus for the mock system bus of the cli suite, kmod (depmod), acl (setfacl),
# man-db (the man-pages test); systemd-sysv to boot.
PACKAGES=gcc,meson,ninja-build,pkg-config,scdoc
PACKAGES+=,libsystemd-dev,libudev-dev,libkmod-dev,libblkid-dev,libnl-3-dev,libnl-route-3-dev
PACKAGES+=,libnl-genl-3-dev,libjson-c-dev,libinih-dev
PACKAGES+=,build-essential,debhelper,dpkg-dev,fakeroot,man-db,groff-base
PACKAGES+=,python3,python3-dbus,python3-gi,dbus,kmod,acl,util-linux,procps
PACKAGES+=,python3-junitparser,libxml2-utils # test-formats reads the JUnit output
PACKAGES+=,systemd,systemd-sysv
case "$SUITE" in
bullseye) ;;
trixie) PACKAGES+=,systemd-dev ;; # systemd.pc moved there (debian/rules asks it for the unit dir)
*)
        echo "make-root.sh: unknown suite $SUITE" >&2
        exit 64
        ;;
esac

[ "$(id -u)" -eq 0 ] || {
        echo "needs root" >&2
        exit 77
}
command -v debootstrap >/dev/null || {
        echo "debootstrap not installed" >&2
        exit 77
}

# The mirror the machine's apt already uses (the only one reachable on the project's machines).
mirror=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.sources /etc/apt/sources.list.d/*.list 2>/dev/null |
        grep -E '^(URIs:|deb )' | grep -o -E 'https?://[^ ]*/debian/?( |$)' | head -n1 | tr -d ' ' || true)
[ -n "$mirror" ] || {
        echo "no Debian mirror in apt's sources" >&2
        exit 77
}

hash=$(printf '%s\n' "$SUITE" "$PACKAGES" "$mirror" "recipe 1" | sha256sum | cut -c1-16)
dir=$CACHE/$SUITE-$hash
if [ -e "$dir/done" ]; then
        echo "$dir/rootfs"
        exit 0
fi

mkdir -p "$CACHE"
exec 9>"$CACHE/lock"
flock 9
if [ ! -e "$dir/done" ]; then
        rm -rf "$dir.tmp"
        mkdir -p "$dir.tmp"
        echo "building the $SUITE root in $dir (once; debootstrap from $mirror)" >&2
        start=$(date +%s)
        if ! debootstrap --variant=minbase --include="$PACKAGES" "$SUITE" "$dir.tmp/rootfs" \
                "$mirror" >"$dir.tmp/debootstrap.log" 2>&1; then
                tail -n 20 "$dir.tmp/debootstrap.log" >&2
                echo "debootstrap of $SUITE failed" >&2
                rm -rf "$dir.tmp"
                exit 1
        fi
        r=$dir.tmp/rootfs
        # Quick, quiet boots: no getty, no timers or network services starting in the container.
        rm -f "$r/etc/systemd/system/getty.target.wants/"* "$r/etc/systemd/system/timers.target.wants/"*
        echo "nodeprep-$SUITE" >"$r/etc/hostname"
        rm -rf "$r/var/cache/apt/archives/"*.deb "$r/var/lib/apt/lists/"*
        # What the tests report: the release's own versions.
        chroot "$r" dpkg-query -W -f='${Package} ${Version}\n' >"$dir.tmp/packages.txt"
        echo "$SUITE root built in $(($(date +%s) - start)) s" >"$dir.tmp/done"
        for old in "$CACHE/$SUITE"-*; do
                [ "$old" = "$dir.tmp" ] || rm -rf "$old"
        done
        mv "$dir.tmp" "$dir"
fi
echo "$dir/rootfs"
