package media

import (
	"context"
	"errors"
	"fmt"
	"io"

	"recordings/codec"
)

// ctxSink passes frames on while ctx is not done.
type ctxSink struct {
	ctx context.Context
	out PCMSink
}

func (c ctxSink) WriteFrames(stereo []int16) error {
	if err := c.ctx.Err(); err != nil {
		return err
	}
	return c.out.WriteFrames(stereo)
}

// rstream is the render state of one stream.
type rstream struct {
	ch        int       // 0 local, 1 remote, -1 not rendered
	segs      []segment // from pass 1
	seg       int       // segment of endOut
	endOut    int64     // output position where the current segment's audio ends (from pass 1)
	concealed int64     // native samples concealed since the last decoded audio
	rate, l   int
	rs        *interp
	inRun     bool
	runStart  int64 // output position of the run's first native sample
	nIn       int64 // native samples in the run
	emitted   int64 // output samples written for the run
	cn        bool
	noise     comfortNoise
	last      *ptState // payload type of the last decoded audio, used for concealment
}

func (rs *rstream) runOut() int64 { return rs.runStart + rs.nIn*int64(rs.l) }

type renderer struct {
	a      *Analysis
	active []*rstream
	rate   int
	tl     *timeline
	dec    []int16
	fill   []int16
	res    []int16
}

// maxPayloadSamples bounds the samples one packet may decode to.
const maxPayloadSamples = 1 << 20

// Render runs pass 2 over src (the same capture again) and writes exactly
// a.Samples interleaved stereo frames to out: left = local, right = remote.
// Memory use is constant in the call length. A read error before the point
// where Analyze's read ended is returned after the (padded) output is
// complete; sink errors are returned at once.
func (a *Analysis) Render(src Source, out PCMSink) error {
	return a.RenderContext(context.Background(), src, out)
}

// ctxCheckPackets is how often (in packets read) RenderContext looks at its
// context.
const ctxCheckPackets = 256

// RenderContext is Render that stops, returning ctx's error, once ctx is
// done: it looks every ctxCheckPackets packets and whenever a block of
// output is written, so a client that went away stops its render even while
// the output is discarded (a Range far into the file).
func (a *Analysis) RenderContext(ctx context.Context, src Source, out PCMSink) error {
	r, e, err := a.newRender(ctx, out)
	if err != nil {
		return err
	}
	return r.run(ctx, e, src, nil)
}

// newRender sets up pass 2 from the start of the capture.
func (a *Analysis) newRender(ctx context.Context, out PCMSink) (*renderer, *engine, error) {
	if a == nil || a.SampleRate <= 0 || a.dir == nil {
		return nil, nil, errors.New("media: Render needs the result of a successful Analyze")
	}
	o := a.opt
	ringNS := (o.ResyncAhead + o.ResyncBehind + o.ReorderWindow).Nanoseconds() + 2e9
	r := &renderer{a: a, rate: a.SampleRate,
		tl: newTimeline(nsToSamples(ringNS, a.SampleRate, true), a.Samples, ctxSink{ctx, out})}
	r.tl.fill = r.fillTo
	return r, newEngine(o, true, r), nil
}

// run feeds the packets of src through e and writes the timeline out to
// its end. With rec set, it records checkpoints on the way.
func (r *renderer) run(ctx context.Context, e *engine, src Source, rec *recorder) error {
	a := r.a
	var readErr error
	for r.tl.err == nil {
		if e.packets%ctxCheckPackets == 0 {
			if err := ctx.Err(); err != nil {
				return fmt.Errorf("media: render: %w", err)
			}
		}
		var at int64
		if rec != nil {
			at = rec.src.Pos()
		}
		p, err := src.Next()
		if err != nil {
			if !errors.Is(err, io.EOF) && (!a.readErr || e.packets < a.Packets) {
				readErr = fmt.Errorf("media: render: reading packet %d: %w", e.packets+1, err)
			}
			break
		}
		// A checkpoint waits (up to rec.slack) for a moment when no stream
		// holds packets for reordering: their payloads would be part of it.
		if rec != nil && r.tl.high >= rec.next && (len(e.holding) == 0 || r.tl.high >= rec.next+rec.slack) {
			rec.take(r, e, at, &p)
		}
		r.tl.now = e.packets + 1 // the stamp of this packet's writes
		e.feed(&p)
		if r.tl.ready != nil {
			r.tl.peek()
		}
	}
	r.tl.now = e.packets + 1 // after every packet
	e.finish()
	for _, s := range e.list {
		if s.r != nil && s.r.ch >= 0 {
			r.endRun(s.r)
		}
	}
	r.tl.emit(a.Samples)
	if r.tl.err != nil {
		if err := ctx.Err(); err != nil && errors.Is(r.tl.err, err) {
			return fmt.Errorf("media: render: %w", err)
		}
		return fmt.Errorf("media: writing PCM: %w", r.tl.err)
	}
	return readErr
}

