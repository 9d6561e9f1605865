package g729

// Adaptive and fixed codebook decoding and gain dequantisation
// (G.729 4.1.3 - 4.1.5, with the Annex A simplifications).

const (
	frameLen  = 80  // L_FRAME
	subLen    = 40  // L_SUBFR
	pitMin    = 20  // PIT_MIN
	pitMax    = 143 // PIT_MAX
	lInterpol = 11  // L_INTERPOL
	excHist   = pitMax + lInterpol
	sharpMax  = 13017 // 0.8 in Q14
	sharpMin  = 3277  // 0.2 in Q14
)

// pitchParityError reports whether the parity bit does not match the six
// most significant bits of the first subframe's pitch index.
func pitchParityError(index, parity int16) bool {
	t := shrC(index, 1)
	sum := int16(1)
	for i := 0; i <= 5; i++ {
		t = shrC(t, 1)
		sum += t & 1
	}
	sum += parity
	return sum&1 != 0
}

// decodeLag3 decodes the pitch index into integer lag and fraction. For the
// second subframe t0 is the first subframe's integer lag on input.
func decodeLag3(index int16, first bool, t0 int16) (int16, int16) {
	if first {
		if index < 197 {
			t := add(mult(add(index, 2), 10923), 19)
			i := add(add(t, t), t)
			return t, add(sub(index, i), 58)
		}
		return sub(index, 112), 0
	}
	tMin := sub(t0, 5)
	if tMin < pitMin {
		tMin = pitMin
	}
	tMax := add(tMin, 9)
	if tMax > pitMax {
		tMax = pitMax
		tMin = sub(tMax, 9)
	}
	i := sub(mult(add(index, 2), 10923), 1)
	t := add(i, tMin)
	i = add(add(i, i), i)
	return t, sub(sub(index, 2), i)
}

// predLt3 computes the adaptive codebook vector buf[pos:pos+n] by
// interpolating the past excitation at lag t0 - frac/3 (resolution 1/3).
// It works in place: samples of the current subframe already computed are
// reused for lags shorter than the subframe.
func predLt3(buf []int16, pos int, t0, frac int16, n int) {
	x0 := pos - int(t0)
	frac = -frac
	if frac < 0 {
		frac += 3
		x0--
	}
	c1 := (*[28]int16)(inter3l[frac:])
	c2 := (*[28]int16)(inter3l[3-frac:])
	// Bound of the partial sums: every sample read is either history before
	// pos or an output of this call, so a running maximum covers them all.
	csum := interSum[frac]
	// History read: buf[x0-9 : x0+n+10] below pos.
	xmax := absBound(buf[x0-9 : min(pos, x0+n+10)])
	xlim := int32((max32 - 0x8000) / (2 * csum))
	// Samples j .. j+c-1 with c = pos-x0-10 (at least 10, as t0 >= 20)
	// read only history and samples before j: filter such chunks in plain
	// arithmetic while the running bound allows it.
	chunk := pos - x0 - 10
	j := 0
	for j < n && xmax <= xlim {
		c := min(n-j, chunk)
		predLt3Block(buf, x0+j, pos+j, c, frac)
		if j+c < n {
			xmax = max(xmax, absBound(buf[pos+j:pos+j+c]))
		}
		j += c
	}
	for ; j < n; j++ {
		x1 := x0 + j
		var s int32
		if xmax <= xlim {
			predLt3Block(buf, x0+j, pos+j, 1, frac)
			s = int32(buf[pos+j])
		} else {
			x2 := x1 + 1
			var acc int32
			for i, k := 0, 0; i < 10; i, k = i+1, k+3 {
				acc = lMac(acc, buf[x1-i], c1[k])
				acc = lMac(acc, buf[x2+i], c2[k])
			}
			s = int32(round(acc))
		}
		buf[pos+j] = int16(s)
		xmax = max(xmax, abs32(s))
	}
}

