package g722

import (
	"os"
	"testing"
)

// FuzzDecode decodes arbitrary octets in every mode, whole and split in two,
// and checks the sample counts, that splitting changes nothing and that a
// concealed frame in between leaves the state usable.
func FuzzDecode(f *testing.F) {
	f.Add([]byte{}, uint8(0))
	f.Add([]byte{0x00, 0xff, 0x7f, 0x80}, uint8(2))
	f.Add(make([]byte, 200), uint8(100))
	allFF := make([]byte, 300)
	for i := range allFF {
		allFF[i] = 0xff
	}
	f.Add(allFF, uint8(7))
	if in, err := os.ReadFile("testdata/mix.g722"); err == nil {
		// The start of the full-scale sweep, which saturates the QMF.
		f.Add(in[17*8000+5000:17*8000+6000], uint8(160))
	}
	f.Fuzz(func(t *testing.T, in []byte, cut uint8) {
		split := min(int(cut), len(in))
		for _, rate := range []int{64000, 56000, 48000} {
			whole, _ := NewDecoderMode(rate)
			parts, _ := NewDecoderMode(rate)
			a := make([]int16, 2*len(in))
			b := make([]int16, 2*len(in))
			n, err := whole.Decode(a, in)
			if err != nil || n != 2*len(in) {
				t.Fatalf("Decode = %d, %v", n, err)
			}
			n1, err1 := parts.Decode(b, in[:split])
			n2, err2 := parts.Decode(b[n1:], in[split:])
			if err1 != nil || err2 != nil || n1+n2 != n {
				t.Fatalf("split Decode = %d+%d, %v, %v", n1, n2, err1, err2)
			}
			for i := range a {
				if a[i] != b[i] {
					t.Fatalf("rate %d sample %d: whole %d, split at %d %d", rate, i, a[i], split, b[i])
				}
			}
			c := make([]int16, 160)
			if n, err := parts.Conceal(c); err != nil || n != 160 {
				t.Fatalf("Conceal = %d, %v", n, err)
			}
			if n, err := parts.Decode(b, in); err != nil || n != 2*len(in) {
				t.Fatalf("Decode after Conceal = %d, %v", n, err)
			}
		}
	})
}
