package replica

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"

	"github.com/benbjohnson/litestream"
	"github.com/superfly/ltx"

	"recordings/internal/sealed"
)

// Encryption of the replica at rest. When a master key is configured, the
// LTX files Litestream ships (the database's pages: metadata, users,
// settings) are encrypted before they leave the process, by a
// litestream.ReplicaClient that wraps the backend's.
//
// An encrypted LTX file on the replica is
//
//	envelope (100 bytes) | header (21 bytes) | segment 0 | segment 1 | …
//
// The envelope is an LTX header holding only the magic, the TXID range and
// the timestamp (which the backends read to date the file; the TXIDs are
// in the file's name anyway), the rest zero. The header is
//
//	"RENC" | version (1 byte, 1) | key id (8 bytes) | file nonce (8 bytes, random)
//
// Each segment is SegmentSize bytes of the plaintext (the last one fewer,
// possibly none) sealed with AES-256-GCM under a key derived from the
// master key (sealed.Key.Derive("replica ltx v1")): nonce = file nonce |
// segment index (uint32), associated data = envelope and header, level,
// min and max TXID, segment index and a final-segment flag, so a segment
// moved within or between files, a file renamed, or a file cut short at a
// segment boundary does not open.

// SegmentSize is the plaintext size of a full segment.
const SegmentSize = 64 << 10

const (
	encMagic    = "RENC"
	encVersion  = 1
	envelopeLen = ltx.HeaderSize
	encHeadLen  = envelopeLen + 4 + 1 + 8 + 8
	gcmTag      = 16
	segSealed   = SegmentSize + gcmTag
	replicaKey  = "replica ltx v1"
)

// Errors of the encrypted replica; test with errors.Is.
var (
	// ErrReplicaKey: the replica was encrypted with another master key.
	ErrReplicaKey = errors.New("replica: encrypted with another key")
	// ErrReplicaAuth: a file of the replica did not authenticate (tampered,
	// truncated or misplaced data).
	ErrReplicaAuth = errors.New("replica: authentication failed (tampered or truncated data)")
	// ErrReplicaFormat: a file of the replica is not encrypted, or not in a
	// format this program knows.
	ErrReplicaFormat = errors.New("replica: not an encrypted replica file")
	// ErrReplicaEncrypted: the replica is encrypted and no key was given.
	ErrReplicaEncrypted = errors.New("replica: the replica is encrypted; give the master key (-key-file, RECORDINGS_KEY_FILE)")
)

// SealedClient is a litestream.ReplicaClient that encrypts the LTX files
// it writes to the wrapped client and decrypts those it reads.
type SealedClient struct {
	inner litestream.ReplicaClient
	aead  cipher.AEAD
	keyID [8]byte
}

var _ litestream.ReplicaClient = (*SealedClient)(nil)