// interSum[f] is the sum of the magnitudes of the 20 interpolation taps
// used for fraction f.
var interSum = func() (s [3]int64) {
	for f := 0; f < 3; f++ {
		for k := 0; k < 30; k += 3 {
			s[f] += int64(abs32(int32(inter3l[f+k]))) + int64(abs32(int32(inter3l[3-f+k])))
		}
	}
	return s
}()

// decodeACELP builds the fixed codebook vector (4 pulses of +-1.0, Q13) from
// the 13-bit position index and the 4 sign bits.
func decodeACELP(sign, index int16, code *[subLen]int16) {
	var pos [4]int
	i := index & 7
	pos[0] = int(i) * 5
	index >>= 3
	pos[1] = int(index&7)*5 + 1
	index >>= 3
	pos[2] = int(index&7)*5 + 2
	index >>= 3
	j := index & 1
	index >>= 1
	pos[3] = int(index&7)*5 + 3 + int(j)
	*code = [subLen]int16{}
	for k := 0; k < 4; k++ {
		if sign&1 != 0 {
			code[pos[k]] = 8191
		} else {
			code[pos[k]] = -8192
		}
		sign >>= 1
	}
}

// gainPredict returns the MA-predicted fixed codebook gain gcode0 with its
// exponent, from the energy of code and the past quantised energies.
func gainPredict(pastQuaEn *[4]int16, code *[subLen]int16) (gcode0, expGcode0 int16) {
	t := energy(0, code[:])
	exp, frac := log2(t)
	t = mpy32x16(exp, frac, -24660)
	t = lMac(t, 32588, 32)
	t = lShlC(t, 10)
	for i := 0; i < 4; i++ {
		t = lMac(t, pred[i], pastQuaEn[i])
	}
	gcode0 = extractH(t)
	t = lMult(gcode0, 5439)
	t = lShr(t, 8)
	exp, frac = lExtract(t)
	gcode0 = extractL(pow2(14, frac))
	return gcode0, sub(14, exp)
}

// gainUpdate shifts the past quantised energies and stores
// 20*log10(gbk12) in Q10.
func gainUpdate(pastQuaEn *[4]int16, gbk12 int32) {
	for i := 3; i > 0; i-- {
		pastQuaEn[i] = pastQuaEn[i-1]
	}
	exp, frac := log2(gbk12)
	acc := lComp(sub(exp, 13), frac)
	t := extractH(lShlC(acc, 13))
	pastQuaEn[0] = mult(t, 24660)
}

// gainUpdateErasure stores the attenuated mean past energy for a lost frame.
func gainUpdateErasure(pastQuaEn *[4]int16) {
	var t int32
	for i := 0; i < 4; i++ {
		t = lAdd(t, int32(pastQuaEn[i]))
	}
	av := extractL(lShr(t, 2))
	av = sub(av, 4096)
	if av < -14336 {
		av = -14336
	}
	for i := 3; i > 0; i-- {
		pastQuaEn[i] = pastQuaEn[i-1]
	}
	pastQuaEn[0] = av
}

// decodeGain dequantises the pitch gain (Q14) and code gain (Q1) into
// *gp and *gc, or attenuates the previous ones for an erased frame.
func decodeGain(pastQuaEn *[4]int16, index int16, code *[subLen]int16, bfi bool, gp, gc *int16) {
	if bfi {
		*gp = mult(*gp, 29491)
		if *gp > 29491 {
			*gp = 29491
		}
		*gc = mult(*gc, 32111)
		gainUpdateErasure(pastQuaEn)
		return
	}
	i1 := imap1[(index>>4)&7]
	i2 := imap2[index&15]
	*gp = add(gbk1[i1][0], gbk2[i2][0])
	gcode0, expGcode0 := gainPredict(pastQuaEn, code)
	gbk12 := lAdd(int32(gbk1[i1][1]), int32(gbk2[i2][1]))
	tmp := extractL(lShr(gbk12, 1))
	acc := lMult(tmp, gcode0)
	acc = lShl(acc, add(negate(expGcode0), -12-1+1+16))
	*gc = extractH(acc)
	gainUpdate(pastQuaEn, gbk12)
}
