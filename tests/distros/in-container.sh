#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Runs as PID 1's default unit in a booted container of the release (test-distro.py): installs
# the .deb built there and drives the packaged units under that release's systemd. One
# "ok - X" or "not ok - X: why" per line in /mnt/share/results, then the container powers off.
. "$(dirname "$0")/../lib/container-results.sh"

export NO_COLOR=1 LC_ALL=C.UTF-8
. /etc/os-release
SD=$(systemctl --version | awk 'NR == 1 {print $2}')
echo "# $PRETTY_NAME, systemd $SD" >>"$OUT"
SOCK=/run/nodeprep/io.nodeprep
CONF=/etc/iscsi/iscsid.conf
ID=iscsi.conf:node.startup

check_status() { # STATUS: $ID has it in nodeprepd's report
        nodeprepctl status --json | python3 -c "
import json, sys
r = json.load(sys.stdin)
sys.exit({c['id']: c['status'] for c in r['profiles'][0]['checks']}['$ID'] != '$1')"
}
# Waits are generous: CI shares two CPUs with other jobs.
wait_for() { # SECONDS COMMAND...: until COMMAND succeeds
        local end=$((SECONDS + $1))
        shift
        until "$@" >/dev/null 2>&1; do
                [ $SECONDS -ge $end ] && return 1
                sleep 0.2
        done
}
# A host that fails one fixable check: iscsid.conf asks for automatic logins.
mkdir -p /etc/iscsi
printf '# iscsid.conf\nnode.startup = automatic\n' >"$CONF"

check "dbus running, as on a real host" systemctl start dbus.service
check "dpkg -i the .deb built here" dpkg -i "$SHARE"/pkg/nodeprep_*.deb
# What the package and systemd made of it, before any connection.
check "systemd-analyze verify: no unknown directive" sh -c \
        "systemd-analyze verify nodeprepd.service nodeprep.socket >$SHARE/verify.txt 2>&1; ! grep -i 'unknown' $SHARE/verify.txt"
# dh_installsystemd enables both units (nodeprepd.service is WantedBy=multi-user.target: it keeps
# the verdict, NFD labels and metrics current from boot on) and starts them.
check "units enabled and started by the package" sh -c \
        'for u in nodeprep.socket nodeprepd.service; do [ "$(systemctl is-enabled $u)" = enabled ] && [ "$(systemctl is-active $u)" = active ] || exit 1; done'
check "socket $SOCK mode 0666" sh -c "[ \"\$(stat -c %a $SOCK)\" = 666 ]"

# The site file the package installed, with the IOMesh profile switched on; then the daemon is
# stopped so that the first connection starts it again.
sed -i 's/^#Profiles=iomesh/Profiles=iomesh/' /etc/nodeprep/nodeprep.conf
check "site file names iomesh" grep -q '^Profiles=iomesh' /etc/nodeprep/nodeprep.conf
# The daemon reloads the changed site file by itself: stop it once that evaluation is done. (A
# stop while its probe thread connects to a system bus that is not up yet waits for the unit
# probe's 5 s limit: dbus.service's start is queued behind nodeprepd's stop. Real hosts run dbus;
# here it starts first.)
check "nodeprepd evaluates iomesh after the site file changed" wait_for 60 check_status fail
check "systemctl stop nodeprepd.service: the socket stays" sh -c \
        'systemctl stop nodeprepd.service && [ "$(systemctl is-active nodeprepd.service)" = inactive ] && [ "$(systemctl is-active nodeprep.socket)" = active ]'

