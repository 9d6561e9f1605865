#!/usr/bin/env bash
# codecs_callgrind.sh: instructions per 10 ms frame of the Go decoders and
# of the C libraries, counted with valgrind's callgrind.
#
#   bench/codecs_callgrind.sh
#
# Instruction counts do not depend on the machine's load, unlike the
# timings of bench/codecs.sh. Each decoder runs under
# valgrind --tool=callgrind over the same bitstream as in codecs.sh; the
# figure is the inclusive instruction count of the decode function divided
# by the number of frames it decoded:
#
#   bcg729   bcg729Decoder, harness run of 3 passes over mix.frames
#   spandsp  g722_decode, harness run of 3 passes over mix.g722
#   Go G.729 recordings/codec/g729.(*Decoder).Decode, BenchmarkDecode with
#            -test.benchtime=3x: 1 + 3 passes over mix.frames (the testing
#            package runs every benchmark once with b.N = 1 first)
#   Go G.722 recordings/codec/g722.(*Decoder).Decode, BenchmarkDecode with
#            -test.benchtime=FRAMESx: 1 + FRAMES frames
#
# The Go test binaries run with GODEBUG=asyncpreemptoff=1 (callgrind 3.19
# asserts on the preemption signal) and cpu.rdtscp=off (valgrind does not
# implement RDTSCP), and GOMAXPROCS=1. Needs valgrind, gcc, libbcg729-dev and
# libspandsp-dev (bench/codecs.sh installs the libraries).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

log() { echo "codecs_callgrind.sh: $*" >&2; }

for tool in valgrind callgrind_annotate gcc go; do
	command -v "$tool" >/dev/null || {
		log "$tool not found"
		exit 1
	}
done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

cflags=()
if ! grep -q 'SIDFrameFlag' /usr/include/bcg729/decoder.h; then
	cflags+=(-DBCG729_OLD_API)
fi
gcc -O2 -Wall "${cflags[@]}" -o "$tmp/harness" bench/codecs_harness.c -lspandsp -lbcg729

g722_in=codec/g722/testdata/mix.g722
g729_in=codec/g729/testdata/rtp/mix.frames

# inclusive OUT FUNCTION prints the inclusive instruction count of the
# function named exactly FUNCTION (the largest if listed more than once).
inclusive() {
	callgrind_annotate --inclusive=yes --threshold=100 "$1" 2>/dev/null |
		awk -v fn="$2" '
			{
				name = $NF
				if (name ~ /^\[/) name = $(NF - 1)
				sub(/^.*:/, "", name)
				if (name == fn) {
					v = $1
					gsub(",", "", v)
					if (v + 0 > best) best = v + 0
				}
			}
			END { if (best > 0) print best }'
}

# per_frame OUT FUNCTION CALLS prints instructions per call.
per_frame() {
	local n
	n=$(inclusive "$1" "$2")
	[[ -n $n ]] || {
		log "$2 not found in $1"
		echo n/a
		return
	}
	awk -v n="$n" -v c="$3" 'BEGIN { printf "%.0f\n", n / c }'
}

# C harness: 3 passes.
c_run() { # CODEC FILE -> frames per pass; profile in $tmp/c_CODEC.out
	valgrind --tool=callgrind --callgrind-out-file="$tmp/c_$1.out" \
		"$tmp/harness" "$1" "$2" 3 2>/dev/null | awk '{print $2}'
}
log "C: bcg729 and spandsp under callgrind"
f729=$(c_run g729 "$g729_in")
f722=$(c_run g722 "$g722_in")
c_g729=$(per_frame "$tmp/c_g729.out" bcg729Decoder $((3 * f729)))
c_g722=$(per_frame "$tmp/c_g722.out" g722_decode $((3 * f722)))

# Go benchmarks.
go_run() { # PKG BENCHTIME
	go test -c -o "$tmp/$1.test" "./codec/$1/"
	(cd "codec/$1" && GODEBUG=asyncpreemptoff=1,cpu.rdtscp=off GOMAXPROCS=1 \
		valgrind --tool=callgrind --callgrind-out-file="$tmp/go_$1.out" \
		"$tmp/$1.test" -test.run='^$' -test.bench='^BenchmarkDecode$' \
		-test.benchtime="$2" >"$tmp/go_$1.txt" 2>/dev/null)
}
log "Go: BenchmarkDecode of ./codec/g729/ and ./codec/g722/ under callgrind"
go_run g729 3x
go_run g722 "${f722}x"
go_g729=$(per_frame "$tmp/go_g729.out" 'recordings/codec/g729.(*Decoder).Decode' $((4 * f729)))
go_g722=$(per_frame "$tmp/go_g722.out" 'recordings/codec/g722.(*Decoder).Decode' $((1 + f722)))

ratio() { awk -v g="$1" -v c="$2" 'BEGIN { if (g + 0 > 0 && c + 0 > 0) printf "%.2f", g / c; else printf "n/a" }'; }

echo "| codec | implementation | instructions per 10 ms frame | Go/C ratio |"
echo "|---|---|---:|---:|"
echo "| G.722 64k | Go recordings/codec/g722 | $go_g722 | $(ratio "$go_g722" "$c_g722") |"
echo "| G.722 64k | C spandsp | $c_g722 | 1.00 |"
echo "| G.729 | Go recordings/codec/g729 | $go_g729 | $(ratio "$go_g729" "$c_g729") |"
echo "| G.729 | C bcg729 | $c_g729 | 1.00 |"
