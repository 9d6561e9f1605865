package media

import (
	"bytes"
	"compress/flate"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/netip"
	"slices"

	"recordings/codec"
	"recordings/codec/snap"
)

// Random access: while a render runs from the start, RenderCheckpoints
// records the whole render state every so often at a packet boundary: the
// engine (SDP payload-type table, every stream's reorder buffer with its
// held payloads, placer, payload types and decoder states), the render
// state of every stream (run, resampler history, comfort-noise generator,
// concealment count) and the timeline's written-out position. Only the
// ring's samples are left out: a checkpoint is taken when nothing at or
// above its Sample has been written, so a render resumed there produces
// every sample from Sample on exactly as the render from the start did
// (the first write to a sample wins, and every later write, fill and
// emission happens in the same order from the same state).

// Checkpoint is the render state before one packet of the capture.
type Checkpoint struct {
	// Sample is the first output sample a render resumed here writes
	// exactly; a range starting at or after it may resume here.
	Sample int64
	// Offset is the source position (PositionSource.Pos) of the packet.
	Offset int64
	// Packet is the number of packets read before it; TimeNS its capture
	// time, checked when resuming.
	Packet, TimeNS int64
	// State is the encoded render state, compressed (DEFLATE).
	State []byte
}

// Checkpoints are the checkpoints of one analysis, in order.
type Checkpoints struct {
	// Samples, SampleRate and Packets identify the analysis they belong to.
	Samples    int64
	SampleRate int
	Packets    int64
	// Header is a source-specific value that a resumed source needs (for
	// a pcap file: how many bytes of the file's start to read first).
	Header int64
	List   []Checkpoint
	// Touch holds, per block of 2048 output samples, the number of the
	// packet whose feeding last wrote into the block (one more than the
	// packet count for writes after the last packet). A resumed render
	// sends a block as soon as it has fed that packet: its samples are
	// final then, usually a second or two of audio after the block, long
	// before the ring of the timeline (about 15 s) moves past it.
	Touch []uint32
	// Plan is the render plan of the analysis they belong to
	// (Analysis.MarshalPlan), stored with them so that a range after a
	// restart needs no analysis of the capture (ParsePlan); nil in sets
	// stored before it was.
	Plan []byte
}

// PositionSource is a Source that tells where its next packet starts, so
// that a render can be resumed there.
type PositionSource interface {
	Source
	// Pos is the position of the packet the next Next returns.
	Pos() int64
}

// Matches reports whether c was recorded for the analysis a.
func (c *Checkpoints) Matches(a *Analysis) bool {
	return c != nil && a != nil && c.Samples == a.Samples && c.SampleRate == a.SampleRate && c.Packets == a.Packets
}

// Find returns the last checkpoint from which sample can be rendered
// exactly, or nil when the render must start from the beginning.
func (c *Checkpoints) Find(sample int64) *Checkpoint {
	if c == nil {
		return nil
	}
	lo, hi := 0, len(c.List) // first with Sample > sample
	for lo < hi {
		m := (lo + hi) / 2
		if c.List[m].Sample <= sample {
			lo = m + 1
		} else {
			hi = m
		}
	}
	if lo == 0 {
		return nil
	}
	return &c.List[lo-1]
}

// Size is the memory the checkpoints take, roughly, in bytes (0 for nil).
func (c *Checkpoints) Size() int {
	if c == nil {
		return 0
	}
	n := 4*len(c.Touch) + len(c.Plan)
	for _, cp := range c.List {
		n += len(cp.State) + 32
	}
	return n
}

// recorder records checkpoints during a render.
type recorder struct {
	src   PositionSource
	every int64
	next  int64
	slack int64 // how long a checkpoint may wait for no packets to be held
	cps   []Checkpoint
	raw   []byte
	buf   bytes.Buffer
	zw    *flate.Writer
}

