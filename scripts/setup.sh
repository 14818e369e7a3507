#!/usr/bin/env bash
# One-time set-up shared by the demo and the tests; cheap when everything is already there.
set -euo pipefail
if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-wasip2; then
  rustup target add wasm32-wasip2
fi
# The plugins are a separate workspace built for wasm32-wasip2 (quiet unless something fails).
"$(dirname "$0")/build-plugins.sh" --quiet
