#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Guest side of the VM suite, copied to the 9p share as test.sh and run by the image's
# nodeprep-vm-test.service: runs every stage named in /mnt/share/stages (one a line) as the
# function stage_NAME of /mnt/share/scenario.sh, in /mnt/share/out/NAME/ with its output in
# out/NAME/log, and appends "NAME RC START END" to out/stages.done. Stops at the first failing
# stage. A stage that wants a reboot touches /mnt/share/reboot; the image's driver then reboots
# instead of powering off.
set -u
S=/mnt/share
export S DEBIAN_FRONTEND=noninteractive NO_COLOR=1 LC_ALL=C.UTF-8
# For the stages: any nodeprepctl verb, its stdout in NAME.EXT, its exit status in NAME.rc.
np() {
        local name=$1
        shift
        local rc=0
        nodeprepctl "$@" >"$name" || rc=$?
        echo "$rc" >"${name%.*}.rc"
}

# shellcheck source=/dev/null
. "$S/scenario.sh"

mkdir -p "$S/out"
while read -r stage; do
        [ -n "$stage" ] || continue
        out=$S/out/$stage
        mkdir -p "$out"
        start=$(date +%s.%N)
        (
                set -euxo pipefail
                cd "$out"
                "stage_$stage"
        ) >"$out/log" 2>&1
        rc=$?
        echo "$stage $rc $start $(date +%s.%N)" >>"$S/out/stages.done"
        sync
        [ "$rc" -eq 0 ] || break
done <"$S/stages"
