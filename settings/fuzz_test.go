package settings

import (
	"errors"
	"testing"
	"unicode/utf8"
)

// FuzzValidate: any key and value either fail with ErrInvalid or come back
// normalised, printable, within bounds, and stable under a second Validate.
func FuzzValidate(f *testing.F) {
	for _, seed := range [][2]string{
		{KeyPBXName, " pbx "}, {KeyRetentionDays, "30"}, {KeyRetentionDays, "-0"}, {KeyLogRetentionDays, "+7"},
		{KeyLicenceCount, "010"}, {KeyCDRUser, "u:p"}, {KeyCDRPassword, "pw"}, {KeyNoCDRGrace, "600"},
		{KeyDomain, " example.com "}, {KeyDomain, "a/b"}, {KeyPBXSeen, "b.example, a.example,a.example"},
		{"trace.ui", "DEBUG"}, {"trace.Call Information", "Off"}, {"trace.", "info"}, {"x", "y"},
	} {
		f.Add(seed[0], seed[1])
	}
	f.Fuzz(func(t *testing.T, key, value string) {
		key = CanonicalKey(key)
		v, err := Validate(key, value)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("Validate(%q, %q): %v is not ErrInvalid", key, value, err)
			}
			return
		}
		if !utf8.ValidString(v) || len(v) > MaxCredential {
			t.Fatalf("Validate(%q, %q) = %q: not valid UTF-8 or too long", key, value, v)
		}
		again, err := Validate(key, v)
		if err != nil || again != v {
			t.Fatalf("Validate(%q, %q) = %q, but again = %q, %v", key, value, v, again, err)
		}
	})
}
