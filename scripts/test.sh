#!/usr/bin/env bash
# Runs every test. Installs what the tests need first (the wasm32-wasip2 target, a running Postgres).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cargo test --workspace "$@"
