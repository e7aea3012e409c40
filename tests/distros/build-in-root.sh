#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Runs inside a Debian root (systemd-nspawn, not booted; test-distro.py): the source tree in
# /mnt/share/src is built with that release's own toolchain and -Dwerror=true, its unit and cli
# suites run (floor-symbols among them checks glibc there too: Debian 11 has 2.31), and the .deb
# is built with dpkg-buildpackage into /mnt/share/pkg. Output in /mnt/share/build.log; the
# versions used in /mnt/share/versions.txt. Exit status: the first step that failed.
set -euo pipefail
SHARE=/mnt/share
cd "$SHARE/src"
export LC_ALL=C.UTF-8 NO_COLOR=1

step() { printf '\n=== %s (%s)\n' "$1" "$(date -u +%H:%M:%S)"; }

step "versions"
{
        . /etc/os-release
        echo "release: $PRETTY_NAME"
        echo "gcc: $(gcc -dumpfullversion)"
        echo "glibc: $(ldd --version | head -n1 | grep -o '[0-9.]*$')"
        echo "meson: $(meson --version)"
        for m in libsystemd libudev json-c inih libkmod blkid libnl-3.0; do
                echo "$m: $(pkg-config --modversion "$m")"
        done
        echo "debhelper: $(dpkg-query -W -f='${Version}' debhelper)"
} | tee "$SHARE/versions.txt"

step "build (-Dwerror=true)"
meson setup "$SHARE/build" -Dwerror=true -Dfault-injection=true
grep '^#define HAVE_' "$SHARE/build/config.h"
ninja -C "$SHARE/build"

step "unit and cli suites"
meson test -C "$SHARE/build" --print-errorlogs --num-processes 2 --suite unit --suite cli

step "dpkg-buildpackage"
packaging/build-packages --deb --no-lint --outdir "$SHARE/pkg"
step "done"
