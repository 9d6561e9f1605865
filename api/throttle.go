package api

import (
	"fmt"
	"log/slog"
	"net/netip"
	"slices"
	"sync"
	"time"

	"recordings/store"
)

// The sign-in throttle guards every path that checks a secret a person
// could guess: POST /api/login, HTTP Basic (every request and websocket
// that carries it), AppLogin, and the current password of ChangePassword.
// It is asked before the check (so a refused guess costs no bcrypt) and
// told the outcome after.
//
// The rule:
//
//   - Failures are counted per source (an IPv4 address, an IPv6 /64) and
//     per account (the name in its normalised form, store.NameKey, whether
//     such an account exists or not).
//   - Source: after throttleFree failures every further failure blocks the
//     source for throttleBase·2^(failures−throttleFree) (1 s, 2 s, 4 s, …),
//     at most throttleMaxDelay (15 min). While blocked, every sign-in from
//     it, for any account and with any password, is answered 429 with
//     Retry-After, without checking the password.
//   - Account: after throttleFree failures the account is locked the same
//     growing way. The lock refuses only sources that have failed before
//     (any failure on record). A source that has signed in to this account
//     successfully before (remembered for throttleTrust) is not held by the
//     lock at all; a source without failures gets one attempt per
//     throttleCleanGap (2 s) per locked account. So an attacker cannot
//     lock a person out from the person's own address: at most 2 s while
//     attacks come from fresh addresses — unless the person shares the
//     attacker's address (NAT), which then waits like the attacker.
//   - A success does not wipe failures (else an attacker with an account
//     of their own could sign in to it between guesses); a record is
//     forgotten once quiet for throttleForget after its last failure and
//     any block.
//   - A source may have throttleMaxInflight checks running at once; more
//     are refused (a burst of parallel guesses cannot start many bcrypt
//     compares before the first failure counts).
//   - Memory is bounded: at most throttleMaxEntries sources, accounts and
//     trusted pairs each; when full, forgotten records go first, then the
//     least recently failed.
//   - Logging: each source's first throttleLogBurst failures or refusals in
//     a minute are logged one by one (with path, account and address);
//     beyond that they are counted and the count is logged with the
//     source's next event after the minute, so a flood cannot bury the log.
const (
	throttleFree        = 5
	throttleBase        = time.Second
	throttleMaxDelay    = 15 * time.Minute
	throttleForget      = time.Hour
	throttleCleanGap    = 2 * time.Second
	throttleTrust       = 30 * 24 * time.Hour
	throttleMaxInflight = 4
	throttleMaxEntries  = 10000
	throttleLogBurst    = 5
	throttleLogWindow   = time.Minute
)

// throttleDelay is the block after the n-th failure (n ≥ throttleFree).
func throttleDelay(n int) time.Duration {
	shift := n - throttleFree
	if shift >= 20 {
		return throttleMaxDelay
	}
	return min(throttleBase<<shift, throttleMaxDelay)
}

// failures is the failure record of a source or an account.
type failures struct {
	n     int
	last  time.Time // the last failure
	until time.Time // refused until (set once n ≥ throttleFree)
}

func (f *failures) fail(now time.Time) {
	f.n++
	f.last = now
	if f.n >= throttleFree {
		f.until = now.Add(throttleDelay(f.n))
	}
}

// blocked is how long the record still refuses (0: not).
func (f *failures) blocked(now time.Time) time.Duration {
	if now.Before(f.until) {
		return f.until.Sub(now)
	}
	return 0
}

// forgotten: nothing in the record matters any more.
func (f *failures) forgotten(now time.Time) bool {
	return f.n == 0 || (now.Sub(f.last) > throttleForget && !now.Before(f.until))
}

type sourceRecord struct {
	failures
	inflight int
	// Aggregated logging: events in the window starting at logStart.
	logStart   time.Time
	logged     int
	suppressed int
}

type accountRecord struct {
	failures
	cleanNext time.Time // a source without failures may try again from then on while locked
}

type trustKey struct{ source, account string }

