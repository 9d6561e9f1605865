package g729

import "recordings/codec/snap"

// stateVersion is the first byte of a state snapshot; a change of the
// decoder's state changes it, and older snapshots are refused.
const stateVersion = 1

// AppendState appends a snapshot of the decoder state to b: the excitation
// and synthesis histories, the LSF quantiser and gain predictor memories,
// the Annex B comfort-noise state and the postfilter. The postfilter's
// scaled residual is not stored (it is the residual shifted right by two).
func (d *Decoder) AppendState(b []byte) []byte {
	if !d.ready {
		d.Reset()
	}
	w := snap.Writer{B: b}
	w.Byte(stateVersion)
	w.Int16s(d.oldExc[:])
	w.Int16s(d.lspOld[:])
	w.Int16s(d.memSyn[:])
	w.Int16s(d.synth[:])
	w.Int16s([]int16{d.sharp, d.oldT0, d.gainCode, d.gainPitch, d.seedFer, d.pastFtyp, d.seed})
	w.Int16s(d.pastQuaEn[:])
	for i := range d.lsp.freqPrev {
		w.Int16s(d.lsp.freqPrev[i][:])
	}
	w.Int(int64(d.lsp.prevMa))
	w.Int16s(d.lsp.prevLsf[:])
	w.Bool(d.sidExcValid)
	if d.sidExcValid {
		w.Int16s(d.sidExc[:])
	}
	w.Int16s([]int16{d.cng.curGain, d.cng.sidGain})
	w.Int16s(d.cng.lspSid[:])
	w.Int16s(d.post.res2[:])
	w.Int16s(d.post.memSyn[:])
	w.Int16s([]int16{d.post.memPre, d.post.pastGain})
	w.Int16s([]int16{d.hp.y2Hi, d.hp.y2Lo, d.hp.y1Hi, d.hp.y1Lo, d.hp.x0, d.hp.x1})
	return w.B
}

// SetState restores a snapshot written by AppendState. Values that select
// table entries or buffer positions (pitch lag, frame type, MA mode) are
// checked against their ranges; on error the decoder is unchanged.
func (d *Decoder) SetState(b []byte) error {
	r := snap.NewReader(b)
	if v := r.Byte(); v != stateVersion && r.Err() == nil {
		r.Fail("g729 state version %d, want %d", v, stateVersion)
	}
	n := Decoder{ready: true}
	r.Int16s(n.oldExc[:])
	r.Int16s(n.lspOld[:])
	r.Int16s(n.memSyn[:])
	r.Int16s(n.synth[:])
	var f [7]int16
	r.Int16s(f[:])
	n.sharp, n.oldT0, n.gainCode, n.gainPitch, n.seedFer, n.pastFtyp, n.seed = f[0], f[1], f[2], f[3], f[4], f[5], f[6]
	// The lags decodeLag3 yields: 19 (first subframe, index 0) to 144
	// (second subframe at the top of its search range).
	if n.oldT0 < pitMin-1 || n.oldT0 > pitMax+1 {
		r.Fail("g729 pitch lag %d outside [%d, %d]", n.oldT0, pitMin-1, pitMax+1)
	}
	if n.pastFtyp < ftypNone || n.pastFtyp > ftypSID {
		r.Fail("g729 frame type %d", n.pastFtyp)
	}
	r.Int16s(n.pastQuaEn[:])
	for i := range n.lsp.freqPrev {
		r.Int16s(n.lsp.freqPrev[i][:])
	}
	n.lsp.prevMa = int16(r.Range(0, 1, "g729 MA mode"))
	r.Int16s(n.lsp.prevLsf[:])
	n.sidExcValid = r.Bool()
	if n.sidExcValid {
		r.Int16s(n.sidExc[:])
	}
	var g [2]int16
	r.Int16s(g[:])
	n.cng.curGain, n.cng.sidGain = g[0], g[1]
	r.Int16s(n.cng.lspSid[:])
	r.Int16s(n.post.res2[:])
	for i, v := range n.post.res2 {
		n.post.scalRes2[i] = shrC(v, 2)
	}
	r.Int16s(n.post.memSyn[:])
	var p [2]int16
	r.Int16s(p[:])
	n.post.memPre, n.post.pastGain = p[0], p[1]
	var h [6]int16
	r.Int16s(h[:])
	n.hp = postProcess{y2Hi: h[0], y2Lo: h[1], y1Hi: h[2], y1Lo: h[3], x0: h[4], x1: h[5]}
	if err := r.Done(); err != nil {
		return err
	}
	*d = n
	return nil
}
