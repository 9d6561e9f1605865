package media

import (
	"errors"
	"fmt"
	"io"
	"net/netip"
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
	Rendered    bool           `json:"rendered"`  // part of the output
	Note        string         `json:"note,omitempty"`
	First       time.Time      `json:"first"` // capture time of the first packet
	Last        time.Time      `json:"last"`  // capture time of the last packet
	DurationMS  int64          `json:"duration_ms"`

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
	readErr bool                  // pass 1 ended on a read error after Packets packets
}

// planned is the render plan of one stream.
type planned struct {
	ch    int   // 0 local, 1 remote
	endNS int64 // capture-clock end of its last audio
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
	for i, s := range e.list {
		st := StreamStats{
			SSRC: s.key.ssrc, Src: s.key.src, Dst: s.key.dst,
			Packets: s.packets, Lost: s.j.lost(), Duplicates: s.j.dups,
			Reordered: s.j.reordered, Late: s.j.late, GapMS: s.pl.gapNS / 1e6,
			CN: s.cn, Events: s.events, Resyncs: s.pl.resyncs,
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
	var startNS, endNS int64
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
		a.dir[s.key] = planned{ch: chans[i], endNS: s.maxEndNS}
		if first || s.minPosNS < startNS {
			startNS = s.minPosNS
		}
		if first || s.maxEndNS > endNS {
			endNS = s.maxEndNS
		}
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
	a.startNS = startNS
	a.Start = time.Unix(0, startNS).UTC()
	span := endNS - startNS
	if limit := a.opt.MaxDuration.Nanoseconds(); span > limit || span < 0 {
		a.Warnings = append(a.Warnings, fmt.Sprintf("timeline of %v capped at %v", time.Duration(span), a.opt.MaxDuration))
		span = limit
	}
	a.Samples = nsToSamples(span, a.SampleRate, true)
	return nil
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
