#!/usr/bin/env bash
# `ferry serve` as an operator runs it, measured apart from the simulators: `ferry sandbox` (the simulators, one
# process) and `ferry serve -c ferry.sandbox.toml` (the host, another), then ORDERS orders (default 500; 60 % paid,
# 30 % in a foreign currency, as in the orders bench) placed through the Kentico simulator's control API, each sent
# to the host as a signed webhook. Prints orders/s (first order placed → last invoice and payment seen in the
# FreshBooks simulator), CPU per order (user + system, from /proc) of the host and of the simulators apart, the
# host's context switches per order (its threads' voluntary and involuntary switches, from /proc) and the worker's
# claims per order (from the host's /metrics).
#
# Env: ORDERS (500), CONCURRENCY (the tenant's concurrency; the sandbox config's default when unset), PLACERS
# (parallel order placers, 4), FERRY_BIN (default target/release/ferry, built when missing), PERF (a file: the host is
# sampled there with `perf record -g` while the orders run, for `perf report -i <file>`), WAL (1: the host is then
# killed with -9, so nothing is checkpointed away, and scripts/wal-frames.py tells what its SQLite WAL holds: frames,
# each a page written and flushed, per order, by commit and by b-tree; with ORDERS up to about 200, before the WAL
# first fills and restarts).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
orders=${ORDERS:-500}
placers=${PLACERS:-4}
bin=${FERRY_BIN:-$repo/target/release/ferry}
[ -x "$bin" ] || (cd "$repo" && cargo build --release -p ferry --bin ferry)
"$repo/scripts/build-plugins.sh" --quiet
work=$(mktemp -d)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    [ -n "${KEEP:-}" ] && echo "kept $work" >&2 || rm -rf "$work"
}
trap cleanup EXIT
cd "$work"
"$bin" sandbox --orders 0 --plugins-dir "$repo/plugins/target/wasm32-wasip2/release" >sandbox.log 2>&1 &
sims=$!
pids+=("$sims")
for _ in $(seq 100); do [ -s ferry.sandbox.toml ] && break; sleep 0.1; done
[ -s ferry.sandbox.toml ] || { cat sandbox.log; exit 1; }
if [ -n "${CONCURRENCY:-}" ]; then
    # The tenant's running limit: its `[tenants.limits]` table, added after the tenant's own keys.
    python3 - "$CONCURRENCY" <<'EOF'
import re, sys
text = open("ferry.sandbox.toml").read()
n = sys.argv[1]
if "[tenants.limits]" in text:
    text = re.sub(r"(\[tenants\.limits\][^\[]*?)concurrency = \d+", rf"\g<1>concurrency = {n}", text)
    if f"concurrency = {n}" not in text:
        text = text.replace("[tenants.limits]", f"[tenants.limits]\nconcurrency = {n}")
else:
    text = text.rstrip() + f"\n\n[tenants.limits]\nconcurrency = {n}\n"
