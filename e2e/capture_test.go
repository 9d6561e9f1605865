package e2e

import (
	"math"
	"time"

	"recordings/internal/callgen"
)

const sampleRate = 8000

// callCapture returns a pcap of a G.711 A-law call of the given length, as an
// innovaphone phone records it (callgen: SIP/SDP, then RTP from 16386 and
// 16388): a tone of freqL Hz on the local side and freqR Hz on the remote
// side, loud and soft by turns each second so that the waveform has a shape.
func callCapture(start time.Time, length time.Duration, freqL, freqR float64) []byte {
	tone := func(freq float64) func(i int) byte {
		return func(i int) byte {
			t := float64(i) / sampleRate
			amp := 12000.0
			if int(t)%2 == 1 {
				amp = 3000
			}
			return alaw(int16(amp * math.Sin(2*math.Pi*freq*t)))
		}
	}
	c := callgen.Call{Start: start, Packets: int(length / (20 * time.Millisecond)), LocalPT: 8, RemotePT: 8,
		LocalCode: tone(freqL), RemoteCode: tone(freqR), SDP: true}
	return c.Bytes()
}

// alaw encodes one linear sample with G.711 A-law (13-bit magnitude,
// segment and 4-bit mantissa, even bits inverted).
func alaw(s int16) byte {
	x := int(s) >> 3
	sign := byte(0x80)
	if x < 0 {
		x = -x - 1
		sign = 0
	}
	x = min(x, 0xfff)
	var code byte
	if x < 32 {
		code = byte(x >> 1)
	} else {
		seg := 1
		for x >= 32<<seg {
			seg++
		}
		code = byte(seg<<4) | byte((x>>seg)&0x0f)
	}
	return (sign | code) ^ 0x55
}
