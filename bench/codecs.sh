#!/usr/bin/env bash
# codecs.sh: decoder speed of the Go codecs next to the C libraries, in one run.
#
#   bench/codecs.sh [-n COUNT]
#
# Installs libspandsp-dev and libbcg729-dev with apt-get when missing, builds
# bench/codecs_harness.c, times spandsp's G.722 and bcg729's G.729 decoders on
# the repository's test bitstreams, runs the Go BenchmarkDecode of
# ./codec/g722 and ./codec/g729 on the same bitstreams, and prints one
# markdown table.
#
# Measurement: C and Go alternate in COUNT rounds (default 5) so that load
# changes hit both alike. In each round the harness times 10 passes over its
# file and go test runs 10 benchmarks of 2500 frames (-benchtime=2500x
# -count=10), about one pass over the same file, so both sides are samples of
# the same size. Every figure is the fastest sample: the machine may be
# shared, and the minimum is the least disturbed measurement.
# A Go package that is missing or has no ns/frame benchmark shows as n/a.
set -euo pipefail

count=5
samples=10 # timed passes per round, for C and Go alike
while getopts "n:h" opt; do
	case $opt in
	n) count=$OPTARG ;;
	*)
		sed -n '2,/^set -euo/{/^#/p}' "$0" | sed 's/^# \{0,1\}//'
		exit 2
		;;
	esac
done
if ! [[ $count =~ ^[1-9][0-9]*$ ]]; then
	echo "codecs.sh: -n wants a positive count, got '$count'" >&2
	exit 2
fi

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

log() { echo "codecs.sh: $*" >&2; }

# --- C libraries -----------------------------------------------------------
pkgs=(libspandsp-dev libbcg729-dev)
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
	log "installing ${missing[*]}"
	if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >&2; then
		DEBIAN_FRONTEND=noninteractive apt-get update -q >&2
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >&2
	fi
fi
ver() { dpkg-query -W -f='${Version}' "$1" 2>/dev/null | sed 's/[+-].*//'; }
spandsp_ver=$(ver libspandsp-dev)
bcg729_ver=$(ver libbcg729-dev)

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# bcg729 changed bcg729Decoder's signature in 1.0.2 (added the bitstream
# length, SID and RFC 3389 flags); pick the one the installed header declares.
cflags=()
if ! grep -q 'SIDFrameFlag' /usr/include/bcg729/decoder.h; then
	cflags+=(-DBCG729_OLD_API)
fi
gcc -O2 -Wall "${cflags[@]}" -o "$tmp/harness" bench/codecs_harness.c -lspandsp -lbcg729

g722_in=codec/g722/testdata/mix.g722
g729_in=codec/g729/testdata/rtp/mix.frames
if [[ ! -f $g729_in ]]; then
	g729_in=../shared/testdata/codec/g729/mix.frames
	[[ -f $g729_in ]] || g729_in=/work/shared/testdata/codec/g729/mix.frames
fi

# c_ns CODEC FILE appends the harness's ns per frame for one round to
# $tmp/c_CODEC.txt.
c_ns() {
	[[ -f $2 ]] || { log "$1: no input $2"; return 0; }
	"$tmp/harness" "$1" "$2" "$samples" | awk '{print $1}' >>"$tmp/c_$1.txt" || log "$1: harness failed"
}

gopkgs=()
for p in g722 g729; do
	if compgen -G "codec/$p/*_test.go" >/dev/null; then
		gopkgs+=("./codec/$p/")
	else
		log "codec/$p: package or tests missing"
	fi
done

# The C and Go decoders are timed in alternating rounds so that changes in the
# machine's load hit both alike.
goout=$tmp/go.txt
: >"$goout"
for ((round = 1; round <= count; round++)); do
	log "round $round/$count: C harness ($samples passes), then go test -run=^\$ -bench=BenchmarkDecode -benchmem -benchtime=2500x -count=$samples ${gopkgs[*]}"
	c_ns g722 "$g722_in"
	c_ns g729 "$g729_in"
	if ((${#gopkgs[@]})); then
		if go test -run='^$' -bench=BenchmarkDecode -benchmem -benchtime=2500x -count=$samples "${gopkgs[@]}" >"$tmp/round.txt" 2>&1; then
			cat "$tmp/round.txt" >>"$goout"
		else
			# A package that does not compile can stop go test for all of
			# them: benchmark each package on its own instead.
			log "go test failed (output below); retrying package by package"
			cat "$tmp/round.txt" >&2
			for p in "${gopkgs[@]}"; do
				go test -run='^$' -bench=BenchmarkDecode -benchmem -benchtime=2500x -count=$samples "$p" >>"$goout" 2>&1 ||
					log "$p: go test failed"
			done
		fi
	fi
done
grep -E '^(pkg:|Benchmark|FAIL|---|#)' "$goout" >&2 || true

# c_min CODEC prints the fastest round of the C harness for CODEC.
c_min() {
	[[ -s $tmp/c_$1.txt ]] && sort -g "$tmp/c_$1.txt" | head -n1 || true
}
c_g722=$(c_min g722)
c_g729=$(c_min g729)

# go_metric PKG UNIT prints the smallest value reported with UNIT (ns/frame
# or allocs/op) by BenchmarkDecode in package PKG.
go_metric() {
	awk -v pkg="recordings/codec/$1" -v unit="$2" '
		/^pkg:/ { cur = $2 }
		cur == pkg && /^BenchmarkDecode(-[0-9]+)?[ \t]/ {
			for (i = 3; i <= NF; i++) if ($i == unit) {
				v = $(i - 1) + 0
				if (best == "" || v < best) best = v
			}
		}
		END { if (best != "") print best }' "$goout"
}

# --- table ------------------------------------------------------------------
fmt_ns() { [[ -n $1 ]] && printf '%.0f' "$1" || printf 'n/a'; }
fmt_rt() { [[ -n $1 ]] && awk -v ns="$1" 'BEGIN{printf "%.0f×", 1e7 / ns}' || printf 'n/a'; }
fmt_ratio() { [[ -n $1 && -n $2 ]] && awk -v g="$1" -v c="$2" 'BEGIN{printf "%.2f", g / c}' || printf 'n/a'; }

row() { # codec impl ns ratio allocs
	printf '| %s | %s | %s | %s | %s | %s |\n' "$1" "$2" "$(fmt_ns "$3")" "$(fmt_rt "$3")" "$4" "$5"
}

go_g722=$(go_metric g722 ns/frame)
go_g729=$(go_metric g729 ns/frame)
al_g722=$(go_metric g722 allocs/op)
al_g729=$(go_metric g729 allocs/op)

echo "| codec | implementation | ns per 10 ms frame | × realtime per core | Go/C ratio | allocs/op |"
echo "|---|---|---:|---:|---:|---:|"
row "G.722 64k" "Go recordings/codec/g722" "$go_g722" "$(fmt_ratio "$go_g722" "$c_g722")" "${al_g722:-n/a}"
row "G.722 64k" "C spandsp ${spandsp_ver:-?}" "$c_g722" "$(fmt_ratio "$c_g722" "$c_g722")" "—"
row "G.729" "Go recordings/codec/g729" "$go_g729" "$(fmt_ratio "$go_g729" "$c_g729")" "${al_g729:-n/a}"
row "G.729" "C bcg729 ${bcg729_ver:-?}" "$c_g729" "$(fmt_ratio "$c_g729" "$c_g729")" "—"
