#!/usr/bin/env bash
# Builds every plugin in plugins/ (transforms and test fixtures) to a wasm32-wasip2 component in
# plugins/target/wasm32-wasip2/release/<crate_name>.wasm. Idempotent: cargo makes it a sub-second
# no-op when nothing changed. The Rust side finds the same files through ferry_transform::artifacts.
set -euo pipefail
cd "$(dirname "$0")/../plugins"
# rustup adds the target when it is missing; a toolchain without rustup must bring it itself.
if command -v rustup >/dev/null 2>&1; then
  if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-wasip2; then
    rustup target add wasm32-wasip2
  fi
elif [ ! -d "$(rustc --print sysroot)/lib/rustlib/wasm32-wasip2" ]; then
  echo "build-plugins.sh: the Rust target wasm32-wasip2 is not installed and there is no rustup to add it" >&2
  exit 1
fi
# Explicit target dir: a CARGO_TARGET_DIR meant for the host crates must not move the plugins.
cargo build --release --target wasm32-wasip2 --target-dir target "$@"
