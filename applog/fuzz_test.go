package applog

import (
	"log/slog"
	"testing"
)

// FuzzParseLevel: a parsed level prints back to a string that parses to the
// same level.
func FuzzParseLevel(f *testing.F) {
	for _, s := range []string{"off", "Debug", "warn", "INFO+2", "ERROR-1", "", "info+", "trace"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		l, err := ParseLevel(s)
		if err != nil {
			return
		}
		back, err := ParseLevel(slog.Level(l).String())
		if err != nil || back != l {
			t.Fatalf("ParseLevel(%q) = %v, but %q parses to %v, %v", s, l, l.String(), back, err)
		}
	})
}
