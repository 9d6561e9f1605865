package g722

import (
	"math/rand/v2"
	"testing"
)

// TestQMFTaps checks the unrolled filter against a plain convolution with
// the coefficient table, for random sub-band input including full scale.
func TestQMFTaps(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var q qmf
	var xd, xs []int32
	out := make([]int16, 2)
	for n := range 5000 {
		rl := rng.Int32N(32768) - 16384
		rh := rng.Int32N(32768) - 16384
		if n%7 == 0 {
			rl, rh = 16383, -16384
		}
		xd = append(xd, rl-rh)
		xs = append(xs, rl+rh)
		q.synth(out, []int32{rl}, []int32{0}, []int32{rh}, []int32{0})
		var a1, a2 int32
		for i := range 12 {
			if j := len(xd) - 1 - i; j >= 0 {
				a1 += xd[j] * qmfEven[i]
				a2 += xs[j] * qmfEven[11-i]
			}
		}
		w1, w2 := int16(sat16(a1>>11)), int16(sat16(a2>>11))
		if out[0] != w1 || out[1] != w2 {
			t.Fatalf("step %d: got %d %d, want %d %d", n, out[0], out[1], w1, w2)
		}
	}
}
