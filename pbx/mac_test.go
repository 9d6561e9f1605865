package pbx

import (
	"errors"
	"strings"
	"testing"
)

func TestNormalizeMAC(t *testing.T) {
	cases := []struct{ in, want string }{
		{"00:90:33:AA:BB:CC", "009033aabbcc"},
		{"009033aabbcc", "009033aabbcc"},
		{"00-90-33-aa-bb-cc", "009033aabbcc"},
		{"0090.33aa.bbcc", "009033aabbcc"},
		{"0:0:9:0:3:3:a:a:b:b:c:c", "009033aabbcc"},
		{"", ""},
		{"0090", ""},
		{"00:90:33:aa:bb:cc:dd", ""},
		{"zz:zz:zz:zz:zz:zz", ""},
		{"00 90 33 aa bb cc", ""},
		{"00:90:33:aa:bb:cK", ""},
		{"İ09033aabbcc", ""}, // a rune whose lower case is ASCII-looking is still refused
	}
	for _, c := range cases {
		got, err := NormalizeMAC(c.in)
		if c.want == "" {
			if !errors.Is(err, ErrInvalidMAC) {
				t.Errorf("NormalizeMAC(%q) = %q, %v; want ErrInvalidMAC", c.in, got, err)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("NormalizeMAC(%q) = %q, %v; want %q", c.in, got, err, c.want)
		}
	}
}

// FuzzNormalizeMAC: the result is always 12 lower-case hex digits, and
// normalising it again is the identity.
func FuzzNormalizeMAC(f *testing.F) {
	for _, s := range []string{"", "00:90:33:AA:BB:CC", "009033aabbcc", "0090.33aa.bbcc", "00-90-33", "zz:zz", "00:90:33:aa:bb:cc:dd"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, err := NormalizeMAC(s)
		if err != nil {
			if !errors.Is(err, ErrInvalidMAC) {
				t.Fatalf("NormalizeMAC(%q) error %v is not ErrInvalidMAC", s, err)
			}
			return
		}
		if len(m) != 12 || strings.Trim(m, "0123456789abcdef") != "" {
			t.Fatalf("NormalizeMAC(%q) = %q", s, m)
		}
		if again, err := NormalizeMAC(m); err != nil || again != m {
			t.Fatalf("NormalizeMAC not idempotent on %q: %q, %v", m, again, err)
		}
	})
}
