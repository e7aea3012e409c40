#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""compile-against.py BUILDDIR INCLUDEDIR... [--set HAVE_X=0|1]...: compile every C file of a
meson build dir again (-fsyntax-only, its own flags, -Werror included) with INCLUDEDIRs searched
first: another release's public headers (systemd/sd-*.h, libudev.h, json-c/), so that what
nodeprep calls is checked against that release's API without having the release. --set overrides
a HAVE_ macro of lib/util/compat.h the way meson would decide it there (config.h is copied).

How the README's "compiles against" lines were made, e.g. for RHEL 8 with the headers of
systemd's v239-82 tree and json-c 0.13.1 in /tmp/rhel8:
  compile-against.py build-floor /tmp/rhel8 --set HAVE_SD_EVENT_SOURCE_DISABLE_UNREF=1 \\
      --set HAVE_SD_BUS_SET_METHOD_CALL_TIMEOUT=1
Exit 1 listing the files that do not compile."""
import json
import os
import re
import shlex
import subprocess
import sys
import tempfile


def main(argv):
    sets, dirs = {}, []
    it = iter(argv)
    for a in it:
        if a == "--set":
            k, v = next(it).split("=", 1)
            sets[k] = v
        else:
            dirs.append(os.path.abspath(a))
    if len(dirs) < 2:
        print(__doc__)
        return 64
    builddir, includes = dirs[0], dirs[1:]
    cfgdir = tempfile.mkdtemp(prefix="compile-against-")
    config = open(os.path.join(builddir, "config.h")).read()
    for k, v in sets.items():
        config, n = re.subn(r"^#define %s \d+$" % re.escape(k), "#define %s %s" % (k, v),
                            config, flags=re.M)
        if n != 1:
            print("no %s in config.h" % k)
            return 64
    with open(os.path.join(cfgdir, "config.h"), "w") as f:
        f.write(config)
    bad = 0
    commands = json.load(open(os.path.join(builddir, "compile_commands.json")))
    for c in commands:
        args, out, skip = shlex.split(c["command"]), [], False
        for a in args:
            if skip:
                skip = False
            elif a in ("-o", "-MF", "-MQ"):
                skip = True
            elif a not in ("-MD", "-c"):
                out.append(a)
        json_c = [d for d in includes if os.path.isdir(os.path.join(d, "json-c"))]
        if json_c:  # json-c's own pkg-config flag names its directory: point it there too
            out = ["-I" + os.path.join(json_c[0], "json-c") if a == "-I/usr/include/json-c" else a
                   for a in out]
        out[1:1] = ["-I" + cfgdir] + ["-I" + d for d in includes]
        r = subprocess.run(out + ["-fsyntax-only"], cwd=c["directory"], capture_output=True,
                           text=True)
        if r.returncode != 0:
            bad += 1
            print("not ok - %s\n%s" % (c["file"], r.stderr[:2000]))
    print("%d files compiled against %s: %d failed" % (len(commands), " ".join(includes), bad))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