func (rec *recorder) take(r *renderer, e *engine, at int64, p *Packet) {
	rec.next = r.tl.high + rec.every // tried again only an interval later
	raw, ok := r.appendState(rec.raw[:0], e)
	if !ok {
		return
	}
	rec.raw = raw
	rec.buf.Reset()
	if rec.zw == nil {
		rec.zw, _ = flate.NewWriter(&rec.buf, flate.BestSpeed)
	} else {
		rec.zw.Reset(&rec.buf)
	}
	if _, err := rec.zw.Write(raw); err != nil || rec.zw.Close() != nil {
		return
	}
	tns, _ := timeNS(p.Time)
	rec.cps = append(rec.cps, Checkpoint{Sample: r.tl.high, Offset: at, Packet: e.packets, TimeNS: tns,
		State: bytes.Clone(rec.buf.Bytes())})
}

// maxRawState bounds a decompressed render state: 64 streams with full
// reorder buffers stay below it.
const maxRawState = 16 << 20

// inflate decompresses a checkpoint's state.
func inflate(b []byte) ([]byte, error) {
	zr := flate.NewReader(bytes.NewReader(b))
	defer zr.Close()
	raw, err := io.ReadAll(io.LimitReader(zr, maxRawState+1))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", snap.ErrState, err)
	}
	if len(raw) > maxRawState {
		return nil, fmt.Errorf("%w: over %d bytes", snap.ErrState, maxRawState)
	}
	return raw, nil
}

// RenderCheckpoints is RenderContext that also records a checkpoint
// whenever every output samples have been written since the last one.
// Checkpoints are left out where a decoder cannot save its state.
func (a *Analysis) RenderCheckpoints(ctx context.Context, src PositionSource, out PCMSink, every int64) (*Checkpoints, error) {
	r, e, err := a.newRender(ctx, out)
	if err != nil {
		return nil, err
	}
	rec := &recorder{src: src, every: max(every, 1), next: max(every, 1),
		slack: nsToSamples(a.opt.ReorderWindow.Nanoseconds()+1e9, a.SampleRate, true)}
	r.tl.record = true
	if err := r.run(ctx, e, src, rec); err != nil {
		return nil, err
	}
	touch := r.tl.touch
	if n := (a.Samples + touchBlock - 1) / touchBlock; int64(len(touch)) > n {
		touch = touch[:n]
	}
	return &Checkpoints{Samples: a.Samples, SampleRate: a.SampleRate, Packets: a.Packets, List: rec.cps,
		Touch: slices.Clip(touch)}, nil
}

// ErrCheckpoint means a checkpoint does not fit the analysis or the source
// it is resumed with: render from the start instead.
var ErrCheckpoint = errors.New("media: checkpoint does not match")

// RenderFrom resumes the render at cp (one of cps, recorded by
// RenderCheckpoints for this analysis) and writes output samples
// [from, a.Samples) to out: the same frames a render from the start writes
// there, each block as soon as its samples are final (cps.Touch). src must
// yield the capture's packets from cp.Offset on. from must not lie before
// cp.Sample.
func (a *Analysis) RenderFrom(ctx context.Context, cps *Checkpoints, cp *Checkpoint, src Source, out PCMSink, from int64) error {
	if cp == nil || from < cp.Sample || from > a.Samples {
		return fmt.Errorf("%w: sample %d before the checkpoint or past the end", ErrCheckpoint, from)
	}
	r, e, err := a.newRender(ctx, out)
	if err != nil {
		return err
	}
	raw, err := inflate(cp.State)
	if err == nil {
		err = r.restore(e, raw)
	}
	if err != nil {
		return fmt.Errorf("%w: %w", ErrCheckpoint, err)
	}
	if e.packets != cp.Packet || r.tl.flushed > from {
		return fmt.Errorf("%w: state of packet %d, checkpoint of %d", ErrCheckpoint, e.packets, cp.Packet)
	}
	r.tl.peeked = from // nothing before it is sent
	if cps != nil && int64(len(cps.Touch)) == (a.Samples+touchBlock-1)/touchBlock {
		r.tl.ready = cps.Touch
	}
	return r.run(ctx, e, &checkFirst{src: src, ns: cp.TimeNS}, nil)
}

