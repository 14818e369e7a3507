#!/usr/bin/env bash
# One-time set-up shared by the demo and the tests; cheap when everything is already there.
set -euo pipefail
if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-wasip2; then
  rustup target add wasm32-wasip2
fi
# The plugins are a separate workspace built for wasm32-wasip2 (quiet unless something fails).
"$(dirname "$0")/build-plugins.sh" --quiet
# The store's Postgres tests (and multi-host runs) need a server at 127.0.0.1:5432; start one if none is up.
"$(dirname "$0")/postgres.sh"
