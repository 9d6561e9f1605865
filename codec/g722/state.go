package g722

import "recordings/codec/snap"

// stateVersion is the first byte of a state snapshot; a change of the
// decoder's state changes it, and older snapshots are refused.
const stateVersion = 1

// AppendState appends a snapshot of the decoder state (both sub-band
// decoders, the QMF delay lines, the concealment history) to b. The scratch
// buffers and the mode's tables are not part of it: SetState restores into
// a decoder of the same mode.
func (d *Decoder) AppendState(b []byte) []byte {
	w := snap.Writer{B: b}
	w.Byte(stateVersion)
	for _, st := range [2]*band{&d.low, &d.high} {
		w.Int32s([]int32{st.s, st.sz, st.r1, st.r2, st.p1, st.p2, st.a1, st.a2, st.nb, st.det})
		w.Int32s(st.b[:])
		w.Int32s(st.d[:])
	}
	w.Int32s(d.qmf.xd[:12])
	w.Int32s(d.qmf.xs[:12])
	w.Int(int64(d.qmf.pos))
	w.Int(int64(d.histN))
	w.Int(int64(d.histPos))
	w.Int16s(d.hist[:])
	w.Int(int64(min(d.lost, 1<<20)))
	return w.B
}

// SetState restores a snapshot written by AppendState. Every value is
// checked against the range the decoder can reach; on error the decoder is
// unchanged.
func (d *Decoder) SetState(b []byte) error {
	r := snap.NewReader(b)
	if v := r.Byte(); v != stateVersion && r.Err() == nil {
		r.Fail("g722 state version %d, want %d", v, stateVersion)
	}
	var low, high band
	for i, st := range [2]*band{&low, &high} {
		var f [10]int32
		r.Int32s(f[:8], -32768, 32767)
		maxNB := int32(maxNBLow)
		if i == 1 {
			maxNB = maxNBHigh
		}
		f[8] = int32(r.Range(0, int64(maxNB), "g722 NB"))
		f[9] = int32(r.Range(0, 16384, "g722 DET"))
		st.s, st.sz, st.r1, st.r2, st.p1, st.p2, st.a1, st.a2, st.nb, st.det =
			f[0], f[1], f[2], f[3], f[4], f[5], f[6], f[7], f[8], f[9]
		if st.a2 < -12288 || st.a2 > 12288 || st.a1 < -27648 || st.a1 > 27648 {
			r.Fail("g722 pole coefficients %d, %d out of range", st.a1, st.a2)
		}
		r.Int32s(st.b[:], -32768, 32767)
		r.Int32s(st.d[:], -16384, 16384)
	}
	var q qmf
	r.Int32s(q.xd[:12], -32768, 32767)
	r.Int32s(q.xs[:12], -32768, 32767)
	copy(q.xd[12:], q.xd[:12])
	copy(q.xs[12:], q.xs[:12])
	q.pos = int(r.Range(0, 12, "g722 QMF position"))
	histN := int(r.Range(0, frameSamples, "g722 history length"))
	histPos := int(r.Range(0, frameSamples-1, "g722 history position"))
	var hist [frameSamples]int16
	r.Int16s(hist[:])
	lost := int(r.Range(0, 1<<20, "g722 lost frames"))
	if err := r.Done(); err != nil {
		return err
	}
	d.low, d.high, d.qmf = low, high, q
	d.hist, d.histN, d.histPos, d.lost = hist, histN, histPos, lost
	return nil
}
