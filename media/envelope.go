package media

// EnvelopeSink is a PCMSink computing a waveform overview while rendering:
// the timeline is divided into Points buckets and each bucket keeps the
// peak absolute sample per channel.
type EnvelopeSink struct {
	peaks  [][2]int32
	frames int64 // expected total frames
	pos    int64
}

// Envelope returns a sink for a timeline of frames frames (Analysis.Samples)
// summarised in points buckets (points is clamped to 1..frames, at least 1).
func Envelope(points int, frames int64) *EnvelopeSink {
	points = max(points, 1)
	if frames > 0 && int64(points) > frames {
		points = int(frames)
	}
	return &EnvelopeSink{peaks: make([][2]int32, points), frames: max(frames, 1)}
}

// WriteFrames accumulates interleaved stereo frames.
func (e *EnvelopeSink) WriteFrames(stereo []int16) error {
	n := int64(len(e.peaks))
	for i := 0; i+1 < len(stereo); i += 2 {
		b := min(e.pos*n/e.frames, n-1)
		p := &e.peaks[b]
		p[0] = max(p[0], abs32(stereo[i]))
		p[1] = max(p[1], abs32(stereo[i+1]))
		e.pos++
	}
	return nil
}

func abs32(v int16) int32 {
	x := int32(v)
	if x < 0 {
		return -x
	}
	return x
}

// Bytes returns the envelope: two bytes per point (left, right), each the
// peak scaled to 0..255 (rounded up, so any sound is at least 1).
func (e *EnvelopeSink) Bytes() []byte {
	out := make([]byte, 2*len(e.peaks))
	for i, p := range e.peaks {
		for c := range 2 {
			out[2*i+c] = byte((p[c]*255 + 32767) / 32768)
		}
	}
	return out
}