// NewSealedClient wraps inner so that the replica is encrypted under a key
// derived from master.
func NewSealedClient(inner litestream.ReplicaClient, master *sealed.Key) (*SealedClient, error) {
	k := master.Derive(replicaKey)
	block, err := aes.NewCipher(k)
	if err != nil {
		return nil, fmt.Errorf("replica key: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("replica key: %w", err)
	}
	c := &SealedClient{inner: inner, aead: aead}
	h := sha256.Sum256(append([]byte("recordings replica key id\x00"), k...))
	copy(c.keyID[:], h[:8])
	return c, nil
}

// KeyID names the replica key (hex), as stored in each file's header.
func (c *SealedClient) KeyID() string { return hex.EncodeToString(c.keyID[:]) }

func (c *SealedClient) Type() string                   { return c.inner.Type() }
func (c *SealedClient) Init(ctx context.Context) error { return c.inner.Init(ctx) }
func (c *SealedClient) SetLogger(l *slog.Logger)       { c.inner.SetLogger(l) }
func (c *SealedClient) DeleteAll(ctx context.Context) error {
	return c.inner.DeleteAll(ctx)
}

// DeleteLTXFiles deletes files by level and TXIDs, which are the same on
// both sides.
func (c *SealedClient) DeleteLTXFiles(ctx context.Context, a []*ltx.FileInfo) error {
	return c.inner.DeleteLTXFiles(ctx, a)
}

// LTXFiles lists the wrapped client's files with their plaintext sizes.
func (c *SealedClient) LTXFiles(ctx context.Context, level int, seek ltx.TXID, useMetadata bool) (ltx.FileIterator, error) {
	it, err := c.inner.LTXFiles(ctx, level, seek, useMetadata)
	if err != nil {
		return nil, err
	}
	return &plainSizes{FileIterator: it}, nil
}

type plainSizes struct {
	ltx.FileIterator
	cur ltx.FileInfo
}

func (p *plainSizes) Item() *ltx.FileInfo {
	it := p.FileIterator.Item()
	if it == nil {
		return nil
	}
	p.cur = *it
	// A size that no encrypted file has is reported as 0; opening the
	// file then fails with a clear error.
	p.cur.Size = max(PlainSize(it.Size), 0)
	return &p.cur
}

// SealedSize is the size on the replica of an LTX file of n bytes.
func SealedSize(n int64) int64 {
	segs := (n + SegmentSize - 1) / SegmentSize
	if n%SegmentSize == 0 {
		segs = max(n/SegmentSize, 1)
	}
	return encHeadLen + n + segs*gcmTag
}

// PlainSize is the plaintext size of an encrypted file of n bytes, or -1
// if no encrypted file has that size.
func PlainSize(n int64) int64 {
	body := n - encHeadLen
	if body < gcmTag {
		return -1
	}
	full, rem := body/segSealed, body%segSealed
	switch {
	case rem == 0:
		return full * SegmentSize
	case rem < gcmTag:
		return -1
	}
	return full*SegmentSize + rem - gcmTag
}

// WriteLTXFile encrypts the LTX file read from r onto the replica.
func (c *SealedClient) WriteLTXFile(ctx context.Context, level int, minTXID, maxTXID ltx.TXID, r io.Reader) (*ltx.FileInfo, error) {
	hdr, r, err := ltx.PeekHeader(r)
	if err != nil {
		return nil, fmt.Errorf("replica: encrypt LTX file: %w", err)
	}
	head := make([]byte, encHeadLen)
	copy(head, ltx.Magic)
	binary.BigEndian.PutUint64(head[16:], uint64(minTXID))
	binary.BigEndian.PutUint64(head[24:], uint64(maxTXID))
	binary.BigEndian.PutUint64(head[32:], uint64(hdr.Timestamp))
	h := head[envelopeLen:]
	copy(h, encMagic)
	h[4] = encVersion
	copy(h[5:13], c.keyID[:])
	if _, err := rand.Read(h[13:21]); err != nil {
		return nil, fmt.Errorf("replica: file nonce: %w", err)
	}
	enc := &encReader{c: c, src: r, head: head, level: level, min: minTXID, max: maxTXID,
		buf: make([]byte, 0, segSealed), plain: make([]byte, SegmentSize+1)}
	enc.buf = append(enc.buf, head...)
	info, err := c.inner.WriteLTXFile(ctx, level, minTXID, maxTXID, enc)
	if err != nil {
		return nil, err
	}
	out := *info
	out.Size = max(PlainSize(info.Size), 0)
	return &out, nil
}

// segAAD is the associated data of a segment.
func segAAD(head []byte, level int, minTXID, maxTXID ltx.TXID, idx uint32, final bool) []byte {
	a := make([]byte, 0, len(head)+8*4+1)
	a = append(a, head...)
	a = binary.BigEndian.AppendUint64(a, uint64(level))
	a = binary.BigEndian.AppendUint64(a, uint64(minTXID))
	a = binary.BigEndian.AppendUint64(a, uint64(maxTXID))
	a = binary.BigEndian.AppendUint64(a, uint64(idx))
	if final {
		return append(a, 1)
	}
	return append(a, 0)
}

func segNonce(head []byte, idx uint32) []byte {
	n := make([]byte, 12)
	copy(n, head[envelopeLen+13:envelopeLen+21])
	binary.BigEndian.PutUint32(n[8:], idx)
	return n
}

// encReader reads the encrypted form of src.
type encReader struct {
	c          *SealedClient
	src        io.Reader
	head       []byte
	level      int
	min, max   ltx.TXID
	idx        uint64
	buf        []byte // sealed bytes not yet read
	plain      []byte // SegmentSize+1: a segment and one byte of look-ahead
	have       int    // bytes in plain
	done, eofd bool
	err        error
}

func (e *encReader) Read(p []byte) (int, error) {
	for len(e.buf) == 0 {
		if e.err != nil {
			return 0, e.err
		}
		if e.done {
			return 0, io.EOF
		}
		e.next()
	}
	n := copy(p, e.buf)
	e.buf = e.buf[n:]
	return n, nil
}

// next seals the next segment into buf.
func (e *encReader) next() {
	if !e.eofd {
		n, err := io.ReadFull(e.src, e.plain[e.have:])
		e.have += n
		switch {
		case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
			e.eofd = true
		case err != nil:
			e.err = fmt.Errorf("replica: encrypt LTX file: %w", err)
			return
		}
	}
	if e.idx > 1<<32-1 {
		e.err = errors.New("replica: LTX file too large to encrypt")
		return
	}
	seg := min(e.have, SegmentSize)
	final := e.eofd && e.have <= SegmentSize
	idx := uint32(e.idx)
	e.buf = e.c.aead.Seal(e.buf[:0], segNonce(e.head, idx), e.plain[:seg],
		segAAD(e.head, e.level, e.min, e.max, idx, final))
	e.have = copy(e.plain, e.plain[seg:e.have])
	e.idx++
	e.done = final
}

// OpenLTXFile returns the plaintext of an LTX file from offset, size bytes
// of it (0: to the end). It reads and decrypts the whole segments the
// range touches.
func (c *SealedClient) OpenLTXFile(ctx context.Context, level int, minTXID, maxTXID ltx.TXID, offset, size int64) (io.ReadCloser, error) {
	if offset < 0 || size < 0 {
		return nil, fmt.Errorf("replica: bad range %d+%d", offset, size)
	}
	first := offset / SegmentSize
	var span int64 // sealed bytes of the segments wanted; 0: to the end
	if size > 0 {
		last := (offset + size - 1) / SegmentSize
		span = (last - first + 1) * segSealed
	}
	var head []byte
	var body io.ReadCloser
	if first == 0 {
		rc, err := c.inner.OpenLTXFile(ctx, level, minTXID, maxTXID, 0, sizeOr0(span, encHeadLen+span))
		if err != nil {
			return nil, err
		}
		head = make([]byte, encHeadLen)
		if _, err := io.ReadFull(rc, head); err != nil {
			rc.Close()
			return nil, c.headErr(level, minTXID, maxTXID, err)
		}
		body = rc
	} else {
		rc, err := c.inner.OpenLTXFile(ctx, level, minTXID, maxTXID, 0, encHeadLen)
		if err != nil {
			return nil, err
		}
		head, err = io.ReadAll(io.LimitReader(rc, encHeadLen))
		rc.Close()
		if err == nil && len(head) < encHeadLen {
			err = io.ErrUnexpectedEOF
		}
		if err != nil {
			return nil, c.headErr(level, minTXID, maxTXID, err)
		}
		if body, err = c.inner.OpenLTXFile(ctx, level, minTXID, maxTXID, encHeadLen+first*segSealed, span); err != nil {
			return nil, err
		}
	}
	if err := c.checkHead(head); err != nil {
		body.Close()
		return nil, fmt.Errorf("replica: LTX file %d/%s: %w", level, ltx.FormatFilename(minTXID, maxTXID), err)
	}
	d := &decReader{c: c, src: body, head: head, level: level, min: minTXID, max: maxTXID,
		idx: uint64(first), skip: offset - first*SegmentSize, left: size, limited: size > 0,
		sealed: make([]byte, segSealed+1)}
	return d, nil
}

func sizeOr0(span, n int64) int64 {
	if span == 0 {
		return 0
	}
	return n
}

func (c *SealedClient) headErr(level int, minTXID, maxTXID ltx.TXID, err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		err = fmt.Errorf("shorter than a header: %w", ErrReplicaFormat)
	}
	return fmt.Errorf("replica: LTX file %d/%s: %w", level, ltx.FormatFilename(minTXID, maxTXID), err)
}

