package media

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"slices"
	"sort"
	"time"

	"recordings/codec"
)

// ErrNoRTP means the capture holds no usable RTP audio.
var ErrNoRTP = errors.New("no RTP audio in capture")

// ErrUnsupportedCodec means the capture's audio uses only codecs without a
// decoder. It wraps codec.ErrUnsupported; returned errors carry the codec
// name, e.g. "unsupported codec opus".
var ErrUnsupportedCodec error = unsupportedCodecError{}

type unsupportedCodecError struct{}

func (unsupportedCodecError) Error() string { return "unsupported codec" }
func (unsupportedCodecError) Unwrap() error { return codec.ErrUnsupported }

// Options tune the analysis; zero fields take their defaults.
type Options struct {
	// MaxDuration caps the length of the timeline (default 12 h).
	MaxDuration time.Duration
	// ReorderWindow is how long (capture time) an out-of-order packet is
	// waited for (default 1 s); ReorderPackets how many packets may be held
	// per stream (default 64, at most 256). Packets arriving after their
	// place was given up are counted late and dropped.
	ReorderWindow  time.Duration
	ReorderPackets int
	// ResyncAhead / ResyncBehind: a packet whose timestamp-derived position is
	// more than ResyncAhead (default 2 s) ahead of, or ResyncBehind (default
	// 10 s) behind its capture time re-anchors its stream on the capture clock.
	ResyncAhead, ResyncBehind time.Duration
	// MaxIdle is the longest gap the packets of one stream may leave and
	// still have it filled (loss concealment, DTX, comfort noise) and kept
	// on the timeline (default 60 s, at most 1 h). A longer gap between two
	// consecutive packets of a stream is a discontinuity: the packet after
	// it is placed at its capture time and the gap stays unfilled. A stretch
	// of the capture longer than MaxIdle in which no rendered stream has
	// audio is shortened to MaxIdle on the timeline.
	MaxIdle time.Duration
	// MaxStreams caps the number of RTP streams tracked (default 64).
	MaxStreams int

	// newDecoder replaces codec.New (tests only).
	newDecoder func(name string) (codec.Decoder, error)
}

func (o Options) withDefaults() Options {
	if o.MaxDuration <= 0 {
		o.MaxDuration = 12 * time.Hour
	}
	if o.ReorderWindow <= 0 {
		o.ReorderWindow = time.Second
	}
	o.ReorderWindow = min(o.ReorderWindow, 10*time.Second)
	if o.ReorderPackets <= 0 {
		o.ReorderPackets = 64
	}
	o.ReorderPackets = min(o.ReorderPackets, maxHoldWindow)
	if o.ResyncAhead <= 0 {
		o.ResyncAhead = 2 * time.Second
	}
	if o.ResyncBehind <= 0 {
		o.ResyncBehind = 10 * time.Second
	}
	o.ResyncAhead = min(o.ResyncAhead, time.Minute)
	o.ResyncBehind = min(o.ResyncBehind, time.Minute)
	if o.MaxIdle <= 0 {
		o.MaxIdle = time.Minute
	}
	o.MaxIdle = min(o.MaxIdle, time.Hour)
	if o.MaxStreams <= 0 {
		o.MaxStreams = 64
	}
	if o.newDecoder == nil {
		o.newDecoder = codec.New
	}
	return o
}

// Direction names.
const (
	Local  = "local"
	Remote = "remote"
)

// StreamStats describes one RTP stream of the capture.
type StreamStats struct {
	Direction   string         `json:"direction"` // "local", "remote" or "" (not audio)
	SSRC        uint32         `json:"ssrc"`
	Src         netip.AddrPort `json:"src"`
	Dst         netip.AddrPort `json:"dst"`
	PayloadType uint8          `json:"payload_type"` // first audio payload type
	Codec       string         `json:"codec"`
	ClockRate   int            `json:"clock_rate"`
	Packets     int64          `json:"packets"` // all RTP packets, duplicates included
	Lost        int64          `json:"lost"`    // extended sequence range minus unique packets received
	Duplicates  int64          `json:"duplicates"`
	Reordered   int64          `json:"reordered"` // arrived after a higher sequence number, still used
	Late        int64          `json:"late"`      // arrived after the reorder window, dropped
	GapMS       int64          `json:"gap_ms"`    // time filled by concealment, DTX or comfort noise
	CN          int64          `json:"cn"`        // RFC 3389 comfort-noise packets
	Events      int64          `json:"events"`    // RFC 4733 telephone-event packets (skipped)
	Resyncs     int64          `json:"resyncs"`   // timestamp jumps re-anchored on the capture clock
	// Discontinuities are gaps longer than Options.MaxIdle between two
	// packets: not filled, the packet after them placed by capture time.
	Discontinuities int64     `json:"discontinuities,omitempty"`
	Rendered        bool      `json:"rendered"` // part of the output
	Note            string    `json:"note,omitempty"`
	First           time.Time `json:"first"` // capture time of the first packet
	Last            time.Time `json:"last"`  // capture time of the last packet
	DurationMS      int64     `json:"duration_ms"`

	key streamKey
}