// checkFirst checks that the first packet is the checkpoint's.
type checkFirst struct {
	src  Source
	ns   int64
	done bool
}

func (c *checkFirst) Next() (Packet, error) {
	p, err := c.src.Next()
	if err == nil && !c.done {
		c.done = true
		if ns, _ := timeNS(p.Time); ns != c.ns {
			return Packet{}, fmt.Errorf("%w: first packet captured at %d, checkpoint at %d", ErrCheckpoint, ns, c.ns)
		}
	}
	return p, err
}

// stateVersion is the first byte of an encoded render state.
const stateVersion = 2

// Limits of a decoded render state.
const (
	maxStateName    = 64
	maxStatePayload = 1 << 16
)

// appendState encodes the render state; ok is false when a decoder cannot
// save its state.
func (r *renderer) appendState(b []byte, e *engine) ([]byte, bool) {
	w := snap.Writer{B: b}
	w.Byte(stateVersion)
	w.Int(r.tl.flushed)
	w.Int(r.tl.high)
	w.Int(e.maxCap)
	for _, v := range []int64{e.packets, e.sip, e.nonRTP, e.rtcp, e.dropped} {
		w.Int(v)
	}
	for i := range e.pts.dyn {
		w.Bool(e.pts.set[i])
		if e.pts.set[i] {
			w.Bool(e.pts.conflict[i])
			w.Bytes([]byte(e.pts.dyn[i].name))
			w.Int(int64(e.pts.dyn[i].clock))
		}
	}
	index := make(map[*stream]int, len(e.list))
	w.Uint(uint64(len(e.list)))
	for i, s := range e.list {
		index[s] = i
		if r.finished(e, s) {
			w.Bool(true)
			appendFinished(&w, s)
			continue
		}
		w.Bool(false)
		if !appendStream(&w, s) {
			return nil, false
		}
	}
	w.Uint(uint64(len(e.holding)))
	for _, s := range e.holding {
		w.Uint(uint64(index[s]))
	}
	// The active render streams, in order (fills run in this order).
	w.Uint(uint64(len(r.active)))
	for _, rs := range r.active {
		for i, s := range e.list {
			if s.r == rs {
				w.Uint(uint64(i))
				break
			}
		}
	}
	return w.B, true
}

// finished reports whether stream s has had all its packets (by the
// analysis), holds none, and can write nothing more that is not already
// written out: then only what the SSRC-change rule reads of it (its key,
// where its audio ended, its last packet time and jitter) is part of a
// checkpoint, not its decoders, so that a call with many SSRC changes does
// not carry every old stream's state in every checkpoint.
func (r *renderer) finished(e *engine, s *stream) bool {
	last, ok := r.a.lastPkt[s.key]
	if !ok || e.packets < last || s.j.held > 0 {
		return false
	}
	rs := s.r
	if rs == nil || rs.ch < 0 || !rs.inRun {
		return true
	}
	if rs.runOut() < rs.endOut {
		return false // fills still to come
	}
	tail := int64(rs.l) // what endRun may still write past runOut
	if rs.rs != nil {
		tail += rs.rs.delay
	}
	return rs.runOut()+tail < r.tl.flushed
}

func appendFinished(w *snap.Writer, s *stream) {
	appendAddr(w, s.key.src)
	appendAddr(w, s.key.dst)
	w.Uint(uint64(s.key.ssrc))
	w.Int(s.pl.expectedNS)
	w.Int(s.lastDurNS)
	w.Int(s.jitNS)
	switch {
	case s.r == nil:
		w.Int(-2)
	default:
		w.Int(int64(s.r.ch))
	}
}

