package g729

// Annex A adaptive postfilter (A.4.2): long-term (harmonic) postfilter on
// the residual of A(z/0.55), tilt compensation, short-term postfilter
// 1/A(z/0.7) and adaptive gain control; then the output high-pass filter
// and up-scaling (4.2.5).

const (
	lH        = 22    // truncated impulse response length
	gammaP    = 16384 // 0.5 Q15
	invGammaP = 21845 // 1/(1+gammaP) Q15
	gammaP2   = 10923 // gammaP/(1+gammaP) Q15
	gamma2Pst = 18022 // 0.55 Q15
	gamma1Pst = 22938 // 0.70 Q15
	muTilt    = 26214 // 0.8 Q15
	agcFac    = 29491 // 0.9 Q15
	agcFac1   = 32767 - agcFac
)

type postFilter struct {
	res2     [pitMax + subLen]int16 // residual history + current subframe
	scalRes2 [pitMax + subLen]int16 // the same divided by 4
	memSyn   [lpcOrder]int16
	memPre   int16
	pastGain int16
}

func (p *postFilter) reset() {
	*p = postFilter{pastGain: 4096}
}

// filter postfilters the frame syn (syn has lpcOrder samples of history
// before the frame: syn[lpcOrder:] is the frame) into out.
func (p *postFilter) filter(syn []int16, az *[2 * (lpcOrder + 1)]int16, t2 *[2]int16, vad int16, out []int16) {
	var ap3, ap4 [lpcOrder + 1]int16
	var resPst [subLen]int16
	var h [lH]int16
	for sf := 0; sf < 2; sf++ {
		a := az[sf*(lpcOrder+1) : (sf+1)*(lpcOrder+1)]
		t0Min := sub(t2[sf], 3)
		t0Max := add(t0Min, 6)
		if t0Max > pitMax {
			t0Max = pitMax
			t0Min = sub(t0Max, 6)
		}
		weightAz(a, &powGamma2Pst, &ap3)
		weightAz(a, &powGamma1Pst, &ap4)
		res2 := p.res2[pitMax:]
		scal := p.scalRes2[pitMax:]
		residu(ap3[:], syn[sf*subLen:sf*subLen+subLen+lpcOrder], res2[:subLen])
		for j := 0; j < subLen; j++ {
			scal[j] = shrC(res2[j], 2)
		}
		if vad == 1 {
			p.pitchFilter(t0Min, t0Max, &resPst)
		} else {
			copy(resPst[:], res2[:subLen])
		}

		// Impulse response of A(z/g2)/A(z/g1), for the tilt factor.
		var x [lH]int16
		copy(x[:], ap3[:])
		var zero [lpcOrder]int16
		synFilt(ap4[:], x[:], h[:], &zero)
		eh := energy(0, h[:])
		temp1 := extractH(eh)
		var temp2 int16
		if eh < max32 {
			// Unsaturated energy bounds every partial sum of the lag-1
			// correlation (Cauchy-Schwarz): no saturation possible.
			temp2 = extractH(dotFast(0, h[:lH-1], h[1:]))
		} else {
			temp2 = extractH(dot(0, h[:lH-1], h[1:]))
		}
		if temp2 <= 0 {
			temp2 = 0
		} else {
			temp2 = mult(temp2, muTilt)
			temp2 = divS(temp2, temp1)
		}
		p.preemphasis(&resPst, temp2)

		o := out[sf*subLen : sf*subLen+subLen]
		synFilt(ap4[:], resPst[:], o, &p.memSyn)
		copy(p.memSyn[:], o[subLen-lpcOrder:])
		p.agc(syn[lpcOrder+sf*subLen:lpcOrder+sf*subLen+subLen], o)

		copy(p.res2[:pitMax], p.res2[subLen:subLen+pitMax])
		copy(p.scalRes2[:pitMax], p.scalRes2[subLen:subLen+pitMax])
	}
}

