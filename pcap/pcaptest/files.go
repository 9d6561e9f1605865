package pcaptest

import (
	"bytes"
	"encoding/binary"
	"testing"
	"time"

	"recordings/pcap"
)

// ByteOrder is a byte order that can also append (binary.LittleEndian and
// binary.BigEndian are both).
type ByteOrder interface {
	binary.ByteOrder
	binary.AppendByteOrder
}

// Record is one hand-assembled classic pcap record.
type Record struct {
	Sec, Frac uint32 // seconds and µs or ns, as the file's magic says
	Data      []byte
	OrigLen   uint32 // 0 means len(Data)
}

// Classic magic numbers.
const (
	MagicMicro = 0xa1b2c3d4
	MagicNano  = 0xa1b23c4d
)

// ClassicFile assembles a classic pcap file in the given byte order by hand.
func ClassicFile(order ByteOrder, magic uint32, linkType, snaplen uint32, recs ...Record) []byte {
	b := order.AppendUint32(nil, magic)
	b = order.AppendUint16(b, 2)
	b = order.AppendUint16(b, 4)
	b = order.AppendUint32(b, 0) // thiszone
	b = order.AppendUint32(b, 0) // sigfigs
	b = order.AppendUint32(b, snaplen)
	b = order.AppendUint32(b, linkType)
	for _, r := range recs {
		orig := r.OrigLen
		if orig == 0 {
			orig = uint32(len(r.Data))
		}
		b = order.AppendUint32(b, r.Sec)
		b = order.AppendUint32(b, r.Frac)
		b = order.AppendUint32(b, uint32(len(r.Data)))
		b = order.AppendUint32(b, orig)
		b = append(b, r.Data...)
	}
	return b
}

// pcapng block types.
const (
	BlockSHB    = 0x0a0d0d0a
	BlockIDB    = 1
	BlockOPB    = 2
	BlockSPB    = 3
	BlockNRB    = 4
	BlockISB    = 5
	BlockEPB    = 6
	BlockDSB    = 10
	BlockCustom = 0xbad
)

// NGBlock assembles a pcapng block: type, total length, body padded to 4
// bytes, trailing total length.
func NGBlock(order ByteOrder, typ uint32, body []byte) []byte {
	padded := (len(body) + 3) &^ 3
	total := uint32(12 + padded)
	b := order.AppendUint32(nil, typ)
	b = order.AppendUint32(b, total)
	b = append(b, body...)
	b = append(b, make([]byte, padded-len(body))...)
	return order.AppendUint32(b, total)
}

// NGOption assembles one option (code, length, value padded to 4 bytes).
func NGOption(order ByteOrder, code uint16, value []byte) []byte {
	b := order.AppendUint16(nil, code)
	b = order.AppendUint16(b, uint16(len(value)))
	b = append(b, value...)
	return append(b, make([]byte, (len(value)+3)&^3-len(value))...)
}

// NGEndOfOpt is the opt_endofopt option.
func NGEndOfOpt() []byte { return make([]byte, 4) }

// NGSHB assembles a section header block (version 1.0, unknown section length).
func NGSHB(order ByteOrder, opts ...[]byte) []byte {
	b := order.AppendUint32(nil, 0x1a2b3c4d)
	b = order.AppendUint16(b, 1)
	b = order.AppendUint16(b, 0)
	b = order.AppendUint64(b, ^uint64(0))
	return NGBlock(order, BlockSHB, append(b, bytes.Join(opts, nil)...))
}

// NGIDB assembles an interface description block.
func NGIDB(order ByteOrder, linkType uint16, snaplen uint32, opts ...[]byte) []byte {
	b := order.AppendUint16(nil, linkType)
	b = order.AppendUint16(b, 0)
	b = order.AppendUint32(b, snaplen)
	return NGBlock(order, BlockIDB, append(b, bytes.Join(opts, nil)...))
}

// NGTSResol is an if_tsresol option: 10^-n seconds, or 2^-n with pow2.
func NGTSResol(order ByteOrder, n uint8, pow2 bool) []byte {
	if pow2 {
		n |= 0x80
	}
	return NGOption(order, 9, []byte{n})
}

// NGTSOffset is an if_tsoffset option (seconds added to every timestamp).
func NGTSOffset(order ByteOrder, sec int64) []byte {
	return NGOption(order, 14, order.AppendUint64(nil, uint64(sec)))
}

// NGEPB assembles an enhanced packet block; origLen 0 means len(data).
func NGEPB(order ByteOrder, iface uint32, ts uint64, data []byte, origLen uint32, opts ...[]byte) []byte {
	if origLen == 0 {
		origLen = uint32(len(data))
	}
	b := order.AppendUint32(nil, iface)
	b = order.AppendUint32(b, uint32(ts>>32))
	b = order.AppendUint32(b, uint32(ts))
	b = order.AppendUint32(b, uint32(len(data)))
	b = order.AppendUint32(b, origLen)
	b = append(b, data...)
	b = append(b, make([]byte, (len(data)+3)&^3-len(data))...)
	return NGBlock(order, BlockEPB, append(b, bytes.Join(opts, nil)...))
}

// NGOPB assembles an obsolete packet block; origLen 0 means len(data).
func NGOPB(order ByteOrder, iface uint16, ts uint64, data []byte, origLen uint32) []byte {
	if origLen == 0 {
		origLen = uint32(len(data))
	}
	b := order.AppendUint16(nil, iface)
	b = order.AppendUint16(b, 0) // drops count
	b = order.AppendUint32(b, uint32(ts>>32))
	b = order.AppendUint32(b, uint32(ts))
	b = order.AppendUint32(b, uint32(len(data)))
	b = order.AppendUint32(b, origLen)
	b = append(b, data...)
	return NGBlock(order, BlockOPB, b)
}

// NGSPB assembles a simple packet block with the given original length
// (which may exceed len(data) when the interface's snap length cut it).
func NGSPB(order ByteOrder, origLen uint32, data []byte) []byte {
	b := order.AppendUint32(nil, origLen)
	return NGBlock(order, BlockSPB, append(b, data...))
}

// Capture writes frames to a classic pcap (µs, little-endian) of link type lt
// with timestamps start, start+step, ... and returns the file's bytes.
func Capture(tb testing.TB, lt pcap.LinkType, start time.Time, step time.Duration, frames ...[]byte) []byte {
	tb.Helper()
	var buf bytes.Buffer
	w, err := pcap.NewWriter(&buf, lt)
	if err != nil {
		tb.Fatalf("pcaptest.Capture: %v", err)
	}
	for i, f := range frames {
		if err := w.WritePacket(start.Add(time.Duration(i)*step), f); err != nil {
			tb.Fatalf("pcaptest.Capture: packet %d: %v", i, err)
		}
	}
	return buf.Bytes()
}

// CaptureNG is Capture producing pcapng (nanosecond timestamps).
func CaptureNG(tb testing.TB, lt pcap.LinkType, start time.Time, step time.Duration, frames ...[]byte) []byte {
	tb.Helper()
	var buf bytes.Buffer
	w, err := pcap.NewNGWriter(&buf, lt)
	if err != nil {
		tb.Fatalf("pcaptest.CaptureNG: %v", err)
	}
	for i, f := range frames {
		if err := w.WritePacket(0, start.Add(time.Duration(i)*step), f); err != nil {
			tb.Fatalf("pcaptest.CaptureNG: packet %d: %v", i, err)
		}
	}
	return buf.Bytes()
}
