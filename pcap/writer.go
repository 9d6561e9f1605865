package pcap

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"time"
)

// Writer writes a classic pcap file: little-endian, one link type, snap
// length MaxCaptureLen, microsecond or nanosecond timestamps.
type Writer struct {
	w    io.Writer
	nano bool
	hdr  [classicRecLen]byte
	err  error
}

// NewWriter writes a classic pcap file header (microsecond timestamps) to w.
func NewWriter(w io.Writer, lt LinkType) (*Writer, error) {
	return newWriter(w, lt, false)
}

// NewNanoWriter writes a classic pcap file header with nanosecond timestamps.
func NewNanoWriter(w io.Writer, lt LinkType) (*Writer, error) {
	return newWriter(w, lt, true)
}

func newWriter(w io.Writer, lt LinkType, nano bool) (*Writer, error) {
	if lt > linkTypeMask {
		return nil, fmt.Errorf("pcap: link type %d out of range", lt)
	}
	var h [classicHdrLen]byte
	magic := uint32(magicMicro)
	if nano {
		magic = magicNano
	}
	le := binary.LittleEndian
	le.PutUint32(h[0:], magic)
	le.PutUint16(h[4:], 2)
	le.PutUint16(h[6:], 4)
	// thiszone and sigfigs stay 0.
	le.PutUint32(h[16:], MaxCaptureLen)
	le.PutUint32(h[20:], uint32(lt))
	if _, err := w.Write(h[:]); err != nil {
		return nil, fmt.Errorf("pcap: writing file header: %w", err)
	}
	return &Writer{w: w, nano: nano}, nil
}

// WritePacket writes one record whose captured and original lengths are
// len(data). ts must lie between 1970 and 2106 (the format's range).
func (w *Writer) WritePacket(ts time.Time, data []byte) error {
	if w.err != nil {
		return w.err
	}
	if len(data) > MaxCaptureLen {
		return fmt.Errorf("%w: packet of %d bytes exceeds %d", ErrTooLarge, len(data), MaxCaptureLen)
	}
	sec := ts.Unix()
	if sec < 0 || sec > math.MaxUint32 {
		return fmt.Errorf("pcap: timestamp %v outside the classic pcap range", ts)
	}
	frac := uint32(ts.Nanosecond())
	if !w.nano {
		frac /= 1000
	}
	le := binary.LittleEndian
	le.PutUint32(w.hdr[0:], uint32(sec))
	le.PutUint32(w.hdr[4:], frac)
	le.PutUint32(w.hdr[8:], uint32(len(data)))
	le.PutUint32(w.hdr[12:], uint32(len(data)))
	if _, err := w.w.Write(w.hdr[:]); err != nil {
		w.err = fmt.Errorf("pcap: writing record header: %w", err)
		return w.err
	}
	if _, err := w.w.Write(data); err != nil {
		w.err = fmt.Errorf("pcap: writing record data: %w", err)
		return w.err
	}
	return nil
}

// NGWriter writes a pcapng file: one little-endian section, interfaces
// described up front or added later, packets as enhanced packet blocks.
type NGWriter struct {
	w      io.Writer
	ifaces []uint8 // timestamp resolution exponent (10^-n s) per interface
	buf    []byte
	err    error
}

// ngDefaultResol is the resolution of the interface NewNGWriter creates.
const ngDefaultResol = 9

// NewNGWriter writes a section header block and one interface description
// block (interface 0, link type lt, nanosecond timestamps) to w.
func NewNGWriter(w io.Writer, lt LinkType) (*NGWriter, error) {
	nw := &NGWriter{w: w}
	le := binary.LittleEndian
	b := make([]byte, 28)
	le.PutUint32(b[0:], blockSHB)
	le.PutUint32(b[4:], 28)
	le.PutUint32(b[8:], byteOrderMagic)
	le.PutUint16(b[12:], 1)
	le.PutUint16(b[14:], 0)
	le.PutUint64(b[16:], math.MaxUint64) // section length unknown (-1)
	le.PutUint32(b[24:], 28)
	if _, err := w.Write(b); err != nil {
		return nil, fmt.Errorf("pcap: writing section header: %w", err)
	}
	if _, err := nw.AddInterface(lt, ngDefaultResol); err != nil {
		return nil, err
	}
	return nw, nil
}

