package pcap

import (
	"encoding/binary"
	"fmt"
	"math/bits"
	"time"
)

// pcapng block types.
const (
	blockSHB    = 0x0a0d0d0a // section header (palindromic: same in both byte orders)
	blockIDB    = 0x00000001 // interface description
	blockOPB    = 0x00000002 // packet (obsolete)
	blockSPB    = 0x00000003 // simple packet
	blockNRB    = 0x00000004 // name resolution
	blockISB    = 0x00000005 // interface statistics
	blockEPB    = 0x00000006 // enhanced packet
	blockDSB    = 0x0000000a // decryption secrets
	blockCustom = 0x00000bad // custom, copyable
	blockCustNC = 0x40000bad // custom, not copyable

	byteOrderMagic = 0x1a2b3c4d

	// maxBlockLen bounds the blocks that are read into memory: a packet of
	// MaxCaptureLen plus room for headers and options. Larger non-packet
	// blocks are skipped without buffering.
	maxBlockLen = MaxCaptureLen + 64<<10
	// maxInterfaces bounds the interfaces of one section.
	maxInterfaces = 4096
	// maxSkipTypes bounds the distinct skipped block types counted for Warnings.
	maxSkipTypes = 16
)

// Option codes.
const (
	optEndOfOpt  = 0
	optTSResol   = 9
	optTSOffset  = 14
	defaultResol = 6 // microseconds
)

type ngState struct {
	ifaces  []ngIface
	section int
}

type ngIface struct {
	linkType LinkType
	snaplen  uint32
	pow2     bool  // resolution is 2^-exp rather than 10^-exp seconds
	exp      uint8 // resolution exponent
	offset   int64 // if_tsoffset, seconds
}

// pow10 holds 10^0 … 10^19, all that fits in a uint64.
var pow10 = [...]uint64{
	1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9,
	1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19,
}

// timestamp converts a timestamp in the interface's units to time.
func (f *ngIface) timestamp(ts uint64) time.Time {
	var sec, ns uint64
	switch {
	case !f.pow2 && f.exp == 9: // common cases first: constant divisors
		sec, ns = ts/1e9, ts%1e9
	case !f.pow2 && f.exp == 6:
		sec, ns = ts/1e6, ts%1e6*1e3
	case f.pow2:
		sec = ts >> f.exp
		if f.exp > 0 {
			rem := ts & (1<<f.exp - 1)
			hi, lo := bits.Mul64(rem, 1e9)
			ns = hi<<(64-f.exp) | lo>>f.exp
		}
	default:
		div := pow10[f.exp]
		sec, ns = ts/div, ts%div
		if f.exp <= 9 {
			ns *= pow10[9-f.exp]
		} else {
			ns /= pow10[f.exp-9]
		}
	}
	return time.Unix(int64(sec)+f.offset, int64(ns)).UTC()
}

// startNG reads the first section header; its block type is already consumed.
func (r *Reader) startNG() error {
	r.format = formatNG
	return r.readSHB(r.offset - 4)
}

// readSHB reads a section header block whose type field (at offset start) has
// been consumed, and starts a new section.
func (r *Reader) readSHB(start int64) error {
	h := r.hdr[:8]
	if err := r.readBody(h, "section header"); err != nil {
		return err
	}
	switch {
	case binary.LittleEndian.Uint32(h[4:]) == byteOrderMagic:
		r.order = binary.LittleEndian
	case binary.BigEndian.Uint32(h[4:]) == byteOrderMagic:
		r.order = binary.BigEndian
	default:
		if r.ng.section == 0 && start == 0 {
			return fmt.Errorf("%w: pcapng section header without byte-order magic", ErrNotCapture)
		}
		return fmt.Errorf("%w: section header at offset %d: bad byte-order magic %#08x",
			ErrMalformed, start, binary.BigEndian.Uint32(h[4:]))
	}
	total := r.order.Uint32(h[0:])
	if total < 28 || total%4 != 0 {
		return fmt.Errorf("%w: section header at offset %d: invalid block length %d", ErrMalformed, start, total)
	}
	body, err := r.readBlockRest(blockSHB, start, total, 12)
	if err != nil {
		return err
	}
	if body != nil {
		if major := r.order.Uint16(body[0:]); major != 1 {
			return fmt.Errorf("%w: section header at offset %d: unsupported pcapng version %d.%d",
				ErrMalformed, start, major, r.order.Uint16(body[2:]))
		}
	}
	r.ng.section++
	r.ng.ifaces = r.ng.ifaces[:0]
	return nil
}

