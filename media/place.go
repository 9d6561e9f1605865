package media

import "math"

// placer maps the released packets of one stream onto the capture clock in
// nanoseconds (see the package documentation for the rules). It is shared by
// both passes, so analysis and rendering agree on every position.
type placer struct {
	anchored   bool
	anchorNS   int64 // capture-clock time of anchorTs
	anchorTs   int64 // extended timestamp at the anchor
	clock      int64
	tsValid    bool
	lastTs32   uint32
	lastTsExt  int64
	lastTs     int64 // extended timestamp of the previous placed packet
	expectedNS int64 // where the next audio is expected

	firstNS, endNS int64
	resyncs        int64
	breaks         int64 // discontinuities: gaps longer than Options.MaxIdle
	gapNS          int64
}

// placement is the result of placing one packet.
type placement struct {
	posNS  int64 // capture-clock position of the packet's first sample
	gapNS  int64 // fill needed before the packet (>0) relative to the expected position
	resync bool  // the segment was re-anchored on the capture clock
	// brk: the packet starts a new segment of the stream after a gap longer
	// than Options.MaxIdle; it is placed at its capture time and the gap is
	// neither filled nor counted in gapNS.
	brk bool
}

// extendTs unwraps a 32-bit timestamp relative to the previous one.
func (p *placer) extendTs(ts uint32) int64 {
	if !p.tsValid {
		p.tsValid, p.lastTs32, p.lastTsExt = true, ts, int64(ts)
		return p.lastTsExt
	}
	e := p.lastTsExt + int64(int32(ts-p.lastTs32))
	p.lastTs32, p.lastTsExt = ts, e
	return e
}

// nsOf converts an extended timestamp to the capture clock of the current anchor.
func (p *placer) nsOf(ts int64) int64 {
	d := ts - p.anchorTs
	const lim = 1 << 33 // keeps d*1e9 inside int64; larger jumps are resynced anyway
	d = max(min(d, lim), -lim)
	return satAdd(p.anchorNS, d*1_000_000_000/p.clock)
}

func satAdd(a, b int64) int64 {
	s := a + b
	if (b > 0 && s < a) || (b < 0 && s > a) {
		if b > 0 {
			return math.MaxInt64
		}
		return math.MinInt64
	}
	return s
}

// placeLimits are the thresholds of place, in ns.
type placeLimits struct {
	ahead, behind int64 // Options.ResyncAhead, ResyncBehind
	idle          int64 // Options.MaxIdle
}

// satSub is a-b, saturated.
func satSub(a, b int64) int64 {
	if b == math.MinInt64 {
		return satAdd(satAdd(a, math.MaxInt64), 1)
	}
	return satAdd(a, -b)
}

// place positions a packet with extended timestamp ts, clock rate clock,
// captured at capNS, whose audio lasts durNS (0 for comfort noise). The first
// packet of a stream is anchored at startNS (its capture time, or the end of
// the stream it continues after an SSRC change).
func (p *placer) place(ts int64, clock int, capNS, startNS, durNS int64, lim placeLimits) placement {
	var pl placement
	switch {
	case !p.anchored:
		p.anchored, p.anchorNS, p.anchorTs, p.clock = true, startNS, ts, int64(clock)
		p.firstNS, p.expectedNS, p.endNS = startNS, startNS, startNS
	case int64(clock) != p.clock:
		// Clock rate change within the stream: continue where the previous audio ended.
		p.anchorNS, p.anchorTs, p.clock = p.expectedNS, ts, int64(clock)
	case ts <= p.lastTs:
		// The timestamp did not advance: continue seamlessly.
		p.anchorNS, p.anchorTs = p.expectedNS, ts
	}
	pos := p.nsOf(ts)
	if skew := pos - capNS; skew > lim.ahead || skew < -lim.behind {
		p.anchorNS, p.anchorTs = capNS, ts
		pos = capNS
		p.resyncs++
		pl.resync = true
	}
	if gap := pos - p.expectedNS; gap > lim.idle {
		// More idle time than the packets can explain: a discontinuity,
		// placed by arrival time; the gap is not filled.
		p.anchorNS, p.anchorTs = capNS, ts
		pos = capNS
		p.breaks++
		pl.brk = true
	} else if gap > 0 {
		pl.gapNS = gap
		p.gapNS += gap
	}
	p.lastTs = ts
	pl.posNS = pos
	p.expectedNS = satAdd(pos, durNS)
	p.endNS = max(p.endNS, p.expectedNS)
	return pl
}
