package convert

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"slices"
	"sync"
	"time"

	"recordings/media"
	"recordings/pcap"
)

// Indexed is a capture held in memory and parsed once. The first pass over
// it (the analysis) walks the pcap down to UDP datagrams and keeps a
// compact record of each — capture time, address pair, offset and length
// of the payload — while handing the datagrams on; every later pass (the
// render) reads that index instead of parsing the pcap again. Its Open is
// an Opener for Analyze, Render and WriteWAV. An Indexed is safe for
// concurrent use; data must not change while it is used.
type Indexed struct {
	data []byte

	mu       sync.Mutex
	indexing bool // a pass is building the index
	done     bool // recs, pairs, warns and err are complete and read-only

	recs  []datagram
	pairs []addrPair
	warns []string
	err   error // what ended the walk early; nil at a clean end
}

// datagram is the index record of one UDP datagram: 32 bytes and no
// pointers, so a long call's index costs little and the collector does
// not scan it.
type datagram struct {
	sec  int64  // capture time, Unix seconds
	off  int64  // payload offset in the capture
	nsec uint32 // capture time, nanoseconds within sec
	n    uint32 // payload length (a record is at most pcap.MaxCaptureLen)
	pair uint32 // index into Indexed.pairs
}

type addrPair struct{ src, dst netip.AddrPort }

// NewIndexed checks that data starts like a capture (classic pcap or
// pcapng) and returns it ready to be parsed by its first pass. A capture
// that ends early or holds a malformed record is read up to there, and
// every pass ends with that error after the last good datagram, as a
// stream read by each pass would.
func NewIndexed(data []byte) (*Indexed, error) {
	if _, err := pcap.NewBytesReader(data); err != nil {
		return nil, fmt.Errorf("read capture: %w", err)
	}
	return &Indexed{data: data}, nil
}

// source returns the datagrams for one pass: the index once built, else a
// walk of the capture that builds it (when no other pass is building it).
func (x *Indexed) source() (source, error) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.done {
		return &indexSource{x: x}, nil
	}
	r, err := pcap.NewBytesReader(x.data)
	if err != nil {
		return nil, fmt.Errorf("read capture: %w", err)
	}
	src := &captureSource{r: r}
	if x.indexing {
		return src, nil
	}
	x.indexing = true
	return &indexingSource{captureSource: src, x: x, pairs: make(map[addrPair]uint32)}, nil
}

// indexingSource is the first pass: it hands the datagrams on and records
// them. Only it writes x's index, and publishes it once it has read to the
// end; a pass that stops early (a Range written, a cancelled render)
// leaves the index to the next pass.
type indexingSource struct {
	*captureSource
	x      *Indexed
	recs   []datagram
	plist  []addrPair
	pairs  map[addrPair]uint32
	recent [2]uint32 // the last two pairs: a call alternates between its two directions
	ended  bool
}

func (s *indexingSource) Next() (media.Packet, error) {
	if s.ended {
		return s.captureSource.Next()
	}
	p, err := s.captureSource.Next()
	if err != nil {
		s.ended = true
		s.publish(err)
		return p, err
	}
	ap := addrPair{p.Src, p.Dst}
	var pi uint32
	switch {
	case len(s.plist) > 0 && s.plist[s.recent[0]] == ap:
		pi = s.recent[0]
	case len(s.plist) > 0 && s.plist[s.recent[1]] == ap:
		pi = s.recent[1]
	default:
		var ok bool
		if pi, ok = s.pairs[ap]; !ok {
			pi = uint32(len(s.plist))
			s.pairs[ap] = pi
			s.plist = append(s.plist, ap)
		}
	}
	if pi != s.recent[0] {
		s.recent[0], s.recent[1] = pi, s.recent[0]
	}
	off := s.captureSource.off
	if len(s.recs) == cap(s.recs) {
		s.grow(off + int64(len(p.Payload)))
	}
	s.recs = append(s.recs, datagram{sec: p.Time.Unix(), off: off,
		nsec: uint32(p.Time.Nanosecond()), n: uint32(len(p.Payload)), pair: pi})
	return p, nil
}

// minIndexedRecord is the fewest capture bytes per indexed datagram the
// first estimate of the index size assumes: a classic pcap record of an
// Ethernet, IPv4 and UDP header around an RTP header and 8 bytes of payload
// (16+14+20+8+12+8). Fewer real records cost only address space.
const minIndexedRecord = 78

// maxFirstIndex caps the first estimate (in records, 32 MB of index); a
// larger capture grows the index from there at its average record size.
const maxFirstIndex = 1 << 20

// grow makes room for the rest of the capture's datagrams, read up to
// offset end so far: first for a capture of the smallest RTP records, after
// that at the average record size so far. The new index is allocated
// without being filled (a large allocation of fresh memory is not
// cleared), so its pages are touched only as records are appended, and
// only the records so far are copied; growing by append would clear the
// whole new capacity at once.
func (s *indexingSource) grow(end int64) {
	size := int64(len(s.x.data))
	var est int64
	if len(s.recs) == 0 {
		est = min(size/minIndexedRecord+1, maxFirstIndex)
	} else {
		est = int64(len(s.recs)) * size / max(end, 1)
		est += est/8 + 64
	}
	est = max(est, int64(len(s.recs))+int64(len(s.recs))/4+64)
	recs := make([]datagram, len(s.recs), est)
	copy(recs, s.recs)
	s.recs = recs
}

// publish makes the index complete at the end of the walk (err is io.EOF
// or what ended the capture early).
func (s *indexingSource) publish(err error) {
	x := s.x
	x.mu.Lock()
	defer x.mu.Unlock()
	x.indexing = false
	x.recs, x.pairs, x.warns = slices.Clip(s.recs), s.plist, s.captureSource.warnings()
	if !errors.Is(err, io.EOF) {
		x.err = err
	}
	x.done = true
}

// Datagrams is the number of UDP datagrams indexed.
// It is 0 until a pass has read the capture to its end.
func (x *Indexed) Datagrams() int {
	x.mu.Lock()
	defer x.mu.Unlock()
	return len(x.recs)
}

// Open is an Opener: the reader it returns reads the capture's bytes, and
// Analyze, Render and WriteWAV given it read the index instead of parsing
// the bytes again.
func (x *Indexed) Open() (io.ReadCloser, error) {
	return &indexedReader{Reader: bytes.NewReader(x.data), x: x}, nil
}

type indexedReader struct {
	*bytes.Reader
	x *Indexed
}

func (*indexedReader) Close() error { return nil }

// indexSource is a media.Source over an Indexed.
type indexSource struct {
	x *Indexed
	i int
}

func (s *indexSource) Next() (media.Packet, error) {
	if s.i >= len(s.x.recs) {
		if s.x.err != nil {
			return media.Packet{}, s.x.err
		}
		return media.Packet{}, io.EOF
	}
	d := &s.x.recs[s.i]
	s.i++
	ap := &s.x.pairs[d.pair]
	return media.Packet{
		Time:    time.Unix(d.sec, int64(d.nsec)).UTC(),
		Src:     ap.src,
		Dst:     ap.dst,
		Payload: s.x.data[d.off : d.off+int64(d.n) : d.off+int64(d.n)],
	}, nil
}

func (s *indexSource) warnings() []string { return s.x.warns }
