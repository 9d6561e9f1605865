package media

// timeline is the output ring: two channels of samples between the flushed
// position and flushed+size. The first write to a sample wins. Samples are
// emitted to the sink, interleaved, when the ring must make room and at the
// end.
type timeline struct {
	size    int64
	buf     [2][]int16
	set     [2][]uint64 // one bit per sample of buf: written
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
	t := &timeline{size: size, total: total, sink: sink, frames: make([]int16, 2*emitChunk)}
	for c := range 2 {
		t.buf[c] = make([]int16, size)
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
	t.high = max(t.high, pos+int64(len(s)))
	if t.record && len(s) > 0 {
		last := (pos + int64(len(s)) - 1) / touchBlock
		for int64(len(t.touch)) <= last {
			t.touch = append(t.touch, 0)
		}
		for b := pos / touchBlock; b <= last; b++ {
			t.touch[b] = uint32(min(t.now, 1<<32-1))
		}
	}
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
		writeFirst(t.buf[ch], t.set[ch], i, s[:m])
		if m < n {
			writeFirst(t.buf[ch], t.set[ch], 0, s[m:n])
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
			m := min(n, t.size-i)
			t.interleave(t.frames, i, m)
			if m < n {
				t.interleave(t.frames[2*m:], 0, n-m)
			}
			if skip := min(max(t.peeked-t.flushed, 0), n); skip < n {
				t.err = t.sink.WriteFrames(t.frames[2*skip : 2*n])
			}
		}
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

// copyOut interleaves ring positions [i, i+n) of both channels into dst
// without clearing them.
func (t *timeline) copyOut(dst []int16, i, n int64) {
	l, r := t.buf[0][i:i+n], t.buf[1][i:i+n]
	r = r[:len(l)]
	dst = dst[:2*len(l)]
	for k, v := range l {
		dst[2*k], dst[2*k+1] = v, r[k]
	}
}

// interleave moves ring positions [i, i+n) of both channels into dst (L, R,
// ...) and clears them.
func (t *timeline) interleave(dst []int16, i, n int64) {
	l, r := t.buf[0][i:i+n], t.buf[1][i:i+n]
	r = r[:len(l)]
	dst = dst[:2*len(l)]
	// Four frames per step: one bounds check for eight stores.
	ll, rr, dd := l, r, dst
	for len(ll) >= 4 && len(rr) >= 4 && len(dd) >= 8 {
		a, b, d := ll[:4:4], rr[:4:4], dd[:8:8]
		d[0], d[1], d[2], d[3] = a[0], b[0], a[1], b[1]
		d[4], d[5], d[6], d[7] = a[2], b[2], a[3], b[3]
		ll, rr, dd = ll[4:], rr[4:], dd[8:]
	}
	for k, v := range ll {
		d := dd[2*k : 2*k+2 : 2*k+2]
		d[0], d[1] = v, rr[k]
	}
	clear(l)
	clear(r)
	for c := range 2 {
		clearBits(t.set[c], i, n)
	}
}

// writeFirst stores s at buf[i:] where the samples are not yet written
// (first write wins) and marks them written. Whole words of unwritten
// samples are copied at once.
func writeFirst(buf []int16, set []uint64, i int64, s []int16) {
	dst := buf[i : i+int64(len(s))]
	for k := 0; k < len(s); {
		idx := i + int64(k)
		b := uint(idx & 63)
		m := min(64-int(b), len(s)-k)
		mask := (^uint64(0) >> (64 - uint(m))) << b
		w := &set[idx>>6]
		switch have := *w & mask; have {
		case 0:
			copy(dst[k:k+m], s[k:k+m])
		case mask:
		default:
			for j := range m {
				if have&(1<<(b+uint(j))) == 0 {
					dst[k+j] = s[k+j]
				}
			}
		}
		*w |= mask
		k += m
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
