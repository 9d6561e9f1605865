package codec

import (
	"encoding/binary"
	"errors"
	"os"
	"slices"
	"testing"
)

func readPCM(t testing.TB, path string) []int16 {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	out := make([]int16, len(b)/2)
	for i := range out {
		out[i] = int16(binary.LittleEndian.Uint16(b[2*i:]))
	}
	return out
}

func TestG711BitExact(t *testing.T) {
	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(i)
	}
	for _, tc := range []struct {
		name string
		dec  Decoder
		ref  string
	}{
		{"PCMA", NewPCMA(), "testdata/g711/alaw.ref.pcm"},
		{"PCMU", NewPCMU(), "testdata/g711/ulaw.ref.pcm"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want := readPCM(t, tc.ref)
			got := make([]int16, 256)
			n, err := tc.dec.Decode(got, all)
			if err != nil || n != 256 {
				t.Fatalf("Decode = %d, %v", n, err)
			}
			for i := range want {
				if got[i] != want[i] {
					t.Fatalf("code 0x%02x: got %d, want %d", i, got[i], want[i])
				}
			}
		})
	}
}

func TestG711Errors(t *testing.T) {
	d := NewPCMA()
	if _, err := d.Decode(make([]int16, 3), make([]byte, 4)); !errors.Is(err, ErrShortBuffer) {
		t.Fatalf("short dst: err = %v", err)
	}
	if _, err := d.Conceal(make([]int16, 10)); !errors.Is(err, ErrShortBuffer) {
		t.Fatalf("short conceal dst: err = %v", err)
	}
	dst := []int16{1, 2, 3}
	dst = append(dst, make([]int16, 80)...)
	if n, err := d.Conceal(dst); err != nil || n != 80 || dst[0] != 0 {
		t.Fatalf("Conceal = %d, %v, dst[0]=%d", n, err, dst[0])
	}
}

func TestNew(t *testing.T) {
	for _, tc := range []struct {
		name, want string
		ok         bool
	}{
		{"pcmu", "PCMU", true}, {"PCMA", "PCMA", true}, {"g722", "G722", true}, {"G729", "G729", true},
		{"G729AB", "G729", true}, {"opus", "", false}, {"G726-32", "", false}, {"", "", false},
	} {
		d, err := New(tc.name)
		if tc.ok != (err == nil) {
			t.Fatalf("New(%q) err = %v", tc.name, err)
		}
		if err == nil && d.Name() != tc.want {
			t.Fatalf("New(%q).Name() = %q", tc.name, d.Name())
		}
		if err != nil && !errors.Is(err, ErrUnsupported) {
			t.Fatalf("New(%q) err = %v, want ErrUnsupported", tc.name, err)
		}
	}
}

func FuzzG711(f *testing.F) {
	f.Add([]byte{0, 0x55, 0xd5, 0xff})
	f.Fuzz(func(t *testing.T, p []byte) {
		for _, d := range []*G711{NewPCMA(), NewPCMU()} {
			dst := make([]int16, d.MaxSamples(len(p)))
			n, err := d.Decode(dst, p)
			if err != nil || n != len(p) {
				t.Fatalf("%s: Decode = %d, %v", d.Name(), n, err)
			}
			il := make([]int16, 2*len(p))
			n, err = d.DecodeInterleaved(il, p)
			if err != nil || n != len(p) {
				t.Fatalf("%s: DecodeInterleaved = %d, %v", d.Name(), n, err)
			}
			for i, v := range dst {
				if il[2*i] != v || il[2*i+1] != 0 {
					t.Fatalf("%s: sample %d: interleaved %d/%d, Decode %d", d.Name(), i, il[2*i], il[2*i+1], v)
				}
			}
		}
	})
}

func BenchmarkG711Decode(b *testing.B) {
	d := NewPCMA()
	p := make([]byte, 160)
	for i := range p {
		p[i] = byte(i * 7)
	}
	dst := make([]int16, len(p))
	b.SetBytes(int64(len(p)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := d.Decode(dst, p); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(p)), "ns/sample")
}

func TestSnapshotters(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"PCMU", "PCMA", "G722", "G729"} {
		d, err := New(name)
		if err != nil {
			t.Fatal(err)
		}
		s, ok := d.(Snapshotter)
		if !ok {
			t.Fatalf("%s: no Snapshotter", name)
		}
		if err := s.SetState(s.AppendState(nil)); err != nil {
			t.Fatalf("%s: own state refused: %v", name, err)
		}
		if err := s.SetState([]byte{0xff, 0xff}); err == nil {
			t.Fatalf("%s: garbage state accepted", name)
		}
	}
}

func TestG711DecodeInterleaved(t *testing.T) {
	t.Parallel()
	for _, d := range []*G711{NewPCMA(), NewPCMU()} {
		for _, n := range []int{0, 1, 7, 8, 9, 15, 16, 17, 160, 257} {
			payload := make([]byte, n)
			for i := range payload {
				payload[i] = byte(i*37 + n)
			}
			// Byte by byte (Decode's one-sample path), and Decode of the
			// whole payload must agree.
			want, whole := make([]int16, n), make([]int16, n)
			for i := range payload {
				if _, err := d.Decode(want[i:i+1], payload[i:i+1]); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := d.Decode(whole, payload); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(whole, want) {
				t.Fatalf("%s n=%d: Decode of the payload differs from byte by byte", d.Name(), n)
			}
			dst := make([]int16, 2*n+1)
			for i := range dst {
				dst[i] = -12345
			}
			got, err := d.DecodeInterleaved(dst, payload)
			if err != nil || got != n {
				t.Fatalf("%s n=%d: DecodeInterleaved = %d, %v", d.Name(), n, got, err)
			}
			for i := range dst {
				w := int16(-12345)
				if i%2 == 0 && i/2 < n {
					w = want[i/2]
				}
				if dst[i] != w {
					t.Fatalf("%s n=%d: dst[%d] = %d, want %d", d.Name(), n, i, dst[i], w)
				}
			}
			if n > 1 {
				if _, err := d.DecodeInterleaved(dst[:2*n-2], payload); err == nil {
					t.Errorf("%s n=%d: short buffer accepted", d.Name(), n)
				}
			}
		}
	}
}
