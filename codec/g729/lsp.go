package g729

// LSP dequantisation (G.729 3.2.4 / 4.1.1), interpolation and conversion to
// LP coefficients (3.2.6).

const (
	lpcOrder = 10 // M
	maNP     = 4  // MA predictor order of the LSF quantiser
	lLimit   = 40
	mLimit   = 25681
	gap1     = 10
	gap2     = 5
	gap3     = 321
)

// lspQuant is the state of the switched MA predictive LSF quantiser.
type lspQuant struct {
	freqPrev [maNP][lpcOrder]int16 // past quantiser outputs, Q13
	prevMa   int16                 // MA mode of the last good frame
	prevLsf  [lpcOrder]int16       // last good LSF vector, Q13
}

func (q *lspQuant) reset() {
	for i := range q.freqPrev {
		q.freqPrev[i] = freqPrevReset
	}
	q.prevMa = 0
	q.prevLsf = freqPrevReset
}

// expand enforces a minimum distance gap between neighbouring LSFs.
func lsfExpand(buf *[lpcOrder]int16, gap int16) {
	for j := 1; j < lpcOrder; j++ {
		diff := sub(buf[j-1], buf[j])
		t := shrC(add(diff, gap), 1)
		if t > 0 {
			buf[j-1] = sub(buf[j-1], t)
			buf[j] = add(buf[j], t)
		}
	}
}

// prevCompose adds the MA prediction to the codebook vector. The
// coefficients are positive and sum to less than 32768 for every j, in
// the speech and in the SID quantiser (TestLsfPredictorSums), so no partial
// sum of the reference's L_mac chain can leave the 32-bit range: plain
// arithmetic gives its result.
func lsfPrevCompose(ele *[lpcOrder]int16, out *[lpcOrder]int16, fgm *[maNP][lpcOrder]int16,
	freqPrev *[maNP][lpcOrder]int16, fsum *[lpcOrder]int16) {
	for j := 0; j < lpcOrder; j++ {
		acc := int32(ele[j])*int32(fsum[j]) +
			int32(freqPrev[0][j])*int32(fgm[0][j]) + int32(freqPrev[1][j])*int32(fgm[1][j]) +
			int32(freqPrev[2][j])*int32(fgm[2][j]) + int32(freqPrev[3][j])*int32(fgm[3][j])
		out[j] = int16((2 * acc) >> 16)
	}
}

// prevExtract recovers the codebook vector that would give lsf.
func lsfPrevExtract(lsf *[lpcOrder]int16, ele *[lpcOrder]int16, fgm *[maNP][lpcOrder]int16,
	freqPrev *[maNP][lpcOrder]int16, fsumInv *[lpcOrder]int16) {
	for j := 0; j < lpcOrder; j++ {
		t := int32(lsf[j]) << 16
		for k := 0; k < maNP; k++ {
			t = lMsu(t, freqPrev[k][j], fgm[k][j])
		}
		tmp := extractH(t)
		t = lMult(tmp, fsumInv[j])
		ele[j] = extractH(lShlC(t, 3))
	}
}

func lsfPrevUpdate(ele *[lpcOrder]int16, freqPrev *[maNP][lpcOrder]int16) {
	for k := maNP - 1; k > 0; k-- {
		freqPrev[k] = freqPrev[k-1]
	}
	freqPrev[0] = *ele
}

// lsfStability orders the LSFs and enforces the limits and minimum spacing.
func lsfStability(buf *[lpcOrder]int16) {
	for j := 0; j < lpcOrder-1; j++ {
		if int32(buf[j+1])-int32(buf[j]) < 0 {
			buf[j], buf[j+1] = buf[j+1], buf[j]
		}
	}
	if buf[0] < lLimit {
		buf[0] = lLimit
	}
	for j := 0; j < lpcOrder-1; j++ {
		if int32(buf[j+1])-int32(buf[j]) < gap3 {
			buf[j+1] = add(buf[j], gap3)
		}
	}
	if buf[lpcOrder-1] > mLimit {
		buf[lpcOrder-1] = mLimit
	}
}

