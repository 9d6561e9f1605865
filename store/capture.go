package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"math"

	"recordings/internal/sealed"
)

// CaptureReader reads a recording's stored capture as one byte stream,
// wherever it is (chunk table or object store) and decrypting it when it is
// encrypted. It holds at most one chunk or object segment in memory and
// fetches them as it goes, so it holds no connection between calls. It is
// not safe for concurrent use. Its length is fixed when it is opened (Size).
type CaptureReader struct {
	db   *DB
	ctx  context.Context
	id   int64
	size int64
	pos  int64

	loc   captureLoc
	blob  Blobs  // the object store when loc.inBlob()
	raw   []byte // a sealed chunk or segment as read
	moved bool   // the capture was found moved once (see load)

	buf    []byte // the loaded chunk, reused between chunks
	bufOff int64  // offset of buf[0] in the capture
	closed bool
}

var _ io.ReadSeekCloser = (*CaptureReader)(nil)

// OpenCapture opens the stored capture of recording id for reading. ctx
// bounds every later Read: cancelling it makes them fail. An encrypted
// capture whose data key the configured master key cannot unwrap fails
// with ErrUnreadable.
func (db *DB) OpenCapture(ctx context.Context, id int64) (*CaptureReader, error) {
	c := &CaptureReader{db: db, ctx: ctx, id: id}
	if err := c.relocate(); err != nil {
		return nil, fmt.Errorf("store: open capture %d: %w", id, err)
	}
	c.size = c.loc.size
	return c, nil
}

// relocate reads where the capture is now.
func (c *CaptureReader) relocate() error {
	l, err := c.db.locate(c.ctx, c.db.r, c.id)
	if err != nil {
		return err
	}
	c.loc, c.blob = l, nil
	if l.inBlob() {
		if c.blob, err = c.db.blobs.get(l.loc); err != nil {
			return err
		}
	}
	c.buf, c.bufOff = c.buf[:0], 0
	return nil
}

// Size is the capture's length in bytes.
func (c *CaptureReader) Size() int64 { return c.size }

// Read implements io.Reader.
func (c *CaptureReader) Read(p []byte) (int, error) {
	if c.closed {
		return 0, fmt.Errorf("store: read capture %d: %w", c.id, io.ErrClosedPipe)
	}
	if c.pos >= c.size {
		return 0, io.EOF
	}
	if len(p) == 0 {
		return 0, nil
	}
	if c.pos < c.bufOff || c.pos >= c.bufOff+int64(len(c.buf)) {
		if err := c.load(c.pos); err != nil {
			return 0, err
		}
	}
	end := c.bufOff + int64(len(c.buf))
	if end > c.size {
		end = c.size
	}
	n := copy(p, c.buf[c.pos-c.bufOff:end-c.bufOff])
	c.pos += int64(n)
	return n, nil
}

// load fetches the chunk or segment containing offset pos. A capture moved
// between the stores while it is read (shipped, or migrated back) is
// looked up again once, and read on from its new place.
func (c *CaptureReader) load(pos int64) error {
	err := c.loadOnce(pos)
	if err != nil && !c.moved && errors.Is(err, io.ErrUnexpectedEOF) {
		c.moved = true
		old := c.loc
		if rerr := c.relocate(); rerr == nil && (c.loc.key != old.key || c.loc.loc != old.loc) && c.loc.size == c.size {
			return c.loadOnce(pos)
		}
	}
	return err
}

func (c *CaptureReader) loadOnce(pos int64) error {
	if c.loc.inBlob() {
		return c.loadSegment(pos)
	}
	return c.loadChunk(pos)
}

