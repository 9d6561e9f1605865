package g729

import (
	"math/rand/v2"
	"testing"
)

// Reference (operator by operator) versions of the filters that have fast
// paths, compared on random inputs of all magnitudes.

func refSynFilt(a []int16, x []int16, y []int16, mem *[lpcOrder]int16) bool {
	overflow := false
	chk := func(v int64) int32 {
		if v > max32 {
			overflow = true
			return max32
		}
		if v < min32 {
			overflow = true
			return min32
		}
		return int32(v)
	}
	mul := func(p, q int16) int64 {
		if p == min16 && q == min16 {
			overflow = true
			return max32
		}
		return 2 * int64(p) * int64(q)
	}
	buf := make([]int16, lpcOrder+len(x))
	copy(buf, mem[:])
	for i := range x {
		s := chk(mul(x[i], a[0]))
		for j := 1; j <= lpcOrder; j++ {
			s = chk(int64(s) - mul(a[j], buf[lpcOrder+i-j]))
		}
		s = chk(int64(s) << 3)
		s = chk(int64(s) + 0x8000)
		buf[lpcOrder+i] = int16(s >> 16)
	}
	copy(y, buf[lpcOrder:])
	return overflow
}

func refResidu(a []int16, x []int16, y []int16) {
	for i := range y {
		s := lMult(x[i+lpcOrder], a[0])
		for j := 1; j <= lpcOrder; j++ {
			s = lMac(s, a[j], x[i+lpcOrder-j])
		}
		y[i] = round(lShl(s, 3))
	}
}

func refPredLt3(buf []int16, pos int, t0, frac int16, n int) {
	x0 := pos - int(t0)
	frac = -frac
	if frac < 0 {
		frac += 3
		x0--
	}
	for j := 0; j < n; j++ {
		x1, x2 := x0+j, x0+j+1
		var s int32
		for i, k := 0, 0; i < 10; i, k = i+1, k+3 {
			s = lMac(s, buf[x1-i], inter3l[int(frac)+k])
			s = lMac(s, buf[x2+i], inter3l[3-int(frac)+k])
		}
		buf[pos+j] = round(s)
	}
}

func randSignal(r *rand.Rand, x []int16) {
	amp := []int32{16, 300, 3000, 12000, 32768}[r.IntN(5)]
	for i := range x {
		v := r.Int32N(2*amp) - amp
		if r.IntN(50) == 0 {
			v = []int32{min16, max16}[r.IntN(2)]
		}
		x[i] = sat16(v)
	}
}

func randLPC(r *rand.Rand, a []int16) {
	a[0] = 4096
	amp := []int32{500, 4000, 12000, 32768}[r.IntN(4)]
	for i := 1; i < len(a); i++ {
		a[i] = sat16(r.Int32N(2*amp) - amp)
	}
}

func TestFastPathsMatchReference(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(1, 2))
	for iter := 0; iter < 20000; iter++ {
		var a [lpcOrder + 1]int16
		randLPC(r, a[:])
		var mem [lpcOrder]int16
		randSignal(r, mem[:])
		x := make([]int16, 40)
		randSignal(r, x)
		y1 := make([]int16, 40)
		y2 := make([]int16, 40)
		o1 := synFilt(a[:], x, y1, &mem)
		o2 := refSynFilt(a[:], x, y2, &mem)
		if o1 != o2 {
			t.Fatalf("synFilt overflow %v, want %v", o1, o2)
		}
		for i := range y1 {
			if y1[i] != y2[i] {
				t.Fatalf("iter %d: synFilt[%d] = %d, want %d", iter, i, y1[i], y2[i])
			}
		}

		xr := make([]int16, 50)
		randSignal(r, xr)
		refResidu(a[:], xr, y2)
		residu(a[:], xr, y1)
		for i := range y1 {
			if y1[i] != y2[i] {
				t.Fatalf("iter %d: residu[%d] = %d, want %d", iter, i, y1[i], y2[i])
			}
		}

		b1 := make([]int16, excHist+subLen)
		randSignal(r, b1)
		b2 := append([]int16(nil), b1...)
		t0 := int16(pitMin + r.IntN(pitMax-pitMin+1))
		frac := int16(r.IntN(3) - 1)
		predLt3(b1, excHist, t0, frac, subLen)
		refPredLt3(b2, excHist, t0, frac, subLen)
		for i := range b1 {
			if b1[i] != b2[i] {
				t.Fatalf("iter %d: predLt3[%d] = %d, want %d (t0 %d frac %d)", iter, i, b1[i], b2[i], t0, frac)
			}
		}

		u := make([]int16, 40)
		v := make([]int16, 40)
		randSignal(r, u)
		randSignal(r, v)
		init := int32(r.IntN(3))
		var want, wantE int32 = init, init
		for i := range u {
			want = lMac(want, u[i], v[i])
			wantE = lMac(wantE, u[i], u[i])
		}
		if got := dot(init, u, v); got != want {
			t.Fatalf("dot = %d, want %d", got, want)
		}
		if got := energy(init, u); got != wantE {
			t.Fatalf("energy = %d, want %d", got, wantE)
		}
		k := r.IntN(len(u) + 1) // lengths that are not a multiple of 4
		wantK := init
		for _, v := range u[:k] {
			wantK = lMac(wantK, v, v)
		}
		if got := energy(init, u[:k]); got != wantK {
			t.Fatalf("energy of %d samples = %d, want %d", k, got, wantK)
		}
	}
}

