package sealed

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func mustKey(t testing.TB, b byte) *Key {
	t.Helper()
	k, err := NewKey(bytes.Repeat([]byte{b}, KeyLen))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestRoundTripAndTamper(t *testing.T) {
	t.Parallel()
	k := mustKey(t, 1)
	plain := []byte("a piece of a capture")
	p, err := k.SealTo(nil, plain, 7, 4096)
	if err != nil {
		t.Fatal(err)
	}
	if len(p) != SealedLen(len(plain)) {
		t.Fatalf("sealed length %d, want %d", len(p), SealedLen(len(plain)))
	}
	if bytes.Contains(p, plain) {
		t.Fatal("plaintext visible in the sealed piece")
	}
	got, err := k.OpenTo(nil, p, 7, 4096)
	if err != nil || !bytes.Equal(got, plain) {
		t.Fatalf("open = %q, %v", got, err)
	}
	cases := []struct {
		name    string
		key     *Key
		piece   func() []byte
		id, off int64
		want    error
	}{
		{"other recording", k, func() []byte { return p }, 8, 4096, ErrAuth},
		{"other offset", k, func() []byte { return p }, 7, 0, ErrAuth},
		{"wrong key", mustKey(t, 2), func() []byte { return p }, 7, 4096, ErrAuth},
		{"flipped bit", k, func() []byte { q := bytes.Clone(p); q[len(q)/2] ^= 1; return q }, 7, 4096, ErrAuth},
		{"truncated", k, func() []byte { return p[:len(p)-1] }, 7, 4096, ErrAuth},
		{"too short", k, func() []byte { return p[:Overhead-1] }, 7, 4096, ErrFormat},
		{"version", k, func() []byte { q := bytes.Clone(p); q[0] = 9; return q }, 7, 4096, ErrFormat},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			if _, err := c.key.OpenTo(nil, c.piece(), c.id, c.off); !errors.Is(err, c.want) {
				t.Fatalf("err = %v, want %v", err, c.want)
			}
		})
	}
}

func TestWrapRotate(t *testing.T) {
	t.Parallel()
	oldK, newK := mustKey(t, 1), mustKey(t, 2)
	dk, err := NewDataKey()
	if err != nil {
		t.Fatal(err)
	}
	w, err := oldK.Wrap(dk, 5)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := newK.Unwrap(w, 5); !errors.Is(err, ErrAuth) {
		t.Fatalf("unwrap with the wrong key: %v", err)
	}
	if _, err := oldK.Unwrap(w, 6); !errors.Is(err, ErrAuth) {
		t.Fatalf("unwrap for another recording: %v", err)
	}
	got, err := oldK.Unwrap(w, 5)
	if err != nil {
		t.Fatal(err)
	}
	w2, err := newK.Wrap(got, 5)
	if err != nil {
		t.Fatal(err)
	}
	again, err := newK.Unwrap(w2, 5)
	if err != nil || again.raw != dk.raw {
		t.Fatalf("rewrapped key differs: %v", err)
	}
	if oldK.ID() == newK.ID() || len(oldK.ID()) != 16 {
		t.Fatalf("ids %q %q", oldK.ID(), newK.ID())
	}
}

func TestDerive(t *testing.T) {
	t.Parallel()
	a, b := mustKey(t, 1), mustKey(t, 2)
	x, y := a.Derive("replica sse-c"), a.Derive("other")
	if len(x) != KeyLen || bytes.Equal(x, y) || bytes.Equal(x, b.Derive("replica sse-c")) || !bytes.Equal(x, a.Derive("replica sse-c")) {
		t.Fatal("derived keys are not distinct per key and label, or not stable")
	}
	if bytes.Equal(x, a.raw[:]) {
		t.Fatal("derived key equals the master key")
	}
}

func TestKeyFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	hexKey := strings.Repeat("ab", 32)
	cases := []struct {
		name, text string
		mode       os.FileMode
		ok         bool
	}{
		{"hex", hexKey + "\n", 0o600, true},
		{"base64", "q6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6s=", 0o400, true},
		{"short", "abcd", 0o600, false},
		{"readable by others", hexKey, 0o644, false},
		{"empty", "", 0o600, false},
	}
	for i, c := range cases {
		p := filepath.Join(dir, c.name)
		if err := os.WriteFile(p, []byte(c.text), c.mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, c.mode); err != nil {
			t.Fatal(err)
		}
		k, err := LoadKeyFile(p)
		if (err == nil) != c.ok {
			t.Fatalf("%d %s: err = %v", i, c.name, err)
		}
		if err != nil && !errors.Is(err, ErrKeyFile) {
			t.Fatalf("%s: %v is not ErrKeyFile", c.name, err)
		}
		if c.ok && k.raw != [KeyLen]byte(bytes.Repeat([]byte{0xab}, KeyLen)) {
			t.Fatalf("%s: wrong key", c.name)
		}
	}
	if _, err := LoadKeyFile(filepath.Join(dir, "missing")); err == nil {
		t.Fatal("missing key file accepted")
	}
}

// FuzzOpen: arbitrary bytes never open (nor panic) under a key, and what
// was sealed always opens to itself.
func FuzzOpen(f *testing.F) {
	k := mustKey(f, 3)
	s, _ := k.SealTo(nil, []byte("seed"), 1, 0)
	f.Add(s, []byte("seed"), int64(1), int64(0))
	f.Add([]byte{1}, []byte{}, int64(0), int64(0))
	f.Fuzz(func(t *testing.T, piece, plain []byte, id, off int64) {
		if out, err := k.OpenTo(nil, piece, id, off); err == nil {
			// Only a genuine seal opens; re-sealing its plaintext must round trip.
			if len(out) != len(piece)-Overhead {
				t.Fatalf("opened %d bytes from %d", len(out), len(piece))
			}
		}
		p, err := k.SealTo(nil, plain, id, off)
		if err != nil {
			t.Fatal(err)
		}
		got, err := k.OpenTo(nil, p, id, off)
		if err != nil || !bytes.Equal(got, plain) {
			t.Fatalf("round trip: %v", err)
		}
		if len(p) > 0 {
			p[len(p)-1] ^= 0x80
			if _, err := k.OpenTo(nil, p, id, off); err == nil {
				t.Fatal("tampered piece opened")
			}
		}
	})
}
