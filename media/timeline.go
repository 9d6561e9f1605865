package media

// timeline is the output ring: two channels of samples between the flushed
// position and flushed+size, stored interleaved (L, R, L, R, ...) so that
// emitting is a plain slice of the ring. The first write to a sample wins.
// Samples are emitted to the sink when the ring must make room and at the
// end.
type timeline struct {
	size    int64
	buf     []int16     // 2*size samples: frame i at buf[2i:2i+2]
	set     [2][]uint64 // one bit per sample and channel: written
	flushed int64
	total   int64
	frames  []int16
	sink    PCMSink
	err     error
	dropped int64 // samples written before the flushed position
	// high is the end of the highest write that reached the ring: no
	// position at or above it has been written (see Checkpoint.Sample).
	high int64
	// fill, when set, is called with the end of each block before it is
	// emitted; it may write positions below that end.
	fill func(to int64)

	// Early output of a resumed render (see Checkpoints.Touch). now is the
	// number of the packet being fed (its stamp); a render that records
	// checkpoints notes in touch, per block of touchBlock samples, the
	// stamp of the last write into it. A resumed render, given those as
	// ready, sends a block to the sink as soon as its last write happened
	// instead of when the ring moves past it; peeked is where that output
	// has got to (positions below it are not sent again; a resumed render
	// starts it at its first sample).
	now    int64
	touch  []uint32
	record bool
	ready  []uint32
	peeked int64
}

// touchBlock is the granularity of early output, in samples.
const touchBlock = 2048

const emitChunk = 4096

