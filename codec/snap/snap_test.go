package snap

import (
	"errors"
	"testing"
)

func TestRoundTrip(t *testing.T) {
	t.Parallel()
	var w Writer
	w.Byte(7)
	w.Bool(true)
	w.Int(-123456789)
	w.Uint(1 << 40)
	w.Int16s([]int16{-32768, 0, 32767})
	w.Int32s([]int32{-5, 1 << 20})
	w.Bytes([]byte("abc"))
	r := NewReader(w.B)
	var i16 [3]int16
	var i32 [2]int32
	b, ok, i, u := r.Byte(), r.Bool(), r.Int(), r.Uint()
	r.Int16s(i16[:])
	r.Int32s(i32[:], -10, 1<<21)
	s := r.Bytes(3)
	if err := r.Done(); err != nil || b != 7 || !ok || i != -123456789 || u != 1<<40 ||
		i16 != [3]int16{-32768, 0, 32767} || i32 != [2]int32{-5, 1 << 20} || string(s) != "abc" {
		t.Fatalf("read back %v %v %v %v %v %v %q: %v", b, ok, i, u, i16, i32, s, err)
	}
}

func TestRefused(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		in   []byte
		read func(r *Reader)
	}{
		{"empty byte", nil, func(r *Reader) { r.Byte() }},
		{"bool 2", []byte{2}, func(r *Reader) { r.Bool() }},
		{"truncated varint", []byte{0x80}, func(r *Reader) { r.Int() }},
		{"overlong uvarint", []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}, func(r *Reader) { r.Uint() }},
		{"out of range", []byte{0x08}, func(r *Reader) { r.Range(0, 3, "x") }},
		{"int16 overflow", []byte{0x80, 0x80, 0x04}, func(r *Reader) { r.Int16s(make([]int16, 1)) }},
		{"length over max", []byte{5}, func(r *Reader) { r.Len(4, "n") }},
		{"bytes past the end", []byte{3, 'a'}, func(r *Reader) { r.Bytes(10) }},
		{"uint over max", []byte{9}, func(r *Reader) { r.UintMax(8, "u") }},
		{"trailing", []byte{1, 2}, func(r *Reader) { r.Byte() }},
	} {
		r := NewReader(tc.in)
		tc.read(r)
		if err := r.Done(); !errors.Is(err, ErrState) {
			t.Errorf("%s: %v, want ErrState", tc.name, err)
		}
	}
}
