#!/usr/bin/env bash
# Makes sure a headless Chromium and its WebDriver are installed, for the web console's browser tests
# (tests/e2e/console.rs): Debian's `chromium` and `chromium-driver`, whose versions the Debian release pins and
# which always match each other. Idempotent and quiet when both are there. Needs root (or sudo) the first time.
set -euo pipefail

if command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1; then
  exit 0
fi

SUDO=""
if [ "$(id -u)" != 0 ]; then
  SUDO="sudo"
fi
echo "chromium.sh: installing chromium and chromium-driver (apt-get)" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends chromium chromium-driver >/dev/null
command -v chromedriver >/dev/null 2>&1 || { echo "chromium.sh: chromedriver still missing" >&2; exit 1; }