nodeprepctl status >"$SHARE/status.txt" 2>&1
rc=$?
if [ $rc -le 2 ]; then ok "status: the connection activates nodeprepd (exit $rc)"; else fail "status activates nodeprepd" "exit $rc: $(tail -n 3 "$SHARE/status.txt")"; fi
check "Type=notify: active after READY=1" sh -c '[ "$(systemctl is-active nodeprepd.service)" = active ]'
check "status names the failing check" grep -q "$ID" "$SHARE/status.txt"
check "status --json: iomesh report, $ID fails" sh -c "nodeprepctl status --json | python3 -c '
import json, sys
r = json.load(sys.stdin)
assert r[\"schema_version\"] == 1 and r[\"profiles\"][0][\"name\"] == \"iomesh\"
st = {c[\"id\"]: c[\"status\"] for c in r[\"profiles\"][0][\"checks\"]}
assert st[\"$ID\"] == \"fail\", st[\"$ID\"]'"
check "STATUS= carries the verdict" sh -c 'systemctl show -p StatusText --value nodeprepd.service | grep -q "^iomesh: "'
PID=$(systemctl show -p MainPID --value nodeprepd.service)
check "hardening: no new privileges, seccomp" sh -c \
        "grep -q '^NoNewPrivs:.*1$' /proc/$PID/status && grep -q '^Seccomp:.*2$' /proc/$PID/status"
check "hardening: / read-only, /etc/iscsi writable" sh -c \
        "awk '\$5 == \"/\" {print \$6}' /proc/$PID/mountinfo | tail -n 1 | grep -q '^ro' && awk '\$5 == \"/etc/iscsi\" {print \$6}' /proc/$PID/mountinfo | grep -q '^rw'"
systemd-analyze security nodeprepd.service >"$SHARE/security.txt" 2>&1
check "systemd-analyze security rates it" grep -q "Overall exposure level" "$SHARE/security.txt"

# plan (through nodeprepd), apply --local (in this process), rollback (through nodeprepd).
nodeprepctl plan --only "$ID" >"$SHARE/plan.txt" 2>&1
rc=$?
check "plan (nodeprepd): exit 0, diff to manual" sh -c \
        "[ $rc -eq 0 ] && grep -q '^-node.startup = automatic' $SHARE/plan.txt && grep -q '^+node.startup = manual' $SHARE/plan.txt"
check "plan changed nothing" grep -q '^node.startup = automatic$' "$CONF"
nodeprepctl apply --local --profile iomesh --only "$ID" --json >"$SHARE/apply.json" 2>"$SHARE/apply.err"
rc=$?
check "apply --local: exit 0, changed" sh -c "[ $rc -eq 0 ] && python3 -c '
import json
a = json.load(open(\"$SHARE/apply.json\"))
assert a[\"changed\"] and not a[\"failed\"] and a[\"change_id\"], a'"
check "apply --local wrote node.startup = manual" grep -q '^node.startup = manual$' "$CONF"
check "apply --local kept the comment" grep -q '^# iscsid.conf$' "$CONF"
check "nodeprepd sees the fix (pass)" wait_for 60 check_status pass
CHANGE=$(python3 -c "import json; print(json.load(open('$SHARE/apply.json'))['change_id'])" 2>/dev/null)
check "rollback (nodeprepd) of $CHANGE" nodeprepctl rollback "$CHANGE"
check "rollback restored the file byte for byte" sh -c \
        "printf '# iscsid.conf\nnode.startup = automatic\n' | cmp - $CONF"
check "nodeprepd sees the rollback (fail)" wait_for 60 check_status fail

# systemd's own Varlink client (systemd 255 and later) against nodeprepd.
if command -v varlinkctl >/dev/null; then
        check "varlinkctl validate-idl daemon/io.nodeprep.varlink" varlinkctl validate-idl /mnt/share/src/daemon/io.nodeprep.varlink
        check "varlinkctl info" sh -c "varlinkctl info $SOCK >$SHARE/varlinkctl-info.txt && grep -q 'io.nodeprep' $SHARE/varlinkctl-info.txt"
        # systemd parses the description and prints it again: every type and method survives.
        check "varlinkctl introspect io.nodeprep: every type and method" sh -c \
                "varlinkctl introspect $SOCK io.nodeprep >$SHARE/varlinkctl-introspect.txt && grep -E '^(type|method|error) ' /mnt/share/src/daemon/io.nodeprep.varlink | sed -E 's/^([a-z]+ [A-Za-z0-9]+).*/\1/' | sort >$SHARE/idl-ours.txt && grep -E '^(type|method|error) ' $SHARE/varlinkctl-introspect.txt | sed -E 's/^([a-z]+ [A-Za-z0-9]+).*/\1/' | sort | diff $SHARE/idl-ours.txt - && [ \$(wc -l <$SHARE/idl-ours.txt) -ge 10 ]"
        check "varlinkctl call io.nodeprep.GetReport '{}'" sh -c "varlinkctl call $SOCK io.nodeprep.GetReport '{}' | python3 -c '
import json, sys
r = json.load(sys.stdin)
assert r[\"report\"][\"schema_version\"] == 1 and r[\"evaluation\"][\"serial\"] >= 1, r'"
        # Watch: the current report, then another when iscsid.conf changes.
        timeout 150 varlinkctl call --more --json=short $SOCK io.nodeprep.Watch '{}' >"$SHARE/watch.txt" 2>"$SHARE/watch.err" &
        WATCH=$!
        # --more with --json=short prints RFC 7464 JSON text sequences: RS before each reply.
        watch_seen() { # STATUS...: the replies so far carry these statuses of $ID, in order
                python3 -c "
import json, sys
text = open('$SHARE/watch.txt').read().replace(chr(0x1e), '\n')
r = [json.loads(l) for l in text.split('\n') if l.strip()]
st = [{c['id']: c['status'] for c in x['report']['profiles'][0]['checks']}['$ID'] for x in r]
sys.exit(not st or st[0] != sys.argv[1] or st[-1] != sys.argv[-1] or len(st) < len(sys.argv) - 1)
" "$@"
        }
        wait_for 60 watch_seen fail
        sed -i 's/^node.startup = automatic$/node.startup = manual/' "$CONF"
        wait_for 60 watch_seen fail pass
        kill $WATCH 2>/dev/null
        wait $WATCH 2>/dev/null
        check "varlinkctl call --more io.nodeprep.Watch: the report (fail), then the change (pass)" \
                watch_seen fail pass
        check "varlinkctl: a root-only method from an unprivileged user fails" sh -c \
                "! setpriv --reuid=65534 --regid=65534 --clear-groups varlinkctl call $SOCK io.nodeprep.Reload '{}' 2>$SHARE/varlinkctl-denied.txt && grep -q 'PermissionDenied\|Permission' $SHARE/varlinkctl-denied.txt"
fi

check "systemctl stop" systemctl stop nodeprepd.service nodeprep.socket
check "dpkg --purge" sh -c "dpkg --purge nodeprep >/dev/null && [ ! -e /var/lib/nodeprep ] && [ ! -e /lib/systemd/system/nodeprepd.service ] && [ ! -e /usr/lib/systemd/system/nodeprepd.service ]"