// outPos converts a capture-clock position to an output sample index.
func (r *renderer) outPos(ns int64) int64 {
	d := r.a.compressNS(ns) - r.a.startNS
	if d < 0 {
		return -nsToSamples(-d, r.rate, true)
	}
	return nsToSamples(min(d, r.a.opt.MaxDuration.Nanoseconds()+1e9), r.rate, false)
}

func (r *renderer) packet(s *stream, p *relPkt, ps *ptState, pl placement) {
	if s.r == nil {
		pl, ok := r.a.dir[s.key]
		if !ok {
			pl.ch = -1
		}
		s.r = &rstream{ch: pl.ch, segs: pl.segs, seg: -1, noise: newComfortNoise(s.key.ssrc)}
		if ok {
			r.active = append(r.active, s.r)
		}
	}
	rs := s.r
	if rs.ch < 0 {
		return
	}
	if rs.seg != s.seg && s.seg < len(rs.segs) {
		rs.seg, rs.endOut = s.seg, r.outPos(rs.segs[s.seg].end)
	}
	if pl.brk {
		// A discontinuity: the gap stays silent and a new run starts.
		r.endRun(rs)
		rs.cn, rs.concealed = false, 0
	}
	pos := r.outPos(pl.posNS)
	switch ps.kind {
	case kindCN:
		if rs.rate == 0 {
			return // no audio yet: the native rate is unknown
		}
		r.gapTo(rs, pos)
		rs.cn = true
		rs.noise.setLevel(p.payload)
	case kindAudio:
		d := ps.dec
		if r.rate%d.SampleRate() != 0 {
			return // a rate that does not divide the output rate (never planned)
		}
		if rate := d.SampleRate(); rate != rs.rate {
			r.endRun(rs)
			rs.rate, rs.l, rs.rs = rate, r.rate/rate, nil
			if rs.l > 1 {
				rs.rs = newInterp(rs.l)
			}
		}
		r.gapTo(rs, pos)
		rs.cn, rs.last = false, ps
		need := d.MaxSamples(len(p.payload))
		if need <= 0 || need > maxPayloadSamples {
			return
		}
		if len(r.dec) < need {
			r.dec = make([]int16, need)
		}
		rs.concealed = 0
		if r.decodeInto(rs, d, pos, need, p.payload) {
			return
		}
		n, err := d.Decode(r.dec[:need], p.payload)
		if err != nil || n <= 0 {
			return // the next packet's gap fill conceals it
		}
		smp := r.dec[:min(n, need)]
		if over := rs.runOut() - pos; over > 0 { // overlap: the earlier audio wins
			skip := (over + int64(rs.l) - 1) / int64(rs.l)
			if skip >= int64(len(smp)) {
				return
			}
			smp = smp[skip:]
		}
		r.push(rs, smp)
	}
}

// decodeInto decodes payload straight into the timeline ring when push
// would store the decoded samples unchanged (no resampling, no overlap with
// the run, a free stretch of the ring: timeline.span) and the decoder can
// (codec.InterleavedDecoder). It reports whether it handled the packet.
func (r *renderer) decodeInto(rs *rstream, d codec.Decoder, pos int64, need int, payload []byte) bool {
	di, ok := d.(codec.InterleavedDecoder)
	if !ok || rs.rs != nil || rs.runOut() > pos {
		return false
	}
	at := rs.runOut()
	dst, ok := r.tl.span(rs.ch, at, int64(need))
	if !ok {
		return false
	}
	n, err := di.DecodeInterleaved(dst, payload)
	if err != nil || n <= 0 {
		return true // as Decode: the next packet's gap fill conceals it
	}
	n = min(n, need)
	r.tl.mark(rs.ch, at, int64(n))
	rs.nIn += int64(n)
	rs.emitted = rs.nIn
	return true
}