func refLspPoly(lsp []int16, f *[6]int32) {
	f[0] = lMult(4096, 2048)
	f[1] = lMsu(0, lsp[0], 512)
	for i := 2; i <= 5; i++ {
		l := lsp[2*(i-1)]
		f[i] = f[i-2]
		for j := i; j > 1; j-- {
			hi := extractH(f[j-1])
			lo := extractL(lMsu(lShr(f[j-1], 1), hi, 16384))
			t := lShl(mpy32x16(hi, lo, l), 1)
			f[j] = lSub(lAdd(f[j], f[j-2]), t)
		}
		f[1] = lMsu(f[1], l, 512)
	}
}

func TestLspPolyMatchesReference(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(3, 4))
	for iter := 0; iter < 200000; iter++ {
		var lsp [lpcOrder]int16
		randSignal(r, lsp[:])
		if iter%2 == 0 { // ordered, as real LSPs are
			for i := range lsp {
				lsp[i] = int16(32000 - 6400*i + r.IntN(3000))
			}
		}
		var f, g [6]int32
		lspPoly(lsp[:], &f)
		refLspPoly(lsp[:], &g)
		if f != g {
			t.Fatalf("lsp %v: got %v, want %v", lsp, f, g)
		}
		x := r.Int32()
		if r.IntN(2) == 0 {
			x = -x
		}
		hi, lo := lExtract(x)
		if hi != extractH(x) || lo != extractL(lMsu(lShr(x, 1), hi, 16384)) {
			t.Fatalf("lExtract(%d)", x)
		}
		n := uint(1 + r.IntN(30))
		if lShrRC(x, n) != lShrR(x, int16(n)) {
			t.Fatalf("lShrRC(%d, %d)", x, n)
		}
	}
}

func BenchmarkSynFilt(b *testing.B) {
	r := rand.New(rand.NewPCG(5, 6))
	a := [lpcOrder + 1]int16{4096, -6000, 3000, -1000, 500, -200, 100, -50, 20, -10, 5}
	var mem [lpcOrder]int16
	x := make([]int16, 40)
	for i := range x {
		x[i] = int16(r.IntN(4000) - 2000)
	}
	y := make([]int16, 40)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		synFilt(a[:], x, y, &mem)
	}
}

func TestRandomMatchesReference(t *testing.T) {
	t.Parallel()
	for s := int32(min16); s <= max16; s++ {
		seed := int16(s)
		want := extractL(lAdd(lShr(lMult(seed, 31821), 1), 13849))
		if got := random(&seed); got != want || seed != want {
			t.Fatalf("random(%d) = %d, want %d", s, got, want)
		}
	}
}

