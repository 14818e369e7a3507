#!/usr/bin/env bash
# Runs every test. Installs what the tests need first: the example plugins (scripts/setup.sh) and a running
# Postgres for the store's Postgres tests and the multi-host journeys (scripts/postgres.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/postgres.sh
scripts/chromium.sh
cargo test --workspace "$@"
