#!/usr/bin/env bash
# The project's test command: installs what the tests need, then runs every test with -race:
# the product's module, then the browser tests, a module of their own in e2e/.
set -euo pipefail
cd "$(dirname "$0")"
# The browser tests (e2e/) drive Debian's Chromium and Firefox ESR, and the WebDAV test uploads with
# rclone's webdav backend; under CI=true they fail without them.
packages=()
[ -x /usr/bin/chromium ] || packages+=(chromium)
[ -x /usr/bin/firefox-esr ] || packages+=(firefox-esr)
command -v rclone >/dev/null || packages+=(rclone)
if [ ${#packages[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq "${packages[@]}" >/dev/null
fi
go test -race -count=1 ./...
(cd e2e && go test -race -count=1 ./...)
