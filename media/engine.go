package media

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/pion/rtp"

	"recordings/codec"
)

// streamKey identifies an RTP stream.
type streamKey struct {
	src, dst netip.AddrPort
	ssrc     uint32
}

// ptState is the meaning of one payload type within one stream, with the
// stream's decoder for it.
type ptState struct {
	kind  payloadKind
	name  string
	clock int
	dec   codec.Decoder
}

// stream is the state of one RTP stream shared by both passes.
type stream struct {
	key       streamKey
	j         jitter
	pl        placer
	pts       [128]*ptState
	main      *ptState // first audio (or unsupported audio) payload type
	pt        uint8    // its number
	unknownPT uint8    // first payload type without a mapping

	packets, audio, unsupported, cn, events, unknown int64
	firstNS, lastNS                                  int64
	placed                                           bool
	minPosNS, maxEndNS                               int64
	minRate, maxRate                                 int

	// segs are the stretches of the capture clock the stream's audio covers,
	// split at its discontinuities (placement.brk); seg is the index of the
	// current one. Pass 2 counts seg the same way and reads the ends from
	// the analysis. At most maxSegments; later ones extend the last.
	segs []segment
	seg  int
	// For the SSRC-change rule: capture time and duration of the last audio
	// packet and the RFC 3550 interarrival jitter estimate, in ns.
	lastAudioNS, lastDurNS, jitNS int64
	prevTsNS                      int64 // nsOf of the previous audio packet's timestamp

	r *rstream // render state (pass 2 only)

	lastPkt int64 // number (e.packets) of the stream's latest packet
}

// handler receives every placed audio or comfort-noise packet (pass 2).
type handler interface {
	packet(s *stream, r *relPkt, ps *ptState, pl placement)
}

// engine feeds packets through SIP parsing, RTP validation, stream grouping,
// reordering and placement. Both passes run it over the same packets.
type engine struct {
	opt     Options
	pts     ptTable
	streams map[streamKey]*stream
	list    []*stream
	holding []*stream
	hdr     rtp.Header
	maxCap  int64
	lim     placeLimits
	keep    bool    // copy held payloads (pass 2)
	h       handler // nil in pass 1
	cur     *stream
	out     func(*relPkt)
	warns   []string

	packets, sip, nonRTP, rtcp, dropped int64
}

func newEngine(opt Options, keep bool, h handler) *engine {
	e := &engine{opt: opt, streams: make(map[streamKey]*stream), keep: keep, h: h,
		lim: placeLimits{ahead: opt.ResyncAhead.Nanoseconds(), behind: opt.ResyncBehind.Nanoseconds(), idle: opt.MaxIdle.Nanoseconds()}}
	e.out = e.release
	return e
}

func (e *engine) warn(format string, args ...any) {
	if len(e.warns) < 100 {
		e.warns = append(e.warns, fmt.Sprintf(format, args...))
	}
}

// timeNS converts a capture time to Unix nanoseconds when representable.
func timeNS(t time.Time) (int64, bool) {
	// The years 1678 to 2261 (Unix seconds of 1678-01-01 and of the last
	// second of 2261), without the cost of Year.
	const minSec, maxSec = -9214560000, 9214646399
	if sec := t.Unix(); sec < minSec || sec > maxSec {
		return 0, false
	}
	return t.UnixNano(), true
}

