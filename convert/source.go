package convert

import (
	"errors"
	"fmt"
	"io"

	"recordings/media"
	"recordings/pcap"
)

// captureSource adapts a pcap/pcapng stream to media.Source: it walks every
// record down to UDP and hands the datagrams on. Records that are not UDP, or
// whose link type is unknown, are counted and skipped.
type captureSource struct {
	r       *pcap.Reader
	udp     pcap.UDP
	off     int64 // input offset of the last datagram's payload
	skipped int
	bad     int
}

// source is what a pass reads: the datagrams, then what was skipped.
type source interface {
	media.Source
	warnings() []string
}

// newCaptureSource reads r through pcap.Reader, which buffers it; a reader
// opened by an Indexed yields its index instead, parsed once for all passes.
func newCaptureSource(r io.Reader) (source, error) {
	if ir, ok := r.(*indexedReader); ok {
		return ir.x.source()
	}
	pr, err := pcap.NewReader(r)
	if err != nil {
		return nil, fmt.Errorf("read capture: %w", err)
	}
	return &captureSource{r: pr}, nil
}

func (s *captureSource) Next() (media.Packet, error) {
	for {
		p, err := s.r.Next()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return media.Packet{}, io.EOF
			}
			return media.Packet{}, fmt.Errorf("read capture: %w", err)
		}
		if err := pcap.DecodeUDP(p.LinkType, p.Data, &s.udp); err != nil {
			if errors.Is(err, pcap.ErrNotUDP) || errors.Is(err, pcap.ErrUnsupportedLink) {
				s.skipped++
			} else {
				s.bad++
			}
			continue
		}
		// The payload is a sub-slice of Data: their capacities differ by its start.
		s.off = p.Offset + int64(cap(p.Data)-cap(s.udp.Payload))
		return media.Packet{Time: p.Timestamp, Src: s.udp.Src, Dst: s.udp.Dst, Payload: s.udp.Payload}, nil
	}
}

// warnings describes what the walk skipped, for the analysis report.
func (s *captureSource) warnings() []string {
	var w []string
	w = append(w, s.r.Warnings()...)
	if s.skipped > 0 {
		w = append(w, fmt.Sprintf("%d non-UDP packets skipped", s.skipped))
	}
	if s.bad > 0 {
		w = append(w, fmt.Sprintf("%d malformed packets skipped", s.bad))
	}
	return w
}
