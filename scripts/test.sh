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
# FERRY_CLIPPY=1 (CI) lints while it builds: clippy-driver, as cargo clippy runs it, compiles the workspace's own
# crates (every target: benches and examples too, as `cargo clippy --all-targets`) with `-D warnings`, so a lint
# fails the build; the dependencies are built once, by rustc, for both. Both cargo runs below see the same wrapper,
# so the second one does not rebuild.
targets=()
if [ "${FERRY_CLIPPY:-}" = 1 ]; then
  RUSTC_WORKSPACE_WRAPPER=$(rustup which clippy-driver 2>/dev/null || command -v clippy-driver) \
    || { echo "test.sh: FERRY_CLIPPY=1 needs clippy-driver (rustup component add clippy)" >&2; exit 1; }
  export RUSTC_WORKSPACE_WRAPPER
  export CLIPPY_ARGS=-D__CLIPPY_HACKERY__warnings__CLIPPY_HACKERY__
  targets=(--all-targets)
fi
# The test build first: it also builds the ferry binary the SDK projects are made and checked with. A separate
# `cargo build -p ferry` resolves the dependencies' features without the tests' (tokio's test-util, …) and so built
# every dependency a second time, ~10 minutes of a cold CI run.
cargo test --workspace --no-run "${targets[@]}" "$@"
target_dir=${CARGO_TARGET_DIR:-target}
case $target_dir in /*) ;; *) target_dir=$PWD/$target_dir ;; esac
FERRY_BIN=$target_dir/debug/ferry RUSTC_WORKSPACE_WRAPPER= scripts/build-plugin-sdks.sh
cargo test --workspace "$@"
