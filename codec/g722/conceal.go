package g722

// Conceal writes one 10 ms frame (160 samples) standing in for a lost frame.
//
// The concealment replays the last 10 ms of decoded output under a linear
// fade: the first lost frame fades from full level to half, the second from
// half to silence, later ones are silent. The sub-band ADPCM decoders and the
// QMF are left untouched (frozen at the end of the last good payload), so
// their state stays what a valid bitstream produced and the next payload is
// decoded from it; the ADPCM adaptation then re-converges on the encoder's
// state as it does after any bit error. Before the first decoded payload the
// output is silence.
func (d *Decoder) Conceal(dst []int16) (int, error) {
	if len(dst) < frameSamples {
		return 0, fmtShort(frameSamples, len(dst))
	}
	dst = dst[:frameSamples]
	const fadeFrames = 2
	if d.lost >= fadeFrames || d.histN == 0 {
		clear(dst)
		d.lost++
		return frameSamples, nil
	}
	// Gain in Q15 falls linearly from start to start-step over the frame.
	const full = 1 << 15
	start := int32(full - d.lost*full/fadeFrames)
	step := int32(full / fadeFrames)
	// The oldest remembered sample comes first; with fewer than a frame
	// remembered the history is repeated.
	n := d.histN
	first := d.histPos - n
	if first < 0 {
		first += frameSamples
	}
	k := 0
	for i := range dst {
		g := start - step*int32(i)/frameSamples
		dst[i] = int16((int32(d.hist[(first+k)%frameSamples]) * g) >> 15)
		k++
		if k == n {
			k = 0
		}
	}
	d.lost++
	return frameSamples, nil
}
