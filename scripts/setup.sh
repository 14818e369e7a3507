#!/usr/bin/env bash
# One-time set-up for the demo and the tests, from this checkout; cheap when everything is already there.
# It builds the example plugins (the demo's transform chain, the tests' fixtures) for wasm32-wasip2. It needs
# neither Postgres (scripts/test.sh starts it, for the multi-host tests) nor, when the wasm32-wasip2 target is
# already installed, rustup. Installing Ferry itself needs none of this: see the README's Install section.
set -euo pipefail
"$(dirname "$0")/build-plugins.sh" --quiet