// fillTo is called before the timeline emits positions below to: streams
// that are silent there (DTX, comfort noise, loss) but continue later are
// filled now, so long silences get their comfort noise or concealment
// although their end arrives only after the region was emitted.
func (r *renderer) fillTo(to int64) {
	for _, rs := range r.active {
		if !rs.inRun || rs.rate == 0 {
			continue
		}
		target := to
		if rs.rs != nil {
			target += rs.rs.delay // outputs lag the input by the filter delay
		}
		if target = min(target, rs.endOut); rs.runOut() < target {
			r.gapTo(rs, target)
		}
	}
}

// gapTo starts a run at pos or fills the stream from its end up to pos.
func (r *renderer) gapTo(rs *rstream, pos int64) {
	if !rs.inRun {
		r.startRun(rs, pos)
		return
	}
	l := int64(rs.l)
	n := (pos - rs.runOut()) / l
	if n <= 0 {
		return
	}
	frame := int64(80)
	if rs.last != nil {
		frame = int64(rs.last.dec.FrameSamples())
	}
	// Fill that would land entirely before the emitted part of the timeline
	// is skipped (a run break) instead of being concealed frame by frame.
	if skip := (r.tl.flushed-rs.runOut())/l - 2*frame; skip > 0 {
		skip = min(skip, n)
		r.endRun(rs)
		r.startRun(rs, rs.runOut()+skip*l)
		n -= skip
	}
	m := n // samples to fill; the rest of the gap stays silent
	if !rs.cn {
		// Concealment for at most maxConcealNS per gap: the rest costs
		// nothing (the run breaks and the next one starts after it).
		m = 0
		if rs.last != nil {
			m = min(n, max(nsToSamples(maxConcealNS, rs.rate, true)-rs.concealed, 0))
		}
	}
	rest := n - m
	n = m
	if int64(len(r.fill)) < frame {
		r.fill = make([]int16, frame)
	}
	for n > 0 {
		k := min(frame, n)
		f := r.fill[:frame]
		switch {
		case rs.cn:
			rs.noise.fill(f[:k])
		case rs.last != nil:
			if c, err := rs.last.dec.Conceal(f); err != nil || c <= 0 {
				clear(f)
			}
			rs.concealed += frame // the decoder produced a whole frame
		default:
			clear(f)
		}
		r.push(rs, f[:k])
		n -= k
	}
	if rest > 0 {
		r.endRun(rs)
		r.startRun(rs, rs.runStart+rest*l)
	}
}

// startRun starts a run of rs at output position pos.
func (r *renderer) startRun(rs *rstream, pos int64) {
	rs.inRun, rs.runStart, rs.nIn, rs.emitted = true, pos, 0, 0
	if rs.rs != nil {
		rs.rs.reset()
	}
}

// maxConcealNS is how much of one gap is filled by the decoder's
// concealment (loss concealment, or comfort noise of codecs with built-in
// DTX); the rest of a longer gap is silence and costs no decoding.
const maxConcealNS = 2_000_000_000

// push appends native samples to the stream's run.
func (r *renderer) push(rs *rstream, smp []int16) {
	if rs.rs == nil {
		r.tl.write(rs.ch, rs.runOut(), smp)
		rs.nIn += int64(len(smp))
		rs.emitted = rs.nIn
		return
	}
	const chunk = 1024
	if need := chunk * rs.l; len(r.res) < need+int(rs.rs.delay) {
		r.res = make([]int16, need+int(rs.rs.delay))
	}
	for len(smp) > 0 {
		c := smp[:min(len(smp), chunk)]
		w := rs.rs.process(c, r.res)
		r.tl.write(rs.ch, rs.runStart+rs.emitted, r.res[:w])
		rs.emitted += int64(w)
		rs.nIn += int64(len(c))
		smp = smp[len(c):]
	}
}

// endRun writes the resampler's held-back tail and ends the run.
func (r *renderer) endRun(rs *rstream) {
	if !rs.inRun {
		return
	}
	if rs.rs != nil {
		if need := int(rs.rs.delay) + rs.l; len(r.res) < need {
			r.res = make([]int16, need)
		}
		w := rs.rs.drain(r.res)
		r.tl.write(rs.ch, rs.runStart+rs.emitted, r.res[:w])
		rs.emitted += int64(w)
	}
	rs.runStart = rs.runOut()
	rs.nIn, rs.emitted = 0, 0
	rs.inRun = false
}
