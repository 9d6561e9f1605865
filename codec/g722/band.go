package g722

// band is the state of one sub-band ADPCM decoder: the block 4 adaptive
// predictor (two poles, six zeros) and the quantizer scale factor.
//
// All quantities are the 16-bit values of the recommendation held in int32;
// every operation the recommendation saturates is saturated here as well.
type band struct {
	s  int32 // signal estimate S for the next sample
	sz int32 // zero-section part SZ of the estimate

	r1, r2 int32 // reconstructed signal R(n-1), R(n-2)
	p1, p2 int32 // partially reconstructed signal P(n-1), P(n-2)
	a1, a2 int32 // pole coefficients A1, A2

	b [6]int32 // zero coefficients B1..B6
	d [6]int32 // quantized differences D(n-1)..D(n-6)

	nb  int32 // log scale factor NB
	det int32 // scale factor DET
}

// sat16 limits x to the 16-bit two's complement range, as the
// recommendation's saturating additions do.
func sat16(x int32) int32 {
	return min(max(x, -32768), 32767)
}

// mul15 is the recommendation's fractional product (a·b)>>15 of two 16-bit
// values, saturated (only -32768·-32768 overflows).
func mul15(a, b int32) int32 {
	return min((a*b)>>15, 32767)
}

// scale computes the scale factor DET from the log scale factor NB
// (SCALEL with shift 8 for the lower band, SCALEH with shift 10 for the
// higher band): the 5 fractional bits of NB>>6 select the mantissa, NB>>11 the
// exponent.
func scale(nb int32, shift int32) int32 {
	m := ila[(nb>>6)&31]
	e := shift - nb>>11
	if e >= 0 {
		m >>= uint(e)
	} else {
		m <<= uint(-e)
	}
	return m << 2
}

// adapt runs block 4 for one sample: it takes the quantized difference d,
// forms the reconstructed signal R and the partially reconstructed signal P
// from the current estimates, updates the pole and zero coefficients, shifts
// the delay lines and computes the signal estimate for the next sample.
func (st *band) adapt(d int32) {
	// RECONS and PARREC.
	r := sat16(st.s + d)
	p := sat16(d + st.sz)

	// UPPOL2: second pole coefficient.
	sg0 := p >> 15
	sg1 := st.p1 >> 15
	sg2 := st.p2 >> 15
	wd := sat16(st.a1 << 2)
	if sg0 == sg1 {
		wd = min(-wd, 32767)
	}
	wd >>= 7
	if sg0 == sg2 {
		wd += 128
	} else {
		wd -= 128
	}
	a2 := wd + mul15(st.a2, 32512)
	a2 = min(max(a2, -12288), 12288)

	// UPPOL1: first pole coefficient, limited by the stability constraint.
	a1 := mul15(st.a1, 32640)
	if sg0 == sg1 {
		a1 += 192
	} else {
		a1 -= 192
	}
	lim := 15360 - a2
	a1 = min(max(a1, -lim), lim)

	// UPZERO: sign-sign update of the zero coefficients.
	var g int32
	if d != 0 {
		g = 128
	}
	sgd := d >> 15
	for i := range st.b {
		w := g
		if st.d[i]>>15 != sgd {
			w = -g
		}
		st.b[i] = sat16(w + mul15(st.b[i], 32640))
	}

	// DELAYA.
	st.d[5] = st.d[4]
	st.d[4] = st.d[3]
	st.d[3] = st.d[2]
	st.d[2] = st.d[1]
	st.d[1] = st.d[0]
	st.d[0] = d
	st.r2, st.r1 = st.r1, r
	st.p2, st.p1 = st.p1, p
	st.a1, st.a2 = a1, a2

	// FILTEP: pole section.
	sp := sat16(mul15(a1, sat16(r<<1)) + mul15(a2, sat16(st.r2<<1)))

	// FILTEZ: zero section, each partial sum saturated.
	var sz int32
	for i := range st.b {
		sz = sat16(sz + mul15(st.b[i], sat16(st.d[i]<<1)))
	}
	st.sz = sz

	// PREDIC.
	st.s = sat16(sp + sz)
}
