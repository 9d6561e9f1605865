package g729

// Synthesis filter 1/A(z), inverse filter A(z) and bandwidth expansion.
//
// The reference computes every multiply-accumulate with saturation. The
// filters here first bound the magnitude of all partial sums from the
// magnitudes of the coefficients and of the signal; when the bound shows
// that no partial sum can leave the 32-bit range, plain integer arithmetic
// gives exactly the saturating result. Otherwise the sample is computed
// operator by operator. The slow paths are the reference definitions.

// abs32 is |x| for x > min32 (branch-free).
func abs32(x int32) int32 {
	m := x >> 31
	return (x ^ m) - m
}

// absBound returns an upper bound of |x[i]|, at most twice the largest
// magnitude: the OR of the one's complement magnitudes, plus one.
func absBound(x []int16) int32 {
	var m0, m1 int16
	for len(x) >= 4 {
		a, b, c, d := x[0], x[1], x[2], x[3]
		m0 |= (a ^ (a >> 15)) | (b ^ (b >> 15))
		m1 |= (c ^ (c >> 15)) | (d ^ (d >> 15))
		x = x[4:]
	}
	for _, v := range x {
		m0 |= v ^ (v >> 15)
	}
	return int32(m0|m1) + 1
}

// synFilt filters x through 1/A(z) (a in Q12) into y, starting from the past
// outputs in mem (mem[9] is the most recent). It returns true if any
// operation saturated, which the decoder uses to rescale the excitation.
// mem is not updated. len(x) <= 80.
func synFilt(a []int16, x []int16, y []int16, mem *[lpcOrder]int16) (overflow bool) {
	var buf [lpcOrder + 80]int16
	copy(buf[:lpcOrder], mem[:])
	a = a[:lpcOrder+1]
	n := len(x)
	y = y[:n]
	var asum int64
	for j := 1; j <= lpcOrder; j++ {
		asum += int64(abs32(int32(a[j])))
	}
	a0 := int32(a[0])
	abs0 := int64(abs32(a0))
	start := 0
	if a0 == 4096 && (2*(32768*abs0+asum*32768) <= max32 || 2*(int64(absBound(x))*abs0+asum*32768) <= max32) {
		// No partial sum can saturate whatever the outputs are; only the
		// final scaling can, where the fast loop stops.
		copy(buf[lpcOrder:lpcOrder+n], x)
		start = n - synFiltFast((*[lpcOrder + 1]int16)(a), buf[:lpcOrder+n])
		if start == n {
			copy(y, buf[lpcOrder:lpcOrder+n])
			return false
		}
	}
	// From the first saturating sample on (or from the start), sample by
	// sample. ymax bounds the outputs in the filter's memory.
	ymax := int64(absBound(buf[start : start+lpcOrder]))
	for i := start; i < n; i++ {
		yy := (*[lpcOrder]int16)(buf[i : i+lpcOrder])
		xi := int32(x[i])
		var s int32
		if 2*(int64(abs32(xi))*abs0+asum*ymax) <= max32 {
			// No partial sum can saturate. The most recent outputs enter
			// last: they are on the critical path of the recursion.
			p := xi*a0 - (int32(a[10])*int32(yy[0]) + int32(a[9])*int32(yy[1]) +
				int32(a[8])*int32(yy[2]) + int32(a[7])*int32(yy[3]) +
				int32(a[6])*int32(yy[4]) + int32(a[5])*int32(yy[5]) +
				int32(a[4])*int32(yy[6]) + int32(a[3])*int32(yy[7]))
			p -= int32(a[2]) * int32(yy[8])
			p -= int32(a[1]) * int32(yy[9])
			s = p << 1
		} else {
			s = lMult(x[i], a[0])
			if s == max32 && x[i] == min16 && a[0] == min16 {
				overflow = true
			}
			for j := 1; j <= lpcOrder; j++ {
				p := int32(a[j]) * int32(yy[lpcOrder-j])
				var t int64
				if p == 0x40000000 { // L_mult saturation
					overflow = true
					t = int64(s) - max32
				} else {
					t = int64(s) - int64(p)<<1
				}
				if t > max32 {
					t = max32
					overflow = true
				} else if t < min32 {
					t = min32
					overflow = true
				}
				s = int32(t)
			}
		}
		out, ov := shlRound(s)
		overflow = overflow || ov
		buf[lpcOrder+i] = out
		ymax = max(ymax, int64(abs32(int32(out))))
	}
	copy(y, buf[lpcOrder:lpcOrder+n])
	return overflow
}

