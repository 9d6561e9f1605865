package g722

import (
	"math/rand/v2"
	"testing"
)

// refBand is block 4 written out literally, every addition and product
// saturated as in the recommendation. It checks that the saturations adapt
// leaves out can never take effect.
type refBand struct {
	s, sz, a1, a2 int32
	r, p          [3]int32
	b, d          [7]int32 // index 1..6
}

func refMult(a, b int32) int32 { return sat16((a * b) >> 15) }
func refAdd(a, b int32) int32  { return sat16(a + b) }

func (st *refBand) adapt(dq int32) {
	st.d[0] = dq
	st.r[0] = refAdd(st.s, dq)
	st.p[0] = refAdd(dq, st.sz)
	sg := func(x int32) int32 { return x >> 15 }

	wd1 := sat16(st.a1 * 4)
	wd2 := wd1
	if sg(st.p[0]) == sg(st.p[1]) {
		wd2 = sat16(-wd1)
	}
	wd2 >>= 7
	wd3 := int32(-128)
	if sg(st.p[0]) == sg(st.p[2]) {
		wd3 = 128
	}
	a2 := refAdd(refAdd(wd2, wd3), refMult(st.a2, 32512))
	a2 = min(max(a2, -12288), 12288)

	w := int32(-192)
	if sg(st.p[0]) == sg(st.p[1]) {
		w = 192
	}
	a1 := refAdd(w, refMult(st.a1, 32640))
	lim := refAdd(15360, -a2)
	a1 = min(max(a1, -lim), lim)

	g := int32(128)
	if dq == 0 {
		g = 0
	}
	for i := 1; i <= 6; i++ {
		w := g
		if sg(st.d[i]) != sg(dq) {
			w = -g
		}
		st.b[i] = refAdd(w, refMult(st.b[i], 32640))
	}
	for i := 6; i > 0; i-- {
		st.d[i] = st.d[i-1]
	}
	st.r[2], st.r[1] = st.r[1], st.r[0]
	st.p[2], st.p[1] = st.p[1], st.p[0]
	st.a1, st.a2 = a1, a2

	sp := refAdd(refMult(a1, refAdd(st.r[1], st.r[1])), refMult(a2, refAdd(st.r[2], st.r[2])))
	var sz int32
	for i := 1; i <= 6; i++ {
		sz = refAdd(sz, refMult(st.b[i], refAdd(st.d[i], st.d[i])))
	}
	st.sz = sz
	st.s = refAdd(sp, sz)
}

// TestAdaptAgainstLiteral drives both implementations with random and
// extreme quantized differences over the whole range the decoder can produce
// (|D| ≤ 10228), including long runs of one sign that push the coefficients
// to their limits.
func TestAdaptAgainstLiteral(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(3, 4))
	var fast band
	var ref refBand
	const maxD = 10228
	for n := range 600_000 {
		var d int32
		switch phase := (n / 5000) % 6; phase {
		case 0:
			d = rng.Int32N(2*maxD+1) - maxD
		case 1:
			d = maxD
		case 2:
			d = -maxD
		case 3:
			d = int32(n%2*2-1) * maxD
		case 4:
			d = 0
		default:
			d = []int32{maxD, maxD, -maxD, 0, 1, -1}[rng.IntN(6)]
		}
		in := [1]int32{d}
		var est [1]int32
		want := ref.s
		fast.run(in[:], est[:])
		ref.adapt(d)
		if est[0] != want {
			t.Fatalf("step %d (d=%d): estimate %d, want %d", n, d, est[0], want)
		}
		if fast.s != ref.s || fast.sz != ref.sz || fast.a1 != ref.a1 || fast.a2 != ref.a2 {
			t.Fatalf("step %d (d=%d): fast s=%d sz=%d a1=%d a2=%d, literal s=%d sz=%d a1=%d a2=%d",
				n, d, fast.s, fast.sz, fast.a1, fast.a2, ref.s, ref.sz, ref.a1, ref.a2)
		}
		for i := range 6 {
			if fast.b[i] != ref.b[i+1] {
				t.Fatalf("step %d: b%d fast %d literal %d", n, i+1, fast.b[i], ref.b[i+1])
			}
		}
	}
}

// TestScaleFactorBounds checks the bounds the fast paths rely on.
func TestScaleFactorBounds(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		table []int32
		q     []int32
	}{
		{"lower", detLow[:], qm4[:]},
		{"higher", detHigh[:], qm2[:]},
	} {
		var maxDet, maxD int32
		for _, det := range tc.table {
			maxDet = max(maxDet, det)
			for _, q := range tc.q {
				maxD = max(maxD, (det*q)>>15, -((det * q) >> 15))
			}
		}
		if maxDet != 16384 || maxD > 10228 {
			t.Errorf("%s band: max DET %d (want 16384), max |D| %d (want ≤ 10228)", tc.name, maxDet, maxD)
		}
	}
	if detLow[0] != 32 || detHigh[0] != 8 {
		t.Errorf("initial DET %d/%d, want 32/8", detLow[0], detHigh[0])
	}
}
