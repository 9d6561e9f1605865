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
# The S3-compatible server of the replication and blob-store tests: versitygw
# (posix backend in a temporary folder) on a free loopback port, with fixed
# test credentials, named to the tests by RECORDINGS_TEST_S3_ENDPOINT,
# RECORDINGS_TEST_S3_ACCESS_KEY, RECORDINGS_TEST_S3_SECRET_KEY and
# RECORDINGS_TEST_S3_REGION (internal/s3test); stopped when this script ends.
VERSITYGW=github.com/versity/versitygw/cmd/versitygw@v1.8.0
gobin=$(go env GOBIN)
[ -n "$gobin" ] || gobin=$(go env GOPATH)/bin
if [ ! -x "$gobin/versitygw" ]; then
  go install "$VERSITYGW"
fi
s3dir=$(mktemp -d)
s3pid=
stop_s3() {
  if [ -n "$s3pid" ]; then kill "$s3pid" 2>/dev/null || true; wait "$s3pid" 2>/dev/null || true; fi
  rm -rf "$s3dir"
}
trap stop_s3 EXIT
export RECORDINGS_TEST_S3_ACCESS_KEY=recordings-test RECORDINGS_TEST_S3_SECRET_KEY=recordings-test-secret RECORDINGS_TEST_S3_REGION=us-east-1
for try in 1 2 3 4 5 6 7 8 9 10; do
  port=$((20000 + RANDOM % 20000))
  # A port something already answers on is not ours to probe.
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then continue; fi
  mkdir -p "$s3dir/data"
  ROOT_ACCESS_KEY=$RECORDINGS_TEST_S3_ACCESS_KEY ROOT_SECRET_KEY=$RECORDINGS_TEST_S3_SECRET_KEY \
    "$gobin/versitygw" --port "127.0.0.1:$port" --region us-east-1 --quiet posix "$s3dir/data" >"$s3dir/log" 2>&1 &
  s3pid=$!
  for _ in $(seq 100); do
    if ! kill -0 "$s3pid" 2>/dev/null; then break; fi
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then break 2; fi
    sleep 0.1
  done
  kill "$s3pid" 2>/dev/null || true; wait "$s3pid" 2>/dev/null || true; s3pid=
done
if [ -z "$s3pid" ] || ! kill -0 "$s3pid" 2>/dev/null; then echo "versitygw did not start:"; cat "$s3dir/log"; exit 1; fi
export RECORDINGS_TEST_S3_ENDPOINT=http://127.0.0.1:$port
echo "S3 test server (versitygw) at $RECORDINGS_TEST_S3_ENDPOINT"
# A generous budget: the api package alone runs for minutes under -race on a busy 2-CPU machine.
go test -race -count=1 -timeout 40m ./...
# The kill-and-restore test on its own: its 1,000-call load would starve
# the tests running beside it.
RECORDINGS_TEST_KILL_AND_RESTORE=1 go test -count=1 -run TestKillAndRestore -v ./test/replicakill/
(cd e2e && go test -race -count=1 -timeout 40m ./...)