// feed processes one captured packet.
func (e *engine) feed(p *Packet) {
	now, ok := timeNS(p.Time)
	if !ok {
		now = e.maxCap // unrepresentable capture time: treat as "no time passed"
	}
	if e.packets == 0 || now > e.maxCap {
		e.maxCap = now
	}
	e.packets++
	b := p.Payload
	if isSIP(b) {
		e.sip++
		parseSDP(sipBody(b), e.addMap)
		return
	}
	// RTP version 2; second byte 192..223 is RTCP (RFC 5761 section 4).
	if len(b) < 12 || b[0]>>6 != 2 || (b[1] >= 192 && b[1] <= 223) {
		if len(b) >= 2 && b[0]>>6 == 2 && b[1] >= 192 && b[1] <= 223 {
			e.rtcp++
		} else {
			e.nonRTP++
		}
		return
	}
	n, err := e.hdr.Unmarshal(b)
	if err != nil || n > len(b) {
		e.nonRTP++
		return
	}
	payload := b[n:]
	if e.hdr.Padding {
		if len(payload) == 0 {
			e.nonRTP++
			return
		}
		pad := int(payload[len(payload)-1])
		if pad == 0 || pad > len(payload) {
			e.nonRTP++
			return
		}
		payload = payload[:len(payload)-pad]
	}
	key := streamKey{src: p.Src, dst: p.Dst, ssrc: e.hdr.SSRC}
	s := e.lookup(key)
	if s == nil {
		if len(e.list) >= e.opt.MaxStreams {
			if e.dropped == 0 {
				e.warn("more than %d RTP streams; further streams ignored", e.opt.MaxStreams)
			}
			e.dropped++
			return
		}
		s = &stream{key: key, firstNS: now}
		s.j.init(e.opt.ReorderPackets)
		e.streams[key] = s
		e.list = append(e.list, s)
	}
	s.packets++
	s.lastPkt = e.packets
	s.lastNS = max(s.lastNS, now)
	wasHeld := s.j.held > 0
	e.cur = s
	s.j.push(e.hdr.SequenceNumber, e.hdr.Timestamp, e.hdr.PayloadType, now, payload, e.keep, e.out)
	if !wasHeld && s.j.held > 0 {
		e.holding = append(e.holding, s)
	}
	e.ageRelease()
}

// lookup returns the stream of key or nil. A call has few streams: up to
// eight are compared directly, which is cheaper than hashing the key.
func (e *engine) lookup(key streamKey) *stream {
	if len(e.list) <= 8 {
		for _, s := range e.list {
			if s.key == key {
				return s
			}
		}
		return nil
	}
	return e.streams[key]
}

func (e *engine) addMap(m rtpmap) {
	if w := e.pts.add(m); w != "" {
		e.warn("%s", w)
	}
}

// ageRelease releases held packets that waited longer than the reorder window.
func (e *engine) ageRelease() {
	win := e.opt.ReorderWindow.Nanoseconds()
	k := 0
	for _, s := range e.holding {
		for s.j.held > 0 && e.maxCap-s.j.oldestNS > win {
			e.cur = s
			s.j.releaseOldest(e.out)
		}
		if s.j.held > 0 {
			e.holding[k] = s
			k++
		}
	}
	clear(e.holding[k:])
	e.holding = e.holding[:k]
}

// finish releases everything still held at the end of the capture.
func (e *engine) finish() {
	for _, s := range e.list {
		if s.j.held > 0 {
			e.cur = s
			s.j.flush(e.out)
		}
	}
	e.holding = e.holding[:0]
}

// ptFor returns the meaning of payload type pt in stream s, or nil when the
// type is not (yet) mapped.
func (e *engine) ptFor(s *stream, pt uint8) *ptState {
	if ps := s.pts[pt&127]; ps != nil {
		return ps
	}
	name, clock, ok := e.pts.lookup(pt)
	if !ok {
		return nil
	}
	ps := &ptState{kind: classify(name), name: name, clock: clock}
	if ps.kind == kindAudio {
		d, err := e.opt.newDecoder(name)
		switch {
		case err != nil:
			ps.kind = kindUnsupported
		case d.SampleRate() < 1000 || d.SampleRate() > 192000 || d.ClockRate() < 1000 ||
			d.ClockRate() > 192000 || d.FrameSamples() <= 0 || d.FrameSamples() > 1<<16:
			ps.kind = kindUnsupported
		default:
			ps.dec, ps.clock = d, d.ClockRate()
		}
	}
	s.pts[pt&127] = ps
	return ps
}

