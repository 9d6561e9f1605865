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
	recLen   int
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
		recLen:   recLen,
	}
	return nil
}

func (r *Reader) nextClassic() (Packet, error) {
	c := &r.classic
	h := r.hdr[:c.recLen]
	start := r.offset
	if err := r.readFull(h, "record header"); err != nil {
		return Packet{}, err
	}
	sec := r.order.Uint32(h[0:])
	frac := r.order.Uint32(h[4:])
	capLen := r.order.Uint32(h[8:])
	origLen := r.order.Uint32(h[12:])
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
