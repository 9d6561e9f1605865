#!/usr/bin/env bash
# The project's test command: installs what the tests need, then runs every test with -race:
# the product's module, then the browser tests, a module of their own in e2e/.
set -euo pipefail
cd "$(dirname "$0")"
# The browser tests (e2e/) drive Debian's Chromium and Firefox ESR; under CI=true they fail without them.
browsers=()
[ -x /usr/bin/chromium ] || browsers+=(chromium)
[ -x /usr/bin/firefox-esr ] || browsers+=(firefox-esr)
if [ ${#browsers[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq "${browsers[@]}" >/dev/null
fi
go test -race -count=1 ./...
(cd e2e && go test -race -count=1 ./...)