// refPostProcess is the output high-pass filter of the reference, operator
// by operator (Post_Process of G.729 Annex A).
func refPostProcess(p *postProcess, sig []int16) {
	for i := range sig {
		x2 := p.x1
		p.x1 = p.x0
		p.x0 = sig[i]
		t := mpy32x16(p.y1Hi, p.y1Lo, a100[1])
		t = lAdd(t, mpy32x16(p.y2Hi, p.y2Lo, a100[2]))
		t = lMac(t, p.x0, b100[0])
		t = lMac(t, p.x1, b100[1])
		t = lMac(t, x2, b100[2])
		t = lShl(t, 2)
		p.y2Hi, p.y2Lo = p.y1Hi, p.y1Lo
		p.y1Hi = extractH(t)
		p.y1Lo = extractL(lMsu(lShr(t, 1), p.y1Hi, 16384))
		sig[i] = round(lShl(t, 1))
	}
}

func TestPostProcessMatchesReference(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(9, 10))
	for iter := 0; iter < 20000; iter++ {
		var p, q postProcess
		// Random filter state: any 32-bit y split as L_Extract does.
		for _, y := range []*[2]*int16{{&p.y1Hi, &p.y1Lo}, {&p.y2Hi, &p.y2Lo}} {
			v := int32(r.Uint32())
			if r.IntN(2) == 0 {
				v >>= r.IntN(31)
			}
			*y[0], *y[1] = lExtract(v)
		}
		var st [2]int16
		randSignal(r, st[:])
		p.x0, p.x1 = st[0], st[1]
		q = p
		x := make([]int16, 40)
		randSignal(r, x)
		y := append([]int16(nil), x...)
		p.run(x)
		refPostProcess(&q, y)
		if p != q {
			t.Fatalf("iter %d: state %+v, want %+v", iter, p, q)
		}
		for i := range x {
			if x[i] != y[i] {
				t.Fatalf("iter %d: out[%d] = %d, want %d", iter, i, x[i], y[i])
			}
		}
	}
}

func TestPostfilterStepsMatchReference(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(11, 12))
	for iter := 0; iter < 20000; iter++ {
		var sig [subLen]int16
		randSignal(r, sig[:])
		var mem [1]int16
		randSignal(r, mem[:])
		g := int16(r.IntN(32768))
		if iter%4 == 0 {
			g = []int16{0, 1, 32767}[r.IntN(3)]
		}
		// Reference preemphasis: backwards, operator by operator.
		want := sig
		for i := subLen - 1; i > 0; i-- {
			want[i] = sub(want[i], mult(g, want[i-1]))
		}
		want[0] = sub(want[0], mult(g, mem[0]))
		p := postFilter{memPre: mem[0]}
		got := sig
		p.preemphasis(&got, g)
		if got != want || p.memPre != sig[subLen-1] {
			t.Fatalf("iter %d: preemphasis(g=%d) = %v, want %v", iter, g, got, want)
		}

		var e int32
		for _, v := range sig {
			e = lMac(e, shr(v, 2), shr(v, 2))
		}
		if got := energyShr2(&sig); got != e {
			t.Fatalf("iter %d: energyShr2 = %d, want %d", iter, got, e)
		}
	}
}

func TestWeightAzMatchesReference(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(13, 14))
	for iter := 0; iter < 20000; iter++ {
		var a [lpcOrder + 1]int16
		randSignal(r, a[:])
		for _, g := range []struct {
			gamma int16
			pow   *[lpcOrder + 1]int16
		}{{gamma2Pst, &powGamma2Pst}, {gamma1Pst, &powGamma1Pst}} {
			var want [lpcOrder + 1]int16
			want[0] = a[0]
			fac := g.gamma
			for i := 1; i < lpcOrder; i++ {
				want[i] = round(lMult(a[i], fac))
				fac = round(lMult(fac, g.gamma))
			}
			want[lpcOrder] = round(lMult(a[lpcOrder], fac))
			var got [lpcOrder + 1]int16
			weightAz(a[:], g.pow, &got)
			if got != want {
				t.Fatalf("a %v gamma %d: got %v, want %v", a, g.gamma, got, want)
			}
		}
	}
}

func TestAbsBound(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(15, 16))
	for iter := 0; iter < 20000; iter++ {
		x := make([]int16, r.IntN(64))
		randSignal(r, x)
		var m int32
		for _, v := range x {
			m = max(m, abs32(int32(v)))
		}
		// The bound covers every magnitude and is at most twice the largest
		// (plus one).
		if b := absBound(x); b < m || b > 2*m+1 {
			t.Fatalf("absBound(%v) = %d, max magnitude %d", x, b, m)
		}
	}
}