// throttle is the sign-in throttle. Its methods are safe for concurrent use.
type throttle struct {
	now func() time.Time
	log *slog.Logger

	mu       sync.Mutex
	sources  map[string]*sourceRecord
	accounts map[string]*accountRecord
	trusted  map[trustKey]time.Time // last success of a source for an account
}

func newThrottle(now func() time.Time, log *slog.Logger) *throttle {
	return &throttle{now: now, log: log, sources: map[string]*sourceRecord{}, accounts: map[string]*accountRecord{},
		trusted: map[trustKey]time.Time{}}
}

// signInAttempt is one check the throttle let through. Exactly one of
// failed, succeeded and abandoned must be called when it is over.
type signInAttempt struct {
	t               *throttle
	path, remote    string
	name            string
	source, acctKey string
	done            bool
}

// errThrottled refuses a sign-in the throttle holds back.
type errThrottled struct{ retry time.Duration }

func (e *errThrottled) Error() string {
	return fmt.Sprintf("too many failed sign-ins: try again in %d s", retryAfterSeconds(e.retry))
}

// retryAfterSeconds is d rounded up to whole seconds, at least 1.
func retryAfterSeconds(d time.Duration) int {
	return max(1, int((d+time.Second-1)/time.Second))
}

// sourceKey is what failures of remote (host:port or host) count against:
// the IPv4 address, or the /64 of an IPv6 address (one subscriber's
// network), else the text as it is.
func sourceKey(remote string) string {
	host := remoteHost(remote)
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return host
	}
	ip = ip.Unmap().WithZone("")
	if ip.Is6() {
		if p, err := ip.Prefix(64); err == nil {
			return p.String()
		}
	}
	return ip.String()
}

// begin asks whether a sign-in to account name ("" when none is named)
// from remote over path ("login", "basic", "applogin", "change-password")
// may be checked now. It returns the attempt, or nil and an *errThrottled
// saying how long to wait.
func (t *throttle) begin(path, remote, name string) (*signInAttempt, error) {
	src := sourceKey(remote)
	key := ""
	if name != "" {
		key = store.NameKey(clipText(name, 256))
	}
	t.mu.Lock()
	now := t.now()
	s := t.sources[src]
	wait := time.Duration(0)
	if s != nil {
		wait = s.blocked(now)
		if wait == 0 && s.inflight >= throttleMaxInflight {
			wait = time.Second
		}
	}
	if a := t.accounts[key]; wait == 0 && key != "" && a != nil {
		if d := a.blocked(now); d > 0 {
			_, trusted := t.trusted[trustKey{src, key}]
			switch {
			case trusted:
			case s == nil || s.n == 0:
				if now.Before(a.cleanNext) {
					wait = a.cleanNext.Sub(now)
				} else {
					a.cleanNext = now.Add(throttleCleanGap)
				}
			default:
				wait = d
			}
		}
	}
	if s == nil {
		t.bound(now)
		s = &sourceRecord{}
		t.sources[src] = s
	}
	if wait > 0 {
		logNow, summary, since := s.note(now)
		t.mu.Unlock()
		t.report(summary, since, remote)
		if logNow {
			t.log.Warn("sign-in refused: too many failures", "path", path, "user", clipText(name, 64), "remote", remote,
				"retry_after_s", retryAfterSeconds(wait))
		}
		return nil, &errThrottled{retry: wait}
	}
	s.inflight++
	t.mu.Unlock()
	return &signInAttempt{t: t, path: path, remote: remote, name: name, source: src, acctKey: key}, nil
}

// note counts an event of the source for logging: whether to log it now,
// and a count of events not logged one by one in the window that ended
// (with its start) to report first.
func (s *sourceRecord) note(now time.Time) (logNow bool, summary int, since time.Time) {
	if now.Sub(s.logStart) >= throttleLogWindow {
		summary, since = s.suppressed, s.logStart
		s.logStart, s.logged, s.suppressed = now, 0, 0
	}
	if s.logged < throttleLogBurst {
		s.logged++
		return true, summary, since
	}
	s.suppressed++
	return false, summary, since
}