// synFiltFast runs the synthesis recursion 1/A(z) for a[0] = 4096 (1.0 in
// Q12) in plain arithmetic, in place: buf holds lpcOrder past outputs
// followed by the inputs, which the outputs replace. The caller has shown
// that no partial sum can leave the 32-bit range, so only the final scaling
// can saturate: the loop stops before the first sample where it would and
// returns the number of samples left (0 when none saturates).
//
// The window w advances by one sample per output and is read at constant
// offsets, which the compiler folds into the loads (indexing with i+k
// costs two extra address computations per tap); working in place frees
// the register an input pointer would take.
func synFiltFast(a *[lpcOrder + 1]int16, buf []int16) int {
	a1, a2, a3, a4, a5 := int32(a[1]), int32(a[2]), int32(a[3]), int32(a[4]), int32(a[5])
	a6, a7, a8, a9, a10 := int32(a[6]), int32(a[7]), int32(a[8]), int32(a[9]), int32(a[10])
	w := buf
	for len(w) > lpcOrder {
		// One running sum (wrapping int32 arithmetic is exact here)
		// keeps the register pressure low.
		p := int32(w[lpcOrder])<<12 - a10*int32(w[0]) - a9*int32(w[1]) -
			a8*int32(w[2]) - a7*int32(w[3]) - a6*int32(w[4]) -
			a5*int32(w[5]) - a4*int32(w[6]) - a3*int32(w[7]) -
			a2*int32(w[8]) - a1*int32(w[9])
		// round(L_shl(2p, 3)) = (16p + 0x8000) >> 16 unless it
		// saturates, which happens for p outside [lo, hi].
		const lo, hi = min32 >> 4, (max32 - 0x8000) >> 4
		if uint32(p-lo) > hi-lo {
			break
		}
		w[lpcOrder] = int16((p + 0x800) >> 12)
		w = w[1:]
	}
	return len(w) - lpcOrder
}

// round16x is round(L_shl(2*s, 3)) for |2*s| <= max32.
func round16x(s int32) int16 {
	if s > (max32-0x8000)>>4 {
		return max16
	}
	if s < min32>>4 {
		return min16
	}
	return int16((s + 0x800) >> 12)
}

// shlRound is round(L_shl(s, 3)), reporting saturation.
func shlRound(s int32) (int16, bool) {
	if s > max32>>3 {
		return max16, true
	}
	if s < min32>>3 {
		return min16, true
	}
	t := s << 3
	if t > max32-0x8000 {
		return max16, true
	}
	return int16((t + 0x8000) >> 16), false
}

