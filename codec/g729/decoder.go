// Package g729 is a G.729 Annex A decoder with Annex B (VAD/DTX comfort
// noise) support, bit-exact with the ITU-T reference decoder.
//
// All arithmetic follows the fixed-point description of ITU-T G.729 /
// G.729 Annex A / Annex B: 16/32-bit saturating operators, the same Q
// formats and rounding. A Decoder holds the state of one stream.
package g729

import (
	"errors"
	"fmt"
)

// Frame sizes.
const (
	FrameSamples = 80 // samples per 10 ms frame
	SpeechBytes  = 10 // bytes of a speech frame
	SIDBytes     = 2  // bytes of an Annex B SID frame
)

var (
	// ErrPayload means the payload length is not N*10 or N*10+2 bytes.
	ErrPayload = errors.New("g729: malformed payload")
	// ErrShortBuffer means the destination cannot hold the decoded samples.
	ErrShortBuffer = errors.New("g729: destination buffer too short")
)

// Frame types (Annex B).
const (
	ftypNone   = 0 // not transmitted
	ftypSpeech = 1
	ftypSID    = 2
)

// Decoder decodes one G.729 (Annex A/B) stream. The zero value is ready
// for use (it is reset on first use); NewDecoder returns a reset one.
type Decoder struct {
	oldExc    [frameLen + excHist]int16 // past excitation, then current frame
	lspOld    [lpcOrder]int16
	memSyn    [lpcOrder]int16
	synth     [lpcOrder + frameLen]int16 // synthesis with lpcOrder of history
	sharp     int16
	oldT0     int16
	gainCode  int16
	gainPitch int16
	pastQuaEn [4]int16
	lsp       lspQuant

	seedFer  int16
	pastFtyp int16
	seed     int16
	// Excitation of the last good frame; its energy gives the SID gain if
	// the first SID frame of a silence period is lost (computed on demand).
	sidExc      [frameLen]int16
	sidExcValid bool
	cng         cngState

	post postFilter
	hp   postProcess

	ready bool // set by Reset
}

// NewDecoder returns a decoder in its initial state.
func NewDecoder() *Decoder {
	d := &Decoder{}
	d.Reset()
	return d
}

// Reset returns the decoder to its initial state.
func (d *Decoder) Reset() {
	*d = Decoder{ready: true}
	d.lspOld = [lpcOrder]int16{30000, 26000, 21000, 15000, 8000, 0, -8000, -15000, -21000, -26000}
	d.sharp = sharpMin
	d.oldT0 = 60
	d.pastQuaEn = [4]int16{-14336, -14336, -14336, -14336}
	d.lsp.reset()
	d.seedFer = 21845
	d.pastFtyp = ftypSpeech
	d.seed = initSeed
	d.cng.reset()
	d.post.reset()
}

// Name returns "G729".
func (d *Decoder) Name() string { return "G729" }

// SampleRate returns 8000.
func (d *Decoder) SampleRate() int { return 8000 }

// ClockRate returns 8000.
func (d *Decoder) ClockRate() int { return 8000 }

// FrameSamples returns 80.
func (d *Decoder) FrameSamples() int { return FrameSamples }

// MaxSamples returns the number of samples Decode writes for an n-byte
// payload (0 if n is not a valid payload length).
func (d *Decoder) MaxSamples(n int) int {
	if n <= 0 {
		return 0
	}
	frames := n / SpeechBytes
	switch n % SpeechBytes {
	case 0:
	case SIDBytes:
		frames++
	default:
		return 0
	}
	return frames * FrameSamples
}