func (r *renderer) restoreFinished(rd *snap.Reader) *stream {
	s := &stream{}
	s.key.src = readAddr(rd)
	s.key.dst = readAddr(rd)
	s.key.ssrc = uint32(rd.UintMax(1<<32-1, "SSRC"))
	s.pl.expectedNS = rd.Int()
	s.lastDurNS = rd.Range(0, 1<<40, "packet duration")
	s.jitNS = rd.Range(0, 1<<40, "jitter")
	switch ch := rd.Range(-2, 1, "channel"); {
	case ch == -2:
	case ch == -1:
		s.r = &rstream{ch: -1, seg: -1}
	default:
		if pl, ok := r.a.dir[s.key]; !ok || pl.ch != int(ch) {
			rd.Fail("rendered stream not in the analysis")
		}
		s.r = &rstream{ch: int(ch), seg: -1}
	}
	return s
}

func appendAddr(w *snap.Writer, a netip.AddrPort) {
	b, _ := a.MarshalBinary()
	w.Bytes(b)
}

func appendStream(w *snap.Writer, s *stream) bool {
	appendAddr(w, s.key.src)
	appendAddr(w, s.key.dst)
	w.Uint(uint64(s.key.ssrc))
	// Reorder buffer.
	j := &s.j
	w.Bool(j.started)
	w.Uint(uint64(j.lastSeq))
	for _, v := range []int64{j.highest, j.base, j.next, j.oldestNS, int64(j.badSeq),
		j.unique, j.dups, j.reordered, j.late, j.expectedPrev} {
		w.Int(v)
	}
	for _, v := range j.seen {
		w.Uint(v)
	}
	w.Uint(uint64(j.held))
	for i := range j.slots {
		sl := &j.slots[i]
		if !sl.ok {
			continue
		}
		w.Uint(uint64(i))
		w.Int(sl.ext)
		w.Uint(uint64(sl.ts))
		w.Byte(sl.pt)
		w.Int(sl.capNS)
		w.Bytes(sl.buf[:sl.size])
	}
	// Placer.
	p := &s.pl
	w.Bool(p.anchored)
	w.Bool(p.tsValid)
	w.Uint(uint64(p.lastTs32))
	for _, v := range []int64{p.anchorNS, p.anchorTs, p.clock, p.lastTsExt, p.lastTs, p.expectedNS,
		p.firstNS, p.endNS, p.resyncs, p.breaks, p.gapNS} {
		w.Int(v)
	}
	// Payload types and their decoders.
	n := 0
	for _, ps := range s.pts {
		if ps != nil {
			n++
		}
	}
	w.Uint(uint64(n))
	for i, ps := range s.pts {
		if ps == nil {
			continue
		}
		w.Uint(uint64(i))
		w.Byte(byte(ps.kind))
		w.Bytes([]byte(ps.name))
		w.Int(int64(ps.clock))
		w.Bool(ps.dec != nil)
		if ps.dec != nil {
			sn, ok := ps.dec.(codec.Snapshotter)
			if !ok {
				return false
			}
			w.Bytes(sn.AppendState(nil))
		}
	}
	w.Bool(s.main != nil)
	w.Uint(uint64(s.pt))
	w.Uint(uint64(s.unknownPT))
	for _, v := range []int64{s.packets, s.audio, s.unsupported, s.cn, s.events, s.unknown,
		s.firstNS, s.lastNS, s.minPosNS, s.maxEndNS, int64(s.minRate), int64(s.maxRate),
		s.lastAudioNS, s.lastDurNS, s.jitNS, s.prevTsNS, int64(s.seg)} {
		w.Int(v)
	}
	w.Bool(s.placed)
	w.Uint(uint64(len(s.segs)))
	if len(s.segs) > 0 {
		g := s.segs[len(s.segs)-1]
		w.Int(g.start)
		w.Int(g.end)
	}
	// Render state.
	rs := s.r
	w.Bool(rs != nil)
	if rs == nil {
		return true
	}
	w.Int(int64(rs.ch))
	if rs.ch < 0 {
		return true
	}
	for _, v := range []int64{int64(rs.seg), rs.endOut, rs.concealed, int64(rs.rate), rs.runStart, rs.nIn, rs.emitted} {
		w.Int(v)
	}
	w.Bool(rs.inRun)
	w.Bool(rs.cn)
	w.Uint(uint64(rs.noise.state))
	w.Int(int64(rs.noise.amp))
	last := -1
	for i, ps := range s.pts {
		if ps != nil && ps == rs.last {
			last = i
		}
	}
	w.Int(int64(last))
	if rs.rs != nil {
		f := rs.rs
		w.Int16s(f.hist[:f.K])
		w.Int(int64(f.i))
		w.Int(f.nIn)
		w.Int(f.emitted)
	}
	return true
}