// AddInterface writes an interface description block and returns the new
// interface's index. tsResolPow10 (0…9) sets the timestamp resolution to
// 10^-tsResolPow10 seconds.
func (w *NGWriter) AddInterface(lt LinkType, tsResolPow10 int) (int, error) {
	if w.err != nil {
		return 0, w.err
	}
	if lt > math.MaxUint16 {
		return 0, fmt.Errorf("pcap: link type %d does not fit pcapng's 16 bits", lt)
	}
	if tsResolPow10 < 0 || tsResolPow10 > 9 {
		return 0, fmt.Errorf("pcap: timestamp resolution 10^-%d outside 10^-0…10^-9", tsResolPow10)
	}
	le := binary.LittleEndian
	total := 20
	if tsResolPow10 != defaultResol {
		total += 12 // if_tsresol option (8) + end of options (4)
	}
	b := make([]byte, total)
	le.PutUint32(b[0:], blockIDB)
	le.PutUint32(b[4:], uint32(total))
	le.PutUint16(b[8:], uint16(lt))
	le.PutUint32(b[12:], MaxCaptureLen)
	if tsResolPow10 != defaultResol {
		le.PutUint16(b[16:], optTSResol)
		le.PutUint16(b[18:], 1)
		b[20] = byte(tsResolPow10)
		// b[24:28] is opt_endofopt, already zero.
	}
	le.PutUint32(b[total-4:], uint32(total))
	if _, err := w.w.Write(b); err != nil {
		w.err = fmt.Errorf("pcap: writing interface description: %w", err)
		return 0, w.err
	}
	w.ifaces = append(w.ifaces, uint8(tsResolPow10))
	return len(w.ifaces) - 1, nil
}

// WritePacket writes one enhanced packet block for interface iface. ts must
// not lie before 1970.
func (w *NGWriter) WritePacket(iface int, ts time.Time, data []byte) error {
	if w.err != nil {
		return w.err
	}
	if iface < 0 || iface >= len(w.ifaces) {
		return fmt.Errorf("pcap: interface %d not defined (have %d)", iface, len(w.ifaces))
	}
	if len(data) > MaxCaptureLen {
		return fmt.Errorf("%w: packet of %d bytes exceeds %d", ErrTooLarge, len(data), MaxCaptureLen)
	}
	units, err := tsUnits(ts, w.ifaces[iface])
	if err != nil {
		return err
	}
	padded := (len(data) + 3) &^ 3
	total := 32 + padded
	if cap(w.buf) < total {
		w.buf = make([]byte, total)
	}
	b := w.buf[:total]
	le := binary.LittleEndian
	le.PutUint32(b[0:], blockEPB)
	le.PutUint32(b[4:], uint32(total))
	le.PutUint32(b[8:], uint32(iface))
	le.PutUint32(b[12:], uint32(units>>32))
	le.PutUint32(b[16:], uint32(units))
	le.PutUint32(b[20:], uint32(len(data)))
	le.PutUint32(b[24:], uint32(len(data)))
	n := copy(b[28:], data)
	clear(b[28+n : 28+padded])
	le.PutUint32(b[total-4:], uint32(total))
	if _, err := w.w.Write(b); err != nil {
		w.err = fmt.Errorf("pcap: writing packet: %w", err)
		return w.err
	}
	return nil
}

var errTimestampRange = errors.New("pcap: timestamp outside the pcapng range")

// tsUnits converts ts to units of 10^-pow seconds since the epoch.
func tsUnits(ts time.Time, pow uint8) (uint64, error) {
	sec := ts.Unix()
	if sec < 0 || uint64(sec) > math.MaxUint64/pow10[pow]-1 {
		return 0, fmt.Errorf("%w: %v", errTimestampRange, ts)
	}
	return uint64(sec)*pow10[pow] + uint64(ts.Nanosecond())/pow10[9-pow], nil
}
