package pcap

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"time"
)

// MaxCaptureLen is the largest captured length of one record the Reader
// accepts (and the Writers write): 256 KiB, libpcap's maximum snap length.
const MaxCaptureLen = 256 << 10

// maxWarnings bounds the list returned by Reader.Warnings.
const maxWarnings = 16

// readBufferSize is the size of the buffered reader wrapped around the input.
const readBufferSize = 64 << 10

// Packet is one captured frame.
type Packet struct {
	Timestamp time.Time // absolute capture time (UTC); zero for pcapng simple packet blocks
	LinkType  LinkType
	Interface int    // pcapng interface index; 0 for classic pcap
	Data      []byte // captured bytes; valid until the next call to Next (see NewBytesReader)
	OrigLen   int    // length of the packet on the wire
	Offset    int64  // input offset of Data's first byte
}

type format uint8

const (
	formatClassic format = iota + 1
	formatNG
)

// Reader reads packets from a classic pcap or pcapng stream with constant
// memory. It is not safe for concurrent use.
type Reader struct {
	br     *bufio.Reader
	mem    []byte // the whole input, when read by NewBytesReader
	inMem  bool
	format format
	order  binary.ByteOrder
	offset int64 // input offset of the next unread byte
	count  int   // records returned so far
	buf    []byte
	hdr    [24]byte
	err    error // sticky error

	classic classicState
	ng      ngState

	warnings []string
	dropped  int // warnings not stored because the list was full
	skips    []skipCount
}

type skipCount struct {
	blockType uint32
	n         int
}

// NewReader detects the capture format from the first bytes of r and reads
// the file header. r is wrapped in a buffered reader; the input is never read
// into memory as a whole.
func NewReader(r io.Reader) (*Reader, error) {
	rd := &Reader{}
	if err := rd.Reset(r); err != nil {
		return nil, err
	}
	return rd, nil
}

// NewBytesReader reads a capture held in memory (a file read or mapped
// whole). It parses exactly as NewReader does, but copies nothing: every
// Packet.Data is a sub-slice of data, valid as long as data is, so a caller
// may keep it (or its Offset) past the next call to Next.
func NewBytesReader(data []byte) (*Reader, error) {
	rd := &Reader{}
	if err := rd.ResetBytes(data); err != nil {
		return nil, err
	}
	return rd, nil
}

// ResetBytes is Reset for a capture held in memory (see NewBytesReader).
func (r *Reader) ResetBytes(data []byte) error {
	if r.br != nil {
		r.br.Reset(nil)
	}
	r.mem, r.inMem = data, true
	return r.reset()
}

// Reset makes the Reader read a new capture from r, reusing its buffers (so
// that reading many files does not allocate per file). It reads the new file
// header like NewReader; after an error the Reader must not be used until a
// successful Reset.
func (r *Reader) Reset(src io.Reader) error {
	if r.br == nil {
		r.br = bufio.NewReaderSize(src, readBufferSize)
	} else {
		r.br.Reset(src)
	}
	r.mem, r.inMem = nil, false
	return r.reset()
}

func (r *Reader) reset() error {
	r.format, r.order, r.offset, r.count, r.err = 0, nil, 0, 0, nil
	r.classic = classicState{}
	r.ng = ngState{ifaces: r.ng.ifaces[:0]}
	r.warnings, r.dropped, r.skips = r.warnings[:0], 0, r.skips[:0]

	err := r.start()
	if err != nil {
		r.err = err
	}
	return err
}

func (r *Reader) start() error {
	magic := r.hdr[:4]
	n, err := r.read(magic)
	r.offset += int64(n)
	switch {
	case err == io.EOF:
		return fmt.Errorf("%w: empty input", ErrNotCapture)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("%w: input too short (%d bytes)", ErrNotCapture, n)
	case err != nil:
		return fmt.Errorf("pcap: reading file header: %w", err)
	}
	m := binary.LittleEndian.Uint32(magic)
	if m == blockSHB {
		return r.startNG()
	}
	return r.startClassic(m)
}

// Next returns the next packet. It returns io.EOF at the clean end of the
// input, and an error wrapping ErrTruncated when the input ends inside a
// record (every complete record before it has been returned). Errors are
// sticky: once Next failed it keeps returning the same error.
func (r *Reader) Next() (Packet, error) {
	if r.err != nil {
		return Packet{}, r.err
	}
	var p Packet
	var err error
	if r.format == formatNG {
		p, err = r.nextNG()
	} else {
		p, err = r.nextClassic()
	}
	if err != nil {
		r.err = err
		return Packet{}, err
	}
	r.count++
	return p, nil
}