// checkHead checks an encrypted file's envelope and header.
func (c *SealedClient) checkHead(head []byte) error {
	h := head[envelopeLen:]
	if string(head[:4]) != ltx.Magic || string(h[:4]) != encMagic {
		return fmt.Errorf("%w (written without a key file?)", ErrReplicaFormat)
	}
	if h[4] != encVersion {
		return fmt.Errorf("version %d: %w", h[4], ErrReplicaFormat)
	}
	if !bytes.Equal(h[5:13], c.keyID[:]) {
		return fmt.Errorf("%w: the file's key id is %x, the key file's %s", ErrReplicaKey, h[5:13], c.KeyID())
	}
	return nil
}

// decReader decrypts segments from src.
type decReader struct {
	c        *SealedClient
	src      io.ReadCloser
	head     []byte
	level    int
	min, max ltx.TXID
	idx      uint64
	skip     int64 // plaintext bytes to drop from the first segment
	left     int64 // plaintext bytes still wanted if limited
	limited  bool
	sealed   []byte // segSealed+1: a segment and one byte of look-ahead
	have     int
	out      []byte
	eofd     bool
	done     bool
	err      error
}

func (d *decReader) Read(p []byte) (int, error) {
	for len(d.out) == 0 {
		if d.err != nil {
			return 0, d.err
		}
		if d.done {
			return 0, io.EOF
		}
		d.next()
	}
	n := copy(p, d.out)
	d.out = d.out[n:]
	return n, nil
}

