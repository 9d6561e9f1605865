package media

import (
	"net/netip"
	"time"
)

// Packet is one captured UDP datagram.
type Packet struct {
	Time     time.Time // capture time
	Src, Dst netip.AddrPort
	Payload  []byte // UDP payload; only valid during the call that receives it
}

// Source yields the UDP packets of a capture in capture order. Next returns
// io.EOF at the end; any other error ends the stream (the packets before it
// are still used and the error becomes a warning).
type Source interface {
	Next() (Packet, error)
}

// PCMSink receives interleaved stereo frames (L, R, L, R, ...). The slice is
// only valid during the call.
type PCMSink interface {
	WriteFrames(stereo []int16) error
}

type multiSink []PCMSink

// MultiSink returns a sink that writes every frame block to all sinks in
// order, stopping at the first error.
func MultiSink(sinks ...PCMSink) PCMSink {
	return multiSink(append([]PCMSink(nil), sinks...))
}

func (m multiSink) WriteFrames(stereo []int16) error {
	for _, s := range m {
		if err := s.WriteFrames(stereo); err != nil {
			return err
		}
	}
	return nil
}
