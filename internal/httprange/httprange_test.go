package httprange

import (
	"math"
	"testing"
)

func TestParse(t *testing.T) {
	cases := []struct {
		h           string
		size        int64
		off, length int64
		ok          bool
	}{
		{"bytes=0-", 1000, 0, 1000, true},
		{"bytes=0-0", 1000, 0, 1, true},
		{"bytes=100-199", 1000, 100, 100, true},
		{"bytes=900-5000", 1000, 900, 100, true}, // end past the file: cut at its end
		{"bytes=-500", 1000, 500, 500, true},
		{"bytes=-5000", 1000, 0, 1000, true}, // suffix longer than the file: all of it
		{"bytes=1-2,4-5", 1000, 1, 2, true},  // several: the first only
		{"bytes= 3-9", 1000, 3, 7, true},
		{"bytes=999-", 1000, 999, 1, true},
		{"bytes=1000-", 1000, 0, 0, false}, // starts at the end
		{"bytes=5-1", 1000, 0, 0, false},   // end before start
		{"bytes=-0", 1000, 0, 0, false},
		{"bytes=-", 1000, 0, 0, false},
		{"bytes=a-b", 1000, 0, 0, false},
		{"bytes=-1-2", 1000, 0, 0, false},
		{"bytes=0", 1000, 0, 0, false},
		{"items=0-1", 1000, 0, 0, false},
		{"", 1000, 0, 0, false},
		{"bytes=9223372036854775807-", 1000, 0, 0, false},
		{"bytes=0-9223372036854775807", 1000, 0, 1000, true},
		{"bytes=-9223372036854775808", 1000, 0, 0, false},
		{"bytes=0-", math.MaxInt64, 0, math.MaxInt64, true},
		// An empty representation has no satisfiable range; the suffix
		// form once returned an empty one (found by FuzzParse).
		{"bytes=-5", 0, 0, 0, false},
		{"bytes=0-", 0, 0, 0, false},
	}
	for _, c := range cases {
		off, length, ok := Parse(c.h, c.size)
		if off != c.off || length != c.length || ok != c.ok {
			t.Errorf("Parse(%q, %d) = %d, %d, %v; want %d, %d, %v", c.h, c.size, off, length, ok, c.off, c.length, c.ok)
		}
	}
}

// FuzzParse checks the promises on any header and size: an accepted range
// lies inside the representation and is not empty.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"bytes=0-", "bytes=0-0", "bytes=-500", "bytes=100-200", "bytes=5-1",
		"bytes=1-2,4-5", "bytes= 3 - 9", "bytes=-0", "bytes=9223372036854775807-", "bytes=-9223372036854775808", "items=0-1", ""} {
		f.Add(s, int64(1000))
	}
	f.Add("bytes=0-", int64(0))
	f.Add("bytes=-5", int64(0))
	f.Fuzz(func(t *testing.T, h string, size int64) {
		if size < 0 {
			size = -(size + 1)
		}
		off, length, ok := Parse(h, size)
		if !ok {
			if off != 0 || length != 0 {
				t.Fatalf("Parse(%q, %d) = %d, %d, false: a refusal with a range", h, size, off, length)
			}
			return
		}
		if off < 0 || length < 1 || off >= size || length > size-off {
			t.Fatalf("Parse(%q, %d) = %d, %d: outside the representation or empty", h, size, off, length)
		}
	})
}
