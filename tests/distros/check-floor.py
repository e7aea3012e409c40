#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""check-floor.py [--native SYMBOL]... BINARY...: every library symbol the binaries import exists
in the oldest supported releases (RHEL 8), except the SYMBOLs (fnmatch patterns) that meson found
in the installed library and lib/util/compat.h replaces where they are missing.

The version a binary needs of each symbol is written in it (objdump -T: "(LIBSYSTEMD_240)
sd_device_get_devname"): a call newer than the floor shows here whatever the host has. json-c
has version nodes only since 0.15 and puts every older call in JSONC_0.14, so the calls 0.14
added are listed by name. glibc is checked only where it was built against a glibc older than
2.32 (Debian 11): newer ones re-version old calls (stat64@GLIBC_2.33, pthread_create@GLIBC_2.34),
so a newer build says nothing about 2.28. libnl and inih have no version nodes (floors reviewed:
README "Packages"). Exit 1 listing each symbol newer than its floor."""
import fnmatch
import os
import re
import subprocess
import sys

# RHEL 8's releases: systemd 239, json-c 0.13.1, kmod 25, util-linux 2.32, glibc 2.28.
# library: (newest version node allowed, the floor as people say it)
FLOORS = {
    "LIBSYSTEMD": ((239,), "systemd 239"),
    "LIBUDEV": ((239,), "systemd 239"),
    "LIBKMOD": ((25,), "kmod 25"),
    "BLKID": ((2, 32), "util-linux 2.32"),
    "JSONC": ((0, 14), "json-c 0.13"),
    "GLIBC": ((2, 28), "glibc 2.28"),
}
# Symbols json-c 0.14 added to what 0.13 had (all in node JSONC_0.14).
JSONC_0_14_NEW = {
    "json_object_new_uint64", "json_object_get_uint64", "json_object_set_uint64",
    "json_tokener_get_parse_end", "json_object_new_null", "json_object_from_fd_ex",
}


def version(s):
    return tuple(int(x) for x in s.split(".") if x.isdigit())


def glibc_build_version():
    try:
        out = subprocess.run(["ldd", "--version"], capture_output=True, text=True).stdout
    except OSError:
        return None
    m = re.search(r"(\d+)\.(\d+)\s*$", out.splitlines()[0] if out else "")
    return (int(m.group(1)), int(m.group(2))) if m else None


def imports(binary):
    out = subprocess.run(["objdump", "-T", binary], capture_output=True, text=True, check=True)
    for line in out.stdout.splitlines():
        m = re.search(r"\*UND\*\s+\S+\s+\(?([A-Z_]+)_([0-9][0-9.]*)\)?\s+(\S+)$", line)
        if m:
            yield m.group(1), m.group(2), m.group(3)


def main(argv):
    native, binaries = [], []
    it = iter(argv)
    for a in it:
        if a == "--native":
            native.append(next(it))
        else:
            binaries.append(a)
    if not binaries:
        print(__doc__)
        return 64
    glibc = glibc_build_version()
    check_glibc = glibc is not None and glibc < (2, 32)
    if not check_glibc:
        print("# glibc %s: its symbol versions say nothing about 2.28; not checked" %
              ".".join(map(str, glibc or ())))
    bad = []
    for b in binaries:
        n = 0
        for lib, ver, sym in imports(b):
            if lib not in FLOORS or (lib == "GLIBC" and not check_glibc):
                continue
            n += 1
            newer = version(ver) > FLOORS[lib][0] or (lib == "JSONC" and sym in JSONC_0_14_NEW)
            if newer and any(fnmatch.fnmatchcase(sym, p) for p in native):
                print("# %s: %s@%s_%s: newer than the floor, replaced by lib/util/compat.h "
                      "where missing" % (os.path.basename(b), sym, lib, ver))
            elif newer:
                bad.append("%s: %s@%s_%s is newer than %s" %
                           (os.path.basename(b), sym, lib, ver, FLOORS[lib][1]))
        print("# %s: %d versioned library symbols checked" % (os.path.basename(b), n))
    for line in bad:
        print("not ok - %s (RHEL 8): include util/compat.h in the file that calls it where "
              "compat.h has a stand-in, else add one there and to meson.build's compat_calls, or "
              "do without it" % line)
    if not bad:
        print("ok - no library call newer than the floors")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