// Decode decodes one RTP payload (RFC 3551: N speech frames of 10 bytes,
// optionally followed by one 2-byte SID frame) into dst and returns the
// number of samples written.
func (d *Decoder) Decode(dst []int16, payload []byte) (int, error) {
	n := d.MaxSamples(len(payload))
	if n == 0 {
		return 0, fmt.Errorf("%w: %d bytes", ErrPayload, len(payload))
	}
	if len(dst) < n {
		return 0, shortBuffer(n, len(dst))
	}
	var prm [11]int16
	out := 0
	for len(payload) >= SpeechBytes {
		unpackSpeech(payload, &prm)
		d.decodeFrame(dst[out:out+FrameSamples], &prm, false, ftypSpeech)
		payload = payload[SpeechBytes:]
		out += FrameSamples
	}
	if len(payload) == SIDBytes {
		unpackSID(payload, &prm)
		d.decodeFrame(dst[out:out+FrameSamples], &prm, false, ftypSID)
		out += FrameSamples
	}
	return out, nil
}

func shortBuffer(need, have int) error {
	return fmt.Errorf("%w: need %d samples, have %d", ErrShortBuffer, need, have)
}

// Conceal produces one frame for a lost frame (or one not transmitted
// during DTX): frame erasure concealment after speech, comfort noise after
// a SID frame.
func (d *Decoder) Conceal(dst []int16) (int, error) {
	return d.DecodeParams(dst, &[11]int16{}, true, ftypSpeech)
}

// DecodeSpeech decodes one 10-byte speech frame into dst[:80].
func (d *Decoder) DecodeSpeech(dst []int16, frame []byte) (int, error) {
	if len(frame) != SpeechBytes {
		return 0, fmt.Errorf("%w: speech frame of %d bytes", ErrPayload, len(frame))
	}
	var prm [11]int16
	unpackSpeech(frame, &prm)
	return d.DecodeParams(dst, &prm, false, ftypSpeech)
}

// DecodeSID decodes one 2-byte Annex B SID frame into dst[:80].
func (d *Decoder) DecodeSID(dst []int16, frame []byte) (int, error) {
	if len(frame) != SIDBytes {
		return 0, fmt.Errorf("%w: SID frame of %d bytes", ErrPayload, len(frame))
	}
	var prm [11]int16
	unpackSID(frame, &prm)
	return d.DecodeParams(dst, &prm, false, ftypSID)
}

// DecodeUntransmitted produces one frame for a frame that the encoder's DTX
// did not send, when it is known not to be a loss: comfort noise continues.
func (d *Decoder) DecodeUntransmitted(dst []int16) (int, error) {
	return d.DecodeParams(dst, &[11]int16{}, false, ftypNone)
}

// DecodeParams decodes one frame given its parameters (as a bitstream
// reader such as one for the ITU-T serial test format delivers them): for
// a speech frame the 11 parameters of the recommendation in transmission
// order (prm[3] the parity bit as received), for a SID frame the 4 SID
// parameters in prm[0..3]. erased marks a frame erasure; ftyp is 0 (not
// transmitted), 1 (speech) or 2 (SID). Parameters are reduced to their
// field widths.
func (d *Decoder) DecodeParams(dst []int16, prm *[11]int16, erased bool, ftyp int) (int, error) {
	if len(dst) < FrameSamples {
		return 0, shortBuffer(FrameSamples, len(dst))
	}
	if ftyp < ftypNone || ftyp > ftypSID {
		return 0, fmt.Errorf("%w: frame type %d", ErrPayload, ftyp)
	}
	p := *prm
	if ftyp == ftypSID {
		for i, n := range sidBits {
			p[i] &= 1<<n - 1
		}
	} else {
		for i, n := range speechBits {
			p[i] &= 1<<n - 1
		}
	}
	d.decodeFrame(dst[:FrameSamples], &p, erased, int16(ftyp))
	return FrameSamples, nil
}

// bitReader reads MSB-first bit fields.
type bitReader struct {
	b   []byte
	pos uint
}

func (r *bitReader) read(n uint) int16 {
	var v int16
	for i := uint(0); i < n; i++ {
		bit := (r.b[r.pos>>3] >> (7 - r.pos&7)) & 1
		v = v<<1 | int16(bit)
		r.pos++
	}
	return v
}

var speechBits = [11]uint{8, 10, 8, 1, 13, 4, 7, 5, 13, 4, 7}
var sidBits = [4]uint{1, 5, 4, 5}

