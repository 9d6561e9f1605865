package translit

import (
	"strings"
	"testing"
)

func TestName(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ in, want string }{
		{"José García", "Jose Garcia"},
		{"Zoë Zander", "Zoe Zander"},
		{"Hans Müller", "Hans Mueller"},
		{"MÜLLER", "MUELLER"}, {"Ärger", "Aerger"},
		{"Straße", "Strasse"},
		{"Łódź Ørsted", "Lodz Orsted"},
		{"O'Brien & Söhne GmbH", "O'Brien & Soehne GmbH"},
		{"a/b\\c:d*e?f\"g<h>i|j", "a b c d e f g h i j"},
		{"..hidden..", "hidden"},
		{"+49 (89) 123-0", "+49 (89) 123-0"},
		{"Ελένη", ""},
		{"ﬁne", "fine"},
		{"  x \t\n y  ", "x y"},
	} {
		if got := Name(c.in, 0); got != c.want {
			t.Errorf("Name(%q) = %q, want %q", c.in, got, c.want)
		}
	}
	if got := Name("Sehr Lange Firmenbezeichnung Gesellschaft mit beschränkter Haftung", 40); got != "Sehr Lange Firmenbezeichnung" {
		t.Errorf("long name cut to %q", got)
	}
}

// FuzzName: the result is printable ASCII from the allowed set, without
// leading, trailing or double spaces, within the length, and stable.
func FuzzName(f *testing.F) {
	for _, s := range []string{"", "José García", "Müller", "a/b", "..", "Ελένη", "\xff\xfe", "ﬁ"} {
		f.Add(s, 40)
	}
	f.Fuzz(func(t *testing.T, s string, maxLen int) {
		maxLen = maxLen % 300
		got := Name(s, maxLen)
		if maxLen > 0 && len(got) > maxLen {
			t.Fatalf("Name(%q, %d) = %q: too long", s, maxLen, got)
		}
		if strings.HasPrefix(got, " ") || strings.HasSuffix(got, " ") || strings.Contains(got, "  ") ||
			strings.HasPrefix(got, ".") || strings.HasSuffix(got, ".") {
			t.Fatalf("Name(%q) = %q: stray spaces or dots", s, got)
		}
		for _, r := range got {
			ok := r == ' ' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9') ||
				strings.ContainsRune(kept, r)
			if !ok {
				t.Fatalf("Name(%q) = %q holds %q", s, got, r)
			}
		}
		if again := Name(got, maxLen); again != got {
			t.Fatalf("Name(%q) = %q, again %q", s, got, again)
		}
	})
}
