package tlscert

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/x509"
	"net"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"recordings/internal/testutil"
)

func fingerprint(t *testing.T, s *Source) string {
	t.Helper()
	return Fingerprint(s.Certificate().Leaf)
}

// TestSelfSigned: the first start generates an ECDSA P-256 certificate for
// the hosts, valid for Validity, in two private files; the next start uses
// the same one, whatever names it is given then.
func TestSelfSigned(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	clock := testutil.NewClock(time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC))
	s, err := SelfSigned(dir, []string{"recorder.example", "localhost", "192.0.2.7", "::1"}, Options{Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	leaf := s.Certificate().Leaf
	if k, ok := leaf.PublicKey.(*ecdsa.PublicKey); !ok || k.Curve != elliptic.P256() {
		t.Errorf("key %T, want ECDSA P-256", leaf.PublicKey)
	}
	if !slices.Equal(leaf.DNSNames, []string{"recorder.example", "localhost"}) {
		t.Errorf("DNS names %q", leaf.DNSNames)
	}
	if len(leaf.IPAddresses) != 2 || !leaf.IPAddresses[0].Equal(net.ParseIP("192.0.2.7")) || !leaf.IPAddresses[1].Equal(net.IPv6loopback) {
		t.Errorf("IP addresses %v", leaf.IPAddresses)
	}
	if got := leaf.NotAfter.Sub(clock.Now()); got != Validity {
		t.Errorf("valid for %v after now, want %v", got, Validity)
	}
	if !slices.Contains(leaf.ExtKeyUsage, x509.ExtKeyUsageServerAuth) || leaf.IsCA {
		t.Errorf("usage %v, CA %v", leaf.ExtKeyUsage, leaf.IsCA)
	}
	if err := leaf.VerifyHostname("recorder.example"); err != nil {
		t.Error(err)
	}
	for _, f := range []string{SelfSignedCert, SelfSignedKey} {
		st, err := os.Stat(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %#o, want 0600", f, st.Mode().Perm())
		}
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 {
		t.Errorf("folder holds %d files, want the two", len(entries))
	}

	clock.Advance(400 * 24 * time.Hour)
	again, err := SelfSigned(dir, []string{"other.example"}, Options{Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	if fingerprint(t, again) != Fingerprint(leaf) {
		t.Error("a valid kept certificate was replaced")
	}
}

// TestSelfSignedRenewed: an expired certificate, or files that hold no
// certificate and key, are replaced by a new certificate — at start and
// while the service runs.
func TestSelfSignedRenewed(t *testing.T) {
	t.Parallel()
	t.Run("expired at start", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		clock := testutil.NewClock(time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC))
		first, err := SelfSigned(dir, []string{"localhost"}, Options{Now: clock.Now})
		if err != nil {
			t.Fatal(err)
		}
		old := fingerprint(t, first)
		clock.Advance(Validity + time.Minute)
		next, err := SelfSigned(dir, []string{"localhost"}, Options{Now: clock.Now})
		if err != nil {
			t.Fatal(err)
		}
		if fingerprint(t, next) == old {
			t.Fatal("the expired certificate was kept")
		}
		if !clock.Now().Before(next.Certificate().Leaf.NotAfter) {
			t.Error("the new certificate is expired too")
		}
	})
	t.Run("expires while running", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		clock := testutil.NewClock(time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC))
		s, err := SelfSigned(dir, []string{"localhost"}, Options{Now: clock.Now})
		if err != nil {
			t.Fatal(err)
		}
		old := fingerprint(t, s)
		clock.Advance(Validity - time.Hour)
		if fingerprint(t, s) != old {
			t.Fatal("renewed before expiry")
		}
		clock.Advance(2 * time.Hour)
		if fingerprint(t, s) == old {
			t.Fatal("an expired certificate is still served")
		}
		// The new one is kept for the next start.
		again, err := SelfSigned(dir, []string{"localhost"}, Options{Now: clock.Now})
		if err != nil {
			t.Fatal(err)
		}
		if fingerprint(t, again) != fingerprint(t, s) {
			t.Error("the renewed certificate was not kept")
		}
	})
	t.Run("garbage", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, SelfSignedCert), []byte("not a certificate"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, SelfSignedKey), []byte("not a key"), 0o600); err != nil {
			t.Fatal(err)
		}
		s, err := SelfSigned(dir, []string{"localhost"}, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if s.Certificate().Leaf == nil {
			t.Fatal("no certificate")
		}
	})
}

