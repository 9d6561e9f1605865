package convert

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"recordings/media"
	"recordings/pcap"
)

// CheckpointEvery is how much audio lies between two render checkpoints:
// a range starts at most this much audio before its first byte (plus the
// timeline's look-ahead), and a checkpoint of a two-way call costs about
// 0.1 to 4 KB (G.711 to G.729) — see docs/benchmarks.md for the figures
// behind the choice.
const CheckpointEvery = 5 * time.Second

// maxHeader bounds the start of a capture a resumed render reads first (the
// file header and the records up to the first UDP packet).
const maxHeader = 1 << 20

// Pos is the capture offset of the record the next Next reads.
func (s *captureSource) Pos() int64 { return s.r.Offset() }

// headerSource notes where the capture's first UDP packet record ends: a
// resumed render reads the file up to there, then continues at its
// checkpoint.
// A source without file offsets (the convert command's in-memory index)
// records none, so its checkpoints are dropped and ranges render from the
// start.
type headerSource struct {
	source
	header int64
}

func (h *headerSource) Next() (media.Packet, error) {
	p, err := h.source.Next()
	if cs, ok := h.source.(*captureSource); ok && err == nil && h.header == 0 {
		h.header = cs.r.Offset()
	}
	return p, err
}

// Pos implements media.PositionSource: the file offset of the next record,
// or 0 for a source without one.
func (h *headerSource) Pos() int64 {
	if cs, ok := h.source.(*captureSource); ok {
		return cs.Pos()
	}
	return 0
}

// RenderCheckpoints is RenderContext that also records render checkpoints
// every CheckpointEvery of audio (or every, when positive), from which
// WriteWAVRangeCheckpoints resumes.
func RenderCheckpoints(ctx context.Context, a *media.Analysis, open Opener, sink media.PCMSink, every time.Duration) (*media.Checkpoints, error) {
	if every <= 0 {
		every = CheckpointEvery
	}
	rc, err := open()
	if err != nil {
		return nil, fmt.Errorf("open capture: %w", err)
	}
	defer rc.Close()
	cs, err := newCaptureSource(rc)
	if err != nil {
		return nil, err
	}
	src := &headerSource{source: cs}
	cps, err := a.RenderCheckpoints(ctx, src, sink, int64(every.Seconds()*float64(a.SampleRate)))
	if err != nil {
		return nil, fmt.Errorf("render audio: %w", err)
	}
	cps.Header = src.header
	if cps.Header <= 0 || cps.Header > maxHeader {
		cps.List = nil // no resumable start: ranges render from the beginning
	}
	return cps, nil
}

// resumeSource opens the capture for a render resumed at cp: the file's
// first cps.Header bytes (its header and the records up to the first UDP
// packet, which are skipped), then the records from cp.Offset on.
func resumeSource(rc io.ReadCloser, cps *media.Checkpoints, cp *media.Checkpoint) (*captureSource, error) {
	rs, ok := rc.(io.ReadSeeker)
	if !ok {
		return nil, fmt.Errorf("%w: capture cannot seek", media.ErrCheckpoint)
	}
	if cps.Header <= 0 || cps.Header > maxHeader || cp.Offset < cps.Header {
		return nil, fmt.Errorf("%w: header of %d bytes, checkpoint at %d", media.ErrCheckpoint, cps.Header, cp.Offset)
	}
	head := make([]byte, cps.Header)
	if _, err := io.ReadFull(rs, head); err != nil {
		return nil, fmt.Errorf("read capture header: %w", err)
	}
	if _, err := rs.Seek(cp.Offset, io.SeekStart); err != nil {
		return nil, fmt.Errorf("seek capture: %w", err)
	}
	pr, err := pcap.NewReader(io.MultiReader(bytes.NewReader(head), rs))
	if err != nil {
		return nil, fmt.Errorf("read capture: %w", err)
	}
	for pr.Offset() < cps.Header {
		if _, err := pr.Next(); err != nil {
			return nil, fmt.Errorf("%w: capture header: %w", media.ErrCheckpoint, err)
		}
	}
	if pr.Offset() != cps.Header {
		return nil, fmt.Errorf("%w: records end at %d, not at %d", media.ErrCheckpoint, pr.Offset(), cps.Header)
	}
	return &captureSource{r: pr}, nil
}

// WriteWAVRangeCheckpoints is WriteWAVRangeContext that starts the render
// at the last checkpoint before the range when cps (recorded for a) has
// one, so that its first byte comes after rendering a few seconds of audio
// instead of everything before the range. The bytes are those of the full
// render. Without a usable checkpoint it renders from the start.
func WriteWAVRangeCheckpoints(ctx context.Context, a *media.Analysis, cps *media.Checkpoints, open Opener, w io.Writer, off, length int64) error {
	if cp, sample := resumeAt(a, cps, off, length); cp != nil {
		hdr := int64(len(media.WAVHeader(a.SampleRate, 2, a.Samples)))
		ww := &windowWriter{w: w, pos: hdr + sample*4, off: off, end: off + length}
		err := renderFrom(ctx, a, cps, cp, open, ww, sample)
		switch {
		case errors.Is(err, errWindowDone) || err == nil:
			return nil
		case !errors.Is(err, media.ErrCheckpoint) || ww.pos != hdr+sample*4:
			return err
		}
		// The checkpoint does not fit (nothing was written): from the start.
	}
	return WriteWAVRangeContext(ctx, a, open, w, off, length)
}

// Resumable reports whether WriteWAVRangeCheckpoints starts the range
// [off, off+length) of a's WAV at one of cps rather than at the beginning
// (unless that checkpoint then fails to resume).
func Resumable(a *media.Analysis, cps *media.Checkpoints, off, length int64) bool {
	cp, _ := resumeAt(a, cps, off, length)
	return cp != nil
}

// resumeAt is the checkpoint a range of a's WAV starts at, and the range's
// first sample; nil when it renders from the start.
func resumeAt(a *media.Analysis, cps *media.Checkpoints, off, length int64) (*media.Checkpoint, int64) {
	hdr := int64(len(media.WAVHeader(a.SampleRate, 2, a.Samples)))
	if !cps.Matches(a) || off < hdr || length <= 0 {
		return nil, 0
	}
	sample := (off - hdr) / 4
	return cps.Find(sample), sample
}

func renderFrom(ctx context.Context, a *media.Analysis, cps *media.Checkpoints, cp *media.Checkpoint, open Opener, w io.Writer, sample int64) error {
	rc, err := open()
	if err != nil {
		return fmt.Errorf("open capture: %w", err)
	}
	defer rc.Close()
	src, err := resumeSource(rc, cps, cp)
	if err != nil {
		return err
	}
	sink := media.NewWAVSink(w)
	if err := a.RenderFrom(ctx, cps, cp, src, sink, sample); err != nil {
		return fmt.Errorf("render audio: %w", err)
	}
	if err := sink.Flush(); err != nil {
		return fmt.Errorf("write wav: %w", err)
	}
	return nil
}
