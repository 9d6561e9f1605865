// Package codec decodes RTP audio payloads into 16-bit linear PCM.
//
// Every codec implements Decoder. A decoder value holds the state of one
// RTP stream; create one per stream and per payload type with New.
package codec

import (
	"errors"
	"fmt"

	"recordings/codec/g722"
	"recordings/codec/g729"
)

// Decoder decodes the payloads of one RTP stream.
//
// Implementations decode into caller-owned buffers and do not allocate per
// call. Malformed payloads return an error; they never panic.
type Decoder interface {
	// Name is the codec's name as used in SDP rtpmap lines (PCMU, PCMA, G722, G729).
	Name() string
	// SampleRate is the rate of the decoded PCM in Hz.
	SampleRate() int
	// ClockRate is the RTP timestamp clock rate in Hz (8000 for G.722 although it
	// decodes to 16 kHz).
	ClockRate() int
	// FrameSamples is the number of output samples one frame (or, for
	// sample-based codecs, one 10 ms block) decodes to.
	FrameSamples() int
	// MaxSamples returns how many samples Decode may write for a payload of n bytes.
	MaxSamples(n int) int
	// Decode decodes one RTP payload into dst and returns the number of samples written.
	Decode(dst []int16, payload []byte) (int, error)
	// Conceal writes one frame (FrameSamples samples) standing in for a lost or
	// untransmitted frame: the codec's concealment, or comfort noise after a SID.
	Conceal(dst []int16) (int, error)
	// Reset returns the decoder to its initial state.
	Reset()
}

// InterleavedDecoder is implemented by stateless sample-based decoders
// (G.711) that can decode straight into one channel of interleaved stereo
// PCM, saving a copy.
type InterleavedDecoder interface {
	// DecodeInterleaved decodes payload like Decode but stores sample k at
	// dst[2k]; dst must hold at least 2n-1 samples for n decoded samples.
	// The other samples of dst are not touched.
	DecodeInterleaved(dst []int16, payload []byte) (int, error)
}

var (
	// ErrShortBuffer means dst cannot hold the decoded samples.
	ErrShortBuffer = errors.New("codec: destination buffer too short")
	// ErrPayload means the payload is malformed for the codec.
	ErrPayload = errors.New("codec: malformed payload")
	// ErrUnsupported means no decoder exists for the codec name.
	ErrUnsupported = errors.New("unsupported codec")
)

// New returns a decoder for the codec named as in an SDP rtpmap line
// (case-insensitive): PCMU, PCMA, G722, G729 (also G729A, G729AB).
func New(name string) (Decoder, error) {
	switch normalize(name) {
	case "PCMU":
		return NewPCMU(), nil
	case "PCMA":
		return NewPCMA(), nil
	case "G722":
		return g722.NewDecoder(), nil
	case "G729", "G729A", "G729AB":
		return g729.NewDecoder(), nil
	}
	return nil, fmt.Errorf("%w %s", ErrUnsupported, name)
}

func normalize(name string) string {
	b := []byte(name)
	for i, c := range b {
		if c >= 'a' && c <= 'z' {
			b[i] = c - 'a' + 'A'
		}
	}
	return string(b)
}

// Snapshotter is a Decoder whose state can be saved and restored, so that a
// render can resume in the middle of a stream with the exact output of an
// uninterrupted decode. Every decoder New returns implements it. The
// snapshot starts with a version byte; SetState checks every value and
// leaves the decoder unchanged when it refuses one (the error wraps
// snap.ErrState).
type Snapshotter interface {
	// AppendState appends the decoder's state to b.
	AppendState(b []byte) []byte
	// SetState restores a state written by AppendState of a decoder of
	// the same codec (and mode).
	SetState(b []byte) error
}
