package e2e

import (
	"bytes"
	"encoding/binary"
	"math"
	"net/netip"
	"time"
)

// A small capture writer for the tests: classic pcap, Ethernet, IPv4, UDP,
// RTP with G.711 A-law, as an innovaphone phone records a call: the local
// side's RTP from port 16386, the remote side's from 16388.

var (
	localAddr  = netip.MustParseAddrPort("10.0.0.10:16386")
	peerAddr   = netip.MustParseAddrPort("10.0.0.20:40000")
	remoteAddr = netip.MustParseAddrPort("10.0.0.20:16388")
	phoneAddr  = netip.MustParseAddrPort("10.0.0.10:40002")
)

const (
	sampleRate  = 8000
	packetMS    = 20
	packetBytes = sampleRate * packetMS / 1000
	ptPCMA      = 8
)

// callCapture returns a pcap of a call of the given length: a tone of freqL
// Hz on the local side and freqR Hz on the remote side.
func callCapture(start time.Time, length time.Duration, freqL, freqR float64) []byte {
	var b bytes.Buffer
	le := binary.LittleEndian
	// Global header: magic, version 2.4, zone, sigfigs, snaplen, Ethernet.
	for _, v := range []any{uint32(0xa1b2c3d4), uint16(2), uint16(4), int32(0), uint32(0), uint32(65535), uint32(1)} {
		_ = binary.Write(&b, le, v)
	}
	n := int(length / (packetMS * time.Millisecond))
	payload := make([]byte, packetBytes)
	for i := range n {
		ts := start.Add(time.Duration(i) * packetMS * time.Millisecond)
		for side, p := range []struct {
			src, dst netip.AddrPort
			freq     float64
			ssrc     uint32
		}{{localAddr, peerAddr, freqL, 0x1111}, {remoteAddr, phoneAddr, freqR, 0x2222}} {
			for k := range payload {
				t := float64(i*packetBytes+k) / sampleRate
				// Loud and soft halves, so that the waveform has a shape.
				amp := 12000.0
				if int(t)%2 == 1 {
					amp = 3000
				}
				payload[k] = alaw(int16(amp * math.Sin(2*math.Pi*p.freq*t)))
			}
			rtp := rtpPacket(uint16(i), uint32(i*packetBytes), p.ssrc, payload)
			frame := ethernetIPv4UDP(p.src, p.dst, uint16(i*2+side), rtp)
			rec := ts.Add(time.Duration(side) * time.Millisecond)
			for _, v := range []any{uint32(rec.Unix()), uint32(rec.Nanosecond() / 1000), uint32(len(frame)), uint32(len(frame))} {
				_ = binary.Write(&b, le, v)
			}
			b.Write(frame)
		}
	}
	return b.Bytes()
}

func rtpPacket(seq uint16, ts, ssrc uint32, payload []byte) []byte {
	p := make([]byte, 12, 12+len(payload))
	p[0] = 0x80
	p[1] = ptPCMA
	binary.BigEndian.PutUint16(p[2:], seq)
	binary.BigEndian.PutUint32(p[4:], ts)
	binary.BigEndian.PutUint32(p[8:], ssrc)
	return append(p, payload...)
}

func ethernetIPv4UDP(src, dst netip.AddrPort, ipID uint16, payload []byte) []byte {
	udpLen := 8 + len(payload)
	f := make([]byte, 14+20+udpLen)
	copy(f[0:6], []byte{0x02, 0, 0, 0, 0, 0x02})
	copy(f[6:12], []byte{0x02, 0, 0, 0, 0, 0x01})
	binary.BigEndian.PutUint16(f[12:], 0x0800)
	ip := f[14:34]
	ip[0] = 0x45
	binary.BigEndian.PutUint16(ip[2:], uint16(20+udpLen))
	binary.BigEndian.PutUint16(ip[4:], ipID)
	ip[8] = 64
	ip[9] = 17
	s4, d4 := src.Addr().As4(), dst.Addr().As4()
	copy(ip[12:16], s4[:])
	copy(ip[16:20], d4[:])
	binary.BigEndian.PutUint16(ip[10:], ipChecksum(ip))
	udp := f[34:]
	binary.BigEndian.PutUint16(udp[0:], src.Port())
	binary.BigEndian.PutUint16(udp[2:], dst.Port())
	binary.BigEndian.PutUint16(udp[4:], uint16(udpLen))
	copy(udp[8:], payload)
	return f
}

func ipChecksum(h []byte) uint16 {
	var sum uint32
	for i := 0; i+1 < len(h); i += 2 {
		sum += uint32(h[i])<<8 | uint32(h[i+1])
	}
	for sum > 0xffff {
		sum = sum&0xffff + sum>>16
	}
	return ^uint16(sum)
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
