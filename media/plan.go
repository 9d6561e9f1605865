package media

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"time"
	"unicode/utf8"

	"recordings/codec/snap"
)

// The render plan is what a render takes from an Analysis (the streams
// with their channels and segments, each stream's last packet, the output
// rate and length, the packet count and whether pass 1 ended on a read
// error) together with the statistics and warnings, in a stored form: a
// recording analysed once is rendered, and its ranges resumed from
// checkpoints, after a restart without reading its capture a first time.
//
//	"RPL" | version (1 byte, 1) | body | CRC-32 (IEEE) of everything before it, big-endian
//
// where body is, in snap encoding: the options the analysis ran with
// (after defaults: MaxDuration, ReorderWindow, ReorderPackets,
// ResyncAhead, ResyncBehind, MaxIdle, MaxStreams), SampleRate, Samples,
// Packets, SIP, NonRTP, RTCP, Ignored, the read-error flag, the number of
// streams and, per stream in the analysis' order: source and destination
// address, SSRC, channel (-1 none, 0 local, 1 remote), payload type,
// codec, clock rate, the eleven counters of StreamStats, rendered, note,
// first and last capture time (Unix ns), the number of its last packet
// and, for a rendered stream, its segments (count, then start and end on
// the capture clock); then the number of warnings and each warning.
//
// The timeline's geometry (islands, start, length) is not stored: it is
// computed from the segments as Analyze computes it, and must come to the
// stored Samples. Notes and warnings are stored cut to maxPlanText bytes
// and at most maxPlanWarnings of them; they play no part in a render.

const (
	planMagic   = "RPL"
	planVersion = 1
	// maxPlanText bounds a stored note or warning, maxPlanWarnings their
	// number.
	maxPlanText     = 1024
	maxPlanWarnings = 256
	// MaxStoredPlan bounds a stored plan: 64 streams with the most
	// segments each and every warning at its longest stay below it.
	MaxStoredPlan = 4 << 20
)

// ErrPlanUnusable means a stored render plan does not parse (truncated,
// of another version, failing its checksum, with values out of range or
// not adding up to its timeline) or was recorded with other analysis
// options: analyse the capture instead.
var ErrPlanUnusable = errors.New("media: stored render plan unusable")

// MarshalPlan encodes the render plan of a, the result of a successful
// Analyze (or of ParsePlan), for storage; ParsePlan reads it back.
func (a *Analysis) MarshalPlan() ([]byte, error) {
	if a == nil || a.SampleRate <= 0 || a.dir == nil {
		return nil, errors.New("media: render plan of an analysis that cannot render")
	}
	w := snap.Writer{B: make([]byte, 0, 256+128*len(a.Streams))}
	w.B = append(w.B, planMagic...)
	w.Byte(planVersion)
	for _, v := range planOptions(a.opt) {
		w.Int(v)
	}
	for _, v := range []int64{int64(a.SampleRate), a.Samples, a.Packets, a.SIP, a.NonRTP, a.RTCP, a.Ignored} {
		w.Int(v)
	}
	w.Bool(a.readErr)
	w.Uint(uint64(len(a.Streams)))
	for i := range a.Streams {
		st := &a.Streams[i]
		appendAddr(&w, st.key.src)
		appendAddr(&w, st.key.dst)
		w.Uint(uint64(st.key.ssrc))
		w.Int(int64(directionChannel(st.Direction)))
		w.Uint(uint64(st.PayloadType))
		w.Bytes([]byte(st.Codec))
		w.Int(int64(st.ClockRate))
		for _, v := range []int64{st.Packets, st.Lost, st.Duplicates, st.Reordered, st.Late, st.GapMS,
			st.CN, st.Events, st.Resyncs, st.Discontinuities, st.DurationMS} {
			w.Int(v)
		}
		w.Bool(st.Rendered)
		w.Bytes(cutText(st.Note))
		w.Int(st.First.UnixNano())
		w.Int(st.Last.UnixNano())
		w.Int(a.lastPkt[st.key])
		if st.Rendered {
			pl := a.dir[st.key]
			w.Uint(uint64(len(pl.segs)))
			for _, g := range pl.segs {
				w.Int(g.start)
				w.Int(g.end)
			}
		}
	}
	warns := a.Warnings[:min(len(a.Warnings), maxPlanWarnings)]
	w.Uint(uint64(len(warns)))
	for _, s := range warns {
		w.Bytes(cutText(s))
	}
	if len(w.B) > MaxStoredPlan-4 {
		return nil, fmt.Errorf("media: render plan of %d bytes: over %d", len(w.B), MaxStoredPlan)
	}
	return binary.BigEndian.AppendUint32(w.B, crc32.ChecksumIEEE(w.B)), nil
}

// planOptions are the options that shape an analysis, as stored.
func planOptions(o Options) []int64 {
	return []int64{o.MaxDuration.Nanoseconds(), o.ReorderWindow.Nanoseconds(), int64(o.ReorderPackets),
		o.ResyncAhead.Nanoseconds(), o.ResyncBehind.Nanoseconds(), o.MaxIdle.Nanoseconds(), int64(o.MaxStreams)}
}

func directionChannel(d string) int {
	switch d {
	case Local:
		return 0
	case Remote:
		return 1
	}
	return -1
}

// cutText is s, cut to at most maxPlanText bytes at a character boundary.
func cutText(s string) []byte {
	if len(s) <= maxPlanText {
		return []byte(s)
	}
	n := maxPlanText
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return []byte(s[:n])
}