func unpackSpeech(frame []byte, prm *[11]int16) {
	f := frame[:SpeechBytes]
	// 80 bits, MSB first: the first 64 in hi, the last 16 in lo.
	hi := uint64(f[0])<<56 | uint64(f[1])<<48 | uint64(f[2])<<40 | uint64(f[3])<<32 |
		uint64(f[4])<<24 | uint64(f[5])<<16 | uint64(f[6])<<8 | uint64(f[7])
	lo := uint64(f[8])<<8 | uint64(f[9])
	prm[0] = int16(hi >> 56)              // 8 bits: L0, L1
	prm[1] = int16(hi>>46) & 0x3ff        // 10 bits: L2, L3
	prm[2] = int16(hi>>38) & 0xff         // 8 bits: P1
	prm[3] = int16(hi>>37) & 1            // parity P0
	prm[4] = int16(hi>>24) & 0x1fff       // 13 bits: C1
	prm[5] = int16(hi>>20) & 0xf          // 4 bits: S1
	prm[6] = int16(hi>>13) & 0x7f         // 7 bits: GA1, GB1
	prm[7] = int16(hi>>8) & 0x1f          // 5 bits: P2
	prm[8] = int16((hi&0xff)<<5 | lo>>11) // 13 bits: C2
	prm[9] = int16(lo>>7) & 0xf           // 4 bits: S2
	prm[10] = int16(lo) & 0x7f            // 7 bits: GA2, GB2
}

func unpackSID(frame []byte, prm *[11]int16) {
	r := bitReader{b: frame[:SIDBytes]}
	for i, n := range sidBits {
		prm[i] = r.read(n)
	}
}

// decodeFrame runs the decoder (4.1 of G.729, Annex A and B.4) and the
// postfilter for one frame into out[:80].
func (d *Decoder) decodeFrame(out []int16, prm *[11]int16, bfi bool, ftyp int16) {
	if !d.ready {
		d.Reset()
	}
	if bfi {
		if d.pastFtyp == ftypSpeech {
			ftyp = ftypSpeech
		} else {
			ftyp = ftypNone
		}
	}
	var az [2 * (lpcOrder + 1)]int16
	var t2 [2]int16
	const excPos = excHist
	synth := d.synth[lpcOrder:]

	if ftyp != ftypSpeech {
		d.comfortNoise(ftyp == ftypSID, prm, &az)
		for sf := 0; sf < 2; sf++ {
			d.synthesize(az[sf*11:sf*11+11], excPos+sf*subLen, synth[sf*subLen:sf*subLen+subLen])
			t2[sf] = d.oldT0
		}
		d.sharp = sharpMin
	} else {
		d.seed = initSeed
		var lspNew [lpcOrder]int16
		d.lsp.decode(prm[0], prm[1], bfi, &lspNew)
		interpolateLPC(&d.lspOld, &lspNew, &az)
		d.lspOld = lspNew

		var code [subLen]int16
		var t0, t0Frac int16
		for sf := 0; sf < 2; sf++ {
			// Positions in prm of the subframe's pitch, codebook index,
			// signs and gain index (the parity bit is prm[3]).
			pi, ci := 7, 8
			if sf == 0 {
				pi, ci = 2, 4
			}
			index := prm[pi]
			bad := bfi
			if sf == 0 && pitchParityError(prm[2], prm[3]) {
				bad = true
			}
			if !bad {
				t0, t0Frac = decodeLag3(index, sf == 0, t0)
				d.oldT0 = t0
			} else {
				t0 = d.oldT0
				t0Frac = 0
				d.oldT0 = add(d.oldT0, 1)
				if d.oldT0 > pitMax {
					d.oldT0 = pitMax
				}
			}
			t2[sf] = t0
			pos := excPos + sf*subLen
			predLt3(d.oldExc[:], pos, t0, t0Frac, subLen)

			cIndex, cSign := prm[ci], prm[ci+1]
			if bfi {
				cIndex = random(&d.seedFer) & 0x1fff
				cSign = random(&d.seedFer) & 0xf
			}
			decodeACELP(cSign, cIndex, &code)
			j := shl(d.sharp, 1)
			if t0 < subLen {
				for i := int(t0); i < subLen; i++ {
					code[i] = add(code[i], mult(code[i-int(t0)], j))
				}
			}
			decodeGain(&d.pastQuaEn, prm[ci+2], &code, bfi, &d.gainPitch, &d.gainCode)
			d.sharp = d.gainPitch
			if d.sharp > sharpMax {
				d.sharp = sharpMax
			}
			if d.sharp < sharpMin {
				d.sharp = sharpMin
			}
			exc := d.oldExc[pos : pos+subLen]
			if d.gainPitch != min16 && d.gainCode != min16 {
				// round(L_shl(L_mac(L_mult(e, gp), c, gc), 1)): without the
				// -32768*-32768 case the saturations collapse into one
				// clamp of the exact value.
				gp, gc := int64(d.gainPitch), int64(d.gainCode)
				for i := 0; i < subLen; i++ {
					v := 4*(int64(exc[i])*gp+int64(code[i])*gc) + 0x8000
					exc[i] = int16(clamp32(v) >> 16)
				}
			} else {
				for i := 0; i < subLen; i++ {
					t := lMult(exc[i], d.gainPitch)
					t = lMac(t, code[i], d.gainCode)
					t = lShlC(t, 1)
					exc[i] = round(t)
				}
			}
			d.synthesize(az[sf*11:sf*11+11], pos, synth[sf*subLen:sf*subLen+subLen])
		}
	}

	if !bfi {
		d.sidExc = [frameLen]int16(d.oldExc[excPos : excPos+frameLen])
		d.sidExcValid = true
	}
	copy(d.oldExc[:excHist], d.oldExc[frameLen:frameLen+excHist])
	d.pastFtyp = ftyp

	d.post.filter(d.synth[:], &az, &t2, ftyp, out)
	copy(d.synth[:lpcOrder], d.synth[frameLen:frameLen+lpcOrder])
	d.hp.run(out)
}

