#!/usr/bin/env bash
# The project's test command: installs what the tests need, then runs every test with -race.
set -euo pipefail
cd "$(dirname "$0")"
# The browser tests (e2e/) drive Debian's Chromium; under CI=true they fail without it.
if [ ! -x /usr/bin/chromium ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq chromium >/dev/null
fi
go test -race -count=1 ./...
