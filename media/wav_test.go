package media

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"testing"
)

func TestPutPCM16(t *testing.T) {
	t.Parallel()
	for _, n := range []int{0, 1, 3, 4, 5, 8, 4097} {
		s := make([]int16, n)
		for i := range s {
			s[i] = int16(i*7919 - 32768)
		}
		want := make([]byte, 2*n)
		for i, v := range s {
			binary.LittleEndian.PutUint16(want[2*i:], uint16(v))
		}
		got := make([]byte, 2*n+2)
		got[2*n], got[2*n+1] = 0xAA, 0xBB
		putPCM16(got, s)
		if !bytes.Equal(got[:2*n], want) {
			t.Errorf("n=%d: samples not little-endian", n)
		}
		if got[2*n] != 0xAA || got[2*n+1] != 0xBB {
			t.Errorf("n=%d: wrote past the samples", n)
		}
	}
}

func TestWAVSinkSplitsAcrossFlushes(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	s := NewWAVSink(&out)
	var want []byte
	for k := range 50 {
		blk := make([]int16, 1000+2*k)
		for i := range blk {
			blk[i] = int16(k*1000 + i)
			want = binary.LittleEndian.AppendUint16(want, uint16(blk[i]))
		}
		if err := s.WriteFrames(blk); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Flush(); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out.Bytes(), want) {
		t.Fatalf("WAV data differs: %d bytes, want %d", out.Len(), len(want))
	}
}

// lender lends the free part of a fixed-size buffer as bufio.Writer does
// (flushing it to out when full), at times less of it (a cycle of limits,
// none among them), and counts the writes that arrive in the lent buffer,
// filled in place.
type lender struct {
	buf        []byte
	out        bytes.Buffer
	lent, copy int
	calls      int
}

func (l *lender) AvailableBuffer() []byte {
	l.calls++
	limit := []int{1 << 30, 0, 1 << 30, 1, 700, 1 << 30, 3}[l.calls%7]
	return l.buf[len(l.buf):len(l.buf):min(cap(l.buf), len(l.buf)+limit)]
}

func (l *lender) Write(p []byte) (int, error) {
	free := l.buf[len(l.buf):cap(l.buf)]
	if len(p) > 0 && len(p) <= len(free) && &p[0] == &free[0] {
		l.lent++
		l.buf = l.buf[:len(l.buf)+len(p)]
	} else {
		l.copy++
		l.out.Write(l.buf)
		l.out.Write(p)
		l.buf = l.buf[:0]
	}
	if len(l.buf) == cap(l.buf) {
		l.out.Write(l.buf)
		l.buf = l.buf[:0]
	}
	return len(p), nil
}

// TestWAVSinkLentBuffer: a writer that lends its buffer gets the samples
// converted into it, whatever room it has left (buffers of odd sizes, too
// small for a sample, and a header written first), and the bytes are those
// of the sink's own buffering.
func TestWAVSinkLentBuffer(t *testing.T) {
	t.Parallel()
	for _, size := range []int{1, 3, 1000, 4097, 65536} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			t.Parallel()
			l := &lender{buf: make([]byte, 0, size)}
			var plain bytes.Buffer
			l.Write([]byte("hdr")) // an odd start: the lent room may end mid-sample
			plain.WriteString("hdr")
			s, ref := NewWAVSink(l), NewWAVSink(&plainWriter{&plain})
			for k := range 40 {
				blk := make([]int16, 2*(k*37%300)+2)
				for i := range blk {
					blk[i] = int16(k*1000 + i - 20000)
				}
				if err := s.WriteFrames(blk); err != nil {
					t.Fatal(err)
				}
				if err := ref.WriteFrames(blk); err != nil {
					t.Fatal(err)
				}
			}
			if err := s.Flush(); err != nil {
				t.Fatal(err)
			}
			if err := ref.Flush(); err != nil {
				t.Fatal(err)
			}
			l.out.Write(l.buf)
			if !bytes.Equal(l.out.Bytes(), plain.Bytes()) {
				t.Fatalf("%d bytes through the lent buffer, %d through the sink's own; they differ", l.out.Len(), plain.Len())
			}
			if size >= 1000 && l.lent == 0 {
				t.Fatalf("no write used the lent buffer (%d copied)", l.copy)
			}
		})
	}
}

// plainWriter hides bytes.Buffer's AvailableBuffer.
type plainWriter struct{ w io.Writer }

func (p *plainWriter) Write(b []byte) (int, error) { return p.w.Write(b) }