// release handles one packet released in sequence order by s's jitter buffer.
func (e *engine) release(r *relPkt) {
	s := e.cur
	ps := e.ptFor(s, r.pt)
	if ps == nil {
		if s.unknown == 0 {
			s.unknownPT = r.pt
		}
		s.unknown++
		return
	}
	ts := s.pl.extendTs(r.ts)
	var durNS int64
	switch ps.kind {
	case kindEvent:
		s.events++
		return
	case kindUnsupported:
		s.unsupported++
		if s.main == nil {
			s.main, s.pt = ps, r.pt
		}
		return
	case kindCN:
		s.cn++
	case kindAudio:
		s.audio++
		if s.main == nil || s.main.kind == kindUnsupported && s.audio == 1 {
			s.main, s.pt = ps, r.pt
		}
		rate := ps.dec.SampleRate()
		n := int64(ps.dec.MaxSamples(r.size))
		n = max(min(n, 1<<20), 0)
		durNS = n * 1_000_000_000 / int64(rate)
		if s.minRate == 0 || rate < s.minRate {
			s.minRate = rate
		}
		s.maxRate = max(s.maxRate, rate)
	}
	startNS := r.capNS
	if !s.pl.anchored && ps.kind == kindAudio {
		startNS = e.continuation(s, r.capNS)
	}
	pl := s.pl.place(ts, ps.clock, r.capNS, startNS, durNS, e.lim)
	end := satAdd(pl.posNS, durNS)
	if !s.placed {
		s.placed, s.minPosNS, s.maxEndNS = true, pl.posNS, end
		s.segs = append(s.segs, segment{pl.posNS, end})
	} else {
		s.minPosNS = min(s.minPosNS, pl.posNS)
		s.maxEndNS = max(s.maxEndNS, end)
		if pl.brk && len(s.segs) < maxSegments {
			s.segs = append(s.segs, segment{pl.posNS, end})
			s.seg++
		} else {
			g := &s.segs[len(s.segs)-1]
			g.start, g.end = min(g.start, pl.posNS), max(g.end, end)
		}
	}
	if ps.kind == kindAudio {
		if s.lastDurNS > 0 && !pl.brk && !pl.resync {
			d := (r.capNS - s.lastAudioNS) - (pl.posNS - s.prevTsNS)
			d = max(min(d, 1e9), -1e9)
			if d < 0 {
				d = -d
			}
			s.jitNS += (d - s.jitNS) / 16
		}
		s.lastAudioNS, s.lastDurNS, s.prevTsNS = r.capNS, durNS, pl.posNS
	}
	if e.h != nil {
		e.h.packet(s, r, ps, pl)
	}
}

// segment is a stretch [start, end) of the capture clock, in ns.
type segment struct{ start, end int64 }

// maxSegments bounds the segments kept per stream.
const maxSegments = 1024

// joinSlackNS is the arrival tolerance of the SSRC-change rule on top of
// twice the old stream's interarrival jitter.
const joinSlackNS = 10_000_000

// maxJoinJitterNS caps the jitter part of that tolerance: a stream that
// jitters by more is not continued sample-exact.
const maxJoinJitterNS = 60_000_000

// continuation returns where the first audio packet of s, captured at capNS,
// is anchored: its capture time, or the end of the audio of the stream it
// continues. A stream continues another (an SSRC change: transfer,
// re-INVITE, device switch) when both share their source or their
// destination address and port, and the new packet arrives between tol
// before and one packet time + tol after where the old stream's audio ends,
// with tol = joinSlackNS + 2 × the old stream's interarrival jitter (that
// part at most maxJoinJitterNS). Of several candidates the one ending
// nearest to capNS wins.
func (e *engine) continuation(s *stream, capNS int64) int64 {
	best, bestD := capNS, int64(-1)
	for _, o := range e.list {
		if o == s || o.lastDurNS <= 0 || (o.key.src != s.key.src && o.key.dst != s.key.dst) {
			continue
		}
		end := o.pl.expectedNS
		tol := joinSlackNS + min(2*o.jitNS, maxJoinJitterNS)
		d := capNS - end
		if d < -tol || d > o.lastDurNS+tol {
			continue
		}
		if d < 0 {
			d = -d
		}
		if bestD < 0 || d < bestD {
			best, bestD = end, d
		}
	}
	return best
}