// pitchFilter finds the best integer lag around the decoded pitch on the
// scaled residual and applies the harmonic filter (1 + g z^-T)/(1 + g).
func (p *postFilter) pitchFilter(t0Min, t0Max int16, dst *[subLen]int16) {
	sig := p.res2[pitMax:]
	scal := p.scalRes2[pitMax:]
	corMax := int32(min32)
	t0 := t0Min
	// One bound for all lags: a partial correlation sum of the current
	// window with a past one is at most the larger of their energies
	// (Cauchy-Schwarz). The past windows all lie in the union u.
	ener0 := energy(1, scal[:subLen])
	u := p.scalRes2[pitMax-int(t0Max) : pitMax-int(t0Min)+subLen]
	fast := ener0 < max32 && energy(0, u) < max32
	var cf [7]int32 // cf[k]: correlation at lag t0Max-k
	if fast {
		// All 7 correlations in one pass over the signal.
		cf = corr7((*[subLen]int16)(scal), p.scalRes2[pitMax-int(t0Max):pitMax-int(t0Max)+subLen+6])
	}
	for i := t0Min; i <= t0Max; i++ {
		var corr int32
		if fast {
			corr = cf[t0Max-i]
		} else {
			corr = dot(0, scal[:subLen], p.scalRes2[pitMax-int(i):])
		}
		if lSub(corr, corMax) > 0 {
			corMax = corr
			t0 = i
		}
	}
	ener := energy(1, p.scalRes2[pitMax-int(t0):pitMax-int(t0)+subLen])
	if corMax < 0 {
		corMax = 0
	}
	temp := corMax
	if ener > temp {
		temp = ener
	}
	if ener0 > temp {
		temp = ener0
	}
	j := normL(temp)
	cmax := round(lShl(corMax, j))
	en := round(lShl(ener, j))
	en0 := round(lShl(ener0, j))

	temp = lMult(cmax, cmax)
	temp = lSub(temp, lShr(lMult(en, en0), 1))
	if temp < 0 { // prediction gain below 3 dB: filter off
		copy(dst[:], sig[:subLen])
		return
	}
	var g0, gain int16
	if cmax > en { // pitch gain > 1
		g0 = invGammaP
		gain = gammaP2
	} else {
		cmax = shrC(mult(cmax, gammaP), 1)
		en = shrC(en, 1)
		i := add(cmax, en)
		if i > 0 {
			gain = divS(cmax, i)
			g0 = sub(32767, gain)
		} else {
			g0 = 32767
			gain = 0
		}
	}
	past := p.res2[pitMax-int(t0):]
	// g0, gain >= 0: the two products cannot saturate, only their sum.
	g0w, gw := int32(g0), int32(gain)
	for i := 0; i < subLen; i++ {
		dst[i] = sat16((g0w*int32(sig[i]))>>15 + (gw*int32(past[i]))>>15)
	}
}

// corr7 returns 2*sum x[j]*w[j+k] for k = 0..6, for inputs whose sums
// cannot overflow. w advances by one sample and is read at constant
// offsets; the fixed-size x needs no bounds checks.
func corr7(x *[subLen]int16, w []int16) [7]int32 {
	var c0, c1, c2, c3, c4, c5, c6 int32
	for j := 0; j < subLen; j++ {
		if len(w) < 7 {
			break
		}
		v := int32(x[j])
		c0 += v * int32(w[0])
		c1 += v * int32(w[1])
		c2 += v * int32(w[2])
		c3 += v * int32(w[3])
		c4 += v * int32(w[4])
		c5 += v * int32(w[5])
		c6 += v * int32(w[6])
		w = w[1:]
	}
	return [7]int32{2 * c0, 2 * c1, 2 * c2, 2 * c3, 2 * c4, 2 * c5, 2 * c6}
}

// preemphasis filters through 1 - g z^-1 in place. g >= 0 (a quotient
// or 0), so mult(g, x) = (g*x)>>15 cannot saturate; only the difference
// is clamped.
func (p *postFilter) preemphasis(sig *[subLen]int16, g int16) {
	last := sig[subLen-1]
	if g > 0 {
		gw := int32(g)
		prev := int32(p.memPre)
		for i, v := range sig {
			x := int32(v)
			sig[i] = sat16(x - (gw*prev)>>15)
			prev = x
		}
	}
	p.memPre = last
}

