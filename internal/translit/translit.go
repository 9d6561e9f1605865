// Package translit writes people's names in the letters every file system
// and every unzip tool takes: "José García" → "Jose Garcia",
// "Müller" → "Mueller", "Straße" → "Strasse", "Łódź" → "Lodz".
package translit

import (
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// spelled are letters whose mark is part of the letter, spelt in ASCII;
// German umlauts are spelt with an e, as Germans do when they cannot
// write them.
var spelled = map[rune]string{
	'ä': "ae", 'ö': "oe", 'ü': "ue", 'Ä': "Ae", 'Ö': "Oe", 'Ü': "Ue",
	'ß': "ss", 'ẞ': "SS", 'æ': "ae", 'Æ': "AE", 'œ': "oe", 'Œ': "OE", 'ø': "o", 'Ø': "O",
	'ł': "l", 'Ł': "L", 'đ': "d", 'Đ': "D", 'ð': "d", 'Ð': "D", 'þ': "th", 'Þ': "Th", 'ı': "i",
	'ħ': "h", 'Ħ': "H",
}

// kept are the ASCII punctuation marks kept in a name (file systems take
// them all; they read well in a name or number).
const kept = "+-.,'&()"

// Name writes s in ASCII letters, digits, spaces and the marks + - . , ' &
// ( ): accents are dropped (after Unicode compatibility decomposition),
// letters with a built-in mark spelt out (see spelled), anything else
// (other scripts, symbols, control characters, slashes, colons) becomes a
// space; runs of spaces become one, and leading and trailing spaces and
// dots go. The result is at most maxLen bytes (cut at a space when one is
// near), and may be empty.
func Name(s string, maxLen int) string {
	s = norm.NFC.String(strings.ToValidUTF8(s, " "))
	var pre strings.Builder
	rs := []rune(s)
	for i, r := range rs {
		sp, ok := spelled[r]
		if !ok {
			pre.WriteRune(r)
			continue
		}
		// A capital in a word written in capitals is spelt in capitals:
		// MÜLLER → MUELLER, Ärger → Aerger.
		if unicode.IsUpper(r) && ((i+1 < len(rs) && unicode.IsUpper(rs[i+1])) || (i > 0 && unicode.IsUpper(rs[i-1]))) {
			sp = strings.ToUpper(sp)
		}
		pre.WriteString(sp)
	}
	var b strings.Builder
	space := false
	for _, r := range norm.NFKD.String(pre.String()) {
		switch {
		case unicode.Is(unicode.Mn, r):
			continue
		case r < 0x80 && (unicode.IsLetter(r) || unicode.IsDigit(r) || strings.ContainsRune(kept, r)):
			if space && b.Len() > 0 {
				b.WriteByte(' ')
			}
			space = false
			b.WriteRune(r)
		default:
			space = true
		}
	}
	out := strings.Trim(b.String(), " .")
	if maxLen > 0 && len(out) > maxLen {
		cut := out[:maxLen]
		if i := strings.LastIndexByte(cut, ' '); i > maxLen/2 {
			cut = cut[:i]
		}
		out = strings.Trim(cut, " .")
	}
	return out
}
