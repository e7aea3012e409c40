# SPDX-License-Identifier: LGPL-2.1-or-later
# Sourced by the scripts that run as PID 1's default unit in a booted test container
# (tests/nspawn/, tests/distros/): one "ok - X" or "not ok - X: why" per line in
# /mnt/share/results; on exit the journal goes to /mnt/share/journal.txt, "DONE" ends the results
# and the container powers off.
set -u
SHARE=/mnt/share
OUT=$SHARE/results
: >"$OUT"
ok() { echo "ok - $1" >>"$OUT"; }
fail() { echo "not ok - $1: $2" >>"$OUT"; }
check() { # check NAME COMMAND...
        local name=$1 out
        shift
        if out=$("$@" 2>&1); then ok "$name"; else fail "$name" "$(echo "$out" | tail -n 5 | tr '\n' ' ')"; fi
}
finish() {
        journalctl -b --no-pager -o short-monotonic >"$SHARE/journal.txt" 2>&1
        echo "DONE" >>"$OUT"
        systemctl poweroff --no-block
        exit 0
}
trap finish EXIT
