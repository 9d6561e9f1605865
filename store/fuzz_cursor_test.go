package store

import (
	"errors"
	"testing"
)

// FuzzParseCursor feeds the list cursor, which comes back from clients, to
// its parser: it must never panic, must refuse with ErrInvalid, and what it
// accepts must print back to a cursor that parses to the same position.
func FuzzParseCursor(f *testing.F) {
	f.Add(cursor{1732530000000, 42}.String())
	f.Add(cursor{-1, 0}.String())
	f.Add("")
	f.Add("cjEuMS4x")
	f.Add("cjEuLi4")
	f.Add("!!!")
	f.Fuzz(func(t *testing.T, s string) {
		c, err := parseCursor(s)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("parseCursor(%q): error %v is not ErrInvalid", s, err)
			}
			return
		}
		back, err := parseCursor(c.String())
		if err != nil || back != c {
			t.Fatalf("parseCursor(%q) = %+v, which prints as %q and parses to %+v, %v", s, c, c.String(), back, err)
		}
	})
}