open("ferry.sandbox.toml", "w").write(text)
EOF
fi
"$bin" serve -c ferry.sandbox.toml >serve.log 2>&1 &
host=$!
pids+=("$host")
for _ in $(seq 200); do curl -fs http://127.0.0.1:8080/readyz >/dev/null && break; sleep 0.1; done
curl -fs http://127.0.0.1:8080/readyz >/dev/null || { tail -20 serve.log; exit 1; }
account=$(curl -fs http://127.0.0.1:7002/_sim/freshbooks/accounts | jq -r '.[0].account_id')
count() { curl -fs "http://127.0.0.1:7002/_sim/freshbooks/accounts/$account" | jq -r ".$1"; }
cpu_ms() { awk -v hz="$(getconf CLK_TCK)" '{ print ($14 + $15) * 1000 / hz }' "/proc/$1/stat"; }
# Context switches of all the process's threads: each hand-off between threads costs two, and on a VM each is dear.
switches() { cat /proc/"$1"/task/*/status | awk '/ctxt_switches/ { n += $2 } END { print n }'; }
# The same by kind of thread (the name less its number: tokio-rt-worker, sqlx-sqlite-worker-, ferry-wal-sync...), as
# `name=count,...`.
switches_by_thread() {
    for t in /proc/"$1"/task/*; do
        awk '/^Name:/ { name = $2; sub(/[0-9]+$/, "", name) } /ctxt_switches/ { n += $2 } END { print name, n }' "$t/status"
    done | awk '{ n[$1] += $2 } END { for (k in n) printf "%s=%d,", k, n[k] }'
}
# The worker's claims by whether they found events (`ferry_worker_claims_total`), as `events none`.
claims() {
    curl -fs http://127.0.0.1:8080/metrics | awk '/^ferry_worker_claims_total/ {
        if ($0 ~ /found="none"/) n += $NF; else e += $NF } END { printf "%d %d", e, n }'
}
invoices0=$(count invoices)
payments0=$(count payments)
host0=$(cpu_ms "$host")
switches0=$(switches "$host")
threads0=$(switches_by_thread "$host")
claims0=$(claims)
sims0=$(cpu_ms "$sims")
if [ -n "${PERF:-}" ]; then
    perf record -F ${PERF_FREQ:-499} --call-graph ${PERF_CALLGRAPH:-fp} -o "$PERF" -p "$host" >perf.log 2>&1 &
    pids+=("$!")
fi
start=$(date +%s.%N)
seq 1 "$orders" | xargs -P "$placers" -I{} curl -fs -o /dev/null -X POST \
    -H 'content-type: application/json' \
    -d '{"n": {}, "mix": {"invalid": 0, "foreign_currency": 0.3, "paid": 0.6}}' \
    http://127.0.0.1:7001/_sim/kentico/orders/random
placed=$(date +%s.%N)
# Every order gets an invoice; about 60 % also a payment. Settled: the invoice count is reached and neither count
# moved since the check before. The run ends when the counts were last seen to move (within one check, ~0.1 s).
last=""
moved=$start
for _ in $(seq 6000); do
    now="$(count invoices) $(count payments)"
    [ "$now" = "$last" ] || moved=$(date +%s.%N)
    if [ "${now%% *}" -ge $((invoices0 + orders)) ] && [ "$now" = "$last" ]; then break; fi
    last=$now
    sleep 0.05
done
end=$moved
host1=$(cpu_ms "$host")
switches1=$(switches "$host")
threads1=$(switches_by_thread "$host")
claims1=$(claims)
if [ -n "${PERF:-}" ]; then kill -INT "${pids[-1]}"; wait "${pids[-1]}" 2>/dev/null || true; fi
sims1=$(cpu_ms "$sims")
invoices=$(($(count invoices) - invoices0))
payments=$(($(count payments) - payments0))
python3 - "$orders" "$start" "$placed" "$end" "$host0" "$host1" "$sims0" "$sims1" "$invoices" "$payments" \
    "$switches0" "$switches1" "$threads0" "$threads1" "$claims0" "$claims1" <<'EOF'
import sys
orders, start, placed, end, h0, h1, s0, s1, inv, pay, w0, w1, t0, t1, c0, c1 = sys.argv[1:]
orders = int(orders)
wall = float(end) - float(start)
print(f"ferry serve (sandbox config): {orders} orders in {wall:.2f}s = {orders / wall:.1f} orders/s "
      f"(placing took {float(placed) - float(start):.2f}s); {inv} invoices, {pay} payments")
host_ms, sims_ms = float(h1) - float(h0), float(s1) - float(s0)
# The simulators serve the same calls whatever the host does, so host over simulators moves less with the VM's speed
# than either figure: the one to compare builds by on a VM whose speed drifts.
print(f"CPU per order: host {host_ms / orders:.2f} ms, simulators {sims_ms / orders:.2f} ms (host/simulators "
      f"{host_ms / max(sims_ms, 1e-9):.2f}); host context switches per order {(int(w1) - int(w0)) / orders:.1f}")
def by_thread(text):
    return {k: int(v) for k, v in (kv.split("=") for kv in text.split(",") if kv)}
before, after = by_thread(t0), by_thread(t1)
kinds = sorted(after, key=lambda k: before.get(k, 0) - after[k])
print("  by thread: " + ", ".join(f"{k} {(after[k] - before.get(k, 0)) / orders:.1f}" for k in kinds))
(e0, n0), (e1, n1) = (map(int, c.split()) for c in (c0, c1))
print(f"claims per order: {(e1 - e0 + n1 - n0) / orders:.2f} ({(n1 - n0) / orders:.2f} of them found nothing)")
EOF
grep -c '"level":"ERROR"\|ERROR' serve.log >/dev/null && echo "host errors: $(grep -c 'ERROR' serve.log)" || true
if [ -n "${WAL:-}" ]; then
    kill -9 "$host"
    wait "$host" 2>/dev/null || true
    python3 "$repo/scripts/wal-frames.py" .ferry/sandbox.db "$orders"
fi
