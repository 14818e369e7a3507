#!/usr/bin/env bash
# Builds the Debian package of the ferry host (target/debian/ferry_<version>_<arch>.deb) with cargo-deb, and with
# --check installs it into a throwaway root and runs it from there.
#
#   scripts/package.sh                     # release build → target/debian/ferry_*.deb
#   scripts/package.sh --check             # … then check the package (contents, unit file, the installed binary)
#   scripts/package.sh --profile dev --no-build --check   # what CI runs: the binary the tests ran, as built
#
# The check never installs on this machine. It extracts the package with dpkg-deb into a temporary directory:
# the files and modes the package promises, `systemd-analyze verify` of the unit when systemd-analyze is there,
# then `ferry --version` and `ferry config check` of the extracted /etc/ferry/ferry.toml (its absolute paths
# pointed into the temporary root through FERRY_DATABASE and FERRY_MASTER_KEY). Then, as root where mount
# namespaces work, a real `dpkg -i` (postinst included), reinstall and purge inside a private mount namespace
# whose /etc, /usr, /var and /run are throwaway overlays, checking the ferry user, the modes and owners of its
# files and `ferry config check` run as that user.
set -euo pipefail
cd "$(dirname "$0")/.."

CARGO_DEB_VERSION=3.8.0
PROFILE=release
CHECK=0
BUILD=1
while [ $# -gt 0 ]; do
  case "$1" in
    --profile) PROFILE="$2"; shift 2 ;;
    --check) CHECK=1; shift ;;
    # Package target/<profile>/ferry as it stands. CI packages the test build's binary: `cargo build -p ferry`
    # resolves features without the tests' dev-dependencies and would build every dependency again.
    --no-build) BUILD=0; shift ;;
    *) echo "package.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done

say() { echo "package.sh: $*" >&2; }

if [ "$(cargo deb --version 2>/dev/null || true)" != "cargo-deb $CARGO_DEB_VERSION" ]; then
  say "installing cargo-deb $CARGO_DEB_VERSION"
  cargo install cargo-deb --locked --version "$CARGO_DEB_VERSION"
fi

# cargo's output directory for the profile (dev builds land in debug/).
TARGET_DIR="${CARGO_TARGET_DIR:-target}"
case "$PROFILE" in
  dev) OUT="$TARGET_DIR/debug" ;;
  *) OUT="$TARGET_DIR/$PROFILE" ;;
esac

if [ "$BUILD" = 1 ]; then
  cargo build --locked -p ferry --profile "$PROFILE"
else
  [ -x "$OUT/ferry" ] || { say "--no-build: $OUT/ferry is not built"; exit 1; }
fi
mkdir -p "$OUT/completions"
"$OUT/ferry" completions bash > "$OUT/completions/ferry.bash"
# cargo-deb strips the binary; --fast: xz at a low level (the package is built on every CI run). With
# --profile dev, cargo-deb 3.8 warns that dev profiles are unsupported: CI packages the test build on purpose.
cargo deb --locked -p ferry --profile "$PROFILE" --no-build --fast -o "$TARGET_DIR/debian/" >/dev/null
DEB="$(ls -t "$TARGET_DIR"/debian/ferry_*.deb | head -1)"
say "built $DEB ($(du -h "$DEB" | cut -f1))"

[ "$CHECK" = 1 ] || exit 0

ROOT="$(mktemp -d)"
trap 'rm -rf "$ROOT"' EXIT
dpkg-deb -x "$DEB" "$ROOT"
dpkg-deb -e "$DEB" "$ROOT/DEBIAN"
fail() { say "check failed: $*"; exit 1; }

# The files, with the modes the package promises.
UNIT="$(find "$ROOT" -path '*/systemd/system/ferry.service' | head -1)"
[ -n "$UNIT" ] || fail "no ferry.service in the package"
for f in usr/bin/ferry etc/ferry/ferry.toml usr/share/bash-completion/completions/ferry; do
  [ -f "$ROOT/$f" ] || fail "missing /$f"
done
[ "$(stat -c %a "$ROOT/usr/bin/ferry")" = 755 ] || fail "/usr/bin/ferry is not 0755"
[ "$(stat -c %a "$ROOT/etc/ferry/ferry.toml")" = 640 ] || fail "/etc/ferry/ferry.toml is not 0640"
grep -qx /etc/ferry/ferry.toml "$ROOT/DEBIAN/conffiles" || fail "/etc/ferry/ferry.toml is not a conffile"
grep -q 'useradd --system' "$ROOT/DEBIAN/postinst" || fail "the postinst does not create the ferry user"
grep -q 'deb-systemd-helper' "$ROOT/DEBIAN/postinst" || fail "the postinst does not enable the unit"
grep -q 'complete -F _ferry' "$ROOT/usr/share/bash-completion/completions/ferry" || fail "bad bash completion"
if file "$ROOT/usr/bin/ferry" | grep -q 'with debug_info'; then fail "/usr/bin/ferry carries debug info"; fi
for directive in User=ferry StateDirectory=ferry ConfigurationDirectory=ferry NoNewPrivileges=yes \
    ProtectSystem=strict ProtectHome=yes PrivateTmp=yes ReadWritePaths=/var/lib/ferry \
    'ExecStart=/usr/bin/ferry serve -c /etc/ferry/ferry.toml'; do
  grep -qxF "$directive" "$UNIT" || fail "ferry.service lacks $directive"
