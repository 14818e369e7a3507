#!/usr/bin/env bash
# Diagnosis of the three-host stall (a tenant disconnected at start-up because a host spent the refresh token and
# never stored the new pair, then froze): runs the e2e suite up to RUNS times (default 3) while a watcher looks at
# every Postgres test database twice a second. When one records a disconnected tenant, it writes to OUT (default
# /tmp/ferry-stall.txt): the thread stacks of every running test host (gdb, which pauses each host for a moment), the
# hosts' logs the test process holds open, and the database's running and retrying events. Stops at the first catch.
# E2E_CMD replaces the command each run executes (e.g. `cargo test --workspace --test e2e -- multi_host`).
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${RUNS:-3}
out=${OUT:-/tmp/ferry-stall.txt}
command -v gdb >/dev/null || { echo "catch-stall.sh needs gdb" >&2; exit 1; }
scripts/postgres.sh
rm -f "$out"
psql_() { psql -h 127.0.0.1 -U postgres -At "$@"; }

test_dbs() { psql_ -c "SELECT datname FROM pg_database WHERE datname LIKE 'ferry_e2e%'"; }
# Databases left by earlier runs are not looked at.
before=" $(test_dbs | tr '\n' ' ') "

watch() {
    while true; do
        for db in $(test_dbs); do
            case "$before" in *" $db "*) continue ;; esac
            n=$(psql_ -d "$db" -c "SELECT count(*) FROM tenant_disconnections" 2>/dev/null || echo 0)
            [ "${n:-0}" -gt 0 ] || continue
            {
                date
                for p in $(pgrep -f ferry-under-test); do
                    echo "=== host $p: $(tr '\0' ' ' <"/proc/$p/cmdline"), log $(readlink "/proc/$p/fd/2")"
                    timeout 60 gdb -p "$p" -batch -ex "thread apply all bt 30" 2>&1
                done
                for t in $(pgrep -f "e2e-"); do
                    for f in $(ls -l "/proc/$t/fd" 2>/dev/null | grep -o "/tmp/\.tmp[A-Za-z0-9]*$"); do
                        echo "=== log $f"
                        cut -c1-400 "$f"
                    done
                done
                echo "=== $db"
                psql_ -d "$db" -c "SELECT seq, state, lease_owner, attempts, last_error FROM events \
                    WHERE state IN ('running', 'retrying'); SELECT * FROM tenant_disconnections"
            } >"$out" 2>&1
            echo "caught: $out"
            return
        done
        sleep 0.5
    done
}

watch &
watcher=$!
trap 'kill $watcher 2>/dev/null || true' EXIT
for i in $(seq "$runs"); do
    ${E2E_CMD:-cargo test --workspace --test e2e} >"/tmp/ferry-stall-run-$i.log" 2>&1 || true
    grep -E "^test result" "/tmp/ferry-stall-run-$i.log" || true
    if ! kill -0 "$watcher" 2>/dev/null; then break; fi
done
