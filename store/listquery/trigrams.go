package listquery

import (
	"slices"
	"strings"
)

// MaxTrigrams bounds how many trigrams of a query are looked up.
const MaxTrigrams = 24

// Trigrams returns the distinct three-character substrings of q in order
// of first appearance, at most MaxTrigrams. A query shorter than three
// characters has none.
func Trigrams(q string) []string {
	r := []rune(q)
	var out []string
	for i := 0; i+3 <= len(r) && len(out) < MaxTrigrams; i++ {
		t := string(r[i : i+3])
		if !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	return out
}

// FTSTerm quotes t as one string term of an SQLite FTS5 query.
func FTSTerm(t string) string { return `"` + strings.ReplaceAll(t, `"`, `""`) + `"` }
