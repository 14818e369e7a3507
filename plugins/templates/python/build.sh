#!/bin/sh
# Builds dist/{{name}}.wasm from app.py: the pinned componentize-py in .venv (made on first use), Python bindings
# for the WIT (bindings/, for your editor), then the component. --stub-wasi: Ferry refuses components importing
# clocks, files, sockets or HTTP, so the WASI that CPython asks for is stubbed out inside the component.
set -eu
cd "$(dirname "$0")"
# The hooks app.py implements (validate-order, map-client, map-invoice, map-item): Ferry calls no other, which spares
# starting the interpreter for them. Add one here when you write it.
HOOKS="map-invoice"
if [ ! -x .venv/bin/componentize-py ] || [ requirements.txt -nt .venv/bin/componentize-py ]; then
  python3 -m venv .venv
  .venv/bin/pip install --quiet --disable-pip-version-check -r requirements.txt
  touch .venv/bin/componentize-py
fi
rm -rf bindings
.venv/bin/componentize-py -d wit -w transformer bindings bindings >/dev/null
mkdir -p dist
.venv/bin/componentize-py -d wit -w transformer componentize --stub-wasi app -o dist/{{name}}.wasm
# shellcheck disable=SC2086 # one word per hook
python3 declare_hooks.py dist/{{name}}.wasm $HOOKS
