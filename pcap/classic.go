package pcap

import (
	"encoding/binary"
	"fmt"
	"math/bits"
	"time"
)

// Classic pcap magic numbers, as read in the file's own byte order.
const (
	magicMicro      = 0xa1b2c3d4
	magicNano       = 0xa1b23c4d
	magicKuznetzov  = 0xa1b2cd34 // "modified" pcap: 8 extra bytes per record header
	classicHdrLen   = 24
	classicRecLen   = 16
	kuznetzovRecLen = 24
	// linkTypeMask keeps the link type of the header's link-type field; the
	// upper bits are reserved or carry FCS information.
	linkTypeMask = 0x0000ffff
)

type classicState struct {
	linkType LinkType
	snaplen  uint32
	nano     bool
	big      bool // big-endian file (r.order is binary.BigEndian)
	recLen   int
}

// u32 reads the file's byte order at b without calling through r.order.
func (c *classicState) u32(b []byte) uint32 {
	if c.big {
		return binary.BigEndian.Uint32(b)
	}
	return binary.LittleEndian.Uint32(b)
}

// startClassic reads a classic pcap file header whose magic number, read
// as little-endian, is m.
func (r *Reader) startClassic(m uint32) error {
	var nano bool
	recLen := classicRecLen
	magic := m
	switch m {
	case magicMicro, magicNano, magicKuznetzov:
		r.order = binary.LittleEndian
	default:
		magic = bits.ReverseBytes32(m)
		switch magic {
		case magicMicro, magicNano, magicKuznetzov:
			r.order = binary.BigEndian
		default:
			return fmt.Errorf("%w: unknown magic number %#08x", ErrNotCapture, bits.ReverseBytes32(m))
		}
	}
	switch magic {
	case magicNano:
		nano = true
	case magicKuznetzov:
		recLen = kuznetzovRecLen
	}
	h := r.hdr[:classicHdrLen-4]
	if err := r.readBody(h, "pcap file header"); err != nil {
		return err
	}
	major := r.order.Uint16(h[0:])
	if major != 2 {
		return fmt.Errorf("%w: unsupported pcap version %d.%d", ErrMalformed, major, r.order.Uint16(h[2:]))
	}
	r.format = formatClassic
	r.classic = classicState{
		snaplen:  r.order.Uint32(h[12:]),
		linkType: LinkType(r.order.Uint32(h[16:]) & linkTypeMask),
		nano:     nano,
		big:      r.order == binary.BigEndian,
		recLen:   recLen,
	}
	return nil
}

func (r *Reader) nextClassic() (Packet, error) {
	c := &r.classic
	start := r.offset
	var h []byte
	if r.inMem && start >= 0 && start <= int64(len(r.mem))-int64(c.recLen) {
		// In memory, the header is read where it lies, not copied.
		h = r.mem[start : start+int64(c.recLen)]
		r.offset += int64(c.recLen)
	} else {
		h = r.hdr[:c.recLen]
		if err := r.readFull(h, "record header"); err != nil {
			return Packet{}, err
		}
	}
	sec := c.u32(h[0:])
	frac := c.u32(h[4:])
	capLen := c.u32(h[8:])
	origLen := c.u32(h[12:])
	if capLen > MaxCaptureLen {
		return Packet{}, fmt.Errorf("%w: record %d at offset %d: captured length %d exceeds %d",
			ErrTooLarge, r.count+1, start, capLen, MaxCaptureLen)
	}
	off := r.offset
	data, err := r.body(int(capLen), "record data")
	if err != nil {
		return Packet{}, err
	}
	ns := int64(frac)
	if !c.nano {
		ns *= 1000
	}
	return Packet{
		Timestamp: time.Unix(int64(sec), ns).UTC(),
		LinkType:  c.linkType,
		Data:      data,
		OrigLen:   lenInt(origLen),
		Offset:    off,
	}, nil
}
