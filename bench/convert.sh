#!/usr/bin/env bash
# convert.sh: `recordings convert` of a ten-minute two-way G.711 call against
# tshark merely listing the same file's RTP streams (issue 15).
#
#   bench/convert.sh [-n ROUNDS] [-p PACKETS] [-b BINARY]
#
# Builds the recordings binary as the released one is built (CGO_ENABLED=0;
# or uses BINARY, e.g. an older build to compare with) and bench/gencall,
# generates the capture (PACKETS per direction, default 30000 = ten
# minutes, 60,000 RTP packets; internal/callgen: SIP INVITE with SDP, PCMA
# one way, PCMU the other),
# installs tshark with apt-get when missing, and then in ROUNDS rounds
# (default 9) runs, one after the other,
#
#   tshark -r CALL -q -o rtp.heuristic_rtp:TRUE -z rtp,streams
#   recordings convert CALL OUT.wav
#
# so that load changes hit both alike. It prints the median wall time and
# the median CPU time (user + system) of each, the medians of the user
# and the system time apart, and the ratios convert / tshark. The target
# of issue 15 is a wall-time ratio of at most 10 %. Every run's output is
# checked: tshark must list the two streams with all their packets, and
# the WAV must have the expected length.
set -euo pipefail

rounds=9
packets=30000
bin=
while getopts "n:p:b:h" opt; do
	case $opt in
	n) rounds=$OPTARG ;;
	p) packets=$OPTARG ;;
	b) bin=$(realpath "$OPTARG") ;;
	*)
		sed -n '2,/^set -euo/{/^#/p}' "$0" | sed 's/^# \{0,1\}//'
		exit 2
		;;
	esac
done
for v in "$rounds" "$packets"; do
	if ! [[ $v =~ ^[1-9][0-9]*$ ]]; then
		echo "convert.sh: -n and -p want positive counts, got '$v'" >&2
		exit 2
	fi
done

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
log() { echo "convert.sh: $*" >&2; }

if ! command -v tshark >/dev/null; then
	log "installing tshark"
	export DEBIAN_FRONTEND=noninteractive
	echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections 2>/dev/null || true
	apt-get install -y -q tshark >&2
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
if [[ -n $bin ]]; then
	cp "$bin" "$work/recordings"
else
	# As .ci/run builds the released binaries: static, without cgo (a
	# binary linked against libc spends about 1.5 ms more starting).
	CGO_ENABLED=0 go build -o "$work/recordings" .
fi
go build -o "$work/gencall" ./bench/gencall
call=$work/call.pcap
"$work/gencall" -packets "$packets" -o "$call"
wavsize=$((44 + 4 * 160 * packets))
log "$(stat -c %s "$call") bytes of pcap, $((2 * packets)) RTP packets; $rounds rounds"

TIMEFORMAT='%3R %3U %3S'
# run NAME CMD...: runs CMD once, appends "wall cpu user system" in ms to
# $work/NAME.
run() {
	local name=$1 t
	shift
	{ t=$({ time "$@" >"$work/out.txt" 2>"$work/err.txt"; } 2>&1); } || {
		cat "$work/err.txt" >&2
		log "$name failed"
		exit 1
	}
	awk -v t="$t" 'BEGIN { split(t, a, " "); printf "%d %d %d %d\n", a[1] * 1000, (a[2] + a[3]) * 1000, a[2] * 1000, a[3] * 1000 }' >>"$work/$name"
}

for ((i = 1; i <= rounds; i++)); do
	run tshark tshark -r "$call" -q -o rtp.heuristic_rtp:TRUE -z rtp,streams
	if [[ $(grep -c " $packets " "$work/out.txt") -ne 2 ]]; then
		cat "$work/out.txt" >&2
		log "tshark did not list two streams of $packets packets"
		exit 1
	fi
	rm -f "$work/out.wav"
	run convert "$work/recordings" convert "$call" "$work/out.wav"
	if [[ $(stat -c %s "$work/out.wav") -ne $wavsize ]]; then
		log "the WAV has $(stat -c %s "$work/out.wav") bytes, want $wavsize"
		exit 1
	fi
done

# median FILE COLUMN
median() { cut -d' ' -f"$2" "$1" | sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
tw=$(median "$work/tshark" 1)
tc=$(median "$work/tshark" 2)
cw=$(median "$work/convert" 1)
cc=$(median "$work/convert" 2)
tu=$(median "$work/tshark" 3)
ts=$(median "$work/tshark" 4)
cu=$(median "$work/convert" 3)
cs=$(median "$work/convert" 4)
echo "| | tshark -z rtp,streams | recordings convert | convert / tshark |"
echo "|---|---:|---:|---:|"
awk -v tw="$tw" -v cw="$cw" -v tc="$tc" -v cc="$cc" -v tu="$tu" -v ts="$ts" -v cu="$cu" -v cs="$cs" -v n="$rounds" 'BEGIN {
	printf "| wall time, median of %d | %d ms | %d ms | %.1f %% |\n", n, tw, cw, 100 * cw / tw
	printf "| CPU time (user + system), median of %d | %d ms | %d ms | %.1f %% |\n", n, tc, cc, 100 * cc / tc
	printf "| of it user time, median | %d ms | %d ms | %.1f %% |\n", tu, cu, 100 * cu / tu
	printf "| of it system time, median | %d ms | %d ms | %.1f %% |\n", ts, cs, 100 * cs / ts
}'
log "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
