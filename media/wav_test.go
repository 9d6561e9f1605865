package media

import (
	"bytes"
	"encoding/binary"
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
