package media

import "math"

// comfortNoise generates the RFC 3389 background noise of one stream:
// uniform white noise whose RMS is the signalled level in -dBov (RFC 3389
// section 3.1: a full-scale square wave is 0 dBov, i.e. RMS 32767), from a xorshift32 generator held in the stream state
// (deterministic, seeded per stream).
type comfortNoise struct {
	state uint32
	amp   int32 // peak amplitude of the uniform noise
}

func newComfortNoise(seed uint32) comfortNoise {
	seed ^= 0x9E3779B9
	if seed == 0 {
		seed = 1
	}
	return comfortNoise{state: seed}
}

// setLevel sets the level from the first byte of a CN payload (bits 0-6: -dBov).
func (c *comfortNoise) setLevel(payload []byte) {
	level := 127
	if len(payload) > 0 {
		level = int(payload[0] & 0x7f)
	}
	rms := 32767 * math.Pow(10, -float64(level)/20)
	c.amp = int32(min(rms*math.Sqrt(3), 32767))
}

func (c *comfortNoise) fill(dst []int16) {
	x := c.state
	for i := range dst {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		v := int32(x>>16) - 32768 // -32768 .. 32767
		dst[i] = int16(v * c.amp / 32768)
	}
	c.state = x
}
