#!/usr/bin/env bash
# The main job: runs the sandbox demo end to end.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cargo run --release -p ferry -- demo "$@"
