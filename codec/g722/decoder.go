// Package g722 decodes ITU-T G.722 (7 kHz audio coding within 64 kbit/s)
// into 16 kHz 16-bit linear PCM, bit-exact with the fixed-point description of
// the recommendation: the lower and higher sub-band ADPCM decoders and the
// receive quadrature mirror filter, whose output saturates to 16 bits.
//
// The payload is the RTP form (payload type 9, RFC 3551): one octet per pair
// of 16 kHz output samples, the 2-bit higher sub-band code IH in the two most
// significant bits and the 6-bit lower sub-band code ILR below. Modes 2
// (56 kbit/s) and 3 (48 kbit/s) ignore the one or two least significant bits
// of ILR, which carry auxiliary data.
package g722

import (
	"errors"
	"fmt"
)

const (
	// frameSamples is one 10 ms frame at 16 kHz.
	frameSamples = 160
	// blockOctets is the number of octets decoded per pass.
	blockOctets = 160
	// Rates of the three modes in bit/s.
	rate64k = 64000
	rate56k = 56000
	rate48k = 48000
)

var (
	// ErrShortBuffer means the destination cannot hold the decoded samples.
	ErrShortBuffer = errors.New("g722: destination buffer too short")
	// ErrMode means the requested bit rate is not a G.722 mode.
	ErrMode = errors.New("g722: unsupported bit rate")
)

// Decoder decodes one G.722 stream. The zero value is not ready for use;
// create decoders with NewDecoder or NewDecoderMode. A Decoder is not safe
// for concurrent use.
type Decoder struct {
	low, high band

	// outQ is the lower sub-band output inverse quantizer of the mode,
	// indexed by the 6-bit code.
	outQ [64]int32
	rate int

	qmf qmf

	// scratch holds one block's intermediate signals.
	scratch struct {
		dl, dlt, dh [blockOctets]int32 // quantized differences
		sl, sh      [blockOctets]int32 // signal estimates
	}

	// hist holds the most recent decoded output (a ring of one frame) for
	// concealment; histN counts valid samples, histPos is the next write.
	hist    [frameSamples]int16
	histPos int
	histN   int
	// lost counts consecutive concealed frames since the last Decode.
	lost int
}

// NewDecoder returns a decoder for 64 kbit/s (mode 1), the mode used on RTP.
func NewDecoder() *Decoder {
	d, _ := NewDecoderMode(rate64k)
	return d
}

// NewDecoderMode returns a decoder for 64000 (mode 1), 56000 (mode 2) or
// 48000 (mode 3) bit/s.
func NewDecoderMode(bitsPerSecond int) (*Decoder, error) {
	d := &Decoder{rate: bitsPerSecond}
	switch bitsPerSecond {
	case rate64k:
		d.outQ = qm6
	case rate56k:
		for i := range d.outQ {
			d.outQ[i] = qm5[i>>1]
		}
	case rate48k:
		for i := range d.outQ {
			d.outQ[i] = qm4[i>>2]
		}
	default:
		return nil, fmt.Errorf("%w: %d bit/s (want 64000, 56000 or 48000)", ErrMode, bitsPerSecond)
	}
	d.Reset()
	return d, nil
}

// Name returns "G722", the codec's SDP rtpmap name.
func (d *Decoder) Name() string { return "G722" }

// SampleRate returns 16000: G.722 decodes to 16 kHz.
func (d *Decoder) SampleRate() int { return 16000 }

// ClockRate returns 8000, the RTP timestamp rate RFC 3551 assigns to G.722.
func (d *Decoder) ClockRate() int { return 8000 }

// FrameSamples returns 160, one 10 ms frame at 16 kHz.
func (d *Decoder) FrameSamples() int { return frameSamples }

// MaxSamples returns 2n: every payload octet decodes to two samples.
func (d *Decoder) MaxSamples(n int) int { return 2 * max(n, 0) }

// BitRate returns the decoder's mode as a bit rate: 64000, 56000 or 48000.
func (d *Decoder) BitRate() int { return d.rate }

// Reset returns the decoder to its initial state.
func (d *Decoder) Reset() {
	d.low = band{det: 32}
	d.high = band{det: 8}
	d.qmf = qmf{}
	d.histPos, d.histN, d.lost = 0, 0, 0
}

// Decode decodes payload into dst and returns the number of samples written,
// 2·len(payload). The decoder state carries over between calls, so a stream
// may be decoded in payloads of any size.
func (d *Decoder) Decode(dst []int16, payload []byte) (int, error) {
	n := 2 * len(payload)
	if len(dst) < n {
		return 0, fmtShort(n, len(dst))
	}
	dst = dst[:n]
	d.decode(dst, payload)
	d.remember(dst)
	d.lost = 0
	return n, nil
}

// decode runs both sub-band decoders and the receive QMF over payload, in
// blocks of at most one scratch buffer.
func (d *Decoder) decode(dst []int16, payload []byte) {
	for len(payload) > 0 {
		n := min(len(payload), blockOctets)
		d.decodeBlock(dst[:2*n], payload[:n])
		dst, payload = dst[2*n:], payload[n:]
	}
}

// decodeBlock decodes up to blockOctets octets in three passes: the inverse
// quantizers and scale factor adaptation (which depend only on the codes),
// then each band's predictor, then the reconstruction and the QMF.
func (d *Decoder) decodeBlock(dst []int16, payload []byte) {
	n := len(payload)
	sc := &d.scratch
	dl, dlt, dh := sc.dl[:n], sc.dlt[:n], sc.dh[:n]
	ldet, lnb := d.low.det, d.low.nb
	hdet, hnb := d.high.det, d.high.nb
	for i, code := range payload {
		ilr := code & 0x3f
		il4 := ilr >> 2
		ih := code >> 6

		// Lower sub-band: INVQBL (output, mode's quantizer), INVQAL
		// (adaptation, 4-bit quantizer), LOGSCL and SCALEL.
		dl[i] = (ldet * d.outQ[ilr]) >> 15
		dlt[i] = (ldet * qm4[il4]) >> 15
		lnb = min(max((lnb*32512)>>15+wlByCode[il4], 0), maxNBLow)
		ldet = detLow[lnb>>6]

		// Higher sub-band: INVQAH, LOGSCH and SCALEH.
		dh[i] = (hdet * qm2[ih]) >> 15
		hnb = min(max((hnb*32512)>>15+whByCode[ih], 0), maxNBHigh)
		hdet = detHigh[hnb>>6]
	}
	d.low.det, d.low.nb = ldet, lnb
	d.high.det, d.high.nb = hdet, hnb

	sl, sh := sc.sl[:n], sc.sh[:n]
	d.low.run(dlt, sl)
	d.high.run(dh, sh)
	d.qmf.synth(dst, sl, dl, sh, dh)
}

// remember keeps the last frame of output for concealment.
func (d *Decoder) remember(out []int16) {
	if len(out) >= frameSamples {
		copy(d.hist[:], out[len(out)-frameSamples:])
		d.histPos, d.histN = 0, frameSamples
		return
	}
	for _, v := range out {
		d.hist[d.histPos] = v
		d.histPos++
		if d.histPos == frameSamples {
			d.histPos = 0
		}
	}
	d.histN = min(d.histN+len(out), frameSamples)
}

// fmtShort reports a destination of have samples where need are written.
func fmtShort(need, have int) error {
	return fmt.Errorf("%w: need %d samples, have %d", ErrShortBuffer, need, have)
}
