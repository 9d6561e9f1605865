package g729

// Table-driven transcendental functions of the fixed-point description.

// pow2 returns 2^(exponent.fraction) for exponent 0..30, fraction in Q15,
// by linear interpolation in tabpow.
func pow2(exponent, fraction int16) int32 {
	x := lMult(fraction, 32)
	i := extractH(x) // bits 10..15 of fraction
	x = lShr(x, 1)
	a := extractL(x) & 0x7fff // bits 0..9
	x = int32(tabpow[i]) << 16
	t := sub(tabpow[i], tabpow[i+1])
	x = lMsu(x, t, a)
	return lShrR(x, sub(30, exponent))
}

// log2 returns the integer and Q15 fractional parts of log2(x); x <= 0
// gives (0, 0).
func log2(x int32) (exponent, fraction int16) {
	if x <= 0 {
		return 0, 0
	}
	e := normL(x)
	x = lShl(x, e)
	exponent = sub(30, e)
	x = lShr(x, 9)
	i := extractH(x) // bits 25..31
	x = lShr(x, 1)
	a := extractL(x) & 0x7fff // bits 10..24
	i -= 32
	y := int32(tablog[i]) << 16
	t := sub(tablog[i], tablog[i+1])
	y = lMsu(y, t, a)
	return exponent, extractH(y)
}

// invSqrt returns 1/sqrt(x) in Q30; x <= 0 gives 0x3fffffff.
func invSqrt(x int32) int32 {
	if x <= 0 {
		return 0x3fffffff
	}
	e := normL(x)
	x = lShl(x, e)
	e = sub(30, e)
	if e&1 == 0 {
		x = lShr(x, 1)
	}
	e = shrC(e, 1) + 1
	x = lShr(x, 9)
	i := extractH(x)
	x = lShr(x, 1)
	a := extractL(x) & 0x7fff
	i -= 16
	y := int32(tabsqr[i]) << 16
	t := sub(tabsqr[i], tabsqr[i+1])
	y = lMsu(y, t, a)
	return lShr(y, e)
}

// random is the linear congruential generator of the recommendation:
// seed = seed*31821 + 13849 (16-bit wrap-around).
// (L_mult doubles and L_shr halves the product exactly, and nothing can
// saturate, so this is plain arithmetic.)
func random(seed *int16) int16 {
	*seed = int16(int32(*seed)*31821 + 13849)
	return *seed
}