// loadSegment reads the object segment containing pos.
func (c *CaptureReader) loadSegment(pos int64) error {
	seg := c.loc.seg
	if seg <= 0 {
		return fmt.Errorf("store: read capture %d: object %s has no segment size", c.id, c.loc.key)
	}
	i := pos / seg
	plainOff := i * seg
	n := min(seg, c.size-plainOff)
	objOff, objLen := plainOff, n
	if c.loc.dk != nil {
		objOff, objLen = i*(seg+sealed.Overhead), n+sealed.Overhead
	}
	if int64(cap(c.raw)) < objLen {
		c.raw = make([]byte, objLen)
	}
	raw := c.raw[:objLen]
	if _, err := c.blob.ReadAt(c.ctx, c.loc.key, raw, objOff); err != nil {
		return fmt.Errorf("store: read capture %d at %d from %s: %w", c.id, pos, c.loc.loc, err)
	}
	if c.loc.dk == nil {
		c.buf = append(c.buf[:0], raw...)
	} else {
		out, err := c.loc.dk.OpenTo(c.buf[:0], raw, c.id, plainOff)
		if err != nil {
			c.buf = c.buf[:0] // Open overwrote it
			return fmt.Errorf("store: read capture %d at %d from %s: segment %d: %w", c.id, pos, c.loc.loc, i, err)
		}
		c.buf = out
	}
	c.bufOff = plainOff
	return nil
}

// loadChunk fetches the chunk containing offset pos.
func (c *CaptureReader) loadChunk(pos int64) (err error) {
	rows, err := c.db.r.QueryContext(c.ctx, `SELECT off, data FROM chunks
		WHERE recording_id = ? AND off <= ? ORDER BY off DESC LIMIT 1`, c.id, pos)
	if err != nil {
		return fmt.Errorf("store: read capture %d at %d: %w", c.id, pos, err)
	}
	defer closeOnErr(rows, &err)
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return fmt.Errorf("store: read capture %d at %d: %w", c.id, pos, err)
		}
		return fmt.Errorf("store: read capture %d at %d: chunk missing (recording replaced or deleted?): %w",
			c.id, pos, io.ErrUnexpectedEOF)
	}
	var (
		off  int64
		data sql.RawBytes
	)
	if err := rows.Scan(&off, &data); err != nil {
		return fmt.Errorf("store: read capture %d at %d: %w", c.id, pos, err)
	}
	plain := int64(len(data))
	if c.loc.dk != nil {
		plain -= sealed.Overhead
	}
	if off+plain <= pos {
		return fmt.Errorf("store: read capture %d at %d: chunk at %d ends at %d (recording replaced?): %w",
			c.id, pos, off, off+plain, io.ErrUnexpectedEOF)
	}
	if c.loc.dk != nil {
		out, err := c.loc.dk.OpenTo(c.buf[:0], data, c.id, off)
		if err != nil {
			c.buf = c.buf[:0] // Open overwrote it
			return fmt.Errorf("store: read capture %d at %d: chunk at %d: %w", c.id, pos, off, err)
		}
		c.buf = out
	} else {
		c.buf = append(c.buf[:0], data...)
	}
	c.bufOff = off
	return nil
}

// Seek implements io.Seeker. Seeking past the end is allowed; reads there
// return io.EOF.
func (c *CaptureReader) Seek(offset int64, whence int) (int64, error) {
	var base int64
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		base = c.pos
	case io.SeekEnd:
		base = c.size
	default:
		return c.pos, fmt.Errorf("store: seek capture %d: invalid whence %d: %w", c.id, whence, ErrInvalid)
	}
	if offset > 0 && base > math.MaxInt64-offset {
		return c.pos, fmt.Errorf("store: seek capture %d: position overflows: %w", c.id, ErrInvalid)
	}
	abs := base + offset
	if abs < 0 {
		return c.pos, fmt.Errorf("store: seek capture %d: negative position %d: %w", c.id, abs, ErrInvalid)
	}
	c.pos = abs
	return abs, nil
}

// Close releases the chunk buffer; further reads fail.
func (c *CaptureReader) Close() error {
	c.closed = true
	c.buf = nil
	return nil
}
