package listquery

import (
	"slices"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

func TestFold(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ in, plain, german string }{
		{"García", "garcia", "garcia"},
		{"José García", "jose garcia", "jose garcia"},
		{"García, José", "garcia jose", "garcia jose"},
		{"Zoë", "zoe", "zoe"},
		{"ZOË", "zoe", "zoe"},
		{"Müller", "muller", "mueller"},
		{"Mu\u0308ller", "muller", "mueller"}, // decomposed ü
		{"MÜLLER", "muller", "mueller"},
		{"Straße", "strasse", "strasse"},
		{"Øre Ærø", "ore aero", "ore aero"},
		{"Łódź", "lodz", "lodz"},
		{"O'Brien-Smith", "o brien smith", "o brien smith"},
		{"  many   spaces  ", "many spaces", "many spaces"},
		{"ﬁne", "fine", "fine"},
		{"Ｋｉｍ", "kim", "kim"},
		{"+49 (89) 123", "49 89 123", "49 89 123"},
		{"Ελένη", "ελενη", "ελενη"},
		{"", "", ""},
	} {
		if got := Fold(c.in); got != c.plain {
			t.Errorf("Fold(%q) = %q, want %q", c.in, got, c.plain)
		}
		if got := FoldGerman(c.in); got != c.german {
			t.Errorf("FoldGerman(%q) = %q, want %q", c.in, got, c.german)
		}
	}
}

func TestNumberKey(t *testing.T) {
	t.Parallel()
	plan := DefaultNumberPlan
	for _, c := range []struct {
		in       string
		key      string
		anchored bool
		number   bool
	}{
		{"+49891234560", "49891234560", true, true},
		{"0049891234560", "49891234560", true, true},
		{"0891234560", "49891234560", true, true},
		{"089 / 123 456-0", "49891234560", true, true},
		{"+49 (89) 1234560", "49891234560", true, true},
		{"+33 1 23", "33123", true, true},
		{"201", "201", false, true},
		{"1234 56", "123456", false, true},
		{"anonymous", "", false, false},
		{"+", "", false, false},
		{"12a", "", false, false},
		{strings.Repeat("1", maxNumberDigits+1), "", false, false},
	} {
		digits, plus, ok := Digits(c.in)
		if ok != c.number {
			t.Errorf("Digits(%q) ok = %v", c.in, ok)
			continue
		}
		if !ok {
			continue
		}
		key, anchored := plan.NumberKey(digits, plus)
		if key != c.key || anchored != c.anchored {
			t.Errorf("NumberKey(%q) = %q, %v; want %q, %v", c.in, key, anchored, c.key, c.anchored)
		}
	}
	for _, p := range []NumberPlan{{}, {"049", "00", "0"}, {"49", "0", "0"}, {"4x", "00", "0"}, {"49", "00000", "0"}} {
		if p.Check() == nil {
			t.Errorf("plan %+v accepted", p)
		}
	}
	if err := DefaultNumberPlan.Check(); err != nil {
		t.Error(err)
	}
}

// matches reports whether the search text of a recording with these
// fields matches q, the way the store's SQL does (every term, any alt).
func matches(q string, owner, peerName, peerNumber string) bool {
	text := SearchText(DefaultNumberPlan, owner, peerName, peerNumber, owner)
	pq := ParseQuery(q, DefaultNumberPlan)
	if pq.None {
		return false
	}
	for _, term := range pq.Terms {
		if !slices.ContainsFunc(term.Alts, func(a string) bool { return strings.Contains(text, a) }) {
			return false
		}
	}
	return true
}

func TestSearchMatches(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		q, name, number string
		want            bool
	}{
		{"garcia", "José García", "", true},
		{"GARCÍA", "Jose Garcia", "", true},
		{"jose garcia", "García, José", "", true},
		{"zoe", "Zoë Zander", "", true},
		{"Zoë", "Zoe Zander", "", true},
		{"muller", "Hans Müller", "", true},
		{"mueller", "Hans Müller", "", true},
		{"müller", "Hans Mueller", "", true},
		{"Müller", "Hans Muller", "", true},
		{"mueller", "Hans Muller", "", false},
		{"strasse", "Anna Straße", "", true},
		{"0891234560", "", "+49891234560", true},
		{"0049891234560", "", "+49891234560", true},
		{"+49891234560", "", "0891234560", true},
		{"+49 89 123", "", "0049891234560", true},
		{"089", "", "+49891234560", true},
		{"089", "", "+4930891234", false},  // 089 is Munich: a prefix, not anywhere
		{"1234", "", "+49891234560", true}, // digits without prefix: anywhere
		{"+33", "", "+49891234560", false},
		{"schmidt", "Hans Müller", "", false},
		{"", "anyone", "", true},
		{"%", "50% off", "", false},
	} {
		if got := matches(c.q, "owner", c.name, c.number); got != c.want {
			t.Errorf("%q in name %q number %q: %v, want %v (text %q)", c.q, c.name, c.number, got, c.want,
				SearchText(DefaultNumberPlan, "owner", c.name, c.number, "owner"))
		}
	}
}

// FuzzFold: folding is idempotent, and leaves lower-case letters, digits
// and single inner spaces only.
func FuzzFold(f *testing.F) {
	for _, s := range []string{"", "García, José", "Müller", "Straße", "ﬁ", "İstanbul", "ǅ", "\xff", "  a  b  ", "ẞ", "Ǆ"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, fn := range []func(string) string{Fold, FoldGerman} {
			k := fn(s)
			if again := fn(k); again != k {
				t.Fatalf("fold(%q) = %q, folded again %q", s, k, again)
			}
			if strings.HasPrefix(k, " ") || strings.HasSuffix(k, " ") || strings.Contains(k, "  ") || !utf8.ValidString(k) {
				t.Fatalf("fold(%q) = %q: stray spaces or bad UTF-8", s, k)
			}
			for _, r := range k {
				if r != ' ' && !unicode.IsLetter(r) && !unicode.IsDigit(r) {
					t.Fatalf("fold(%q) = %q holds %U", s, k, r)
				}
			}
		}
	})
}

// FuzzParseQuery: any query gives at most MaxTerms terms, each with one or
// two non-empty alternatives without newlines (a match never spans two
// fields); a number term is the mark and its digits; and a recording whose
// name is the query itself is found by it.
func FuzzParseQuery(f *testing.F) {
	for _, s := range []string{"", "garcia", "jose garcia", "+49 89 123", "0049", "089", "1234", "Müller Straße", "#49", "a\nb", "+", "0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, q string) {
		pq := ParseQuery(q, DefaultNumberPlan)
		if len(pq.Terms) > MaxTerms {
			t.Fatalf("%d terms", len(pq.Terms))
		}
		for _, term := range pq.Terms {
			if len(term.Alts) == 0 || len(term.Alts) > 2 {
				t.Fatalf("term %+v", term)
			}
			for _, a := range term.Alts {
				if a == "" || strings.Contains(a, "\n") {
					t.Fatalf("alternative %q of %q", a, q)
				}
			}
			if term.Number != "" && (term.Alts[0] != NumberMark+term.Number || strings.Trim(term.Number, "0123456789") != "") {
				t.Fatalf("number term %+v", term)
			}
		}
		if utf8.ValidString(q) && len(pq.Terms) > 0 && len(pq.Terms) < MaxTerms && !strings.ContainsAny(q, "\n\r") {
			if _, _, isNumber := Digits(q); !isNumber && !matches(q, "owner", q, "") {
				t.Fatalf("a recording with peer name %q is not found by it", q)
			}
		}
	})
}