// restore decodes a state written by appendState into a fresh renderer and
// engine of the same analysis. Every count, index and rate is checked, so
// that no input makes the render panic.
func (r *renderer) restore(e *engine, b []byte) error {
	rd := snap.NewReader(b)
	if v := rd.Byte(); v != stateVersion && rd.Err() == nil {
		rd.Fail("render state version %d, want %d", v, stateVersion)
	}
	const maxPos = 1 << 62
	r.tl.flushed = rd.Range(0, r.a.Samples, "written-out position")
	r.tl.high = rd.Range(0, r.a.Samples, "highest write")
	e.maxCap = rd.Int()
	for _, v := range []*int64{&e.packets, &e.sip, &e.nonRTP, &e.rtcp, &e.dropped} {
		*v = rd.Range(0, maxPos, "count")
	}
	for i := range e.pts.dyn {
		if e.pts.set[i] = rd.Bool(); e.pts.set[i] {
			e.pts.conflict[i] = rd.Bool()
			e.pts.dyn[i] = rtpmap{pt: uint8(96 + i), name: string(rd.Bytes(maxStateName)),
				clock: int(rd.Range(0, 1<<31-1, "clock rate"))}
		}
	}
	n := rd.Len(e.opt.MaxStreams, "streams")
	for range n {
		if rd.Err() != nil {
			break
		}
		var s *stream
		if rd.Bool() {
			s = r.restoreFinished(rd)
		} else {
			s = r.restoreStream(rd, e)
		}
		if rd.Err() != nil {
			break
		}
		if _, dup := e.streams[s.key]; dup {
			rd.Fail("stream listed twice")
			break
		}
		e.streams[s.key] = s
		e.list = append(e.list, s)
	}
	nh := rd.Len(len(e.list), "holding streams")
	for range nh {
		i := int(rd.UintMax(uint64(max(len(e.list)-1, 0)), "holding stream"))
		if rd.Err() != nil {
			break
		}
		s := e.list[i]
		if s.j.held == 0 || containsStream(e.holding, s) {
			rd.Fail("holding stream %d holds nothing or is listed twice", i)
			break
		}
		e.holding = append(e.holding, s)
	}
	for _, s := range e.list {
		if s.j.held > 0 && !containsStream(e.holding, s) {
			rd.Fail("a stream holding packets is not listed")
		}
	}
	na := rd.Len(len(e.list), "active streams")
	for range na {
		i := int(rd.UintMax(uint64(max(len(e.list)-1, 0)), "active stream"))
		if rd.Err() != nil {
			break
		}
		rs := e.list[i].r
		if rs == nil || rs.ch < 0 || containsRender(r.active, rs) {
			rd.Fail("active stream %d not rendered or listed twice", i)
			break
		}
		r.active = append(r.active, rs)
	}
	for _, s := range e.list {
		if s.r != nil && s.r.ch >= 0 && !containsRender(r.active, s.r) {
			rd.Fail("a rendered stream is not active")
		}
	}
	return rd.Done()
}

func containsStream(l []*stream, s *stream) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

func containsRender(l []*rstream, s *rstream) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

func readAddr(rd *snap.Reader) netip.AddrPort {
	var a netip.AddrPort
	if err := a.UnmarshalBinary(rd.Bytes(32)); err != nil {
		rd.Fail("address: %v", err)
	}
	return a
}

