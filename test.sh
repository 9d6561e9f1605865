#!/usr/bin/env bash
# The project's test command: installs what the tests need, then runs every test with -race.
set -euo pipefail
cd "$(dirname "$0")"
go test -race -count=1 ./...