func (t *throttle) report(summary int, since time.Time, remote string) {
	if summary > 0 {
		t.log.Warn("sign-in failures and refusals not logged one by one", "remote", sourceKey(remote), "count", summary,
			"since", since.UTC().Format(time.RFC3339))
	}
}

// failed records a wrong secret.
func (a *signInAttempt) failed() {
	if a.done {
		return
	}
	a.done = true
	t := a.t
	t.mu.Lock()
	now := t.now()
	s := t.sources[a.source]
	if s == nil {
		t.bound(now)
		s = &sourceRecord{}
		t.sources[a.source] = s
	} else if s.inflight > 0 {
		s.inflight--
	}
	s.fail(now)
	n, blocked := s.n, s.blocked(now)
	if a.acctKey != "" {
		r := t.accounts[a.acctKey]
		if r == nil {
			t.bound(now)
			r = &accountRecord{}
			t.accounts[a.acctKey] = r
		}
		r.fail(now)
	}
	logNow, summary, since := s.note(now)
	t.mu.Unlock()
	t.report(summary, since, a.remote)
	if logNow {
		args := []any{"path", a.path, "user", clipText(a.name, 64), "remote", a.remote, "failures", n}
		if blocked > 0 {
			args = append(args, "blocked_s", retryAfterSeconds(blocked))
		}
		t.log.Warn("sign-in failed", args...)
	}
}

// succeeded records a right secret: the source is trusted for the account
// from now on (see the rule above). Failures stay on record.
func (a *signInAttempt) succeeded() {
	if a.done {
		return
	}
	t := a.t
	t.mu.Lock()
	defer t.mu.Unlock()
	a.finish()
	if a.acctKey != "" {
		k := trustKey{a.source, a.acctKey}
		if _, ok := t.trusted[k]; !ok {
			t.bound(t.now())
		}
		t.trusted[k] = t.now()
	}
}

// abandoned ends an attempt whose outcome says nothing about the secret
// (an internal error, a disabled account).
func (a *signInAttempt) abandoned() {
	if a.done {
		return
	}
	a.t.mu.Lock()
	defer a.t.mu.Unlock()
	a.finish()
}

// finish marks the attempt done and frees its source's place among the
// password checks running at once; t.mu is held.
func (a *signInAttempt) finish() {
	a.done = true
	if s := a.t.sources[a.source]; s != nil && s.inflight > 0 {
		s.inflight--
	}
}

// bound makes room in each map that holds throttleMaxEntries, before an
// entry is added; t.mu is held. It drops what is forgotten, then, if still
// above 90 %, the least recently failed.
func (t *throttle) bound(now time.Time) {
	if len(t.sources) >= throttleMaxEntries {
		shrink(t.sources, func(s *sourceRecord) bool { return s.inflight == 0 && s.forgotten(now) },
			func(s *sourceRecord) time.Time { return s.last })
	}
	if len(t.accounts) >= throttleMaxEntries {
		shrink(t.accounts, func(a *accountRecord) bool { return a.forgotten(now) },
			func(a *accountRecord) time.Time { return a.last })
	}
	if len(t.trusted) >= throttleMaxEntries {
		shrink(t.trusted, func(at time.Time) bool { return now.Sub(at) > throttleTrust },
			func(at time.Time) time.Time { return at })
	}
}

func shrink[K comparable, V any](m map[K]V, gone func(V) bool, last func(V) time.Time) {
	for k, v := range m {
		if gone(v) {
			delete(m, k)
		}
	}
	keep := throttleMaxEntries * 9 / 10
	if len(m) <= keep {
		return
	}
	type entry struct {
		k K
		t time.Time
	}
	all := make([]entry, 0, len(m))
	for k, v := range m {
		all = append(all, entry{k, last(v)})
	}
	slices.SortFunc(all, func(a, b entry) int { return a.t.Compare(b.t) })
	for _, e := range all[:len(all)-keep] {
		delete(m, e.k)
	}
}

// forget clears the failures of source (tests).
func (t *throttle) forget(remote string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.sources, sourceKey(remote))
}
