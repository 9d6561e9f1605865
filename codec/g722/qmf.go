package g722

// qmf is the receive quadrature mirror filter: it combines one lower and one
// higher sub-band sample (8 kHz each) into two 16 kHz output samples.
//
// The difference XD = RL−RH and the sum XS = RL+RH of the sub-band signals
// each pass one polyphase half of the 24-tap filter. The delay lines are
// rings stored twice over so that the last 12 values are always contiguous.
type qmf struct {
	xd, xs [24]int32
	pos    int // index of the oldest of the 12 values in the rings
}

// synth adds one pair of sub-band samples and writes two output samples,
// each the accumulated products scaled by 2^-11 and saturated to 16 bits.
func (q *qmf) synth(out []int16, rl, rh int32) {
	p := q.pos
	q.xd[p], q.xd[p+12] = rl-rh, rl-rh
	q.xs[p], q.xs[p+12] = rl+rh, rl+rh
	p++
	if p == 12 {
		p = 0
	}
	q.pos = p
	// xd[p..p+11] is oldest..newest.
	xd := q.xd[p : p+12 : p+12]
	xs := q.xs[p : p+12 : p+12]
	var acc1, acc2 int32
	for i := range 12 {
		// newest XD sample meets h(0), the oldest h(22); XS meets h(1)..h(23).
		acc1 += xd[11-i] * qmfEven[i]
		acc2 += xs[11-i] * qmfEven[11-i]
	}
	out[0] = int16(sat16(acc1 >> 11))
	out[1] = int16(sat16(acc2 >> 11))
}