func newTimeline(size, total int64, sink PCMSink) *timeline {
	size = max(min(size, total), 1)
	t := &timeline{size: size, total: total, sink: sink, frames: make([]int16, 2*emitChunk),
		buf: make([]int16, 2*size)}
	for c := range 2 {
		t.set[c] = make([]uint64, (size+63)/64)
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
	t.note(pos, int64(len(s)))
	for len(s) > 0 {
		n := min(int64(len(s)), t.size)
		if end := pos + n; end > t.flushed+t.size {
			t.emit(end - t.size)
		}
		if pos < t.flushed { // only after a sink error
			return
		}
		i := pos % t.size
		m := min(n, t.size-i) // up to the end of the ring
		writeFirst(t.buf, ch, t.set[ch], i, s[:m])
		if m < n {
			writeFirst(t.buf, ch, t.set[ch], 0, s[m:n])
		}
		s, pos = s[n:], pos+n
	}
}

// span returns where n samples of channel ch from output position pos on
// go in the ring (sample k at [2k]) when write would simply store them
// there: the stretch lies in the ring without wrapping, inside the output,
// and none of it is written yet. Like write, it first emits what the
// stretch pushes out of the ring. ok is false otherwise (use write). After
// storing the samples, call mark.
func (t *timeline) span(ch int, pos, n int64) (dst []int16, ok bool) {
	if n > 0 && n <= t.size && pos >= t.flushed && pos+n <= t.total && pos+n > t.flushed+t.size {
		t.emit(pos + n - t.size) // as write does
	}
	if n <= 0 || pos < t.flushed || pos+n > t.total || pos+n > t.flushed+t.size || t.err != nil {
		return nil, false
	}
	i := pos % t.size
	if i+n > t.size {
		return nil, false
	}
	set := t.set[ch]
	for k := i; k < i+n; {
		b := uint(k & 63)
		m := min(64-int64(b), i+n-k)
		if set[k>>6]&((^uint64(0)>>(64-uint(m)))<<b) != 0 {
			return nil, false
		}
		k += m
	}
	return t.buf[2*i+int64(ch) : 2*(i+n)], true
}

// mark records n samples of channel ch stored at pos through span, as
// write would have.
func (t *timeline) mark(ch int, pos, n int64) {
	t.note(pos, n)
	i := pos % t.size
	set := t.set[ch] // loaded once: the stores below do not reload it
	for k := i; k < i+n; {
		b := uint(k & 63)
		m := min(64-int64(b), i+n-k)
		set[k>>6] |= (^uint64(0) >> (64 - uint(m))) << b
		k += m
	}
}

// note records a write of n > 0 samples at pos (within the output): the
// highest write and, when recording, the touched blocks.
func (t *timeline) note(pos, n int64) {
	t.high = max(t.high, pos+n)
	if t.record && n > 0 {
		last := (pos + n - 1) / touchBlock
		for int64(len(t.touch)) <= last {
			t.touch = append(t.touch, 0)
		}
		for b := pos / touchBlock; b <= last; b++ {
			t.touch[b] = uint32(min(t.now, 1<<32-1))
		}
	}
}

// emit writes positions up to (not including) to to the sink.
func (t *timeline) emit(to int64) {
	to = min(to, t.total)
	for t.flushed < to {
		if t.err != nil {
			// The sink failed (a range ended, the client went away):
			// nothing more is sent, and the ring is not cleared chunk by
			// chunk up to the end of the timeline either.
			t.flushed = to
			return
		}
		n := min(to-t.flushed, emitChunk, t.size)
		if t.fill != nil && t.err == nil {
			f := t.fill
			t.fill = nil // writes below flushed+n never emit; guard anyway
			f(t.flushed + n)
			t.fill = f
		}
		if t.err == nil {
			// The ring's frames go to the sink as they are (no copy), in
			// up to two pieces where the ring wraps, and are cleared.
			skip := min(max(t.peeked-t.flushed, 0), n)
			i := t.flushed % t.size
			m := min(n, t.size-i)
			t.send(i, m, skip)
			if m < n && t.err == nil {
				t.send(0, n-m, max(skip-m, 0))
			}
		}
		t.release(t.flushed%t.size, n)
		t.flushed += n
	}
}

// peek sends the blocks after peeked whose last write has happened (their
// ready stamp is at most now) and that lie in the ring: their samples are
// final. They are copied, not cleared: emit clears them later and does not
// send them again.
func (t *timeline) peek() {
	t.peeked = max(t.peeked, t.flushed)
	for t.err == nil && t.peeked < t.total && t.peeked < t.flushed+t.size {
		b := t.peeked / touchBlock
		if b >= int64(len(t.ready)) || int64(t.ready[b]) > t.now {
			return
		}
		start := t.peeked
		end := min((b+1)*touchBlock, t.total, t.flushed+t.size)
		for start < end {
			n := min(end-start, emitChunk)
			i := start % t.size
			m := min(n, t.size-i)
			t.copyOut(t.frames, i, m)
			if m < n {
				t.copyOut(t.frames[2*m:], 0, n-m)
			}
			t.err = t.sink.WriteFrames(t.frames[:2*n])
			start += n
		}
		t.peeked = end
	}
}

// copyOut copies ring frames [i, i+n) into dst without clearing them.
func (t *timeline) copyOut(dst []int16, i, n int64) {
	copy(dst[:2*n], t.buf[2*i:2*(i+n)])
}

// send passes ring frames [i+skip, i+n) to the sink.
func (t *timeline) send(i, n, skip int64) {
	if skip < n {
		t.err = t.sink.WriteFrames(t.buf[2*(i+skip) : 2*(i+n)])
	}
}

// release clears n frames of the ring from frame i on (wrapping), with their
// written bits.
func (t *timeline) release(i, n int64) {
	for n > 0 {
		m := min(n, t.size-i)
		clear(t.buf[2*i : 2*(i+m)])
		for c := range 2 {
			clearBits(t.set[c], i, m)
		}
		i, n = 0, n-m
	}
}

// writeFirst stores s at frames i, i+1, ... of channel ch of the
// interleaved ring buf where the samples are not yet written (first write
// wins) and marks them written in set. Whole words of unwritten samples are
// copied without looking at single bits.
func writeFirst(buf []int16, ch int, set []uint64, i int64, s []int16) {
	dst := buf[2*i+int64(ch) : 2*(i+int64(len(s)))]
	for k := 0; k < len(s); {
		idx := i + int64(k)
		b := uint(idx & 63)
		m := min(64-int(b), len(s)-k)
		mask := (^uint64(0) >> (64 - uint(m))) << b
		w := &set[idx>>6]
		switch have := *w & mask; have {
		case 0:
			strided(dst[2*k:], s[k:k+m])
		case mask:
		default:
			for j := range m {
				if have&(1<<(b+uint(j))) == 0 {
					dst[2*(k+j)] = s[k+j]
				}
			}
		}
		*w |= mask
		k += m
	}
}

// strided stores s at dst[0], dst[2], dst[4], ...
func strided(dst []int16, s []int16) {
	if len(s) == 0 {
		return
	}
	dst = dst[:2*len(s)-1]
	// Eight samples per step: one bounds check for eight stores.
	k := 0
	for ; k+8 <= len(s); k += 8 {
		a, d := s[k:k+8:k+8], dst[2*k:2*k+15:2*k+15]
		d[0], d[2], d[4], d[6] = a[0], a[1], a[2], a[3]
		d[8], d[10], d[12], d[14] = a[4], a[5], a[6], a[7]
	}
	for ; k < len(s); k++ {
		dst[2*k] = s[k]
	}
}

// clearBits clears bits [i, i+n) of set.
func clearBits(set []uint64, i, n int64) {
	for n > 0 {
		b := uint(i & 63)
		m := min(64-int64(b), n)
		set[i>>6] &^= (^uint64(0) >> (64 - uint(m))) << b
		i, n = i+m, n-m
	}
}
