package g729

// Annex B comfort noise generation at the decoder (B.4): SID decoding, gain
// smoothing and the random excitation.

const (
	initSeed = 11111
	aGain0   = 28672
	aGain1   = 4096
	frac1    = 19043 // (sqrt(40)*alpha/2 - 1) in Q15, alpha = 0.5
	k0       = 24576 // (1 - alpha^2) in Q15
	gMax     = 5000
)

// noiseFg are the MA predictor coefficients of the SID LSF quantiser: mode 0
// uses the first speech predictor, mode 1 a mix of 0.6 and 0.4 of both.
var noiseFg = func() (t [2][maNP][lpcOrder]int16) {
	t[0] = fg[0]
	for i := 0; i < maNP; i++ {
		for j := 0; j < lpcOrder; j++ {
			acc := lMult(fg[0][i][j], 19660)
			acc = lMac(acc, fg[1][i][j], 13107)
			t[1][i][j] = extractH(acc)
		}
	}
	return t
}()

// cngState is the comfort noise generator state.
type cngState struct {
	curGain int16
	sidGain int16
	lspSid  [lpcOrder]int16
}

var lspSidInit = [lpcOrder]int16{31441, 27566, 21458, 13612, 4663, -4663, -13612, -21458, -27566, -31441}

func (c *cngState) reset() {
	c.curGain = 0
	c.sidGain = tabSidGain[0]
	c.lspSid = lspSidInit
}

// sidLsfDecode dequantises the SID LSF indices into LSPs.
func sidLsfDecode(mode, i1, i2 int16, lsp *[lpcOrder]int16, freqPrev *[maNP][lpcOrder]int16) {
	var buf, lsf [lpcOrder]int16
	buf = lspcb1[ptrTab1[i1]]
	for i := 0; i < lpcOrder/2; i++ {
		buf[i] = add(buf[i], lspcb2[ptrTab2[0][i2]][i])
	}
	for i := lpcOrder / 2; i < lpcOrder; i++ {
		buf[i] = add(buf[i], lspcb2[ptrTab2[1][i2]][i])
	}
	for j := 1; j < lpcOrder; j++ {
		acc := lMult(buf[j-1], 16384)
		acc = lMac(acc, buf[j], -16384)
		acc = lMac(acc, 10, 16384)
		k := extractH(acc)
		if k > 0 {
			buf[j-1] = sub(buf[j-1], k)
			buf[j] = add(buf[j], k)
		}
	}
	lsfPrevCompose(&buf, &lsf, &noiseFg[mode], freqPrev, &noiseFgSum[mode])
	lsfPrevUpdate(&buf, freqPrev)
	lsfStability(&lsf)
	lsfToLsp(&lsf, lsp)
}

// quantSidGain quantises the energy of the last good frame (used when the
// first SID frame of a silence period is lost) and returns the index.
func quantSidGain(ener, shEner int16) int16 {
	acc := lShl(int32(ener), shEner)
	hi, lo := lExtract(acc)
	x := mpy32x16(hi, lo, 410)
	return quantEnergy(x, 0)
}

func quantEnergy(x int32, sh int16) int16 {
	exp, frac := log2(x)
	t := sub(exp, sh)
	e := shl(t, 10)
	e = add(e, multR(frac, 1024))
	if sub(e, -2721) <= 0 {
		return 0
	}
	if sub(e, 22111) > 0 {
		return 31
	}
	if sub(e, 4762) <= 0 {
		e = add(e, 3401)
		idx := mult(e, 24)
		if idx < 1 {
			idx = 1
		}
		return idx
	}
	e = sub(e, 340)
	idx := sub(shrC(mult(e, 193), 2), 1)
	if idx < 6 {
		idx = 6
	}
	return idx
}

// gauss returns an approximately Gaussian value from 12 uniform draws.
func gauss(seed *int16) int16 {
	var acc int32 // at most 12 * 2^15 in magnitude: no saturation
	for i := 0; i < 12; i++ {
		acc += int32(random(seed))
	}
	return int16(acc >> 7)
}

// sqrtHalf returns sqrt(num/2) by bitwise search.
func sqrtHalf(num int32) int16 {
	var rez int16
	e := int16(0x4000)
	for i := 0; i < 14; i++ {
		r := add(rez, e)
		if lSub(num, lMult(r, r)) >= 0 {
			rez = r
		}
		e >>= 1
	}
	return rez
}

