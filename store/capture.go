package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"math"
)

// CaptureReader reads a recording's stored capture as one byte stream. It
// holds at most one chunk in memory and fetches chunks from the read pool as
// it goes, so it holds no connection between calls. It is not safe for
// concurrent use. Its length is fixed when it is opened (Size).
type CaptureReader struct {
	db   *DB
	ctx  context.Context
	id   int64
	size int64
	pos  int64

	buf    []byte // the loaded chunk, reused between chunks
	bufOff int64  // offset of buf[0] in the capture
	closed bool
}

var _ io.ReadSeekCloser = (*CaptureReader)(nil)

// OpenCapture opens the stored capture of recording id for reading. ctx
// bounds every later Read: cancelling it makes them fail.
func (db *DB) OpenCapture(ctx context.Context, id int64) (*CaptureReader, error) {
	var size int64
	err := db.r.QueryRowContext(ctx, `SELECT size FROM recordings WHERE id = ?`, id).Scan(&size)
	if errors.Is(err, sql.ErrNoRows) {
		err = ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("store: open capture %d: %w", id, err)
	}
	return &CaptureReader{db: db, ctx: ctx, id: id, size: size}, nil
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

// load fetches the chunk containing offset pos.
func (c *CaptureReader) load(pos int64) (err error) {
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
	if off+int64(len(data)) <= pos {
		return fmt.Errorf("store: read capture %d at %d: chunk at %d ends at %d (recording replaced?): %w",
			c.id, pos, off, off+int64(len(data)), io.ErrUnexpectedEOF)
	}
	c.buf = append(c.buf[:0], data...)
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
