#!/usr/bin/env bash
# Installs the Debian packages vitals needs to build and test, skipping the
# ones already present.  Runs apt-get only when something is missing.
#   scripts/install-deps.sh          build + run
#   scripts/install-deps.sh --test   also what the tests need
set -euo pipefail

packages=(cmake make gcc pkg-config libmicrohttpd-dev libgnutls28-dev libjansson-dev libglib2.0-dev)
if [ "${1:-}" = "--test" ]; then
  # prometheus brings `prometheus` and `promtool`: the /metrics tests check
  # the exposition with promtool and scrape it with a real server.
  # chromium: the browser tests (tests/e2e) drive Debian's /usr/bin/chromium.
  # clang: `make fuzz` (libFuzzer); valgrind: `make valgrind`; openssl: the
  # TLS test makes its self-signed certificate with the CLI; nginx-light: the
  # TLS reverse proxy the TLS test puts in front of the host (docs/tls.md).
  packages+=(check prometheus chromium clang valgrind openssl nginx-light)
fi
# The dashboard's charting library and the test clients come from npm.
command -v node >/dev/null 2>&1 || packages+=(nodejs)
command -v npm >/dev/null 2>&1 || packages+=(npm)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# nodejs/npm may come from outside Debian: trust the commands when present.
[ ${#missing[@]} -eq 0 ] && exit 0

echo "vitals: installing ${missing[*]}" >&2
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
