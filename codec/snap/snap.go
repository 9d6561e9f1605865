// Package snap is the compact binary encoding of decoder and render state
// snapshots: zig-zag varints for integers, a length before every variable
// part. A Reader checks every read against the input and remembers the
// first failure, so that decoding code reads a whole structure and checks
// Err once; it never panics on any input.
package snap

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// ErrState means a snapshot is malformed: truncated, of an unknown version,
// with trailing bytes or with a value outside its range.
var ErrState = errors.New("malformed state snapshot")

// Writer appends values to B.
type Writer struct{ B []byte }

// Byte appends one byte.
func (w *Writer) Byte(v byte) { w.B = append(w.B, v) }

// Bool appends v as one byte.
func (w *Writer) Bool(v bool) {
	b := byte(0)
	if v {
		b = 1
	}
	w.B = append(w.B, b)
}

// Int appends v as a zig-zag varint.
func (w *Writer) Int(v int64) { w.B = binary.AppendVarint(w.B, v) }

// Uint appends v as a varint.
func (w *Writer) Uint(v uint64) { w.B = binary.AppendUvarint(w.B, v) }

// Int16s appends the values of v (its length is fixed by the caller).
func (w *Writer) Int16s(v []int16) {
	for _, x := range v {
		w.B = binary.AppendVarint(w.B, int64(x))
	}
}

// Int32s appends the values of v (its length is fixed by the caller).
func (w *Writer) Int32s(v []int32) {
	for _, x := range v {
		w.B = binary.AppendVarint(w.B, int64(x))
	}
}

// Bytes appends len(v) and v.
func (w *Writer) Bytes(v []byte) {
	w.Uint(uint64(len(v)))
	w.B = append(w.B, v...)
}

// Reader reads what a Writer wrote. After the first failure every read
// returns zero values and Err reports the failure.
type Reader struct {
	b   []byte
	off int
	err error
}

// NewReader reads b.
func NewReader(b []byte) *Reader { return &Reader{b: b} }

// Err is the first failure, wrapping ErrState.
func (r *Reader) Err() error { return r.err }

// Fail records a failure (a value out of its range) unless one is recorded.
func (r *Reader) Fail(format string, args ...any) {
	if r.err == nil {
		r.err = fmt.Errorf("%w: %s (at byte %d)", ErrState, fmt.Sprintf(format, args...), r.off)
	}
}

// Done fails when bytes are left over, and returns Err.
func (r *Reader) Done() error {
	if r.err == nil && r.off != len(r.b) {
		r.Fail("%d trailing bytes", len(r.b)-r.off)
	}
	return r.err
}

// Left is the number of unread bytes.
func (r *Reader) Left() int { return len(r.b) - r.off }

// Byte reads one byte.
func (r *Reader) Byte() byte {
	if r.err != nil {
		return 0
	}
	if r.off >= len(r.b) {
		r.Fail("truncated")
		return 0
	}
	v := r.b[r.off]
	r.off++
	return v
}

// Bool reads a byte that must be 0 or 1.
func (r *Reader) Bool() bool {
	switch r.Byte() {
	case 0:
		return false
	case 1:
		return true
	}
	r.Fail("boolean out of range")
	return false
}

// Int reads a zig-zag varint.
func (r *Reader) Int() int64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Varint(r.b[r.off:])
	if n <= 0 {
		r.Fail("bad varint")
		return 0
	}
	r.off += n
	return v
}

// Uint reads a varint.
func (r *Reader) Uint() uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b[r.off:])
	if n <= 0 {
		r.Fail("bad varint")
		return 0
	}
	r.off += n
	return v
}

// Range reads an integer that must lie in [lo, hi].
func (r *Reader) Range(lo, hi int64, what string) int64 {
	v := r.Int()
	if v < lo || v > hi {
		r.Fail("%s %d outside [%d, %d]", what, v, lo, hi)
		return lo
	}
	return v
}

// Len reads a length of at most max.
func (r *Reader) Len(max int, what string) int {
	v := r.Uint()
	if v > uint64(max) {
		r.Fail("%s %d over %d", what, v, max)
		return 0
	}
	return int(v)
}

// Int16s fills v with values that must fit 16 bits.
func (r *Reader) Int16s(v []int16) {
	for i := range v {
		v[i] = int16(r.Range(-1<<15, 1<<15-1, "16-bit value"))
	}
}

// Int32s fills v with values in [lo, hi].
func (r *Reader) Int32s(v []int32, lo, hi int32) {
	for i := range v {
		v[i] = int32(r.Range(int64(lo), int64(hi), "value"))
	}
}

// Bytes reads a length-prefixed byte string of at most max bytes; the
// result aliases the input.
func (r *Reader) Bytes(max int) []byte {
	n := r.Len(max, "length")
	if r.err != nil {
		return nil
	}
	if n > len(r.b)-r.off {
		r.Fail("truncated")
		return nil
	}
	v := r.b[r.off : r.off+n : r.off+n]
	r.off += n
	return v
}

// UintMax reads an unsigned integer that must not exceed max.
func (r *Reader) UintMax(max uint64, what string) uint64 {
	v := r.Uint()
	if v > max {
		r.Fail("%s %d over %d", what, v, max)
		return 0
	}
	return v
}