// Analysis is the result of pass 1 and the plan for Render.
type Analysis struct {
	Streams    []StreamStats `json:"streams"`
	Warnings   []string      `json:"warnings"`
	SampleRate int           `json:"sample_rate"` // output rate
	Samples    int64         `json:"samples"`     // output frames per channel
	Start      time.Time     `json:"start"`       // capture time of output sample 0

	Packets int64 `json:"packets"` // packets read
	SIP     int64 `json:"sip"`     // SIP messages
	NonRTP  int64 `json:"non_rtp"` // UDP payloads that are neither SIP nor RTP/RTCP
	RTCP    int64 `json:"rtcp"`    // RTCP packets
	Ignored int64 `json:"ignored"` // RTP packets beyond MaxStreams

	opt     Options
	startNS int64
	dir     map[streamKey]planned // rendered streams
	islands []island              // the covered stretches of the capture clock, in order
	readErr bool                  // pass 1 ended on a read error after Packets packets
	// lastPkt is the number of each stream's last packet: a checkpoint
	// after it keeps only what other streams may still read of it.
	lastPkt map[streamKey]int64
}

// planned is the render plan of one stream.
type planned struct {
	ch   int       // 0 local, 1 remote
	segs []segment // capture-clock stretches of its audio, one per discontinuity
}

// island is a stretch of the capture clock covered by the audio of rendered
// streams; idle time between islands beyond Options.MaxIdle is cut from the
// timeline. shiftNS is the idle time cut before the island.
type island struct {
	startNS, endNS, shiftNS int64
}

// DurationMS is the length of the timeline in milliseconds.
func (a *Analysis) DurationMS() int64 {
	if a.SampleRate <= 0 {
		return 0
	}
	return a.Samples * 1000 / int64(a.SampleRate)
}

// Analyze runs pass 1 over src. It fails only when the capture has no
// usable audio: ErrNoRTP, or ErrUnsupportedCodec naming the codec. Even
// then the returned Analysis carries the statistics and warnings (it cannot
// be rendered). A read error other than io.EOF ends the capture and becomes
// a warning.
func Analyze(src Source, opt Options) (*Analysis, error) {
	opt = opt.withDefaults()
	e := newEngine(opt, false, nil)
	a := &Analysis{opt: opt}
	for {
		p, err := src.Next()
		if err != nil {
			if !errors.Is(err, io.EOF) {
				a.readErr = true
				e.warn("capture ends with a read error after %d packets: %v", e.packets, err)
			}
			break
		}
		e.feed(&p)
	}
	e.finish()
	a.Packets, a.SIP, a.NonRTP, a.RTCP, a.Ignored = e.packets, e.sip, e.nonRTP, e.rtcp, e.dropped
	return a, a.plan(e)
}

// plan turns the engine state after pass 1 into statistics, directions and
// the timeline geometry.
func (a *Analysis) plan(e *engine) error {
	chans := assignDirections(e.list)
	var unsupported string
	a.dir = make(map[streamKey]planned)
	a.lastPkt = make(map[streamKey]int64, len(e.list))
	for _, s := range e.list {
		a.lastPkt[s.key] = s.lastPkt
	}
	for i, s := range e.list {
		st := StreamStats{
			SSRC: s.key.ssrc, Src: s.key.src, Dst: s.key.dst,
			Packets: s.packets, Lost: s.j.lost(), Duplicates: s.j.dups,
			Reordered: s.j.reordered, Late: s.j.late, GapMS: s.pl.gapNS / 1e6,
			CN: s.cn, Events: s.events, Resyncs: s.pl.resyncs, Discontinuities: s.pl.breaks,
			First: time.Unix(0, s.firstNS).UTC(), Last: time.Unix(0, s.lastNS).UTC(),
			key: s.key,
		}
		if s.placed {
			st.DurationMS = max(0, (s.maxEndNS-s.minPosNS)/1e6)
		}
		if ch := chans[i]; ch >= 0 {
			st.Direction = [2]string{Local, Remote}[ch]
		}
		if s.main != nil {
			st.PayloadType, st.Codec, st.ClockRate = s.pt, s.main.name, s.main.clock
		}
		switch {
		case s.audio > 0 && chans[i] >= 0:
			st.Rendered = true
		case s.unsupported > 0:
			st.Note = fmt.Sprintf("unsupported codec %s", s.main.name)
			if unsupported == "" {
				unsupported = s.main.name
			}
		case s.unknown > 0 && s.audio == 0:
			st.Note = "payload type without rtpmap"
			if unsupported == "" {
				unsupported = fmt.Sprintf("payload type %d", s.unknownPT)
			}
		default:
			st.Note = "no audio"
		}
		a.Streams = append(a.Streams, st)
	}
	// Output rate: the highest decoder rate; rates must divide it.
	for i, s := range e.list {
		if a.Streams[i].Rendered {
			a.SampleRate = max(a.SampleRate, s.maxRate)
		}
	}
	var segs []segment
	first := true
	for i, s := range e.list {
		st := &a.Streams[i]
		if !st.Rendered {
			if st.Note != "" && st.Note != "no audio" {
				e.warn("stream %s: %s; not rendered", streamName(st), st.Note)
			}
			continue
		}
		if a.SampleRate%s.minRate != 0 || a.SampleRate%s.maxRate != 0 {
			st.Rendered = false
			st.Note = fmt.Sprintf("sample rate %d does not divide the output rate %d", s.minRate, a.SampleRate)
			e.warn("stream %s: %s; not rendered", streamName(st), st.Note)
			continue
		}
		if st.Resyncs > 0 {
			e.warn("stream %s: %d timestamp jumps re-anchored on the capture clock", streamName(st), st.Resyncs)
		}
		if st.Discontinuities > 0 {
			e.warn("stream %s: %d gaps longer than %v left unfilled and placed by capture time", streamName(st), st.Discontinuities, a.opt.MaxIdle)
		}
		a.dir[s.key] = planned{ch: chans[i], segs: s.segs}
		segs = append(segs, s.segs...)
		first = false
	}
	a.Warnings = e.warns
	if first {
		a.SampleRate = 0
		if unsupported != "" {
			return fmt.Errorf("%w %s", ErrUnsupportedCodec, unsupported)
		}
		return ErrNoRTP
	}
	var sides [2]bool
	for _, p := range a.dir {
		sides[p.ch] = true
	}
	switch {
	case !sides[0]:
		a.Warnings = append(a.Warnings, "only the remote side has audio; the local channel is silent")
	case !sides[1]:
		a.Warnings = append(a.Warnings, "only the local side has audio; the remote channel is silent")
	}
	cut, span, ok := a.layout(segs)
	if !ok { // rendered streams without a placed packet: nothing to render
		a.SampleRate = 0
		return ErrNoRTP
	}
	if n := len(a.islands) - 1; n > 0 {
		a.Warnings = append(a.Warnings, fmt.Sprintf("%d stretches without audio longer than %v shortened to %v (%v cut)",
			n, a.opt.MaxIdle, a.opt.MaxIdle, time.Duration(cut)))
	}
	if limit := a.opt.MaxDuration.Nanoseconds(); span > limit || span < 0 {
		a.Warnings = append(a.Warnings, fmt.Sprintf("timeline of %v capped at %v", time.Duration(span), a.opt.MaxDuration))
	}
	return nil
}