// agc scales out so that its energy follows that of in, smoothed per sample.
func (p *postFilter) agc(in, out []int16) {
	s := energyShr2((*[subLen]int16)(out))
	if s == 0 {
		p.pastGain = 0
		return
	}
	exp := sub(normL(s), 1)
	gainOut := round(lShl(s, exp))
	s = energyShr2((*[subLen]int16)(in))
	var g0 int16
	if s != 0 {
		i := normL(s)
		gainIn := round(lShl(s, i))
		exp = sub(exp, i)
		s = int32(divS(gainOut, gainIn))
		s = lShlC(s, 7)
		s = lShr(s, exp)
		s = invSqrt(s)
		i = round(lShlC(s, 9))
		g0 = mult(i, agcFac1)
	}
	// 0 <= g0 <= mult(32767, agcFac1) = 3275 and 0 <= pastGain <= 32767,
	// so gain*agcFac>>15 + g0 stays within [0, 32766]: mult and add
	// cannot saturate.
	gain := int32(p.pastGain)
	g0w := int32(g0)
	out = out[:subLen]
	for i := range out {
		gain = (gain*agcFac)>>15 + g0w
		// extract_h(L_shl(L_mult(out, gain), 3)); gain >= 0 so L_mult
		// cannot saturate.
		v := int32(out[i]) * gain
		switch {
		case v > max32>>4:
			out[i] = max16
		case v < min32>>4:
			out[i] = min16
		default:
			out[i] = int16(v >> 12)
		}
	}
	p.pastGain = int16(gain)
}

// energyShr2 is energy(0, x[i]>>2): each square is at most 2^26, so 40
// of them fit in a uint32.
func energyShr2(x *[subLen]int16) int32 {
	var s0, s1 uint32
	w := x[:]
	for len(w) >= 4 {
		a, b, c, d := int32(w[0]>>2), int32(w[1]>>2), int32(w[2]>>2), int32(w[3]>>2)
		s0 += uint32(a*a) + uint32(b*b)
		s1 += uint32(c*c) + uint32(d*d)
		w = w[4:]
	}
	return int32(min(uint64(s0+s1)<<1, max32))
}

// postProcess is the output high-pass filter (cut-off 100 Hz) with the
// final multiplication by 2.
type postProcess struct {
	y2Hi, y2Lo, y1Hi, y1Lo, x0, x1 int16
}

func (p *postProcess) run(sig []int16) {
	const (
		b0, b1, b2 = 7699, -15398, 7699 // b100, Q13
		a1, a2     = 15836, -7667       // a100[1..2], Q13
	)
	y1Hi, y1Lo, y2Hi, y2Lo := int32(p.y1Hi), int32(p.y1Lo), int32(p.y2Hi), int32(p.y2Lo)
	x0, x1 := int32(p.x0), int32(p.x1)
	for i, v := range sig {
		x2 := x1
		x1 = x0
		x0 = int32(v)
		// Mpy_32_16 of y[n-1] and y[n-2] cannot saturate with these
		// coefficients, nor can their sum (at most 1.6e9 in magnitude).
		t := 2*y1Hi*a1 + 2*((y1Lo*a1)>>15) + 2*y2Hi*a2 + 2*((y2Lo*a2)>>15)
		// The three L_mac may saturate, but then so does the L_shl by 2
		// that follows, alike for the exact sum: once a partial sum passes
		// +-2^31 the remaining x terms (at most 2*32768*(15398+7699) =
		// 1.52e9 in magnitude) cannot bring it, nor the saturated one,
		// back within +-2^29. So the exact sum, shifted and clamped once,
		// is the reference's result.
		s3 := int64(t) + int64(x0*(2*b0)) + int64(x1*(2*b1)) + int64(x2*(2*b2))
		u := int32(clamp32(s3 << 2)) // L_shl(L_tmp, 2)
		// round(L_shl(u, 1)) = floor((u + 2^14) / 2^15), saturated.
		sig[i] = sat16(u>>15 + (u>>14)&1)
		y2Hi, y2Lo = y1Hi, y1Lo
		y1Hi, y1Lo = u>>16, (u>>1)&0x7fff // L_Extract
	}
	p.y1Hi, p.y1Lo, p.y2Hi, p.y2Lo = int16(y1Hi), int16(y1Lo), int16(y2Hi), int16(y2Lo)
	p.x0, p.x1 = int16(x0), int16(x1)
}

func clamp32(x int64) int64 { return min(max(x, min32), max32) }
