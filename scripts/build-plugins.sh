#!/usr/bin/env bash
# Builds every plugin in plugins/ (transforms and test fixtures) to a wasm32-wasip2 component in
# plugins/target/wasm32-wasip2/release/<crate_name>.wasm. Idempotent: cargo makes it a sub-second
# no-op when nothing changed. The Rust side finds the same files through ferry_transform::artifacts.
set -euo pipefail
cd "$(dirname "$0")/../plugins"
if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-wasip2; then
  rustup target add wasm32-wasip2
fi
# Explicit target dir: a CARGO_TARGET_DIR meant for the host crates must not move the plugins.
cargo build --release --target wasm32-wasip2 --target-dir target "$@"
