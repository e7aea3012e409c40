#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Every built man page renders with man(1) without a single warning.
set -euo pipefail
builddir=${1:?usage: test-man.sh BUILDDIR/man}
command -v man >/dev/null || { echo "man not installed"; exit 77; }
pages=("$builddir"/*.[1-8])
[ -e "${pages[0]}" ] || { echo "no man pages built (scdoc missing?)"; exit 77; }
status=0
for page in "${pages[@]}"; do
        warnings=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -E UTF-8 -l "$page" 2>&1 >/dev/null || true)
        if [ -n "$warnings" ]; then
                echo "not ok - $page"
                echo "$warnings" | sed 's/^/  /'
                status=1
        else
                echo "ok - $(basename "$page")"
        fi
done
exit $status
