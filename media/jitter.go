package media

// The reorder buffer of one stream: extends 16-bit sequence numbers, drops
// duplicates and late packets, holds out-of-order packets for a bounded
// number of packets or capture time, and releases packets in sequence order.

const (
	historyBits   = 1024 // sequence numbers remembered behind the release point (duplicate vs. late)
	maxDropout    = 3000 // forward jump treated as a sequence restart (RFC 3550 A.1)
	maxMisorder   = 1024 // backward jump treated as a sequence restart
	maxHoldWindow = 256  // upper bound for Options.ReorderPackets
)

// slot is one held packet.
type slot struct {
	ok    bool
	ext   int64
	ts    uint32
	pt    uint8
	capNS int64
	size  int
	buf   []byte // payload copy, render pass only
}

// relPkt is a packet released in sequence order.
type relPkt struct {
	ext     int64
	ts      uint32
	pt      uint8
	capNS   int64
	size    int
	payload []byte // nil during analysis
	lost    int64  // sequence numbers skipped right before this packet
}

type jitter struct {
	slots    []slot
	started  bool
	lastSeq  uint16 // 16-bit sequence of highest
	highest  int64  // highest extended sequence accepted
	base     int64  // first extended sequence of the current numbering
	next     int64  // next extended sequence to release
	held     int
	oldestNS int64 // capture time of the oldest held packet
	badSeq   int32 // RFC 3550 probation after a big jump; -1 if none
	seen     [historyBits / 64]uint64

	rel relPkt // handed to out; reused so releasing does not allocate

	// statistics
	unique, dups, reordered, late, expectedPrev int64
}

func (j *jitter) init(window int) {
	j.slots = make([]slot, window)
	j.badSeq = -1
}

func (j *jitter) mark(e int64)   { j.seen[(e&(historyBits-1))>>6] |= 1 << (e & 63) }
func (j *jitter) unmark(e int64) { j.seen[(e&(historyBits-1))>>6] &^= 1 << (e & 63) }
func (j *jitter) marked(e int64) bool {
	return j.seen[(e&(historyBits-1))>>6]&(1<<(e&63)) != 0
}

// lost returns the number of packets missing from the sequence range.
func (j *jitter) lost() int64 {
	if !j.started {
		return 0
	}
	n := j.expectedPrev + j.highest - j.base + 1 - j.unique
	return max(n, 0)
}

// push accepts one packet. out is called for every packet released in order.
// keep requests a payload copy for held packets.
func (j *jitter) push(seq uint16, ts uint32, pt uint8, capNS int64, payload []byte, keep bool, out func(*relPkt)) {
	if !j.started {
		j.started = true
		j.lastSeq, j.highest, j.base, j.next = seq, int64(seq), int64(seq), int64(seq)
	}
	delta := int64(int16(seq - j.lastSeq))
	if delta > maxDropout || delta < -maxMisorder {
		if j.badSeq != int32(seq) {
			// Probation: a lone wild sequence number is dropped; a second
			// packet following it restarts the numbering.
			j.badSeq = int32(seq + 1)
			j.late++
			return
		}
		j.restart(out)
		j.lastSeq = seq
		delta = 1
	}
	j.badSeq = -1
	e := j.highest + delta

	if e < j.next {
		if e >= j.next-(historyBits-int64(len(j.slots))) && j.marked(e) {
			j.dups++
		} else {
			j.late++
			j.unique++
			j.base = min(j.base, e)
		}
		return
	}
	w := int64(len(j.slots))
	if s := &j.slots[e%w]; s.ok && s.ext == e {
		j.dups++
		return
	}
	if e < j.highest {
		j.reordered++
	} else {
		j.highest, j.lastSeq = e, seq
	}
	j.unique++
	// Make room: the window holds next .. next+w-1.
	if e >= j.next+w {
		j.advance(e-w+1, out)
	}
	if e == j.next && j.held == 0 {
		j.mark(e)
		j.next++
		j.rel = relPkt{ext: e, ts: ts, pt: pt, capNS: capNS, size: len(payload), payload: payloadIf(keep, payload)}
		out(&j.rel)
		return
	}
	s := &j.slots[e%w]
	s.ok, s.ext, s.ts, s.pt, s.capNS, s.size = true, e, ts, pt, capNS, len(payload)
	if keep {
		s.buf = append(s.buf[:0], payload...)
	}
	j.mark(e)
	if j.held == 0 || capNS < j.oldestNS {
		j.oldestNS = capNS
	}
	j.held++
	j.drain(out, 0)
}

func payloadIf(keep bool, p []byte) []byte {
	if keep {
		return p
	}
	return nil
}

// drain releases consecutive held packets from next on; lost is the number
// of sequence numbers skipped before the first of them.
func (j *jitter) drain(out func(*relPkt), lost int64) {
	w := int64(len(j.slots))
	for j.held > 0 {
		s := &j.slots[j.next%w]
		if !s.ok || s.ext != j.next {
			break
		}
		s.ok = false
		j.held--
		j.next++
		j.rel = relPkt{ext: s.ext, ts: s.ts, pt: s.pt, capNS: s.capNS, size: s.size, lost: lost}
		if s.buf != nil {
			j.rel.payload = s.buf[:s.size]
		}
		lost = 0
		out(&j.rel)
	}
	if j.held > 0 {
		j.oldestNS = j.minHeldNS()
	}
}

func (j *jitter) minHeldNS() int64 {
	first := true
	var m int64
	for i := range j.slots {
		if s := &j.slots[i]; s.ok && (first || s.capNS < m) {
			m, first = s.capNS, false
		}
	}
	return m
}

// advance moves the release point to to, declaring missing packets lost and
// releasing held ones on the way.
func (j *jitter) advance(to int64, out func(*relPkt)) {
	w := int64(len(j.slots))
	var lost int64
	for j.next < to {
		if j.held == 0 {
			// Nothing held: jump directly, clearing history bits of the skipped range.
			n := to - j.next
			if n >= historyBits {
				j.seen = [historyBits / 64]uint64{}
			} else {
				for e := j.next; e < to; e++ {
					j.unmark(e)
				}
			}
			j.next = to
			return
		}
		s := &j.slots[j.next%w]
		if s.ok && s.ext == j.next {
			j.drain(out, lost)
			lost = 0
			continue
		}
		j.unmark(j.next)
		j.next++
		lost++
	}
	j.drain(out, lost)
}

// releaseOldest skips the gap in front of the oldest held packets and
// releases them (used when they waited longer than the reorder window).
func (j *jitter) releaseOldest(out func(*relPkt)) {
	if j.held == 0 {
		return
	}
	w := int64(len(j.slots))
	var lost int64
	for j.held > 0 {
		if s := &j.slots[j.next%w]; s.ok && s.ext == j.next {
			break
		}
		j.unmark(j.next)
		j.next++
		lost++
	}
	j.drain(out, lost)
}

// flush releases everything held (end of capture).
func (j *jitter) flush(out func(*relPkt)) {
	for j.held > 0 {
		j.releaseOldest(out)
	}
}

// restart ends the current numbering after a confirmed sequence jump.
func (j *jitter) restart(out func(*relPkt)) {
	j.flush(out)
	j.expectedPrev += j.highest - j.base + 1
	j.highest++
	j.base, j.next = j.highest, j.highest
	j.seen = [historyBits / 64]uint64{}
	// The jumping packet takes sequence number highest: push continues with delta 1
	// relative to a virtual predecessor.
	j.highest--
}
