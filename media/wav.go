package media

import (
	"encoding/binary"
	"io"
	"math"
)

// The WAV writer is our own small streaming writer: github.com/youpy/go-wav
// is not served by the module proxy this project builds with, and the
// canonical 44-byte PCM header is simple enough.

// WAVHeader returns the canonical 44-byte RIFF/WAVE header for 16-bit PCM
// with the given rate, channel count and number of frames. Sizes that do not
// fit the 32-bit RIFF fields are clamped to the maximum (players then read to
// the end of the file).
func WAVHeader(sampleRate, channels int, frames int64) []byte {
	const bits = 16
	blockAlign := channels * bits / 8
	data := uint64(max(frames, 0)) * uint64(max(blockAlign, 0))
	riff := data + 36
	data = min(data, math.MaxUint32)
	riff = min(riff, math.MaxUint32)
	h := make([]byte, 44)
	copy(h[0:], "RIFF")
	binary.LittleEndian.PutUint32(h[4:], uint32(riff))
	copy(h[8:], "WAVEfmt ")
	binary.LittleEndian.PutUint32(h[16:], 16) // fmt chunk size
	binary.LittleEndian.PutUint16(h[20:], 1)  // PCM
	binary.LittleEndian.PutUint16(h[22:], uint16(channels))
	binary.LittleEndian.PutUint32(h[24:], uint32(sampleRate))
	binary.LittleEndian.PutUint32(h[28:], uint32(sampleRate*blockAlign))
	binary.LittleEndian.PutUint16(h[32:], uint16(blockAlign))
	binary.LittleEndian.PutUint16(h[34:], bits)
	copy(h[36:], "data")
	binary.LittleEndian.PutUint32(h[40:], uint32(data))
	return h
}

// WAVSink is a PCMSink writing little-endian 16-bit samples to a writer
// through its own 64 KiB buffer (converted in place, copied once). A writer
// that offers its own buffer (AvailableBuffer, as bufio.Writer does) gets
// the samples converted straight into it instead. Call Flush at the end.
type WAVSink struct {
	w   io.Writer
	buf []byte // allocated at the first write that needs it
	n   int
	err error
}

// availableBufferer is a writer that lends its free buffer space: the
// returned empty slice is appended to and handed to the writer's next Write
// (bufio.Writer, bytes.Buffer and the convert command's output writer).
type availableBufferer interface {
	AvailableBuffer() []byte
}

// NewWAVSink returns a sink writing samples (no header) to w.
func NewWAVSink(w io.Writer) *WAVSink {
	return &WAVSink{w: w}
}

// WriteFrames writes interleaved samples.
func (s *WAVSink) WriteFrames(stereo []int16) error {
	ab, lends := s.w.(availableBufferer)
	for len(stereo) > 0 {
		if s.err != nil {
			return s.err
		}
		if lends {
			// Whatever room is lent is used: a writer that lends its
			// buffer's remainder lends a fresh one after that is full.
			// Samples kept in the sink's own buffer while it lent none go
			// first.
			if b := ab.AvailableBuffer(); cap(b) >= 2 {
				if s.n > 0 {
					if err := s.Flush(); err != nil {
						return err
					}
					continue
				}
				n := min(len(stereo), cap(b)/2)
				b = b[:2*n]
				putPCM16(b, stereo[:n])
				if err := s.write(b); err != nil {
					return err
				}
				stereo = stereo[n:]
				continue
			}
		}
		if s.buf == nil {
			s.buf = make([]byte, 64<<10)
		}
		if s.n == len(s.buf) {
			if err := s.Flush(); err != nil {
				return err
			}
		}
		n := min(len(stereo), (len(s.buf)-s.n)/2)
		putPCM16(s.buf[s.n:s.n+2*n], stereo[:n])
		s.n += 2 * n
		stereo = stereo[n:]
	}
	return nil
}

// Flush writes buffered samples to the underlying writer.
func (s *WAVSink) Flush() error {
	if s.err != nil || s.n == 0 {
		return s.err
	}
	if err := s.write(s.buf[:s.n]); err != nil {
		return err
	}
	s.n = 0
	return nil
}

// write writes b to the underlying writer, keeping the first error.
func (s *WAVSink) write(b []byte) error {
	n, err := s.w.Write(b)
	if err == nil && n < len(b) {
		err = io.ErrShortWrite
	}
	if err != nil {
		s.err = err
	}
	return err
}
