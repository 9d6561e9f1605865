package store

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzParseCursor: any string either parses to a cursor that prints back
// to itself, or fails with ErrInvalid; never a panic.
func FuzzParseCursor(f *testing.F) {
	for _, s := range []string{"", cursor{1, 2}.String(), cursor{-5, 1 << 62}.String(), "cjEuMS4y", "!!", "r1.1.2",
		cursorString("r1..2"), cursorString("r1.1.2.3"), cursorString("r1.+1.2"), cursorString("r1.99999999999999999999.1")} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := parseCursor(s)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("parseCursor(%q) error %v is not ErrInvalid", s, err)
			}
			return
		}
		again, err := parseCursor(c.String())
		if err != nil || again != c {
			t.Fatalf("cursor %+v from %q does not round-trip: %+v, %v", c, s, again, err)
		}
	})
}

// FuzzNormalizeMAC: the result is always 12 lower-case hex digits and
// normalising it again is the identity.
func FuzzNormalizeMAC(f *testing.F) {
	for _, s := range []string{"", "00:90:33:AA:BB:CC", "009033aabbcc", "0090.33aa.bbcc", "00-90-33", "zz:zz", "00:90:33:aa:bb:cc:dd"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, err := NormalizeMAC(s)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("NormalizeMAC(%q) error %v is not ErrInvalid", s, err)
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

// FuzzTrigrams: every trigram is three characters of the query, they are
// distinct, at most maxTrigrams, and in order of first appearance.
func FuzzTrigrams(f *testing.F) {
	for _, s := range []string{"", "ab", "abc", "müller", "aaaa", `"x"y"`, "\xff\xfe\xfd\xfc"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ts := trigrams(s)
		if len(ts) > maxTrigrams {
			t.Fatalf("%d trigrams", len(ts))
		}
		seen := map[string]bool{}
		last := -1
		for _, tg := range ts {
			if utf8.RuneCountInString(tg) != 3 && utf8.ValidString(s) {
				t.Fatalf("trigram %q of %q is not 3 characters", tg, s)
			}
			if seen[tg] {
				t.Fatalf("trigram %q repeated", tg)
			}
			seen[tg] = true
			i := strings.Index(string([]rune(s)[0:]), tg)
			if utf8.ValidString(s) && i < 0 {
				t.Fatalf("trigram %q not in %q", tg, s)
			}
			if utf8.ValidString(s) && i < last {
				t.Fatalf("trigram %q out of order in %q", tg, s)
			}
			last = i
		}
		if q := ftsTerm(s); !strings.HasPrefix(q, `"`) || !strings.HasSuffix(q, `"`) ||
			strings.Count(q[1:len(q)-1], `"`)%2 != 0 {
			t.Fatalf("ftsTerm(%q) = %q is not one quoted string", s, q)
		}
	})
}
