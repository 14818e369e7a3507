#!/usr/bin/env bash
# Runs every test. Installs what the tests need first: the example plugins (scripts/setup.sh) and a running
# Postgres for the store's Postgres tests and the multi-host journeys (scripts/postgres.sh), and the plugin projects
# `ferry plugin new` makes in each language plus the TypeScript and Python example plugins, built with their pinned
# npm and PyPI toolchains (scripts/build-plugin-sdks.sh, cached in target/plugin-sdks).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/postgres.sh
scripts/chromium.sh
scripts/build-plugin-sdks.sh
cargo test --workspace "$@"
