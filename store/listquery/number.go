package listquery

import (
	"fmt"
	"strings"
)

// NumberPlan says how phone numbers are dialled where the PBX is, so that
// the different written forms of one number get one key: "+49891234560",
// "0049891234560" and (in Germany) "0891234560" are all 49891234560, the
// country code followed by the national significant number.
type NumberPlan struct {
	CountryCode         string // e.g. "49"; digits only
	InternationalPrefix string // e.g. "00"
	NationalPrefix      string // e.g. "0"
}

// DefaultNumberPlan is used until the PBX's own is known: Germany's
// (innovaphone's home market): country code 49, 00 for abroad, 0 for
// long distance.
var DefaultNumberPlan = NumberPlan{CountryCode: "49", InternationalPrefix: "00", NationalPrefix: "0"}

// Check refuses a plan whose parts are not short digit strings, or whose
// prefixes could be mistaken for each other.
func (p NumberPlan) Check() error {
	for _, f := range []struct{ name, v string }{
		{"country code", p.CountryCode}, {"international prefix", p.InternationalPrefix}, {"national prefix", p.NationalPrefix},
	} {
		if f.v == "" || len(f.v) > 4 || strings.Trim(f.v, "0123456789") != "" {
			return fmt.Errorf("%s: 1 to 4 digits, not %q", f.name, f.v)
		}
	}
	if p.CountryCode[0] == '0' {
		return fmt.Errorf("country code %q: must not begin with 0", p.CountryCode)
	}
	if p.InternationalPrefix == p.NationalPrefix {
		return fmt.Errorf("international and national prefix are both %q", p.NationalPrefix)
	}
	return nil
}

// maxNumberDigits bounds what is read as a phone number (E.164 has at most
// 15 digits; prefixes and extensions add a few).
const maxNumberDigits = 32

// numberSeparators are what people write between digits.
const numberSeparators = " -/().\u00a0"

// Digits returns the digits of s and whether it begins with "+", if s is
// written like a phone number: an optional leading "+", then digits and
// separators (space, - / ( ) .), at least one digit, at most
// maxNumberDigits. Otherwise ok is false.
func Digits(s string) (digits string, plus, ok bool) {
	s = strings.TrimSpace(s)
	if rest, found := strings.CutPrefix(s, "+"); found {
		plus, s = true, rest
	}
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			if b.Len() == maxNumberDigits {
				return "", false, false
			}
			b.WriteRune(r)
		case strings.ContainsRune(numberSeparators, r):
		default:
			return "", false, false
		}
	}
	if b.Len() == 0 {
		return "", false, false
	}
	return b.String(), plus, true
}

// NumberKey is the key of a number written as digits (plus: it began with
// "+"): with "+" or the international prefix, the digits after it; with
// the national prefix, the country code followed by the digits after it;
// anything else (an extension, a number without prefix) as it is, and
// anchored is false then.
func (p NumberPlan) NumberKey(digits string, plus bool) (key string, anchored bool) {
	switch {
	case plus:
		return digits, true
	case p.InternationalPrefix != "" && strings.HasPrefix(digits, p.InternationalPrefix):
		return digits[len(p.InternationalPrefix):], true
	case p.NationalPrefix != "" && strings.HasPrefix(digits, p.NationalPrefix):
		return p.CountryCode + digits[len(p.NationalPrefix):], true
	}
	return digits, false
}
