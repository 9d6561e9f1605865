package main

import (
	"bytes"
	"errors"
	"testing"
)

// failAfter accepts n bytes, then fails every write.
type failAfter struct {
	n   int
	got bytes.Buffer
}

var errFull = errors.New("disk full")

func (f *failAfter) Write(p []byte) (int, error) {
	if f.got.Len()+len(p) > f.n {
		return 0, errFull
	}
	return f.got.Write(p)
}

func TestAsyncWriter(t *testing.T) {
	t.Parallel()
	data := make([]byte, 3*asyncBufSize+12345)
	for i := range data {
		data[i] = byte(i * 7)
	}
	for _, tc := range []struct {
		name  string
		limit int
		piece int
		err   error
	}{
		{"small pieces", len(data), 1000, nil},
		{"large pieces", len(data), 3*asyncBufSize/2 + 1, nil},
		{"fails midway", asyncBufSize + 10, 4096, errFull},
		{"fails at the end", len(data) - 1, 65536, errFull},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dst := &failAfter{n: tc.limit}
			w := newAsyncWriter(dst)
			var werr error
			for p := 0; p < len(data) && werr == nil; p += tc.piece {
				_, werr = w.Write(data[p:min(p+tc.piece, len(data))])
			}
			err := w.Close()
			if !errors.Is(err, tc.err) || (werr != nil && !errors.Is(werr, tc.err)) {
				t.Fatalf("Close: %v, Write: %v; want %v", err, werr, tc.err)
			}
			if tc.err == nil && !bytes.Equal(dst.got.Bytes(), data) {
				t.Fatalf("wrote %d bytes, not the %d given", dst.got.Len(), len(data))
			}
			if err := w.Close(); !errors.Is(err, tc.err) {
				t.Fatalf("second Close: %v", err)
			}
		})
	}
}

// TestAsyncWriterLent fills what AvailableBuffer lends, in pieces of
// several sizes and between plain writes, and checks that every byte
// arrives in order and that a failed write fails a lent piece too.
func TestAsyncWriterLent(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		limit int
		err   error
	}{
		{"all written", 1 << 40, nil},
		{"fails midway", asyncBufSize + 10, errFull},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dst := &failAfter{n: tc.limit}
			w := newAsyncWriter(dst)
			var want []byte
			var werr error
			for i := 0; len(want) < 3*asyncBufSize && werr == nil; i++ {
				piece := []int{1, 4096, 777, 65536, 3}[i%5]
				if i%3 == 2 {
					p := make([]byte, piece)
					for k := range p {
						p[k] = byte(len(want) + k)
					}
					want = append(want, p...)
					_, werr = w.Write(p)
					continue
				}
				b := w.AvailableBuffer()
				if len(b) != 0 || cap(b) == 0 {
					t.Fatalf("AvailableBuffer: len %d, cap %d", len(b), cap(b))
				}
				b = b[:min(piece, cap(b))]
				for k := range b {
					b[k] = byte(len(want) + k)
				}
				want = append(want, b...)
				_, werr = w.Write(b)
			}
			err := w.Close()
			if !errors.Is(err, tc.err) || (werr != nil && !errors.Is(werr, tc.err)) {
				t.Fatalf("Close: %v, Write: %v; want %v", err, werr, tc.err)
			}
			if tc.err == nil && !bytes.Equal(dst.got.Bytes(), want) {
				t.Fatalf("wrote %d bytes, want %d", dst.got.Len(), len(want))
			}
		})
	}
}
