package media

// timeline is the output ring: two channels of samples between the flushed
// position and flushed+size. The first write to a sample wins. Samples are
// emitted to the sink, interleaved, when the ring must make room and at the
// end.
type timeline struct {
	size    int64
	buf     [2][]int16
	set     [2][]bool
	flushed int64
	total   int64
	frames  []int16
	sink    PCMSink
	err     error
	dropped int64 // samples written before the flushed position
	// fill, when set, is called with the end of each block before it is
	// emitted; it may write positions below that end.
	fill func(to int64)
}

const emitChunk = 4096

func newTimeline(size, total int64, sink PCMSink) *timeline {
	size = max(min(size, total), 1)
	t := &timeline{size: size, total: total, sink: sink, frames: make([]int16, 2*emitChunk)}
	for c := range 2 {
		t.buf[c] = make([]int16, size)
		t.set[c] = make([]bool, size)
	}
	return t
}

// write stores s at output position pos of channel ch.
func (t *timeline) write(ch int, pos int64, s []int16) {
	if pos < t.flushed {
		d := t.flushed - pos
		if d >= int64(len(s)) {
			t.dropped += int64(len(s))
			return
		}
		t.dropped += d
		s, pos = s[d:], t.flushed
	}
	if pos >= t.total {
		return
	}
	if rest := t.total - pos; int64(len(s)) > rest {
		s = s[:rest]
	}
	for len(s) > 0 {
		n := min(int64(len(s)), t.size)
		if end := pos + n; end > t.flushed+t.size {
			t.emit(end - t.size)
		}
		if pos < t.flushed { // only after a sink error
			return
		}
		buf, set := t.buf[ch], t.set[ch]
		i := pos % t.size
		for _, v := range s[:n] {
			if !set[i] {
				buf[i], set[i] = v, true
			}
			i++
			if i == t.size {
				i = 0
			}
		}
		s, pos = s[n:], pos+n
	}
}

// emit writes positions up to (not including) to to the sink.
func (t *timeline) emit(to int64) {
	to = min(to, t.total)
	for t.flushed < to {
		n := min(to-t.flushed, emitChunk, t.size)
		if t.fill != nil && t.err == nil {
			f := t.fill
			t.fill = nil // writes below flushed+n never emit; guard anyway
			f(t.flushed + n)
			t.fill = f
		}
		if t.err == nil {
			i := t.flushed % t.size
			l, r, ls, rs := t.buf[0], t.buf[1], t.set[0], t.set[1]
			for k := range n {
				t.frames[2*k], t.frames[2*k+1] = l[i], r[i]
				l[i], r[i], ls[i], rs[i] = 0, 0, false, false
				i++
				if i == t.size {
					i = 0
				}
			}
			t.err = t.sink.WriteFrames(t.frames[:2*n])
		}
		t.flushed += n
	}
}
