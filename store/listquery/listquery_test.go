package listquery

import (
	"encoding/base64"
	"errors"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

func encoded(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

func TestCursor(t *testing.T) {
	for _, c := range []Cursor{{0, 0, false}, {1, 2, true}, {1764132000000, 1 << 40, false}, {-5, 1 << 62, true}} {
		got, err := ParseCursor(c.String())
		if err != nil || got != c {
			t.Errorf("ParseCursor(%v.String()) = %v, %v", c, got, err)
		}
	}
	for _, s := range []string{
		"", "!!", "r1.1.2", // not base64 of the form
		encoded("r0.1.2"), encoded("r2.x.1.2"), encoded("r2.n.1"), encoded("r2.o.1.2.3"), encoded("r1.a.2"), encoded("r1..2"), encoded("r1.1.2.3"),
		encoded("r1.99999999999999999999.1"), encoded("r1.1"),
		strings.Repeat("A", maxCursorLen+4),
	} {
		if c, err := ParseCursor(s); !errors.Is(err, ErrMalformed) {
			t.Errorf("ParseCursor(%q) = %v, %v; want ErrMalformed", s, c, err)
		}
	}
	// A cursor of the first form is a newest-first position.
	if c, err := ParseCursor(encoded("r1.5.7")); err != nil || c != (Cursor{5, 7, false}) {
		t.Errorf("r1 cursor = %v, %v", c, err)
	}
}

func TestTrigrams(t *testing.T) {
	for _, c := range []struct {
		in   string
		want []string
	}{
		{"", nil},
		{"ab", nil},
		{"abc", []string{"abc"}},
		{"abcd", []string{"abc", "bcd"}},
		{"aaaa", []string{"aaa"}},
		{"müll", []string{"mül", "üll"}},
		{`a"b`, []string{`a"b`}},
		{strings.Repeat("abcdefghij", 10), []string{"abc", "bcd", "cde", "def", "efg", "fgh", "ghi", "hij", "ija", "jab"}},
	} {
		if got := Trigrams(c.in); !slices.Equal(got, c.want) {
			t.Errorf("Trigrams(%q) = %q, want %q", c.in, got, c.want)
		}
	}
	if n := len(Trigrams(strings.Repeat("x", 10) + "abcdefghijklmnopqrstuvwxyz0123456789")); n != MaxTrigrams {
		t.Errorf("long query: %d trigrams, want the cap %d", n, MaxTrigrams)
	}
	if got := FTSTerm(`a"b`); got != `"a""b"` {
		t.Errorf("FTSTerm quoting = %s", got)
	}
}

// FuzzParseCursor: any string either parses to a cursor that prints back
// to itself, or fails with ErrMalformed; never a panic.
func FuzzParseCursor(f *testing.F) {
	for _, s := range []string{"", Cursor{1, 2, false}.String(), Cursor{-5, 1 << 62, true}.String(), "cjEuMS4y", "!!", "r1.1.2",
		encoded("r1..2"), encoded("r1.1.2.3"), encoded("r1.+1.2"), encoded("r1.99999999999999999999.1")} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseCursor(s)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("ParseCursor(%q) error %v is not ErrMalformed", s, err)
			}
			return
		}
		again, err := ParseCursor(c.String())
		if err != nil || again != c {
			t.Fatalf("cursor %+v from %q does not round-trip: %+v, %v", c, s, again, err)
		}
	})
}

// FuzzTrigrams: every trigram is three characters of the query, they are
// distinct, at most MaxTrigrams, and in order of first appearance; the FTS
// term of any string is one quoted string.
func FuzzTrigrams(f *testing.F) {
	for _, s := range []string{"", "ab", "abc", "müller", "aaaa", `"x"y"`, "\xff\xfe\xfd\xfc"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ts := Trigrams(s)
		if len(ts) > MaxTrigrams {
			t.Fatalf("%d trigrams", len(ts))
		}
		valid := utf8.ValidString(s)
		seen := map[string]bool{}
		last := -1
		for _, tg := range ts {
			if valid && utf8.RuneCountInString(tg) != 3 {
				t.Fatalf("trigram %q of %q is not 3 characters", tg, s)
			}
			if seen[tg] {
				t.Fatalf("trigram %q repeated", tg)
			}
			seen[tg] = true
			i := strings.Index(s, tg)
			if valid && i < 0 {
				t.Fatalf("trigram %q not in %q", tg, s)
			}
			if valid && i < last {
				t.Fatalf("trigram %q out of order in %q", tg, s)
			}
			last = i
		}
		if q := FTSTerm(s); !strings.HasPrefix(q, `"`) || !strings.HasSuffix(q, `"`) ||
			strings.Count(q[1:len(q)-1], `"`)%2 != 0 {
			t.Fatalf("FTSTerm(%q) = %q is not one quoted string", s, q)
		}
	})
}
