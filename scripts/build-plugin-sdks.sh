#!/usr/bin/env bash
# Builds what the plugin-SDK tests use, under target/plugin-sdks/ (never in the source tree): a project made by
# `ferry plugin new` in each language (rust, ts, js, python), built with that project's own one command (as its
# README says) and checked with `ferry plugin test` on its sample order. The toolchains come from the package
# registries, pinned by the templates (package-lock.json, requirements.txt, Cargo.toml). Then the example plugins'
# TypeScript and Python twins (plugins/ts, plugins/python) with the same toolchains, into target/plugin-sdks/twins/.
# Every component is checked by `ferry plugin test`, which also leaves its compiled code in target/plugin-sdks/cwasm
# for the tests (a JavaScript or Python component takes seconds to compile, a cached one a millisecond to map).
#
# Cached between runs: a scaffold file is rewritten only when its text changed, npm ci runs only when the lock
# changed, the Python venv is kept, and a component newer than every source of its project is not rebuilt. Needs
# Node 20 with npm, python3 with venv, and the wasm32-wasip2 Rust target (scripts/build-plugins.sh adds it).
set -euo pipefail
cd "$(dirname "$0")/.."
for tool in node npm python3; do
  command -v "$tool" >/dev/null 2>&1 \
    || { echo "build-plugin-sdks.sh: $tool is needed (Node 20 with npm, Python 3 with venv)" >&2; exit 1; }
done
root=$PWD
out=$root/target/plugin-sdks
mkdir -p "$out"
# FERRY_BIN names a ferry binary to use instead of building this checkout's.
if [ -n "${FERRY_BIN:-}" ]; then
  ferry=$FERRY_BIN
else
  cargo build -p ferry --quiet
  ferry=$root/target/debug/ferry
fi

# Build outputs and toolchains inside a project: neither compared nor counted as sources.
generated='node_modules|\.venv|dist|build|types|bindings|target|__pycache__'

# Copies every file of directory $1 into $2 whose text differs, so unchanged files keep their times.
sync_dir() {
  (cd "$1" && find . -type f) | while read -r f; do
    if ! cmp -s "$1/$f" "$2/$f"; then
      mkdir -p "$(dirname "$2/$f")"
      cp -p "$1/$f" "$2/$f"
    fi
  done
}

# Writes `ferry plugin new` output into $out/$lang, touching only files whose text changed.
scaffold() {
  local fresh
  fresh=$(mktemp -d)
  "$ferry" plugin new "sdk-$1" --lang "$1" --dir "$fresh/p" >/dev/null
  sync_dir "$fresh/p" "$out/$1"
  rm -rf "$fresh"
}

# True when $1 (a component) is missing or older than a source file of project $2.
stale() {
  [ ! -f "$1" ] && return 0
  [ -n "$(cd "$2" && find . -type f -newer "$1" | grep -Ev "^\./($generated)/" | head -n1)" ]
}

build() {
  local lang=$1 dir=$out/$1 wasm
  case $lang in
    rust) wasm=$dir/target/wasm32-wasip2/release/sdk_rust.wasm ;;
    *) wasm=$dir/dist/sdk-$lang.wasm ;;
  esac
  if stale "$wasm" "$dir"; then
    echo "build-plugin-sdks.sh: building the $lang scaffold" >&2
    case $lang in
      rust) (cd "$dir" && cargo build --quiet --release --target wasm32-wasip2) ;;
      ts | js)
        if [ ! -f "$dir/node_modules/.package-lock.json" ] \
          || [ "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ]; then
          (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
        fi
        (cd "$dir" && npm run --silent build >/dev/null) ;;
      python) (cd "$dir" && ./build.sh >/dev/null) ;;
    esac
  fi
  # The scaffold's own test: its example hook adds the greeting to the sample order's invoice notes, and the
  # component declares that one hook only (Ferry calls no other).
  "$ferry" plugin test "$wasm" --order "$dir/sample-order.json" --setting greeting=Thanks \
    --cache-dir "$out/cwasm" | python3 -c '
import json, sys
r = json.load(sys.stdin)
assert "Thanks 27!" in r["after"]["invoice"]["notes"], "no greeting in the notes"
assert r["hooks"] == ["map-invoice"], "declares %s" % r["hooks"]' \
    || { echo "build-plugin-sdks.sh: ferry plugin test of the $lang scaffold failed (above)" >&2; exit 1; }
  cp -p "$wasm" "$out/sdk-$lang.wasm"
}

for lang in rust ts js python; do
  scaffold "$lang"
  build "$lang"
done

# The twins: sources copied next to the template's toolchain, built when a source is newer than the components.
twins=$out/twins
mkdir -p "$twins/ts" "$twins/python" "$twins/ts-work"
fresh=$(mktemp -d)
"$ferry" wit export "$fresh" >/dev/null
sync_dir "$fresh" "$twins/wit"
rm -rf "$fresh"
ts_twin=$twins/ts/custom-fields.wasm
if stale "$ts_twin" "$root/plugins/ts" || stale "$ts_twin" "$twins/wit" \
  || [ "$root/plugins/templates/declare-hooks.mjs" -nt "$ts_twin" ] \
  || [ "$root/plugins/templates/componentize-plugin.mjs" -nt "$ts_twin" ]; then
  echo "build-plugin-sdks.sh: building the TypeScript twins" >&2
  rm -rf "$twins/ts-work/src"
  cp -r "$root/plugins/ts/src" "$root/plugins/ts/build.mjs" "$root/plugins/ts/tsconfig.json" \
    "$root/plugins/templates/declare-hooks.mjs" "$root/plugins/templates/componentize-plugin.mjs" "$twins/ts-work/"
  rm -rf "$twins/ts-work/wit" && cp -r "$twins/wit" "$twins/ts-work/wit"
  ln -sfn "$out/ts/node_modules" "$twins/ts-work/node_modules"
  (cd "$twins/ts-work" && node build.mjs "$twins/ts")
fi
# Each Python twin with the hooks its Rust original's `export_transform!` declares.
for twin in custom-fields:map-client,map-invoice,map-item tax-rules:map-invoice,map-item enrich-segment:map-client; do
  name=${twin%%:*}
  hooks=$(echo "${twin#*:}" | tr , ' ')
  wasm=$twins/python/$name.wasm
  if stale "$wasm" "$root/plugins/python/$name" || stale "$wasm" "$twins/wit" \
    || stale "$wasm" "$root/plugins/templates/python"; then
    echo "build-plugin-sdks.sh: building the Python twin $name" >&2
    "$out/python/.venv/bin/componentize-py" -q -d "$twins/wit" -w transformer componentize --stub-wasi app \
      -p "$root/plugins/python/$name" -o "$wasm"
    # shellcheck disable=SC2086 # one word per hook
    python3 "$root/plugins/templates/python/declare_hooks.py" "$wasm" $hooks
  fi
done
for wasm in "$twins"/ts/*.wasm "$twins"/python/*.wasm; do
  "$ferry" plugin test "$wasm" --order "$root/docs/sample-order.json" --cache-dir "$out/cwasm" >/dev/null \
    || { echo "build-plugin-sdks.sh: ferry plugin test refused $wasm" >&2; exit 1; }
done
