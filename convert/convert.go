// Package convert turns a stored capture into audio: it walks a pcap or
// pcapng file down to UDP datagrams (source.go), runs the media package's two
// passes over them (analysis, then rendering) and writes the stereo WAV file,
// whole or as a byte range. It holds no state and touches no database, so the
// ingest service, the API and the convert subcommand share it.
package convert

import (
	"context"
	"errors"
	"fmt"
	"io"

	"recordings/media"
)

// Opener opens the capture from its start. Conversion reads a capture twice
// (analysis, then rendering) so that memory stays flat for any call length.
type Opener func() (io.ReadCloser, error)

// Analyze runs the first pass over a capture: streams, codecs, statistics.
func Analyze(open Opener, opt media.Options) (*media.Analysis, error) {
	rc, err := open()
	if err != nil {
		return nil, fmt.Errorf("open capture: %w", err)
	}
	defer rc.Close()
	src, err := newCaptureSource(rc)
	if err != nil {
		return nil, err
	}
	a, err := media.Analyze(src, opt)
	if err != nil {
		return nil, fmt.Errorf("analyse capture: %w", err)
	}
	a.Warnings = append(a.Warnings, src.warnings()...)
	return a, nil
}

// Render runs the second pass: it decodes the capture described by a into sink.
func Render(a *media.Analysis, open Opener, sink media.PCMSink) error {
	return RenderContext(context.Background(), a, open, sink)
}

// RenderContext is Render that stops with ctx's error once ctx is done.
func RenderContext(ctx context.Context, a *media.Analysis, open Opener, sink media.PCMSink) error {
	rc, err := open()
	if err != nil {
		return fmt.Errorf("open capture: %w", err)
	}
	defer rc.Close()
	src, err := newCaptureSource(rc)
	if err != nil {
		return err
	}
	if err := a.RenderContext(ctx, src, sink); err != nil {
		return fmt.Errorf("render audio: %w", err)
	}
	return nil
}

// WAVSize is the byte length of the WAV file that WriteWAV produces for a.
func WAVSize(a *media.Analysis) int64 {
	return int64(len(media.WAVHeader(a.SampleRate, 2, a.Samples))) + a.Samples*4
}

// WriteWAV writes the whole stereo WAV file (header and samples) to w.
func WriteWAV(a *media.Analysis, open Opener, w io.Writer) error {
	return WriteWAVContext(context.Background(), a, open, w)
}

// WriteWAVContext is WriteWAV that stops with ctx's error once ctx is done.
func WriteWAVContext(ctx context.Context, a *media.Analysis, open Opener, w io.Writer) error {
	if _, err := w.Write(media.WAVHeader(a.SampleRate, 2, a.Samples)); err != nil {
		return fmt.Errorf("write wav header: %w", err)
	}
	sink := media.NewWAVSink(w)
	if err := RenderContext(ctx, a, open, sink); err != nil {
		return err
	}
	if err := sink.Flush(); err != nil {
		return fmt.Errorf("write wav: %w", err)
	}
	return nil
}

// errWindowDone stops a render once the requested byte range is written.
var errWindowDone = errors.New("range written")

// windowWriter passes on bytes [off, off+n) of what is written to it and
// discards the rest, so that a Range request renders only up to its end.
type windowWriter struct {
	w        io.Writer
	pos, off int64
	end      int64
}

func (ww *windowWriter) Write(p []byte) (int, error) {
	n := len(p)
	start, stop := ww.pos, ww.pos+int64(n)
	ww.pos = stop
	if stop <= ww.off {
		return n, nil
	}
	lo := max(ww.off, start) - start
	hi := min(ww.end, stop) - start
	if hi > lo {
		if _, err := ww.w.Write(p[lo:hi]); err != nil {
			return 0, err
		}
	}
	if stop >= ww.end {
		return n, errWindowDone
	}
	return n, nil
}

// WriteWAVRange writes bytes [off, off+length) of the WAV file to w.
func WriteWAVRange(a *media.Analysis, open Opener, w io.Writer, off, length int64) error {
	return WriteWAVRangeContext(context.Background(), a, open, w, off, length)
}

// WriteWAVRangeContext is WriteWAVRange that stops with ctx's error once ctx
// is done (a client that went away).
func WriteWAVRangeContext(ctx context.Context, a *media.Analysis, open Opener, w io.Writer, off, length int64) error {
	ww := &windowWriter{w: w, off: off, end: off + length}
	err := WriteWAVContext(ctx, a, open, ww)
	if errors.Is(err, errWindowDone) {
		return nil
	}
	return err
}
