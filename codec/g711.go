package codec

import (
	"fmt"

	"recordings/codec/snap"
)

// G.711 (ITU-T G.711) A-law and µ-law. Each byte is one sample at 8 kHz.
// Decoding is a table lookup; the tables are computed once per decoder value
// from the expansion rules of the recommendation, not kept as package state.

// g711FrameSamples is the block used for concealment: 10 ms at 8 kHz.
const g711FrameSamples = 80

// G711 decodes one G.711 stream (A-law or µ-law).
type G711 struct {
	name  string
	table [256]int16
}

// NewPCMA returns an A-law decoder.
func NewPCMA() *G711 {
	d := &G711{name: "PCMA"}
	for i := range d.table {
		d.table[i] = alawExpand(byte(i))
	}
	return d
}

// NewPCMU returns a µ-law decoder.
func NewPCMU() *G711 {
	d := &G711{name: "PCMU"}
	for i := range d.table {
		d.table[i] = ulawExpand(byte(i))
	}
	return d
}

// alawExpand maps an A-law code to 16-bit linear PCM. The even bits are
// inverted on the line; the sign bit set means positive. Segment 0 is linear,
// every further segment doubles the step size.
func alawExpand(code byte) int16 {
	c := code ^ 0x55
	seg := (c >> 4) & 0x07
	mant := int32(c & 0x0F)
	var mag int32
	if seg == 0 {
		mag = mant<<4 + 8
	} else {
		mag = (mant<<4 + 0x108) << (seg - 1)
	}
	if c&0x80 != 0 {
		return int16(mag)
	}
	return int16(-mag)
}

// ulawExpand maps a µ-law code to 16-bit linear PCM. All bits are inverted on
// the line; the sign bit clear means negative. The biased magnitude
// ((mantissa<<3)+0x84)<<segment has the bias 0x84 removed.
func ulawExpand(code byte) int16 {
	c := ^code
	seg := (c >> 4) & 0x07
	mant := int32(c & 0x0F)
	mag := ((mant << 3) + 0x84) << seg
	mag -= 0x84
	if c&0x80 != 0 {
		return int16(-mag)
	}
	return int16(mag)
}

func (d *G711) Name() string         { return d.name }
func (d *G711) SampleRate() int      { return 8000 }
func (d *G711) ClockRate() int       { return 8000 }
func (d *G711) FrameSamples() int    { return g711FrameSamples }
func (d *G711) MaxSamples(n int) int { return n }
func (d *G711) Reset()               {}

// Decode expands every payload byte into one sample.
func (d *G711) Decode(dst []int16, payload []byte) (int, error) {
	if len(dst) < len(payload) {
		return 0, ErrShortBuffer
	}
	n := len(payload)
	dst = dst[:n]
	t := &d.table
	// Eight samples per step, written as DecodeInterleaved's.
	for len(payload) >= 8 {
		b, o := (*[8]byte)(payload), (*[8]int16)(dst)
		o[0] = t[b[0]]
		o[1] = t[b[1]]
		o[2] = t[b[2]]
		o[3] = t[b[3]]
		o[4] = t[b[4]]
		o[5] = t[b[5]]
		o[6] = t[b[6]]
		o[7] = t[b[7]]
		payload, dst = payload[8:], dst[8:]
	}
	for i, c := range payload {
		dst[i] = t[c]
	}
	return n, nil
}

// DecodeInterleaved expands every payload byte into one sample, sample k
// at dst[2k] (see InterleavedDecoder).
func (d *G711) DecodeInterleaved(dst []int16, payload []byte) (int, error) {
	n := len(payload)
	if n == 0 {
		return 0, nil
	}
	if len(dst) < 2*n-1 {
		return 0, ErrShortBuffer
	}
	dst = dst[:2*n-1]
	t := &d.table
	// Eight samples per step, with one bounds check for them, one
	// statement each (a tuple assignment computes every address first) and
	// the slices advanced rather than indexed, so that all eight are
	// addressed from one register: three instructions a sample. The step
	// needs 17 elements of dst left to advance past its 16.
	for len(payload) > 8 {
		b, o := (*[8]byte)(payload), (*[17]int16)(dst)
		o[0] = t[b[0]]
		o[2] = t[b[1]]
		o[4] = t[b[2]]
		o[6] = t[b[3]]
		o[8] = t[b[4]]
		o[10] = t[b[5]]
		o[12] = t[b[6]]
		o[14] = t[b[7]]
		payload, dst = payload[8:], dst[16:]
	}
	for i, c := range payload {
		dst[2*i] = t[c]
	}
	return n, nil
}

// Conceal writes 10 ms of silence: G.711 itself defines no concealment
// (Appendix I's PLC is optional and not applied here).
func (d *G711) Conceal(dst []int16) (int, error) {
	if len(dst) < g711FrameSamples {
		return 0, ErrShortBuffer
	}
	clear(dst[:g711FrameSamples])
	return g711FrameSamples, nil
}

// AppendState appends G.711's state, which is empty: it is stateless.
func (d *G711) AppendState(b []byte) []byte { return b }

// SetState accepts only the empty state of AppendState.
func (d *G711) SetState(b []byte) error {
	if len(b) != 0 {
		return fmt.Errorf("%w: %d bytes of G.711 state, want none", snap.ErrState, len(b))
	}
	return nil
}
