package g722

// qmf is the receive quadrature mirror filter: it combines one lower and one
// higher sub-band sample (8 kHz each) into two 16 kHz output samples.
//
// The difference XD = RL−RH and the sum XS = RL+RH of the sub-band signals
// each pass one polyphase half of the 24-tap filter. The delay lines are
// rings stored twice over so that the last 12 values are always contiguous.
type qmf struct {
	xd, xs [24]int32
	pos    int // index of the oldest of the last 12 values in the rings (12 means 0)
}

// synth reconstructs the sub-band signals RL = SL + DL and RH = SH + DH,
// each limited to [-16384, 16383], from the signal estimates sl, sh and the
// quantized differences dl, dh (all of one length), and writes two output
// samples per pair into out: the accumulated products scaled by 2^-11 and
// saturated to 16 bits. len(out) must be at least 2·len(sl).
func (q *qmf) synth(out []int16, sl, dl, sh, dh []int32) {
	dl, sh, dh = dl[:len(sl)], sh[:len(sl)], dh[:len(sl)]
	out = out[:2*len(sl)]
	p := q.pos
	for i, s := range sl {
		l := min(max(s+dl[i], -16384), 16383)
		h := min(max(sh[i]+dh[i], -16384), 16383)
		if p >= 12 {
			p = 0
		}
		q.xd[p], q.xd[p+12] = l-h, l-h
		q.xs[p], q.xs[p+12] = l+h, l+h
		p++
		// xd[p..p+11] is oldest..newest: the newest XD sample meets h(0),
		// the oldest h(22); XS meets h(1)..h(23), the even taps reversed.
		// The coefficients are those of qmfEven, written out as immediates.
		xd := (*[12]int32)(q.xd[p : p+12])
		xs := (*[12]int32)(q.xs[p : p+12])
		acc1 := 3*xd[11] - 11*xd[10] + 12*xd[9] + 32*xd[8] - 210*xd[7] + 951*xd[6] +
			3876*xd[5] - 805*xd[4] + 362*xd[3] - 156*xd[2] + 53*xd[1] - 11*xd[0]
		acc2 := -11*xs[11] + 53*xs[10] - 156*xs[9] + 362*xs[8] - 805*xs[7] + 3876*xs[6] +
			951*xs[5] - 210*xs[4] + 32*xs[3] + 12*xs[2] - 11*xs[1] + 3*xs[0]
		o := out[2*i : 2*i+2 : 2*i+2]
		o[0] = int16(sat16(acc1 >> 11))
		o[1] = int16(sat16(acc2 >> 11))
	}
	q.pos = p
}