func (r *renderer) restoreStream(rd *snap.Reader, e *engine) *stream {
	const maxPos = 1 << 62
	s := &stream{}
	s.key.src = readAddr(rd)
	s.key.dst = readAddr(rd)
	s.key.ssrc = uint32(rd.UintMax(1<<32-1, "SSRC"))
	j := &s.j
	j.init(e.opt.ReorderPackets)
	j.started = rd.Bool()
	j.lastSeq = uint16(rd.UintMax(1<<16-1, "sequence number"))
	for _, v := range []*int64{&j.highest, &j.base, &j.next, &j.oldestNS} {
		*v = rd.Int()
	}
	j.badSeq = int32(rd.Range(-1, 1<<17, "probation sequence"))
	for _, v := range []*int64{&j.unique, &j.dups, &j.reordered, &j.late, &j.expectedPrev} {
		*v = rd.Range(0, maxPos, "count")
	}
	// The reorder window holds next .. next+window-1, so the highest
	// sequence accepted lies in [next-1, next+window-1]; this bounds the
	// work of the next push.
	w := int64(len(j.slots))
	if j.next < 0 || j.next > maxPos || j.highest < j.next-1 || j.highest > j.next+w-1 || j.base < 0 || j.base > j.highest+1 {
		rd.Fail("sequence state out of range")
	}
	for i := range j.seen {
		j.seen[i] = rd.Uint()
	}
	j.held = rd.Len(len(j.slots), "held packets")
	for range j.held {
		i := int64(rd.UintMax(uint64(w-1), "slot"))
		if rd.Err() != nil {
			return s
		}
		sl := &j.slots[i]
		if sl.ok {
			rd.Fail("slot %d twice", i)
			return s
		}
		sl.ok = true
		sl.ext = rd.Range(j.next, j.next+w-1, "held sequence")
		if sl.ext%w != i {
			rd.Fail("held sequence %d in slot %d", sl.ext, i)
		}
		sl.ts = uint32(rd.UintMax(1<<32-1, "timestamp"))
		sl.pt = rd.Byte() & 127
		sl.capNS = rd.Int()
		sl.buf = append([]byte(nil), rd.Bytes(maxStatePayload)...)
		sl.size = len(sl.buf)
	}
	p := &s.pl
	p.anchored = rd.Bool()
	p.tsValid = rd.Bool()
	p.lastTs32 = uint32(rd.UintMax(1<<32-1, "timestamp"))
	for _, v := range []*int64{&p.anchorNS, &p.anchorTs, &p.clock, &p.lastTsExt, &p.lastTs, &p.expectedNS,
		&p.firstNS, &p.endNS, &p.resyncs, &p.breaks, &p.gapNS} {
		*v = rd.Int()
	}
	if p.anchored && (p.clock < 1000 || p.clock > 192000) {
		rd.Fail("clock rate %d", p.clock)
	}
	npt := rd.Len(len(s.pts), "payload types")
	for range npt {
		i := rd.UintMax(uint64(len(s.pts)-1), "payload type")
		if rd.Err() != nil {
			return s
		}
		if s.pts[i] != nil {
			rd.Fail("payload type %d twice", i)
			return s
		}
		ps := &ptState{kind: payloadKind(rd.Byte()), name: string(rd.Bytes(maxStateName)),
			clock: int(rd.Range(0, 192000, "clock rate"))}
		if ps.kind > kindEvent {
			rd.Fail("payload kind %d", ps.kind)
		}
		if hasDec := rd.Bool(); hasDec != (ps.kind == kindAudio) {
			rd.Fail("decoder state of a non-audio payload type, or none of an audio one")
		} else if hasDec {
			st := rd.Bytes(1 << 20)
			if rd.Err() != nil {
				return s
			}
			d, err := e.opt.newDecoder(ps.name)
			if err != nil || d.SampleRate() < 1000 || d.SampleRate() > 192000 || d.ClockRate() != ps.clock ||
				d.FrameSamples() <= 0 || d.FrameSamples() > 1<<16 {
				rd.Fail("payload type %d: no usable decoder for %q", i, ps.name)
				return s
			}
			sn, ok := d.(codec.Snapshotter)
			if !ok {
				rd.Fail("decoder %s cannot restore its state", ps.name)
				return s
			}
			if err := sn.SetState(st); err != nil {
				rd.Fail("payload type %d: %v", i, err)
				return s
			}
			ps.dec = d
		}
		s.pts[i] = ps
	}
	hasMain := rd.Bool()
	s.pt = uint8(rd.UintMax(127, "payload type"))
	s.unknownPT = uint8(rd.UintMax(127, "payload type"))
	if hasMain {
		if s.main = s.pts[s.pt]; s.main == nil {
			rd.Fail("main payload type %d unknown", s.pt)
		}
	}
	var f [17]int64
	for i := range f {
		f[i] = rd.Int()
	}
	s.packets, s.audio, s.unsupported, s.cn, s.events, s.unknown = f[0], f[1], f[2], f[3], f[4], f[5]
	s.firstNS, s.lastNS, s.minPosNS, s.maxEndNS = f[6], f[7], f[8], f[9]
	s.minRate, s.maxRate = int(min(max(f[10], 0), 192000)), int(min(max(f[11], 0), 192000))
	s.lastAudioNS, s.lastDurNS, s.jitNS, s.prevTsNS = f[12], f[13], f[14], f[15]
	if f[16] < 0 || f[16] >= maxSegments {
		rd.Fail("segment %d", f[16])
	}
	s.seg = int(f[16])
	s.placed = rd.Bool()
	if nseg := rd.Len(maxSegments, "segments"); nseg > 0 {
		s.segs = make([]segment, nseg)
		s.segs[nseg-1] = segment{rd.Int(), rd.Int()}
	}
	if !rd.Bool() || rd.Err() != nil {
		return s
	}
	rs := &rstream{ch: int(rd.Range(-1, 1, "channel")), seg: -1, noise: newComfortNoise(s.key.ssrc)}
	s.r = rs
	if rs.ch < 0 {
		return s
	}
	pl, ok := r.a.dir[s.key]
	if !ok || pl.ch != rs.ch {
		rd.Fail("rendered stream not in the analysis")
		return s
	}
	rs.segs = pl.segs
	// Output positions lie on the timeline, give or take the ring: this
	// bounds the fill work of the next packet.
	lo, hi := -r.tl.size, r.a.Samples+r.tl.size
	rs.seg = int(rd.Range(-1, int64(len(rs.segs)-1), "render segment"))
	rs.endOut = rd.Range(math.MinInt64, hi, "end of the segment")
	rs.concealed = rd.Range(0, hi, "concealed samples")
	rs.rate = int(rd.Range(0, 192000, "sample rate"))
	rs.runStart = rd.Range(lo, hi, "run start")
	rs.nIn = rd.Range(0, hi, "run samples")
	rs.emitted = rd.Range(0, hi, "run output")
	rs.inRun = rd.Bool()
	rs.cn = rd.Bool()
	rs.noise.state = uint32(rd.UintMax(1<<32-1, "noise state"))
	rs.noise.amp = int32(rd.Range(0, 32767, "noise level"))
	if last := rd.Range(-1, int64(len(s.pts)-1), "last payload type"); last >= 0 {
		if rs.last = s.pts[last]; rs.last == nil || rs.last.dec == nil {
			rd.Fail("last payload type %d is no audio", last)
		}
	}
	if rd.Err() != nil {
		return s
	}
	if rs.rate != 0 {
		if r.rate%rs.rate != 0 {
			rd.Fail("stream rate %d does not divide %d", rs.rate, r.rate)
			return s
		}
		rs.l = r.rate / rs.rate
		if rs.l > 1 {
			f := newInterp(rs.l)
			rd.Int16s(f.hist[:f.K])
			copy(f.hist[f.K:], f.hist[:f.K])
			f.i = int(rd.Range(0, int64(f.K-1), "resampler position"))
			f.nIn = rd.Range(0, hi, "resampler input")
			f.emitted = rd.Range(0, hi*int64(f.L), "resampler output")
			rs.rs = f
		}
	}
	return s
}
