package api

import (
	"fmt"
	"log/slog"
	"testing"
	"time"

	"recordings/internal/testutil"
	"recordings/store"
)

// canView compares owners in their normalised form, as the store's list
// filter does: Go's EqualFold alone let the Kelvin-sign "Kim" in on kim's
// recordings while SQLite's NOCASE kept them apart.
func TestCanViewNormalisedNames(t *testing.T) {
	t.Parallel()
	const kelvinKim = "\u212Aim"
	for _, c := range []struct {
		u     store.User
		owner string
		want  bool
	}{
		{store.User{Name: "kim"}, "KIM", true},
		{store.User{Name: "kim"}, kelvinKim, true}, // the same account's recordings in another spelling
		{store.User{Name: "kimberly"}, "kim", false},
		{store.User{Name: "alice", Sees: []string{"KIM"}}, "kim", true},
		{store.User{Name: "alice", Sees: []string{"kimberly"}}, "kim", false},
		{store.User{Name: "alice"}, "", false},
		{store.User{}, "kim", false},
		{store.User{Name: "root", Role: store.RoleAdmin}, "kim", true},
	} {
		if got := canView(c.u, "example.com", c.owner); got != c.want {
			t.Errorf("canView(%q sees %q, owner %q) = %v, want %v", c.u.Name, c.u.Sees, c.owner, got, c.want)
		}
	}
}

// canView keeps an account of a domain to that domain's recordings (an
// admin's too); an account of no domain sees every domain.
func TestCanViewDomains(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		u      store.User
		domain string
		want   bool
	}{
		{store.User{Name: "alice", Domain: "a.example"}, "a.example", true},
		{store.User{Name: "alice", Domain: "a.example"}, "A.Example", true},
		{store.User{Name: "alice", Domain: "a.example"}, "b.example", false},
		{store.User{Name: "alice"}, "b.example", true},
		{store.User{Name: "root", Role: store.RoleAdmin, Domain: "a.example"}, "b.example", false},
		{store.User{Name: "root", Role: store.RoleAdmin}, "b.example", true},
	} {
		if got := canView(c.u, c.domain, "alice"); got != c.want {
			t.Errorf("canView(%s of %q, recording of %q) = %v, want %v", c.u.Name, c.u.Domain, c.domain, got, c.want)
		}
	}
}

func newTestThrottle() (*throttle, *testutil.Clock) {
	clk := testutil.NewClock(time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC))
	return newThrottle(clk.Now, slog.New(slog.DiscardHandler)), clk
}

// try runs one attempt of name from remote that fails (ok false) or
// succeeds, and reports whether the throttle let it be checked.
func try(t *throttle, remote, name string, ok bool) bool {
	a, err := t.begin("login", remote, name)
	if err != nil {
		return false
	}
	if ok {
		a.succeeded()
	} else {
		a.failed()
	}
	return true
}

func TestThrottleRule(t *testing.T) {
	t.Parallel()
	for n, want := range map[int]time.Duration{5: time.Second, 6: 2 * time.Second, 10: 32 * time.Second,
		14: 512 * time.Second, 15: throttleMaxDelay, 1000: throttleMaxDelay} {
		if got := throttleDelay(n); got != want {
			t.Errorf("throttleDelay(%d) = %v, want %v", n, got, want)
		}
	}
	th, clk := newTestThrottle()
	// alice signs in from her desk once; then an attacker locks her account.
	if !try(th, "10.0.0.5:1", "alice", true) {
		t.Fatal("first sign-in refused")
	}
	for i := range throttleFree {
		if !try(th, "192.0.2.1:1", "Alice", false) {
			t.Fatalf("failure %d refused", i)
		}
	}
	if try(th, "192.0.2.1:2", "bob", true) {
		t.Error("the blocked source tried another account")
	}
	// It goes on as fast as the growing blocks let it: the account is
	// locked for 32 s after the tenth failure.
	for range 10 - throttleFree {
		for !try(th, "192.0.2.1:1", "alice", false) {
			clk.Advance(time.Second)
		}
	}
	// The trusted desk passes the account's lock, again and again.
	for range 3 {
		if !try(th, "10.0.0.5:1", "ALICE", true) {
			t.Error("alice's own address held by the lock")
		}
	}
	// A fresh address gets one try per throttleCleanGap; having failed, it
	// waits out the lock.
	if !try(th, "10.0.0.6:1", "alice", false) {
		t.Error("a fresh address refused at once")
	}
	if try(th, "10.0.0.7:1", "alice", true) {
		t.Error("a second fresh address within the gap")
	}
	clk.Advance(throttleCleanGap)
	if try(th, "10.0.0.6:1", "alice", true) {
		t.Error("an address that failed passed the lock")
	}
	if !try(th, "10.0.0.7:1", "alice", true) {
		t.Error("a fresh address after the gap refused")
	}
	// In flight: a burst from one source cannot start more than
	// throttleMaxInflight checks.
	var open []*signInAttempt
	for range throttleMaxInflight {
		a, err := th.begin("basic", "10.0.0.9:1", "carol")
		if err != nil {
			t.Fatal(err)
		}
		open = append(open, a)
	}
	if _, err := th.begin("basic", "10.0.0.9:2", "carol"); err == nil {
		t.Error("more checks in flight than allowed")
	}
	for _, a := range open {
		a.abandoned()
	}
	if !try(th, "10.0.0.9:3", "carol", true) {
		t.Error("refused after the checks in flight ended")
	}
}

func TestThrottleSourceKey(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"192.0.2.1:4000": "192.0.2.1", "[::ffff:192.0.2.1]:1": "192.0.2.1",
		"[2001:db8:1:2:3:4:5:6]:443": "2001:db8:1:2::/64", "[2001:db8:1:2:ffff::1]:1": "2001:db8:1:2::/64",
		"[fe80::1%eth0]:1": "fe80::/64", "pipe": "pipe",
	} {
		if got := sourceKey(in); got != want {
			t.Errorf("sourceKey(%q) = %q, want %q", in, got, want)
		}
	}
}

// A flood of addresses and names keeps the throttle's memory bounded, and
// the attacker's own record survives it.
func TestThrottleBounded(t *testing.T) {
	t.Parallel()
	th, clk := newTestThrottle()
	for range throttleFree {
		try(th, "192.0.2.1:1", "alice", false)
	}
	for i := range 3 * throttleMaxEntries {
		clk.Advance(time.Millisecond)
		try(th, fmt.Sprintf("10.%d.%d.%d:1", i>>16&255, i>>8&255, i&255), fmt.Sprintf("user%d", i), i%2 == 0)
	}
	th.mu.Lock()
	ns, na, nt := len(th.sources), len(th.accounts), len(th.trusted)
	th.mu.Unlock()
	if ns > throttleMaxEntries || na > throttleMaxEntries || nt > throttleMaxEntries {
		t.Errorf("%d sources, %d accounts, %d trusted pairs: more than %d", ns, na, nt, throttleMaxEntries)
	}
}