// TestSelfSignedUnreadable: a kept file the service may not read is not
// overwritten; the start fails and says why.
func TestSelfSignedUnreadable(t *testing.T) {
	t.Parallel()
	if os.Geteuid() == 0 {
		t.Skip("root reads every file")
	}
	dir := t.TempDir()
	if _, err := SelfSigned(dir, []string{"localhost"}, Options{}); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(filepath.Join(dir, SelfSignedKey), 0); err != nil {
		t.Fatal(err)
	}
	if _, err := SelfSigned(dir, []string{"localhost"}, Options{}); err == nil {
		t.Fatal("an unreadable key was replaced")
	}
}

// TestFilesReloaded: a given certificate's files are re-read when they
// change (a renewed certificate needs no restart), at most every recheck.
func TestFilesReloaded(t *testing.T) {
	t.Parallel()
	a, b, live := t.TempDir(), t.TempDir(), t.TempDir()
	for _, d := range []string{a, b} {
		if _, err := SelfSigned(d, []string{"localhost"}, Options{}); err != nil {
			t.Fatal(err)
		}
	}
	install := func(from string) {
		for _, f := range []string{SelfSignedCert, SelfSignedKey} {
			data, err := os.ReadFile(filepath.Join(from, f))
			if err != nil {
				t.Fatal(err)
			}
			if err := writePrivate(filepath.Join(live, f), data); err != nil {
				t.Fatal(err)
			}
		}
	}
	install(a)
	clock := testutil.NewClock(time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC))
	s, err := Files(filepath.Join(live, SelfSignedCert), filepath.Join(live, SelfSignedKey), Options{Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	first := fingerprint(t, s)
	install(b)
	if fingerprint(t, s) != first {
		t.Fatal("re-read before the recheck interval")
	}
	clock.Advance(recheck)
	second := fingerprint(t, s)
	if second == first {
		t.Fatal("the changed files were not re-read")
	}
	// A broken pair is not taken; the last good certificate stays.
	if err := os.WriteFile(filepath.Join(live, SelfSignedKey), []byte("broken"), 0o600); err != nil {
		t.Fatal(err)
	}
	clock.Advance(recheck)
	if fingerprint(t, s) != second {
		t.Fatal("a broken key replaced the certificate")
	}
	if _, err := Files(filepath.Join(live, SelfSignedCert), "", Options{}); err == nil {
		t.Error("a certificate without its key was accepted")
	}
}

// TestDefaultHosts: localhost and the loopback addresses always, the bound
// address when there is one.
func TestDefaultHosts(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		listen string
		want   []string
	}{
		{":8443", []string{"localhost", "127.0.0.1", "::1"}},
		{"", []string{"localhost", "127.0.0.1"}},
		{"192.0.2.9:8443", []string{"localhost", "127.0.0.1", "192.0.2.9"}},
		{"[2001:db8::5]:443", []string{"localhost", "::1", "2001:db8::5"}},
		{"recorder.example:8443", []string{"localhost", "recorder.example"}},
	} {
		got := DefaultHosts(tc.listen)
		for _, w := range tc.want {
			if !slices.Contains(got, w) {
				t.Errorf("DefaultHosts(%q) = %q, lacks %q", tc.listen, got, w)
			}
		}
		if slices.Contains(got, "") || slices.Contains(got, "0.0.0.0") || slices.Contains(got, "::") {
			t.Errorf("DefaultHosts(%q) = %q holds an empty or unspecified address", tc.listen, got)
		}
	}
}