// readBlockRest reads the rest of a block of total length total of which
// consumed bytes were read, checks the trailing length copy, and returns the
// block body after the consumed part (without the trailer). Blocks larger than
// maxBlockLen are skipped and a nil body is returned.
func (r *Reader) readBlockRest(typ uint32, start int64, total uint32, consumed int) ([]byte, error) {
	what := blockName(typ)
	rest := int64(total) - int64(consumed)
	if total > maxBlockLen {
		if err := r.discard(rest-4, what); err != nil {
			return nil, err
		}
		trailer := r.hdr[:4]
		if err := r.readBody(trailer, "block trailer"); err != nil {
			return nil, err
		}
		if got := r.order.Uint32(trailer); got != total {
			return nil, fmt.Errorf("%w: %s at offset %d: trailing length %d does not match %d",
				ErrMalformed, what, start, got, total)
		}
		return nil, nil
	}
	b, err := r.body(int(rest), what)
	if err != nil {
		return nil, err
	}
	if got := r.order.Uint32(b[len(b)-4:]); got != total {
		return nil, fmt.Errorf("%w: %s at offset %d: trailing length %d does not match %d",
			ErrMalformed, what, start, got, total)
	}
	return b[:len(b)-4], nil
}

func (r *Reader) nextNG() (Packet, error) {
	for {
		start := r.offset
		h := r.hdr[:8]
		if err := r.readFull(h[:4], "block header"); err != nil {
			return Packet{}, err
		}
		typ := r.order.Uint32(h[0:])
		if typ == blockSHB {
			if err := r.readSHB(start); err != nil {
				return Packet{}, err
			}
			continue
		}
		if err := r.readBody(h[4:8], "block header"); err != nil {
			return Packet{}, err
		}
		total := r.order.Uint32(h[4:])
		if total < 12 || total%4 != 0 {
			return Packet{}, fmt.Errorf("%w: %s at offset %d: invalid block length %d",
				ErrMalformed, blockDesc(typ), start, total)
		}
		isPacket := typ == blockEPB || typ == blockSPB || typ == blockOPB
		if isPacket && total > maxBlockLen {
			return Packet{}, fmt.Errorf("%w: %s at offset %d: length %d exceeds %d",
				ErrTooLarge, blockDesc(typ), start, total, maxBlockLen)
		}
		bodyOff := r.offset
		body, err := r.readBlockRest(typ, start, total, 8)
		if err != nil {
			return Packet{}, err
		}
		switch typ {
		case blockIDB:
			if err := r.parseIDB(body, start); err != nil {
				return Packet{}, err
			}
		case blockEPB, blockOPB:
			p, err := r.parsePacketBlock(typ, body, start)
			return located(p, err, bodyOff, body)
		case blockSPB:
			p, err := r.parseSPB(body, start)
			return located(p, err, bodyOff, body)
		default:
			r.noteSkip(typ)
		}
	}
}

// located sets the Offset of a packet parsed from a block body read at
// input offset bodyOff: Data is a sub-slice of body, so their capacities
// differ by Data's start within body.
func located(p Packet, err error, bodyOff int64, body []byte) (Packet, error) {
	if err != nil {
		return Packet{}, err
	}
	p.Offset = bodyOff + int64(cap(body)-cap(p.Data))
	return p, nil
}

func (r *Reader) noteSkip(typ uint32) {
	for i := range r.skips {
		if r.skips[i].blockType == typ {
			r.skips[i].n++
			return
		}
	}
	if len(r.skips) < maxSkipTypes {
		r.skips = append(r.skips, skipCount{blockType: typ, n: 1})
		return
	}
	r.dropped++
}

func (r *Reader) parseIDB(body []byte, start int64) error {
	if body == nil {
		return fmt.Errorf("%w: interface description block at offset %d: longer than %d bytes",
			ErrMalformed, start, maxBlockLen)
	}
	if len(body) < 8 {
		return fmt.Errorf("%w: interface description block at offset %d: body too short (%d bytes)",
			ErrMalformed, start, len(body))
	}
	if len(r.ng.ifaces) >= maxInterfaces {
		return fmt.Errorf("%w: interface description block at offset %d: more than %d interfaces",
			ErrMalformed, start, maxInterfaces)
	}
	f := ngIface{
		linkType: LinkType(r.order.Uint16(body[0:])),
		snaplen:  r.order.Uint32(body[4:]),
		exp:      defaultResol,
	}
	opts := body[8:]
	for len(opts) >= 4 {
		code := r.order.Uint16(opts[0:])
		n := int(r.order.Uint16(opts[2:]))
		if code == optEndOfOpt {
			break
		}
		padded := (n + 3) &^ 3
		if 4+padded > len(opts) {
			r.warnf("interface %d at offset %d: option %d overruns the block; options ignored from there",
				len(r.ng.ifaces), start, code)
			break
		}
		val := opts[4 : 4+n]
		switch code {
		case optTSResol:
			if n != 1 {
				r.warnf("interface %d at offset %d: if_tsresol has length %d; ignored", len(r.ng.ifaces), start, n)
				break
			}
			v := val[0]
			if v&0x80 != 0 && v&0x7f <= 63 {
				f.pow2, f.exp = true, v&0x7f
			} else if v&0x80 == 0 && int(v) < len(pow10) {
				f.pow2, f.exp = false, v
			} else {
				r.warnf("interface %d at offset %d: unsupported if_tsresol %#02x; using microseconds",
					len(r.ng.ifaces), start, v)
			}
		case optTSOffset:
			if n != 8 {
				r.warnf("interface %d at offset %d: if_tsoffset has length %d; ignored", len(r.ng.ifaces), start, n)
				break
			}
			f.offset = int64(r.order.Uint64(val))
		}
		opts = opts[4+padded:]
	}
	r.ng.ifaces = append(r.ng.ifaces, f)
	return nil
}

