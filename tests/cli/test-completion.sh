#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Drive the bash completion as bash does (COMP_WORDS/COMP_CWORD) and check what it offers.
set -euo pipefail
src=${NODEPREP_SRCDIR:?}/cli/completion/nodeprepctl
bin=$(dirname "${NODEPREPCTL:?}")
export PATH="$bin:$PATH"
# shellcheck source=/dev/null
source "$src"
fail=0

complete_words() { # words...; the last one is being completed
        COMP_WORDS=("$@")
        COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
        COMPREPLY=()
        _nodeprepctl
        printf '%s\n' "${COMPREPLY[@]}"
}

expect() { # description, needle, words...
        local what=$1 needle=$2 out
        shift 2
        out=$(complete_words "$@")
        if grep -qxF -- "$needle" <<<"$out"; then
                echo "ok - $what"
        else
                echo "not ok - $what: '$needle' not in: $(tr '\n' ' ' <<<"$out")"
                fail=1
        fi
}

expect "verbs" "apply" nodeprepctl ap
expect "verb options from --help" "--include-recommended" nodeprepctl apply --inc
expect "check options" "--format" nodeprepctl check --fo
expect "formats" "junit" nodeprepctl check --format j
expect "profile names" "the-things-stack" nodeprepctl check --profile the-
expect "check ids" "kmod.persistent:iscsi_tcp" nodeprepctl apply --only kmod.p
expect "settings" "DataCIDR=" nodeprepctl check --set Da
expect "methods" "io.nodeprep.GetReport" nodeprepctl call io.nodeprep.Get
expect "help verbs" "rollback" nodeprepctl help ro
expect "cluster verb" "cluster" nodeprepctl clu
expect "cluster options" "--json" nodeprepctl cluster --js
expect "metrics options" "--local" nodeprepctl metrics --lo

# Every verb nodeprepctl --help lists is completed, and nothing else.
want=$(nodeprepctl --help | sed -n '/^Verbs:/,/^$/p' | awk 'NR > 1 && NF { print $1 }' | sort)
got=$(complete_words nodeprepctl "" | sort)
if [ "$want" = "$got" ]; then
        echo "ok - verb list matches --help"
else
        echo "not ok - verb list: --help has $(tr '\n' ' ' <<<"$want"), completion $(tr '\n' ' ' <<<"$got")"
        fail=1
fi
exit $fail
