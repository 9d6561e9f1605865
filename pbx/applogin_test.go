package pbx

import (
	"bytes"
	"crypto/rand"
	"errors"
	"io"
	"strings"
	"testing"
)

func TestAppLoginDigestVectors(t *testing.T) {
	for _, tc := range []struct{ info, want string }{
		{"", "a205299ed2ef2786c311e0be1b14db343f2cadd906a6ae7b564eee34bda5e9a1"},
		{"{}", "57b23fe824b9222a7ac879597cb509bcdc865a1bfeb057d9d12118cef0c3ba34"},
		{`{"cn":"Test User"}`, "96db3c3f657230c2b68194becc6d2a77f05de9f79f01fc81e9ca0fb196b10d9d"},
	} {
		got := AppLoginDigest("pbxadminapi", "", "", "", "", tc.info, "0123456789abcdef", "pwd")
		if got != tc.want {
			t.Errorf("info %q: digest %s, want %s", tc.info, got, tc.want)
		}
		if !VerifyAppLogin("pbxadminapi", "", "", "", "", tc.info, "0123456789abcdef", "pwd", tc.want) {
			t.Errorf("info %q: VerifyAppLogin rejected the right digest", tc.info)
		}
		if !VerifyAppLogin("pbxadminapi", "", "", "", "", tc.info, "0123456789abcdef", "pwd", strings.ToUpper(tc.want)) {
			t.Errorf("info %q: VerifyAppLogin rejected the uppercase digest", tc.info)
		}
	}
}

func TestVerifyAppLoginRejects(t *testing.T) {
	const good = "96db3c3f657230c2b68194becc6d2a77f05de9f79f01fc81e9ca0fb196b10d9d"
	args := [8]string{"pbxadminapi", "", "", "", "", `{"cn":"Test User"}`, "0123456789abcdef", "pwd"}
	verify := func(a [8]string, d string) bool {
		return VerifyAppLogin(a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], d)
	}
	if !verify(args, good) {
		t.Fatal("baseline digest rejected")
	}
	for i := range args {
		changed := args
		changed[i] += "x"
		if verify(changed, good) {
			t.Errorf("field %d changed but digest accepted", i)
		}
	}
	for _, d := range []string{"", good[:63], good + "0", "0" + good[1:], strings.Repeat("z", 64)} {
		if verify(args, d) {
			t.Errorf("digest %q accepted", d)
		}
	}
	// Fields are separated, not concatenated: moving a character between fields changes it.
	if AppLoginDigest("ab", "c", "", "", "", "", "x", "p") == AppLoginDigest("a", "bc", "", "", "", "", "x", "p") {
		t.Error("field boundary not part of the digest")
	}
}

func TestNewChallenge(t *testing.T) {
	c, err := NewChallenge(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if len(c) < 16 || len(c) != ChallengeDigits || strings.Trim(c, "0123456789") != "" {
		t.Fatalf("challenge %q is not %d decimal digits", c, ChallengeDigits)
	}
	d, _ := NewChallenge(rand.Reader)
	if c == d {
		t.Fatalf("two challenges equal: %q", c)
	}
	// Deterministic reader: bytes >= 250 are skipped, the rest map to b%10.
	src := append(bytes.Repeat([]byte{255}, 40), bytes.Repeat([]byte{13, 249, 0}, 20)...)
	got, err := NewChallenge(bytes.NewReader(src))
	if err != nil {
		t.Fatal(err)
	}
	if want := strings.Repeat("390", 7)[:ChallengeDigits]; got != want {
		t.Fatalf("challenge %q, want %q", got, want)
	}
	// A failing reader is reported, not papered over.
	if _, err := NewChallenge(io.LimitReader(rand.Reader, 4)); err == nil || !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("short reader: err %v", err)
	}
}

func BenchmarkAppLoginDigest(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		AppLoginDigest("pbxadminapi", "", "", "", "", `{"cn":"Test User"}`, "0123456789abcdef", "pwd")
	}
}