// residu filters x through A(z) into y; x carries 10 samples of history
// before the signal: x[10+i] is the input for y[i].
func residu(a []int16, x []int16, y []int16) {
	a = a[:lpcOrder+1]
	n := len(y)
	x = x[:n+lpcOrder]
	var asum int64
	for _, v := range a {
		asum += int64(abs32(int32(v)))
	}
	if 2*asum*32768 <= max32 || 2*asum*int64(absBound(x)) <= max32 {
		a0, a1, a2, a3, a4, a5 := int32(a[0]), int32(a[1]), int32(a[2]), int32(a[3]), int32(a[4]), int32(a[5])
		a6, a7, a8, a9, a10 := int32(a[6]), int32(a[7]), int32(a[8]), int32(a[9]), int32(a[10])
		// The window advances by one sample and is read at constant
		// offsets (folded into the loads).
		w := x
		for i := range y {
			if len(w) <= lpcOrder {
				return
			}
			s := a0*int32(w[10]) + a1*int32(w[9]) + a2*int32(w[8]) +
				a3*int32(w[7]) + a4*int32(w[6]) + a5*int32(w[5]) +
				a6*int32(w[4]) + a7*int32(w[3]) + a8*int32(w[2]) +
				a9*int32(w[1]) + a10*int32(w[0])
			y[i] = round16x(s)
			w = w[1:]
		}
		return
	}
	for i := 0; i < n; i++ {
		s := lMult(x[i+lpcOrder], a[0])
		for j := 1; j <= lpcOrder; j++ {
			s = lMac(s, a[j], x[i+lpcOrder-j])
		}
		s = lShlC(s, 3)
		y[i] = round(s)
	}
}

// weightAz computes ap[i] = a[i] * gamma^i, given pow = gammaPowers(gamma).
// The powers are positive and below 32768, so round(L_mult(a[i], pow[i]))
// cannot saturate.
func weightAz(a []int16, pow *[lpcOrder + 1]int16, ap *[lpcOrder + 1]int16) {
	a = a[:lpcOrder+1]
	ap[0] = a[0]
	for i := 1; i <= lpcOrder; i++ {
		ap[i] = int16((2*int32(a[i])*int32(pow[i]) + 0x8000) >> 16)
	}
}

// gammaPowers returns the factors gamma^i of weightAz as the reference
// computes them: fac = gamma, then fac = round(L_mult(fac, gamma)).
func gammaPowers(gamma int16) (pow [lpcOrder + 1]int16) {
	pow[0] = max16 // unused: ap[0] = a[0]
	fac := gamma
	for i := 1; i <= lpcOrder; i++ {
		pow[i] = fac
		fac = round(lMult(fac, gamma))
	}
	return pow
}

// Weighting factors of the postfilter (constant tables).
var (
	powGamma2Pst = gammaPowers(gamma2Pst)
	powGamma1Pst = gammaPowers(gamma1Pst)
)

// energy returns the saturating sum of 2*x[i]^2 starting from init >= 0.
// All terms are non-negative, so the partial sums only grow: the
// saturating sum is the exact sum clamped once at the end.
func energy(init int32, x []int16) int32 {
	// Each square is at most 2^30, so the sum of two fits in a uint32
	// and the 64-bit sums cannot overflow. The slice advances and is read
	// at constant offsets, which the compiler folds into the loads.
	var s0, s1 uint64
	for len(x) >= 4 {
		a, b, c, d := int32(x[0]), int32(x[1]), int32(x[2]), int32(x[3])
		s0 += uint64(uint32(a*a) + uint32(b*b))
		s1 += uint64(uint32(c*c) + uint32(d*d))
		x = x[4:]
	}
	for _, v := range x {
		s0 += uint64(uint32(int32(v) * int32(v)))
	}
	// A -32768^2 term saturates to max32 in the reference; any such term
	// already pushes the sum past max32.
	s := int64(s0+s1)<<1 + int64(init)
	if s > max32 {
		return max32
	}
	return int32(s)
}

// dot returns the saturating sum init + sum 2*x[i]*y[i] of the reference
// (L_mac chain), with a fast path when no partial sum can saturate.
func dot(init int32, x, y []int16) int32 {
	y = y[:len(x)]
	xm, ym := absBound(x), absBound(y)
	if int64(abs32(init))+2*int64(len(x))*int64(xm)*int64(ym) <= max32 {
		return dotFast(init, x, y)
	}
	s := init
	for i := range x {
		s = lMac(s, x[i], y[i])
	}
	return s
}

// dotFast is dot for inputs known not to saturate.
func dotFast(init int32, x, y []int16) int32 {
	y = y[:len(x)]
	var s int32
	for i := range x {
		s += int32(x[i]) * int32(y[i])
	}
	return init + 2*s
}