// ParsePlan decodes what MarshalPlan wrote into an Analysis that renders
// exactly as the one it was recorded from, given the same options as opt
// (the analysis ran with). It fails with ErrPlanUnusable on anything else.
func ParsePlan(b []byte, opt Options) (*Analysis, error) {
	if len(b) > MaxStoredPlan {
		return nil, fmt.Errorf("%w: %d bytes", ErrPlanUnusable, len(b))
	}
	if len(b) < len(planMagic)+1+4 || string(b[:len(planMagic)]) != planMagic {
		return nil, fmt.Errorf("%w: not a render plan", ErrPlanUnusable)
	}
	body, sum := b[:len(b)-4], binary.BigEndian.Uint32(b[len(b)-4:])
	if crc32.ChecksumIEEE(body) != sum {
		return nil, fmt.Errorf("%w: checksum mismatch", ErrPlanUnusable)
	}
	if v := body[len(planMagic)]; v != planVersion {
		return nil, fmt.Errorf("%w: version %d", ErrPlanUnusable, v)
	}
	opt = opt.withDefaults()
	r := snap.NewReader(body[len(planMagic)+1:])
	for i, want := range planOptions(opt) {
		if v := r.Int(); v != want && r.Err() == nil {
			return nil, fmt.Errorf("%w: recorded with analysis option %d = %d, not %d", ErrPlanUnusable, i, v, want)
		}
	}
	const maxCount = 1 << 50
	a := &Analysis{opt: opt}
	a.SampleRate = int(r.Range(1000, 192000, "sample rate"))
	a.Samples = r.Range(1, maxCount, "samples")
	for _, v := range []*int64{&a.Packets, &a.SIP, &a.NonRTP, &a.RTCP, &a.Ignored} {
		*v = r.Range(0, maxCount, "count")
	}
	a.readErr = r.Bool()
	n := r.Len(opt.MaxStreams, "streams")
	// Every stream takes more than 32 bytes: no allocation beyond what the
	// input can hold.
	if n > r.Left()/32 {
		r.Fail("%d streams in %d bytes", n, r.Left())
		n = 0
	}
	a.Streams = make([]StreamStats, 0, n)
	a.dir = make(map[streamKey]planned)
	a.lastPkt = make(map[streamKey]int64, n)
	var segs []segment
	for range n {
		st := parsePlanStream(r, a)
		if r.Err() != nil {
			break
		}
		if _, dup := a.lastPkt[st.key]; dup {
			r.Fail("stream listed twice")
			break
		}
		a.lastPkt[st.key] = r.Range(0, a.Packets, "last packet")
		if st.Rendered {
			ns := r.Len(maxSegments, "segments")
			if ns > r.Left()/2 {
				r.Fail("%d segments in %d bytes", ns, r.Left())
				break
			}
			var pl planned
			pl.ch = directionChannel(st.Direction)
			if ns > 0 {
				pl.segs = make([]segment, ns)
				for i := range pl.segs {
					pl.segs[i] = segment{r.Int(), r.Int()}
				}
			}
			a.dir[st.key] = pl
			segs = append(segs, pl.segs...)
		}
		a.Streams = append(a.Streams, st)
	}
	nw := r.Len(maxPlanWarnings, "warnings")
	if nw > r.Left() {
		r.Fail("%d warnings in %d bytes", nw, r.Left())
		nw = 0
	}
	for range nw {
		a.Warnings = append(a.Warnings, string(r.Bytes(maxPlanText)))
	}
	if err := r.Done(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrPlanUnusable, err)
	}
	if len(a.dir) == 0 {
		return nil, fmt.Errorf("%w: no rendered stream", ErrPlanUnusable)
	}
	samples := a.Samples
	if _, _, ok := a.layout(segs); !ok || a.Samples != samples {
		return nil, fmt.Errorf("%w: timeline of %d samples, stored %d", ErrPlanUnusable, a.Samples, samples)
	}
	return a, nil
}

// parsePlanStream reads one stream's statistics.
func parsePlanStream(r *snap.Reader, a *Analysis) StreamStats {
	var st StreamStats
	st.key.src = readAddr(r)
	st.key.dst = readAddr(r)
	st.key.ssrc = uint32(r.UintMax(1<<32-1, "SSRC"))
	st.Src, st.Dst, st.SSRC = st.key.src, st.key.dst, st.key.ssrc
	if ch := r.Range(-1, 1, "channel"); ch >= 0 {
		st.Direction = [2]string{Local, Remote}[ch]
	}
	st.PayloadType = uint8(r.UintMax(127, "payload type"))
	st.Codec = string(r.Bytes(maxStateName))
	st.ClockRate = int(r.Range(0, 192000, "clock rate"))
	for _, v := range []*int64{&st.Packets, &st.Lost, &st.Duplicates, &st.Reordered, &st.Late, &st.GapMS,
		&st.CN, &st.Events, &st.Resyncs, &st.Discontinuities, &st.DurationMS} {
		*v = r.Int()
	}
	st.Rendered = r.Bool()
	st.Note = string(r.Bytes(maxPlanText))
	st.First = time.Unix(0, r.Int()).UTC()
	st.Last = time.Unix(0, r.Int()).UTC()
	if st.Rendered && st.Direction == "" {
		r.Fail("rendered stream without a channel")
	}
	return st
}
