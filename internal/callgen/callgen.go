// Package callgen builds realistic innovaphone-style call captures for tests,
// benchmarks and the load tool: a dummy SIP/SDP exchange, then the local side's
// RTP on UDP port 16386 and the remote side's on 16388, written as pcap.
package callgen

import (
	"bytes"
	"fmt"
	"io"
	"net/netip"
	"time"

	"github.com/pion/rtp"

	"recordings/pcap"
	"recordings/pcap/pcaptest"
)

// Call describes a two-sided G.711 call.
type Call struct {
	Start      time.Time
	Packets    int // per direction, 20 ms each
	LocalPT    uint8
	RemotePT   uint8 // 0 PCMU, 8 PCMA
	LocalCode  func(i int) byte
	RemoteCode func(i int) byte
	SDP        bool // include the dummy SIP INVITE with SDP first
	// Drop, when set, leaves out packet n of the given direction (0 local, 1 remote).
	Drop func(dir, n int) bool
}

// Default returns a call of n packets per direction with a PCMA local side and
// a PCMU remote side whose codes follow distinct, predictable patterns.
func Default(n int) Call {
	return Call{
		Start:      time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC),
		Packets:    n,
		LocalPT:    8,
		RemotePT:   0,
		LocalCode:  func(i int) byte { return byte(i*7 + 3) },
		RemoteCode: func(i int) byte { return byte(i*13 + 5) },
		SDP:        true,
	}
}

var (
	phone  = netip.MustParseAddr("192.0.2.10")
	remote = netip.MustParseAddr("192.0.2.20")
)

const samplesPerPacket = 160

// Samples is the number of samples per direction the call carries.
func (c Call) Samples() int { return c.Packets * samplesPerPacket }

// Write writes the call as a classic pcap to w.
func (c Call) Write(w io.Writer) error {
	pw, err := pcap.NewWriter(w, pcap.LinkEthernet)
	if err != nil {
		return fmt.Errorf("pcap writer: %w", err)
	}
	if c.SDP {
		sip := []byte("INVITE sip:remote@192.0.2.20 SIP/2.0\r\nContent-Type: application/sdp\r\n\r\n" +
			"v=0\r\no=- 0 0 IN IP4 192.0.2.10\r\ns=-\r\nc=IN IP4 192.0.2.10\r\nt=0 0\r\n" +
			fmt.Sprintf("m=audio 16386 RTP/AVP %d %d 101\r\n", c.LocalPT, c.RemotePT) +
			"a=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:101 telephone-event/8000\r\n")
		frame := pcaptest.EthernetIPv4UDP(netip.AddrPortFrom(phone, 5060), netip.AddrPortFrom(remote, 5060), sip)
		if err := pw.WritePacket(c.Start.Add(-time.Millisecond), frame); err != nil {
			return err
		}
	}
	payload := make([]byte, samplesPerPacket)
	for i := range c.Packets {
		for dir := range 2 {
			if c.Drop != nil && c.Drop(dir, i) {
				continue
			}
			pt, code, ssrc, port := c.LocalPT, c.LocalCode, uint32(0x1111), uint16(16386)
			src, dst := phone, remote
			if dir == 1 {
				pt, code, ssrc, port = c.RemotePT, c.RemoteCode, 0x2222, 16388
				src, dst = remote, phone
			}
			for j := range payload {
				payload[j] = code(i*samplesPerPacket + j)
			}
			pkt := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: pt, SequenceNumber: uint16(1000 + i),
				Timestamp: uint32(50000 + i*samplesPerPacket), SSRC: ssrc}, Payload: payload}
			b, err := pkt.Marshal()
			if err != nil {
				return fmt.Errorf("marshal rtp: %w", err)
			}
			frame := pcaptest.EthernetIPv4UDP(netip.AddrPortFrom(src, port), netip.AddrPortFrom(dst, port), b)
			if err := pw.WritePacket(c.Start.Add(time.Duration(i)*20*time.Millisecond), frame); err != nil {
				return err
			}
		}
	}
	return nil
}

// Bytes returns the call as pcap bytes.
func (c Call) Bytes() []byte {
	var b bytes.Buffer
	if err := c.Write(&b); err != nil {
		panic(err) // writing to a bytes.Buffer fails only on a programming error
	}
	return b.Bytes()
}
