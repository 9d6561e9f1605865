package listquery

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Folding rules for names (docs/api.md, "Search", says them for people):
//
//  1. Unicode compatibility decomposition (NFKD): "é" becomes "e" plus a
//     combining accent, "ﬁ" becomes "fi", full-width letters plain ones.
//  2. Combining marks (category Mn) are dropped: García → Garcia,
//     Zoë → Zoe, Müller → Muller, Łódź → Łodz.
//  3. Letters that carry their mark inside the letter are spelt out:
//     ß → ss, æ → ae, œ → oe, ø → o, ł → l, đ/ð → d, þ → th, ı → i.
//  4. Lower case (Unicode simple lower case after step 3).
//  5. Everything that is not a letter or digit (commas, hyphens,
//     apostrophes, dots, runs of spaces) becomes one space; leading and
//     trailing spaces go. "García, José" → "garcia jose".
//
// German umlauts are also written with an e ("Mueller" for "Müller").
// FoldGerman is Fold with ä/ö/ü (and Ä/Ö/Ü) spelt ae/oe/ue first; the
// stored search text holds both forms of a name that has umlauts, and a
// query with umlauts is looked for in both forms, so Müller = muller =
// mueller, and a stored "Mueller" is found by "müller" too.

// Fold is the search key of a name: see the folding rules above.
func Fold(s string) string { return fold(s, false) }

// FoldGerman is Fold with German umlauts spelt out (ü → ue).
func FoldGerman(s string) string { return fold(s, true) }

// HasUmlaut reports whether s holds a German umlaut (so FoldGerman
// differs from Fold in more than punctuation).
func HasUmlaut(s string) bool {
	return strings.ContainsAny(norm.NFC.String(s), "äöüÄÖÜ")
}

var spelled = map[rune]string{
	'ß': "ss", 'ẞ': "ss", 'æ': "ae", 'Æ': "ae", 'œ': "oe", 'Œ': "oe", 'ø': "o", 'Ø': "o",
	'ł': "l", 'Ł': "l", 'đ': "d", 'Đ': "d", 'ð': "d", 'Ð': "d", 'þ': "th", 'Þ': "th", 'ı': "i",
	'ħ': "h", 'Ħ': "h", 'ŀ': "l", 'Ŀ': "l",
}

var umlauts = map[rune]string{'ä': "ae", 'ö': "oe", 'ü': "ue", 'Ä': "ae", 'Ö': "oe", 'Ü': "ue"}

func fold(s string, german bool) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, " ")
	}
	if german {
		// Composed first, so that "u" + combining diaeresis counts too.
		s = norm.NFC.String(s)
		var b strings.Builder
		for _, r := range s {
			if u, ok := umlauts[r]; ok {
				b.WriteString(u)
			} else {
				b.WriteRune(r)
			}
		}
		s = b.String()
	}
	s = norm.NFKD.String(s)
	var b strings.Builder
	b.Grow(len(s))
	space := false // a space is pending
	for _, r := range s {
		if unicode.Is(unicode.Mn, r) {
			continue
		}
		if sp, ok := spelled[r]; ok {
			if space && b.Len() > 0 {
				b.WriteByte(' ')
			}
			space = false
			b.WriteString(sp)
			continue
		}
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) {
			space = true
			continue
		}
		if space && b.Len() > 0 {
			b.WriteByte(' ')
		}
		space = false
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}
