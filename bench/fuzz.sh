#!/usr/bin/env bash
# Runs every go test -fuzz target of the module for a while each and prints
# one line per target: package, target, executions, result.
#
#   bench/fuzz.sh                       # 10 s per target (the CI step uses less)
#   FUZZTIME=5m bench/fuzz.sh           # the longer run of docs/fuzzing.md
#   FUZZTIME=30s bench/fuzz.sh ./pcap   # only the targets under ./pcap
#   FUZZTIME=10000000x FUZZMINIMIZE=1s bench/fuzz.sh ./pcap   # 10 million executions each
#
# FUZZPARALLEL (default 1) is the number of fuzzing workers per target; a
# crasher is written to the package's testdata/fuzz/FuzzXxx/ by go test and
# then runs as a regression test with every plain go test.
set -uo pipefail
cd "$(dirname "$0")/.."
export PATH=$PATH:/usr/local/go/bin
fuzztime=${FUZZTIME:-10s}
parallel=${FUZZPARALLEL:-1}
# How long the fuzzer may shrink each newly interesting input; on slow
# targets the default of go test (60 s) can take most of a run.
minimize=${FUZZMINIMIZE:-10s}
roots=("${@:-.}")
status=0
printf '%-22s %-22s %12s %s\n' package target execs result
while read -r file name; do
  dir=$(dirname "$file")
  out=$(go test "$dir" -run '^$' -fuzz "^${name}\$" -fuzztime "$fuzztime" -fuzzminimizetime "$minimize" -parallel "$parallel" -timeout 0 2>&1)
  rc=$?
  execs=$(grep -o 'execs: [0-9]*' <<<"$out" | tail -1 | cut -d' ' -f2)
  result=ok
  # go test can end a time-bounded fuzz run with "context deadline exceeded"
  # when -fuzztime runs out while a worker is still starting or minimising;
  # that is not a finding unless it wrote a failing input.
  if [ $rc -ne 0 ] && grep -q 'context deadline exceeded' <<<"$out" && ! grep -q 'Failing input written' <<<"$out"; then
    rc=0
    result="ok (stopped at the deadline)"
  fi
  if [ $rc -ne 0 ]; then
    result=FAIL
    status=1
    echo "$out" | grep -v '^fuzz: elapsed' | tail -20 >&2
  fi
  printf '%-22s %-22s %12s %s\n' "${dir#./}" "$name" "${execs:-?}" "$result"
done < <(grep -rHo --include='*_test.go' '^func Fuzz[A-Za-z0-9_]*' "${roots[@]}" | sed 's/:func / /' | sort)
exit $status