// LinkType returns the link type of a classic pcap file (known after
// NewReader), or of the first interface of the current pcapng section (known
// once Next has read that interface's description; LinkNull before).
// Prefer Packet.LinkType, which is right for every packet.
func (r *Reader) LinkType() LinkType {
	if r.format == formatNG {
		if len(r.ng.ifaces) > 0 {
			return r.ng.ifaces[0].linkType
		}
		return LinkNull
	}
	return r.classic.linkType
}

// Warnings returns notes about oddities that did not stop reading: a
// truncated last record, skipped pcapng blocks, ignored options. The list is
// bounded.
func (r *Reader) Warnings() []string {
	out := make([]string, 0, len(r.warnings)+len(r.skips)+1)
	out = append(out, r.warnings...)
	for _, s := range r.skips {
		out = append(out, fmt.Sprintf("skipped %d pcapng block(s): %s", s.n, blockDesc(s.blockType)))
	}
	if r.dropped > 0 {
		out = append(out, fmt.Sprintf("%d more warning(s) not shown", r.dropped))
	}
	return out
}

func (r *Reader) warnf(format string, args ...any) {
	if len(r.warnings) >= maxWarnings {
		r.dropped++
		return
	}
	r.warnings = append(r.warnings, fmt.Sprintf(format, args...))
}

// readFull reads exactly len(b) bytes. At a clean end (no byte read) it
// returns io.EOF; an end after some bytes wraps ErrTruncated and records a
// warning. what names the structure being read for the messages.
func (r *Reader) readFull(b []byte, what string) error {
	start := r.offset
	n, err := r.read(b)
	r.offset += int64(n)
	switch {
	case err == nil:
		return nil
	case err == io.EOF:
		return io.EOF
	case errors.Is(err, io.ErrUnexpectedEOF):
		r.warnf("truncated last record: %s at offset %d has %d of %d bytes", what, start, n, len(b))
		return fmt.Errorf("%w: %s at offset %d: got %d of %d bytes", ErrTruncated, what, start, n, len(b))
	default:
		return fmt.Errorf("pcap: reading %s at offset %d: %w", what, start, err)
	}
}

// read is io.ReadFull from the input at r.offset; the caller advances
// r.offset.
func (r *Reader) read(b []byte) (int, error) {
	if !r.inMem {
		return io.ReadFull(r.br, b)
	}
	n := copy(b, r.mem[min(r.offset, int64(len(r.mem))):])
	switch {
	case n == len(b):
		return n, nil
	case n == 0:
		return 0, io.EOF
	}
	return n, io.ErrUnexpectedEOF
}

// body returns the next n bytes of a record (after its header): a
// sub-slice of the input when it is held in memory, else r.buf filled by
// readBody.
func (r *Reader) body(n int, what string) ([]byte, error) {
	if r.inMem && int64(n) <= int64(len(r.mem))-r.offset {
		b := r.mem[r.offset : r.offset+int64(n) : r.offset+int64(n)]
		r.offset += int64(n)
		return b, nil
	}
	b := r.buffer(n)
	if err := r.readBody(b, what); err != nil {
		return nil, err
	}
	return b, nil
}

// readBody is readFull for the part of a record after its header: a clean
// end there is a truncation too.
func (r *Reader) readBody(b []byte, what string) error {
	err := r.readFull(b, what)
	if err == io.EOF {
		r.warnf("truncated last record: %s at offset %d is missing", what, r.offset)
		return fmt.Errorf("%w: %s at offset %d is missing", ErrTruncated, what, r.offset)
	}
	return err
}

// discard skips n bytes of input.
func (r *Reader) discard(n int64, what string) error {
	if r.inMem {
		if avail := int64(len(r.mem)) - r.offset; n > avail {
			r.offset = int64(len(r.mem))
			r.warnf("truncated last record: %s ends early at offset %d", what, r.offset)
			return fmt.Errorf("%w: %s ends early at offset %d", ErrTruncated, what, r.offset)
		}
		r.offset += max(n, 0)
		return nil
	}
	for n > 0 {
		chunk := n
		if chunk > readBufferSize {
			chunk = readBufferSize
		}
		got, err := r.br.Discard(int(chunk))
		r.offset += int64(got)
		n -= int64(got)
		if err != nil {
			if err == io.EOF {
				r.warnf("truncated last record: %s ends early at offset %d", what, r.offset)
				return fmt.Errorf("%w: %s ends early at offset %d", ErrTruncated, what, r.offset)
			}
			return fmt.Errorf("pcap: skipping %s at offset %d: %w", what, r.offset, err)
		}
	}
	return nil
}

// buffer returns r.buf resized to n bytes, growing it if needed.
func (r *Reader) buffer(n int) []byte {
	if cap(r.buf) < n {
		r.buf = make([]byte, n)
	}
	return r.buf[:n]
}

// lenInt converts a 32-bit length field to int, saturating on 32-bit
// platforms instead of turning negative.
func lenInt(v uint32) int {
	return int(min(uint64(v), uint64(math.MaxInt)))
}
