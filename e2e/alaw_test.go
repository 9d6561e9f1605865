package e2e

import (
	"testing"

	"recordings/codec"
)

// The test captures must carry the tone they claim: the project's A-law
// decoder turns the encoder's output back into the sample within one
// quantisation step.
func TestALawRoundTrip(t *testing.T) {
	dec := codec.NewPCMA()
	out := make([]int16, 1)
	for _, s := range []int16{0, 1, -1, 7, -8, 100, -100, 1000, -1000, 4095, -4096, 12000, -12000, 32767, -32768} {
		if _, err := dec.Decode(out, []byte{alaw(s)}); err != nil {
			t.Fatal(err)
		}
		tol := max(16, abs(int(s))/16) // A-law steps grow with the segment
		if d := abs(int(out[0]) - int(s)); d > tol {
			t.Errorf("alaw(%d) decodes to %d: off by %d (tolerance %d)", s, out[0], d, tol)
		}
	}
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}
