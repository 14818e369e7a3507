#!/usr/bin/env bash
# Makes sure a Postgres server accepts connections at 127.0.0.1:5432 (user `postgres`, trust auth), for the
# multi-host store tests and benches. Idempotent and quiet when the server is already up. `FERRY_PG_PORT`
# overrides the port (for trying the script without touching the shared server).
#
# Tries, in order: the server already running; the system service (`service postgresql start`); a Debian
# cluster (`pg_ctlcluster <ver> main start`); and, as a last resort, a private cluster under .ferry/pg
# (initdb with trust auth, started with pg_ctl on port 5432). Prints what it did only when it had to act.
set -euo pipefail

HOST=127.0.0.1
PORT="${FERRY_PG_PORT:-5432}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
PRIVATE="$ROOT/.ferry/pg"

ready() {
  pg_isready -q -h "$HOST" -p "$PORT" >/dev/null 2>&1
}

wait_ready() {
  for _ in $(seq 1 30); do
    ready && return 0
    sleep 0.5
  done
  return 1
}

say() { echo "postgres.sh: $*" >&2; }

if ! command -v pg_isready >/dev/null 2>&1; then
  for dir in /usr/lib/postgresql/*/bin; do
    [ -x "$dir/pg_isready" ] && PATH="$dir:$PATH"
  done
fi
if ! command -v pg_isready >/dev/null 2>&1; then
  say "pg_isready not found: install PostgreSQL (e.g. apt-get install postgresql)"
  exit 1
fi

ready && exit 0

# 1. The system service.
if command -v service >/dev/null 2>&1; then
  if service postgresql start >/dev/null 2>&1 && wait_ready; then
    say "started the postgresql service"
    exit 0
  fi
fi

# 2. A Debian/Ubuntu cluster.
if command -v pg_ctlcluster >/dev/null 2>&1 && command -v pg_lsclusters >/dev/null 2>&1; then
  while read -r ver name _; do
    [ -n "${ver:-}" ] || continue
    if pg_ctlcluster "$ver" "$name" start >/dev/null 2>&1 && wait_ready; then
      say "started cluster $ver/$name"
      exit 0
    fi
  done < <(pg_lsclusters -h 2>/dev/null)
fi

# 3. A private cluster owned by this checkout.
BIN=""
for dir in "$(dirname "$(command -v initdb 2>/dev/null || echo /nonexistent/x)")" /usr/lib/postgresql/*/bin; do
  if [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ]; then
    BIN="$dir"
  fi
done
if [ -z "$BIN" ]; then
  say "no running server at $HOST:$PORT and no initdb/pg_ctl to start one"
  exit 1
fi

# Postgres refuses to run as root: run the private cluster as the `postgres` user when we are root.
AS=()
if [ "$(id -u)" = 0 ]; then
  if ! id postgres >/dev/null 2>&1; then
    useradd --system --home-dir "$PRIVATE" --shell /bin/sh postgres
  fi
  AS=(runuser -u postgres --)
fi

mkdir -p "$PRIVATE"
[ "$(id -u)" = 0 ] && chown postgres "$PRIVATE"
if [ ! -f "$PRIVATE/data/PG_VERSION" ]; then
  "${AS[@]}" "$BIN/initdb" -D "$PRIVATE/data" -U postgres --auth=trust -E UTF8 >"$PRIVATE/initdb.log" 2>&1 \
    || { say "initdb failed, see $PRIVATE/initdb.log"; exit 1; }
fi
"${AS[@]}" "$BIN/pg_ctl" -D "$PRIVATE/data" -l "$PRIVATE/server.log" -w \
  -o "-h $HOST -p $PORT -k $PRIVATE -c max_connections=300" start >/dev/null \
  || { say "pg_ctl start failed, see $PRIVATE/server.log"; exit 1; }
if wait_ready; then
  say "started a private cluster in $PRIVATE (trust auth, port $PORT)"
  exit 0
fi
say "the private cluster did not become ready, see $PRIVATE/server.log"
exit 1
