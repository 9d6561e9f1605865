package listquery

import (
	"strings"
)

// MaxTerms bounds the words of a query that are matched.
const MaxTerms = 8

// NumberMark begins the line of the search text that holds a phone number
// written with a prefix ("+", international or national), as its key: a
// query term "#4989" therefore matches numbers that begin with 49 89 only.
const NumberMark = "#"

// Term is one word of a query: a recording matches it when its search text
// contains any of Alts.
type Term struct {
	Alts []string
	// Number is the key of a phone number the word was written as, with a
	// prefix ("+49 89", "089", "004989"); "" for other words.
	Number string
}

// Query is a search as the list matches it: every term must match. None:
// the query holds no letter or digit ("%", "_"): it matches nothing (a
// wildcard a person might expect to work is no wildcard here).
type Query struct {
	Terms []Term
	None  bool
}

// ParseQuery splits what someone typed into terms, folded like the stored
// search text (SearchText):
//
//   - a query written like one phone number with a prefix ("+49 89 123",
//     "0049 89 123", "089/123") is one number term, matched against the
//     beginning of a recording's number in its key form (NumberPlan);
//   - a query written like a number without prefix ("1234 56") is one term
//     of its digits, found anywhere;
//   - anything else is split into words after folding (Fold); each word
//     must occur somewhere (in any order: "jose garcia" finds
//     "García, José"), a word with a German umlaut in either of its forms.
//
// At most MaxTerms words are used. An empty or all-space query has no
// terms and matches everything; one of punctuation only matches nothing.
func ParseQuery(q string, plan NumberPlan) Query {
	if digits, plus, ok := Digits(q); ok {
		if key, anchored := plan.NumberKey(digits, plus); anchored {
			return Query{Terms: []Term{{Alts: []string{NumberMark + key}, Number: key}}}
		}
		return Query{Terms: []Term{{Alts: []string{digits}}}}
	}
	plain := strings.Fields(Fold(q))
	var german []string
	if HasUmlaut(q) {
		german = strings.Fields(FoldGerman(q))
		if len(german) != len(plain) {
			german = nil
		}
	}
	var out Query
	for i, w := range plain {
		if len(out.Terms) == MaxTerms {
			break
		}
		t := Term{Alts: []string{w}}
		if german != nil && german[i] != w {
			t.Alts = append(t.Alts, german[i])
		}
		out.Terms = append(out.Terms, t)
	}
	out.None = len(out.Terms) == 0 && strings.TrimSpace(q) != ""
	return out
}

// SearchText is the text a recording's search terms are matched against:
// its owner, the other party's name (folded, and spelt with umlauts
// expanded when it has any), its registration name, and its phone number
// (NumberMark and the key when written with a prefix, else the digits), one
// per line so that no match spans two.
func SearchText(plan NumberPlan, owner, peerName, peerNumber, regName string) string {
	lines := []string{Fold(owner), Fold(peerName)}
	if HasUmlaut(peerName) {
		lines = append(lines, FoldGerman(peerName))
	}
	lines = append(lines, Fold(regName))
	if digits, plus, ok := Digits(peerNumber); ok {
		if key, anchored := plan.NumberKey(digits, plus); anchored {
			lines = append(lines, NumberMark+key)
		} else {
			lines = append(lines, digits)
		}
	} else if f := Fold(peerNumber); f != "" {
		lines = append(lines, f) // "anonymous", a SIP URI…
	}
	return strings.Join(lines, "\n")
}

// StoredNumberKey is the key of a recording's number when it is written
// with a prefix (the num_key column, indexed for number searches), else "".
func StoredNumberKey(plan NumberPlan, peerNumber string) string {
	if digits, plus, ok := Digits(peerNumber); ok {
		if key, anchored := plan.NumberKey(digits, plus); anchored {
			return key
		}
	}
	return ""
}