// layout sets the timeline's geometry from the segments of the rendered
// streams (in the order of a.Streams): the islands, the start and the
// length in samples, capped at MaxDuration. It returns the idle time cut
// and the span before the cap; ok is false when there is no segment.
// ParsePlan computes a stored plan's geometry with it as Analyze does.
func (a *Analysis) layout(segs []segment) (cut, span int64, ok bool) {
	a.islands, cut = islands(segs, a.opt.MaxIdle.Nanoseconds())
	if len(a.islands) == 0 {
		return 0, 0, false
	}
	startNS := a.islands[0].startNS
	last := a.islands[len(a.islands)-1]
	a.startNS = startNS
	a.Start = time.Unix(0, startNS).UTC()
	span = satSub(satSub(last.endNS, last.shiftNS), startNS)
	capped := span
	if limit := a.opt.MaxDuration.Nanoseconds(); span > limit || span < 0 {
		capped = limit
	}
	a.Samples = nsToSamples(capped, a.SampleRate, true)
	return cut, span, true
}

// nsToSamples converts a duration in ns to samples at rate, rounding down or up.
func nsToSamples(ns int64, rate int, up bool) int64 {
	if ns <= 0 {
		return 0
	}
	sec, rem := ns/1e9, ns%1e9
	n := sec*int64(rate) + rem*int64(rate)/1e9
	if up && (rem*int64(rate))%1e9 != 0 {
		n++
	}
	return n
}

func streamName(st *StreamStats) string {
	return fmt.Sprintf("%s->%s ssrc %08x", st.Src, st.Dst, st.SSRC)
}

// islands merges the segments of the rendered streams into the covered
// stretches of the capture clock: segments less than idle apart join (the
// silence between them stays), longer idle stretches are cut to idle. It
// returns the islands in order and the total time cut.
func islands(segs []segment, idle int64) ([]island, int64) {
	slices.SortFunc(segs, func(a, b segment) int { return cmp.Compare(a.start, b.start) })
	var out []island
	var shift int64
	for _, g := range segs {
		if n := len(out); n > 0 {
			cur := &out[n-1]
			if gap := satSub(g.start, cur.endNS); gap <= idle {
				cur.endNS = max(cur.endNS, g.end)
				continue
			} else {
				shift = satAdd(shift, gap-idle)
			}
		}
		out = append(out, island{startNS: g.start, endNS: max(g.end, g.start), shiftNS: shift})
	}
	return out, shift
}

// compressNS maps a capture-clock position to the timeline: the position
// minus the idle time cut before it.
func (a *Analysis) compressNS(ns int64) int64 {
	i := sort.Search(len(a.islands), func(i int) bool { return a.islands[i].startNS > ns }) - 1
	if i < 0 {
		return ns
	}
	return ns - a.islands[i].shiftNS
}
