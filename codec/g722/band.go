package g722

// band is the state of one sub-band ADPCM decoder: the block 4 adaptive
// predictor (two poles, six zeros) and the quantizer scale factor.
//
// All quantities are the 16-bit values of the recommendation held in int32;
// every operation the recommendation saturates is saturated here as well.
type band struct {
	s  int32 // signal estimate S for the next sample
	sz int32 // zero-section part SZ of the estimate

	r1, r2 int32 // reconstructed signal doubled and saturated: 2R(n-1), 2R(n-2)
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

// Value ranges that let the code below drop saturations the recommendation
// writes but that can never take effect (each was checked against the
// bounds of the state variables):
//   - DET ≤ 16384 in both bands, so |D| ≤ 16384·20456>>15 = 10228 and 2·D
//     fits 16 bits;
//   - a zero coefficient B stays in [-32768, 32767] without saturation
//     (±128 + B·32640>>15), and its product with 2·D cannot be the
//     overflowing -32768·-32768;
//   - the pole coefficients are limited to |A2| ≤ 12288, |A1| ≤ 27648.

// detTable maps NB>>6 to the scale factor DET for one band (SCALEL with
// shift 8 and NB ≤ 18432 for the lower band, SCALEH with shift 10 and
// NB ≤ 22528 for the higher): the 5 fractional bits select the mantissa from
// ila, NB>>11 the exponent.
func detTable(shift, maxNB int32) []int32 {
	t := make([]int32, maxNB>>6+1)
	for i := range t {
		m := ila[i&31]
		e := shift - int32(i>>5)
		if e >= 0 {
			m >>= uint(e)
		} else {
			m <<= uint(-e)
		}
		t[i] = m << 2
	}
	return t
}

// Scale factor tables, computed once; never written after initialisation.
var (
	detLow  = [maxNBLow>>6 + 1]int32(detTable(8, maxNBLow))
	detHigh = [maxNBHigh>>6 + 1]int32(detTable(10, maxNBHigh))
)

const (
	maxNBLow  = 18432
	maxNBHigh = 22528
)

// signDiffers returns -1 if x and y have different signs (zero counting as
// positive), else 0.
func signDiffers(x, y int32) int32 { return (x ^ y) >> 31 }

// run runs block 4 over a sequence of quantized differences. For each i it
// stores the current signal estimate S in est[i], then takes d[i]: the
// reconstructed signal R and the partially reconstructed signal P are formed,
// the pole and zero coefficients updated, the delay lines shifted and the
// signal estimate for the next sample computed.
//
// The state lives in locals for the whole sequence; len(est) must be at
// least len(ds).
func (st *band) run(ds, est []int32) {
	est = est[:len(ds)]
	s, sz := st.s, st.sz
	r1, r2, p1, p2, a1, a2 := st.r1, st.r2, st.p1, st.p2, st.a1, st.a2
	b1, b2, b3, b4, b5, b6 := st.b[0], st.b[1], st.b[2], st.b[3], st.b[4], st.b[5]
	d1, d2, d3, d4, d5, d6 := st.d[0], st.d[1], st.d[2], st.d[3], st.d[4], st.d[5]
	for i, d := range ds {
		est[i] = s

		// RECONS (kept doubled for FILTEP) and PARREC.
		r := sat16(sat16(s+d) << 1)
		p := sat16(d + sz)

		// UPPOL2: second pole coefficient. m1 is -1 when P(n) and P(n-1)
		// differ in sign, m2 likewise for P(n-2).
		m1 := signDiffers(p, p1)
		m2 := signDiffers(p, p2)
		wd := sat16(a1 << 2)
		wd = min((wd^^m1)-^m1, 32767) // negated when the signs agree
		na2 := wd>>7 + (128 ^ m2) - m2 + (a2*32512)>>15
		na2 = min(max(na2, -12288), 12288)

		// UPPOL1: first pole coefficient, limited by the stability
		// constraint.
		na1 := (a1*32640)>>15 + (192 ^ m1) - m1
		lim := 15360 - na2
		a1 = min(max(na1, -lim), lim)
		a2 = na2

		// UPZERO: sign-sign update of the zero coefficients, step 128 (0
		// when D is 0), negated where D(n-i) differs in sign from D.
		g := ((d | -d) >> 31) & 128
		m := signDiffers(d, d1)
		b1 = (g ^ m) - m + (b1*32640)>>15
		m = signDiffers(d, d2)
		b2 = (g ^ m) - m + (b2*32640)>>15
		m = signDiffers(d, d3)
		b3 = (g ^ m) - m + (b3*32640)>>15
		m = signDiffers(d, d4)
		b4 = (g ^ m) - m + (b4*32640)>>15
		m = signDiffers(d, d5)
		b5 = (g ^ m) - m + (b5*32640)>>15
		m = signDiffers(d, d6)
		b6 = (g ^ m) - m + (b6*32640)>>15

		// DELAYA.
		d6, d5, d4, d3, d2, d1 = d5, d4, d3, d2, d1, d
		r2, r1 = r1, r
		p2, p1 = p1, p

		// FILTEP: pole section.
		sp := sat16((a1*r1)>>15 + (a2*r2)>>15)

		// FILTEZ: zero section, each partial sum saturated as in the
		// recommendation. The common case is checked at once: if no
		// partial sum leaves 16 bits, saturating changes nothing.
		z1 := (b1 * (d1 << 1)) >> 15
		z2 := z1 + (b2*(d2<<1))>>15
		z3 := z2 + (b3*(d3<<1))>>15
		z4 := z3 + (b4*(d4<<1))>>15
		z5 := z4 + (b5*(d5<<1))>>15
		sz = z5 + (b6*(d6<<1))>>15
		if uint32(z2+32768)|uint32(z3+32768)|uint32(z4+32768)|uint32(z5+32768)|uint32(sz+32768) > 0xffff {
			sz = filtezSat([6]int32{b1, b2, b3, b4, b5, b6}, [6]int32{d1, d2, d3, d4, d5, d6})
		}

		// PREDIC.
		s = sat16(sp + sz)
	}
	st.s, st.sz = s, sz
	st.r1, st.r2, st.p1, st.p2, st.a1, st.a2 = r1, r2, p1, p2, a1, a2
	st.b = [6]int32{b1, b2, b3, b4, b5, b6}
	st.d = [6]int32{d1, d2, d3, d4, d5, d6}
}

// filtezSat is the zero section with every partial sum saturated, for the
// rare samples where an unsaturated partial sum leaves 16 bits.
func filtezSat(b, d [6]int32) int32 {
	var sz int32
	for i := range b {
		sz = sat16(sz + (b[i]*(d[i]<<1))>>15)
	}
	return sz
}