// randomExcitation generates the comfort noise excitation of one frame into
// buf[pos:pos+80] (the buffer holds the past excitation before pos).
func randomExcitation(curGain int16, buf []int16, pos int, seed *int16) {
	if curGain == 0 {
		for i := 0; i < frameLen; i++ {
			buf[pos+i] = 0
		}
		return
	}
	var excg, excs [subLen]int16
	for sf := 0; sf < frameLen; sf += subLen {
		cur := buf[pos+sf : pos+sf+subLen]
		var posn [4]int
		var sign [4]int16

		t1 := random(seed)
		frac := sub(t1&3, 1)
		if frac == 2 {
			frac = 0
		}
		t1 = shrC(t1, 2)
		t0 := add(t1&0x3f, 40)
		t1 = shrC(t1, 6)
		t2 := t1 & 7
		posn[0] = int(t2) * 5
		t1 = shrC(t1, 3)
		sign[0] = t1 & 1
		t1 = shrC(t1, 1)
		t2 = t1 & 7
		posn[1] = int(t2)*5 + 1
		t1 = shrC(t1, 3)
		sign[1] = t1 & 1
		t1 = random(seed)
		t2 = t1 & 7
		posn[2] = int(t2)*5 + 2
		t1 = shrC(t1, 3)
		sign[2] = t1 & 1
		t1 = shrC(t1, 1)
		t2 = t1 & 0xf
		posn[3] = int(t2&1) + 3 + int((t2>>1)&7)*5
		t1 = shrC(t1, 4)
		sign[3] = t1 & 1
		gp := random(seed) & 0x1fff // < 0.5 in Q14
		gp2 := shl(gp, 1)

		// Gaussian excitation scaled to the target gain.
		var acc int32
		for i := 0; i < subLen; i++ {
			v := gauss(seed)
			acc = lMac(acc, v, v)
			excg[i] = v
		}
		acc = invSqrt(lShr(acc, 1))
		hi, lo := lExtract(acc)
		v := multR(curGain, frac1)
		v = add(curGain, v)
		acc = mpy32x16(hi, lo, v)
		sh := normL(acc)
		v = extractH(lShl(acc, sh))
		sh = sub(sh, 14)
		for i := 0; i < subLen; i++ {
			excg[i] = shrR(multR(excg[i], v), sh)
		}

		// Random adaptive excitation plus Gaussian part.
		predLt3(buf, pos+sf, t0, frac, subLen)
		var max int16
		for i := 0; i < subLen; i++ {
			v := add(multR(cur[i], gp2), excg[i])
			cur[i] = v
			v = abs16(v)
			if v > max {
				max = v
			}
		}
		if max == 0 {
			sh = 0
		} else {
			sh = sub(3, normS(max))
			if sh <= 0 {
				sh = 0
			}
		}
		for i := 0; i < subLen; i++ {
			excs[i] = shr(cur[i], sh)
		}

		// Fixed codebook gain: root of 4x^2 + 2bx + c.
		var ener int32
		for i := 0; i < subLen; i++ {
			ener = lMac(ener, excs[i], excs[i])
		}
		var inter int16
		for i := 0; i < 4; i++ {
			if sign[i] == 0 {
				inter = sub(inter, excs[posn[i]])
			} else {
				inter = add(inter, excs[posn[i]])
			}
		}
		acc = lMult(curGain, subLen)
		acc = lShr(acc, 6)
		v = extractL(acc)
		lk := lMult(curGain, v)
		v = add(1, shl(sh, 1))
		acc = lShr(lk, v)
		acc = lSub(acc, ener)
		inter = shrC(inter, 1)
		acc = lMac(acc, inter, inter)
		sh = add(sh, 1)
		if acc < 0 {
			copy(cur, excg[:])
			a := abs16(excg[posn[0]]) | abs16(excg[posn[1]])
			b := abs16(excg[posn[2]]) | abs16(excg[posn[3]])
			if (a|b)&0x4000 == 0 {
				sh = 1
			} else {
				sh = 2
			}
			inter = 0
			for i := 0; i < 4; i++ {
				v := shr(excg[posn[i]], sh)
				if sign[i] == 0 {
					inter = sub(inter, v)
				} else {
					inter = add(inter, v)
				}
			}
			hi, lo := lExtract(lk)
			acc = mpy32x16(hi, lo, k0)
			v = sub(shl(sh, 1), 1)
			acc = lShr(acc, v)
			acc = lMac(acc, inter, inter)
		}
		r := sqrtHalf(acc)
		x1 := sub(r, inter)
		x2 := negate(add(inter, r))
		if abs16(x2) < abs16(x1) {
			x1 = x2
		}
		v = sub(2, sh)
		g := shrR(x1, v)
		if g >= 0 {
			if g > gMax {
				g = gMax
			}
		} else if add(g, gMax) < 0 {
			g = negate(gMax)
		}
		for i := 0; i < 4; i++ {
			j := posn[i]
			if sign[i] != 0 {
				cur[j] = add(cur[j], g)
			} else {
				cur[j] = sub(cur[j], g)
			}
		}
	}
}