func (r *Reader) iface(id uint32, typ uint32, start int64) (*ngIface, error) {
	if uint64(id) >= uint64(len(r.ng.ifaces)) {
		return nil, fmt.Errorf("%w: %s at offset %d: interface %d is not defined (section has %d)",
			ErrMalformed, blockDesc(typ), start, id, len(r.ng.ifaces))
	}
	return &r.ng.ifaces[id], nil
}

// packetBody slices the captured data of an EPB or OPB whose fixed part has
// length fixed.
func packetData(body []byte, fixed int, capLen uint32, typ uint32, start int64) ([]byte, error) {
	if uint64(capLen) > uint64(len(body)-fixed) {
		return nil, fmt.Errorf("%w: %s at offset %d: captured length %d exceeds block",
			ErrMalformed, blockDesc(typ), start, capLen)
	}
	if capLen > MaxCaptureLen {
		return nil, fmt.Errorf("%w: %s at offset %d: captured length %d exceeds %d",
			ErrTooLarge, blockDesc(typ), start, capLen, MaxCaptureLen)
	}
	return body[fixed : fixed+int(capLen)], nil
}

// parsePacketBlock decodes an enhanced packet block or the obsolete packet
// block. Both have a 20-byte fixed part: interface id, timestamp (high and
// low words), captured and original length; the obsolete block's id is 16
// bits, followed by a 16-bit drop count.
func (r *Reader) parsePacketBlock(typ uint32, body []byte, start int64) (Packet, error) {
	const fixed = 20
	if len(body) < fixed {
		return Packet{}, fmt.Errorf("%w: %s at offset %d: body too short (%d bytes)",
			ErrMalformed, blockName(typ), start, len(body))
	}
	id := r.order.Uint32(body[0:])
	if typ == blockOPB {
		id = uint32(r.order.Uint16(body[0:]))
	}
	f, err := r.iface(id, typ, start)
	if err != nil {
		return Packet{}, err
	}
	ts := uint64(r.order.Uint32(body[4:]))<<32 | uint64(r.order.Uint32(body[8:]))
	data, err := packetData(body, fixed, r.order.Uint32(body[12:]), typ, start)
	if err != nil {
		return Packet{}, err
	}
	return Packet{
		Timestamp: f.timestamp(ts),
		LinkType:  f.linkType,
		Interface: int(id),
		Data:      data,
		OrigLen:   lenInt(r.order.Uint32(body[16:])),
	}, nil
}

// parseSPB decodes a simple packet block: no timestamp, interface 0, captured
// length min(original length, snap length, block space).
func (r *Reader) parseSPB(body []byte, start int64) (Packet, error) {
	if len(body) < 4 {
		return Packet{}, fmt.Errorf("%w: simple packet block at offset %d: body too short (%d bytes)",
			ErrMalformed, start, len(body))
	}
	f, err := r.iface(0, blockSPB, start)
	if err != nil {
		return Packet{}, err
	}
	origLen := r.order.Uint32(body[0:])
	capLen := uint64(origLen)
	if f.snaplen > 0 && uint64(f.snaplen) < capLen {
		capLen = uint64(f.snaplen)
	}
	if avail := uint64(len(body) - 4); avail < capLen {
		capLen = avail
	}
	data, err := packetData(body, 4, uint32(capLen), blockSPB, start)
	if err != nil {
		return Packet{}, err
	}
	return Packet{LinkType: f.linkType, Data: data, OrigLen: lenInt(origLen)}, nil
}

// blockName names a block type for messages. Known types get constant
// strings (no allocation on the hot path).
func blockName(typ uint32) string {
	switch typ {
	case blockSHB:
		return "section header block"
	case blockIDB:
		return "interface description block"
	case blockOPB:
		return "packet block"
	case blockSPB:
		return "simple packet block"
	case blockNRB:
		return "name resolution block"
	case blockISB:
		return "interface statistics block"
	case blockEPB:
		return "enhanced packet block"
	case blockDSB:
		return "decryption secrets block"
	case blockCustom, blockCustNC:
		return "custom block"
	}
	return "unknown block"
}

// blockDesc is blockName with the numeric type of unknown blocks.
func blockDesc(typ uint32) string {
	if n := blockName(typ); n != "unknown block" {
		return n
	}
	return fmt.Sprintf("block of type %#08x", typ)
}