// decode dequantises the two LSP indices (or repeats the last good LSFs
// when erased) and returns the LSPs in the cosine domain, Q15.
func (q *lspQuant) decode(p0, p1 int16, erased bool, lsp *[lpcOrder]int16) {
	var lsf [lpcOrder]int16
	if !erased {
		mode := (p0 >> 7) & 1
		c0 := p0 & 127
		c1 := (p1 >> 5) & 31
		c2 := p1 & 31
		var buf [lpcOrder]int16
		for j := 0; j < 5; j++ {
			buf[j] = add(lspcb1[c0][j], lspcb2[c1][j])
		}
		for j := 5; j < lpcOrder; j++ {
			buf[j] = add(lspcb1[c0][j], lspcb2[c2][j])
		}
		lsfExpand(&buf, gap1)
		lsfExpand(&buf, gap2)
		lsfPrevCompose(&buf, &lsf, &fg[mode], &q.freqPrev, &fgSum[mode])
		lsfPrevUpdate(&buf, &q.freqPrev)
		lsfStability(&lsf)
		q.prevLsf = lsf
		q.prevMa = mode
	} else {
		lsf = q.prevLsf
		var buf [lpcOrder]int16
		lsfPrevExtract(&q.prevLsf, &buf, &fg[q.prevMa], &q.freqPrev, &fgSumInv[q.prevMa])
		lsfPrevUpdate(&buf, &q.freqPrev)
	}
	lsfToLsp(&lsf, lsp)
}

// lsfToLsp converts LSFs (Q13, 0..pi) to LSPs (cosine domain, Q15).
func lsfToLsp(lsf *[lpcOrder]int16, lsp *[lpcOrder]int16) {
	for i := 0; i < lpcOrder; i++ {
		freq := mult(lsf[i], 20861) // 1/(2 pi) in Q17
		ind := shrC(freq, 8)
		offset := freq & 0xff
		if ind > 63 {
			ind = 63
		}
		t := lMult(slopeCos[ind], offset)
		lsp[i] = add(table2[ind], extractL(lShr(t, 13)))
	}
}

// lspPoly computes the coefficients (Q24) of F1(z) or F2(z) from every
// other LSP starting at lsp[0].
func lspPoly(lsp []int16, f *[6]int32) {
	if lspPolyFast(lsp, f) {
		return
	}
	f[0] = lMult(4096, 2048)
	f[1] = lMsu(0, lsp[0], 512)
	for i := 2; i <= 5; i++ {
		l := lsp[2*(i-1)]
		f[i] = f[i-2]
		for j := i; j > 1; j-- {
			hi, lo := lExtract(f[j-1])
			t := mpy32x16(hi, lo, l)
			t = lShlC(t, 1)
			f[j] = lAdd(f[j], f[j-2])
			f[j] = lSub(f[j], t)
		}
		f[1] = lMsu(f[1], l, 512)
	}
}

// lspPolyFast is lspPoly in plain arithmetic. While every coefficient stays
// below 2^29 in magnitude no operator of the reference can saturate, so the
// results agree; it returns false (leaving f undefined) otherwise.
func lspPolyFast(lsp []int16, f *[6]int32) bool {
	const lim = 1 << 29
	lsp = lsp[:9]
	f[0] = 1 << 24
	f[1] = -int32(lsp[0]) << 10
	for i := 2; i <= 5; i++ {
		l := int32(lsp[2*(i-1)])
		f[i] = f[i-2]
		for j := i; j > 1; j-- {
			x := f[j-1]
			t := ((x>>16)*l + ((((x >> 1) & 0x7fff) * l) >> 15)) << 2
			v := f[j] + f[j-2] - t
			if v >= lim || v <= -lim {
				return false
			}
			f[j] = v
		}
		v := f[1] - l<<10
		if v >= lim || v <= -lim {
			return false
		}
		f[1] = v
	}
	return true
}

// lspToA computes the LP coefficients a[0..10] (Q12) from the LSPs.
func lspToA(lsp *[lpcOrder]int16, a []int16) {
	var f1, f2 [6]int32
	lspPoly(lsp[0:], &f1)
	lspPoly(lsp[1:], &f2)
	for i := 5; i > 0; i-- {
		f1[i] = lAdd(f1[i], f1[i-1])
		f2[i] = lSub(f2[i], f2[i-1])
	}
	a[0] = 4096
	for i, j := 1, 10; i <= 5; i, j = i+1, j-1 {
		t := lAdd(f1[i], f2[i])
		a[i] = extractL(lShrRC(t, 13))
		t = lSub(f1[i], f2[i])
		a[j] = extractL(lShrRC(t, 13))
	}
}

// interpolateLPC gives the LP filters of both subframes: the first from the
// mean of the old and new LSPs, the second from the new ones.
func interpolateLPC(lspOld, lspNew *[lpcOrder]int16, az *[2 * (lpcOrder + 1)]int16) {
	var lsp [lpcOrder]int16
	for i := range lsp {
		lsp[i] = add(shrC(lspNew[i], 1), shrC(lspOld[i], 1))
	}
	lspToA(&lsp, az[0:11])
	lspToA(lspNew, az[11:22])
}