done
if command -v systemd-analyze >/dev/null 2>&1; then
  # Verified against the extracted binary (ExecStart names /usr/bin/ferry, which is not on this machine).
  sed "s|/usr/bin/ferry|$ROOT/usr/bin/ferry|g" "$UNIT" > "$ROOT/ferry.service"
  # verify exits 0 on unknown keys and bad values (it only warns); any line about the unit file fails the check.
  # Other lines (a machine without a booted systemd) are not about the unit.
  out="$(systemd-analyze verify "$ROOT/ferry.service" 2>&1 || true)"
  if echo "$out" | grep -q "ferry.service"; then
    echo "$out" >&2
    fail "systemd-analyze verify ferry.service"
  fi
else
  say "systemd-analyze not found: unit file not verified"
fi

# The installed binary and configuration, as an operator runs them after `dpkg -i`.
"$ROOT/usr/bin/ferry" --version | grep -q '^ferry ' || fail "ferry --version"
"$ROOT/usr/bin/ferry" keygen --out "$ROOT/master.key" >/dev/null
[ "$(stat -c %a "$ROOT/master.key")" = 600 ] || fail "ferry keygen --out did not write mode 0600"
FERRY_MASTER_KEY="$(cat "$ROOT/master.key")" FERRY_DATABASE="$ROOT/var/lib/ferry/ferry.db" \
  "$ROOT/usr/bin/ferry" config check "$ROOT/etc/ferry/ferry.toml" > "$ROOT/check.out" \
  || { cat "$ROOT/check.out"; fail "ferry config check of the installed /etc/ferry/ferry.toml"; }
grep -q 'listen: http://127.0.0.1:8080' "$ROOT/check.out" || fail "the default config does not listen on localhost"
grep -q 'tenants: none' "$ROOT/check.out" || fail "the default config has tenants"
[ ! -e "$ROOT/var/lib/ferry" ] || fail "config check created the store"

# A real `dpkg -i`, as root, in a private mount namespace whose /etc, /usr, /var and /run are overlays that vanish
# with it: the postinst creates the ferry user, the state directory and the master key, the unit is enabled, and
# the ferry user reads the installed configuration and key (`ferry config check` with no FERRY_* help). No
# service is started (policy-rc.d refuses, and there is no booted systemd in the namespace).
if [ "$(id -u)" = 0 ] && command -v unshare >/dev/null 2>&1 && unshare -m --propagation private true 2>/dev/null; then
  cat > "$ROOT/dpkg-check.sh" <<'INNER'
set -euo pipefail
DEB="$1"; LAYERS="$2"
fail() { echo "package.sh: dpkg -i check failed: $*" >&2; exit 1; }
for d in etc usr var run; do
  mkdir -p "$LAYERS/$d-up" "$LAYERS/$d-work"
  mount -t overlay overlay -o "lowerdir=/$d,upperdir=$LAYERS/$d-up,workdir=$LAYERS/$d-work" "/$d"
done
printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d
rm -rf /run/systemd/system
for v in $(env | sed -n 's/^\(FERRY_[A-Z_]*\)=.*/\1/p'); do unset "$v"; done
getent passwd ferry >/dev/null && fail "a ferry user exists before the install"
dpkg -i "$DEB" > "$LAYERS/dpkg.log" 2>&1 || { cat "$LAYERS/dpkg.log" >&2; fail "dpkg -i"; }
getent passwd ferry >/dev/null || fail "no ferry user"
[ "$(stat -c '%U:%G %a' /var/lib/ferry)" = "ferry:ferry 750" ] || fail "/var/lib/ferry is $(stat -c '%U:%G %a' /var/lib/ferry)"
[ "$(stat -c '%U %a' /etc/ferry/master.key)" = "ferry 600" ] || fail "/etc/ferry/master.key is $(stat -c '%U %a' /etc/ferry/master.key)"
[ "$(stat -c '%U:%G %a' /etc/ferry/ferry.toml)" = "root:ferry 640" ] || fail "/etc/ferry/ferry.toml is $(stat -c '%U:%G %a' /etc/ferry/ferry.toml)"
[ -L /etc/systemd/system/multi-user.target.wants/ferry.service ] || fail "ferry.service is not enabled"
cd /
runuser -u ferry -- /usr/bin/ferry --version >/dev/null || fail "ferry --version as the ferry user"
runuser -u ferry -- /usr/bin/ferry config check /etc/ferry/ferry.toml > "$LAYERS/check.out" 2>&1 \
  || { cat "$LAYERS/check.out" >&2; fail "ferry config check /etc/ferry/ferry.toml as the ferry user"; }
grep -q 'from secrets.key_file /etc/ferry/master.key' "$LAYERS/check.out" || fail "the master key file is not used"
key="$(sha256sum /etc/ferry/master.key)"
dpkg -i "$DEB" > "$LAYERS/dpkg.log" 2>&1 || { cat "$LAYERS/dpkg.log" >&2; fail "dpkg -i again (upgrade)"; }
[ "$(sha256sum /etc/ferry/master.key)" = "$key" ] || fail "reinstalling replaced the master key"
dpkg --purge ferry > "$LAYERS/dpkg.log" 2>&1 || { cat "$LAYERS/dpkg.log" >&2; fail "dpkg --purge"; }
[ ! -e /usr/bin/ferry ] || fail "/usr/bin/ferry is left after purge"
INNER
  mkdir -p "$ROOT/layers"
  unshare -m --propagation private bash "$ROOT/dpkg-check.sh" "$(realpath "$DEB")" "$ROOT/layers" \
    || fail "dpkg -i in a private mount namespace"
  say "dpkg -i, reinstall and purge checked in a private mount namespace"
else
  say "not root or no mount namespaces: dpkg -i not tried (the extracted package was checked)"
fi
say "package check passed: $(basename "$DEB")"