func (d *decReader) Close() error { return d.src.Close() }

func (d *decReader) fail(err error) {
	d.err = fmt.Errorf("replica: LTX file %d/%s, segment %d: %w", d.level, ltx.FormatFilename(d.min, d.max), d.idx, err)
}

func (d *decReader) next() {
	if !d.eofd {
		n, err := io.ReadFull(d.src, d.sealed[d.have:])
		d.have += n
		switch {
		case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
			d.eofd = true
		case err != nil:
			d.fail(err)
			return
		}
	}
	if d.have == 0 {
		// Nothing more: past the end of the range read, or cut short.
		if d.limited {
			d.done = true
			return
		}
		d.fail(fmt.Errorf("cut short: %w", ErrReplicaAuth))
		return
	}
	seg := min(d.have, segSealed)
	plain, final, err := d.c.openSegment(d.sealed[:seg], d.head, d.level, d.min, d.max, d.idx)
	if err != nil {
		d.fail(err)
		return
	}
	if final && d.have > seg {
		d.fail(fmt.Errorf("data after the last segment: %w", ErrReplicaAuth))
		return
	}
	d.have = copy(d.sealed, d.sealed[seg:d.have])
	d.idx++
	if d.skip > 0 {
		s := min(d.skip, int64(len(plain)))
		plain, d.skip = plain[s:], d.skip-s
	}
	if d.limited {
		plain = plain[:min(int64(len(plain)), d.left)]
		d.left -= int64(len(plain))
		if d.left == 0 {
			final = true
		}
	}
	d.out, d.done = plain, final
}

// openSegment decrypts one sealed segment; final tells whether it was the
// file's last.
func (c *SealedClient) openSegment(seg, head []byte, level int, minTXID, maxTXID ltx.TXID, idx uint64) ([]byte, bool, error) {
	if len(seg) < gcmTag || len(seg) > segSealed || idx > 1<<32-1 {
		return nil, false, fmt.Errorf("segment of %d bytes: %w", len(seg), ErrReplicaAuth)
	}
	nonce := segNonce(head, uint32(idx))
	// A short segment can only be the last; a full one usually is not.
	final := len(seg) < segSealed
	plain, err := c.aead.Open(nil, nonce, seg, segAAD(head, level, minTXID, maxTXID, uint32(idx), final))
	if err != nil && !final {
		final = true
		plain, err = c.aead.Open(nil, nonce, seg, segAAD(head, level, minTXID, maxTXID, uint32(idx), final))
	}
	if err != nil {
		return nil, false, ErrReplicaAuth
	}
	return plain, final, nil
}

// checkReplica looks at one file of the replica (the first found, level 0
// up to the snapshots) and tells whether key can read it: an encrypted
// replica needs the key it was written with (key nil: ErrReplicaEncrypted),
// and a replica in clear is not mixed with encrypted files. An empty
// replica passes.
func checkReplica(ctx context.Context, client litestream.ReplicaClient, key *SealedClient) error {
	for level := 0; level <= litestream.SnapshotLevel; level++ {
		it, err := client.LTXFiles(ctx, level, 0, false)
		if err != nil {
			return fmt.Errorf("list level %d: %w", level, err)
		}
		var info *ltx.FileInfo
		if it.Next() {
			i := *it.Item()
			info = &i
		}
		err = it.Err()
		if cerr := it.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("list level %d: %w", level, err)
		}
		if info == nil {
			continue
		}
		rc, err := client.OpenLTXFile(ctx, info.Level, info.MinTXID, info.MaxTXID, 0, encHeadLen)
		if err != nil {
			return fmt.Errorf("read %d/%s: %w", info.Level, ltx.FormatFilename(info.MinTXID, info.MaxTXID), err)
		}
		head, err := io.ReadAll(io.LimitReader(rc, encHeadLen))
		rc.Close()
		if err != nil {
			return fmt.Errorf("read %d/%s: %w", info.Level, ltx.FormatFilename(info.MinTXID, info.MaxTXID), err)
		}
		encrypted := len(head) == encHeadLen && string(head[envelopeLen:envelopeLen+4]) == encMagic
		switch {
		case key == nil && encrypted:
			return ErrReplicaEncrypted
		case key == nil:
			return nil
		case !encrypted:
			return fmt.Errorf("%w: the replica holds files in clear (written without a key file); "+
				"replicate to a new, empty location to encrypt it", ErrReplicaFormat)
		}
		if err := key.checkHead(head); err != nil {
			return err
		}
		return nil
	}
	return nil
}