// synthesize filters the excitation of one subframe through 1/A(z). On
// saturation the whole excitation buffer is scaled down by 4 and the
// subframe is filtered again, as the recommendation specifies.
func (d *Decoder) synthesize(a []int16, pos int, y []int16) {
	if synFilt(a, d.oldExc[pos:pos+subLen], y, &d.memSyn) {
		for i := range d.oldExc {
			d.oldExc[i] = shrC(d.oldExc[i], 2)
		}
		synFilt(a, d.oldExc[pos:pos+subLen], y, &d.memSyn)
	}
	copy(d.memSyn[:], y[subLen-lpcOrder:])
}

// comfortNoise computes the excitation and LP filters of a non-speech frame
// (Annex B Dec_cng).
func (d *Decoder) comfortNoise(sid bool, prm *[11]int16, az *[2 * (lpcOrder + 1)]int16) {
	first := d.pastFtyp == ftypSpeech
	if sid {
		d.cng.sidGain = tabSidGain[prm[3]&31]
		sidLsfDecode(prm[0]&1, prm[1]&31, prm[2]&15, &d.cng.lspSid, &d.lsp.freqPrev)
	} else if first {
		// First SID frame lost: estimate the gain from the last frame.
		sidSav, shSidSav := int16(0), int16(1)
		if d.sidExcValid {
			t := energy(0, d.sidExc[:])
			sh := normL(t)
			sidSav = round(lShl(t, sh))
			shSidSav = sub(16, sh)
		}
		d.cng.sidGain = tabSidGain[quantSidGain(sidSav, shSidSav)]
	}
	if first {
		d.cng.curGain = d.cng.sidGain
	} else {
		d.cng.curGain = multR(d.cng.curGain, aGain0)
		d.cng.curGain = add(d.cng.curGain, multR(d.cng.sidGain, aGain1))
	}
	randomExcitation(d.cng.curGain, d.oldExc[:], excHist, &d.seed)
	interpolateLPC(&d.lspOld, &d.cng.lspSid, az)
	d.lspOld = d.cng.lspSid
}