// refAgc is the adaptive gain control of the reference (agc of G.729
// Annex A), operator by operator.
func refAgc(pastGain *int16, in, out []int16) {
	var s int32
	for i := range out {
		v := shr(out[i], 2)
		s = lMac(s, v, v)
	}
	if s == 0 {
		*pastGain = 0
		return
	}
	exp := sub(normL(s), 1)
	gainOut := round(lShl(s, exp))
	s = 0
	for i := range in {
		v := shr(in[i], 2)
		s = lMac(s, v, v)
	}
	var g0 int16
	if s != 0 {
		i := normL(s)
		gainIn := round(lShl(s, i))
		exp = sub(exp, i)
		s = lShl(int32(divS(gainOut, gainIn)), 7)
		s = lShr(s, exp)
		s = invSqrt(s)
		i = round(lShl(s, 9))
		g0 = mult(i, agcFac1)
	}
	gain := *pastGain
	for i := range out {
		gain = mult(gain, agcFac)
		gain = add(gain, g0)
		out[i] = extractH(lShl(lMult(out[i], gain), 3))
	}
	*pastGain = gain
}

func TestAgcMatchesReference(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(17, 18))
	for iter := 0; iter < 20000; iter++ {
		var in, out [subLen]int16
		randSignal(r, in[:])
		randSignal(r, out[:])
		if iter%3 == 0 { // very different levels
			for i := range in {
				in[i] >>= r.IntN(16)
			}
		}
		past := int16(r.IntN(32768))
		if iter%5 == 0 {
			past = []int16{0, 4096, 32767}[r.IntN(3)]
		}
		want := out
		wantGain := past
		refAgc(&wantGain, in[:], want[:])
		p := postFilter{pastGain: past}
		got := out
		p.agc(in[:], got[:])
		if got != want || p.pastGain != wantGain {
			t.Fatalf("iter %d: agc gain %d, want %d; out %v, want %v", iter, p.pastGain, wantGain, got, want)
		}
	}
}

// TestLsfPredictorSums checks the property lsfPrevCompose relies on: for
// each mode and LSF the MA coefficients are positive and, with the
// codebook factor, sum to less than 32768.
func TestLsfPredictorSums(t *testing.T) {
	t.Parallel()
	for name, tab := range map[string]struct {
		fg  *[2][maNP][lpcOrder]int16
		sum *[2][lpcOrder]int16
	}{"speech": {&fg, &fgSum}, "SID": {&noiseFg, &noiseFgSum}} {
		for mode := range tab.fg {
			for j := 0; j < lpcOrder; j++ {
				sum := int32(tab.sum[mode][j])
				if tab.sum[mode][j] <= 0 {
					t.Fatalf("%s: sum[%d][%d] = %d", name, mode, j, tab.sum[mode][j])
				}
				for k := 0; k < maNP; k++ {
					if tab.fg[mode][k][j] <= 0 {
						t.Fatalf("%s: fg[%d][%d][%d] = %d", name, mode, k, j, tab.fg[mode][k][j])
					}
					sum += int32(tab.fg[mode][k][j])
				}
				if sum >= 32768 {
					t.Fatalf("%s mode %d, lsf %d: coefficients sum to %d", name, mode, j, sum)
				}
			}
		}
	}
	// And the composition matches the L_mac chain on random vectors.
	r := rand.New(rand.NewPCG(19, 20))
	for iter := 0; iter < 20000; iter++ {
		var ele [lpcOrder]int16
		var prev [maNP][lpcOrder]int16
		randSignal(r, ele[:])
		for k := range prev {
			randSignal(r, prev[k][:])
		}
		mode := r.IntN(2)
		var want, got [lpcOrder]int16
		for j := 0; j < lpcOrder; j++ {
			acc := lMult(ele[j], fgSum[mode][j])
			for k := 0; k < maNP; k++ {
				acc = lMac(acc, prev[k][j], fg[mode][k][j])
			}
			want[j] = extractH(acc)
		}
		lsfPrevCompose(&ele, &got, &fg[mode], &prev, &fgSum[mode])
		if got != want {
			t.Fatalf("iter %d: got %v, want %v", iter, got, want)
		}
	}
}
