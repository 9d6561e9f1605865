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
// through its own 64 KiB buffer (converted in place, copied once). Call
// Flush at the end.
type WAVSink struct {
	w   io.Writer
	buf []byte
	n   int
	err error
}

// NewWAVSink returns a sink writing samples (no header) to w.
func NewWAVSink(w io.Writer) *WAVSink {
	return &WAVSink{w: w, buf: make([]byte, 64<<10)}
}

// WriteFrames writes interleaved samples.
func (s *WAVSink) WriteFrames(stereo []int16) error {
	for len(stereo) > 0 {
		if s.err != nil {
			return s.err
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
	n, err := s.w.Write(s.buf[:s.n])
	if err == nil && n < s.n {
		err = io.ErrShortWrite
	}
	if err != nil {
		s.err = err
		return err
	}
	s.n = 0
	return nil
}
