package g722

import (
	"encoding/binary"
	"os"
	"testing"
)

// readRef loads the test bitstream and the reference decoder's output.
func readRef(t testing.TB) ([]byte, []int16) {
	t.Helper()
	in, err := os.ReadFile("testdata/mix.g722")
	if err != nil {
		t.Fatalf("read bitstream: %v", err)
	}
	raw, err := os.ReadFile("testdata/mix.ref.pcm")
	if err != nil {
		t.Fatalf("read reference: %v", err)
	}
	ref := make([]int16, len(raw)/2)
	for i := range ref {
		ref[i] = int16(binary.LittleEndian.Uint16(raw[2*i:]))
	}
	if len(ref) != 2*len(in) {
		t.Fatalf("reference has %d samples for %d octets, want %d", len(ref), len(in), 2*len(in))
	}
	return in, ref
}

// firstDiff returns the index of the first differing sample, or -1.
func firstDiff(got, want []int16) int {
	for i := range want {
		if i >= len(got) || got[i] != want[i] {
			return i
		}
	}
	return -1
}

func TestBitExact(t *testing.T) {
	in, ref := readRef(t)
	d := NewDecoder()
	got := make([]int16, len(ref))
	n, err := d.Decode(got, in)
	if err != nil || n != len(ref) {
		t.Fatalf("Decode = %d, %v; want %d, nil", n, err, len(ref))
	}
	if i := firstDiff(got, ref); i >= 0 {
		diffs := 0
		for j := range ref {
			if got[j] != ref[j] {
				diffs++
			}
		}
		t.Fatalf("sample %d (octet %d, %.4f s): got %d, want %d; %d of %d samples differ",
			i, i/2, float64(i)/16000, got[i], ref[i], diffs, len(ref))
	}
}
