package pbxlink

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// AdminAPI is the PBX API the licences are read with.
const AdminAPI = "PbxAdminApi"

// Licence is the App licence a user needs for recordings.
const Licence = "App(innovaphone-recorder)"

// Licence checks in flight at once (each user is one CheckAppLic), so that
// the connection's send queue never fills.
const licenceWindow = 16

// DefaultLicenceTimeout is how long the PBX has to answer every check.
const DefaultLicenceTimeout = 2 * time.Minute

// LicenceAnswer is the PBX's complete answer about the licences: every
// user asked about was answered.
type LicenceAnswer struct {
	Domain   string          // the PBX connection's domain (its Login.Domain)
	Licensed map[string]bool // user (as asked) → holds Licence
	// Unknown are the users the PBX answered with an error (it could not
	// check them): nothing is decided about them.
	Unknown []string
	// Count and Used are GetAppLicsResult's figures for Licence; -1 when
	// the PBX did not report them.
	Count, Used int
}

// LicenceOptions configure the licence client.
type LicenceOptions struct {
	Log *slog.Logger
	// Users lists the users to ask about (accounts and recording owners).
	Users func(ctx context.Context) ([]string, error)
	// Answer gets each complete answer, on a goroutine of its own.
	Answer func(ctx context.Context, a LicenceAnswer)
	// Timeout bounds the whole check; default DefaultLicenceTimeout.
	Timeout time.Duration
	// MaxUsers bounds the users checked per connection; default 100000.
	MaxUsers int
	// Domain is the domain of the PBX the client asks (LicenceSet.ForDomain);
	// "": the PbxInfo's domain of the connection it runs on.
	Domain string
	// OnChange, if set, is called (with the client's lock held: it must
	// not call the client) after every change of State.
	OnChange func()
}

// Licences is the PbxAdminApi client that reads the recordings licences
// from the PBX: GetAppLics for the count, then CheckAppLic for Licence per
// user, once per connection (and again on Recheck).
type Licences struct {
	opt LicenceOptions

	mu      sync.Mutex
	gen     int // counts connections, so that late answers of an old one are ignored
	ctx     context.Context
	s       Sender
	domain  string
	queue   []string          // users still to ask
	seq     int               // numbers the checks' src
	pending map[string]string // src → user asked
	answer  LicenceAnswer
	lics    bool // GetAppLicsResult arrived
	failed  string
	timer   *time.Timer
	last    *LicenceAnswer
	lastErr string
	notify  chan struct{} // closed (and replaced) when State changes
}

// NewLicences returns the licence client.
func NewLicences(opt LicenceOptions) *Licences {
	if opt.Log == nil {
		opt.Log = slog.New(slog.DiscardHandler)
	}
	if opt.Timeout <= 0 {
		opt.Timeout = DefaultLicenceTimeout
	}
	if opt.MaxUsers <= 0 {
		opt.MaxUsers = 100_000
	}
	return &Licences{opt: opt, notify: make(chan struct{})}
}

// API implements Client.
func (l *Licences) API() string { return AdminAPI }

// Connected implements Client: it starts a check.
func (l *Licences) Connected(ctx context.Context, s Sender, info PbxInfo) {
	l.mu.Lock()
	l.gen++
	gen := l.gen
	l.ctx, l.s, l.domain = ctx, s, info.Domain
	if l.opt.Domain != "" {
		l.domain = l.opt.Domain
	}
	l.mu.Unlock()
	go l.start(gen)
}

// Disconnected implements Client: a check in flight is abandoned.
func (l *Licences) Disconnected() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.pending != nil && l.failed == "" {
		l.lastErr = "the PBX disconnected before answering every licence check"
	}
	l.reset()
	l.gen++
	l.s, l.ctx = nil, nil
}

// changed wakes the waiters on Changed. l.mu is held.
func (l *Licences) changed() {
	close(l.notify)
	l.notify = make(chan struct{})
	if l.opt.OnChange != nil {
		l.opt.OnChange()
	}
}

// Changed returns a channel closed at the next change of State.
func (l *Licences) Changed() <-chan struct{} {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.notify
}

func (l *Licences) reset() {
	defer l.changed()
	if l.timer != nil {
		l.timer.Stop()
	}
	l.queue, l.pending, l.lics, l.failed, l.timer = nil, nil, false, "", nil
}

// start lists the users and sends the first requests.
func (l *Licences) start(gen int) {
	l.mu.Lock()
	ctx := l.ctx
	l.mu.Unlock()
	if ctx == nil {
		return
	}
	users, err := l.opt.Users(ctx)
	if err != nil {
		l.opt.Log.Warn("licences: list users", "err", err)
		users = nil
	}
	if len(users) > l.opt.MaxUsers {
		users = users[:l.opt.MaxUsers]
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if gen != l.gen {
		return
	}
	if err != nil {
		l.lastErr = "cannot list the users to check: " + err.Error()
		l.changed()
		return
	}
	l.reset()
	l.queue = users
	l.pending = map[string]string{}
	l.answer = LicenceAnswer{Domain: l.domain, Licensed: make(map[string]bool, len(users)), Count: -1, Used: -1}
	l.timer = time.AfterFunc(l.opt.Timeout, func() { l.expire(gen) })
	src := fmt.Sprintf("lics-%d", gen)
	l.pending[src] = ""
	if !l.send(map[string]string{"api": AdminAPI, "mt": "GetAppLics", "src": src}) {
		return
	}
	l.fill(gen)
}

// send writes msg; on failure the check is abandoned. l.mu is held.
func (l *Licences) send(msg any) bool {
	if l.s == nil {
		return false
	}
	if err := l.s.Send(l.ctx, msg); err != nil {
		l.lastErr = "cannot send the licence check: " + err.Error()
		l.reset()
		return false
	}
	return true
}

// fill keeps licenceWindow checks in flight. l.mu is held.
func (l *Licences) fill(gen int) {
	for len(l.pending) < licenceWindow && len(l.queue) > 0 {
		u := l.queue[0]
		l.queue = l.queue[1:]
		l.seq++
		src := fmt.Sprintf("lic-%d-%d", gen, l.seq)
		l.pending[src] = u
		if !l.send(map[string]string{"api": AdminAPI, "mt": "CheckAppLic", "h323": u, "lic": Licence, "src": src}) {
			return
		}
	}
	l.finish()
}

// finish delivers a complete answer. l.mu is held.
func (l *Licences) finish() {
	if l.pending == nil || len(l.pending) > 0 || len(l.queue) > 0 || l.failed != "" {
		return
	}
	a := l.answer
	l.last, l.lastErr = &a, ""
	ctx := l.ctx
	l.reset()
	l.opt.Log.Info("licences read from the PBX", "domain", a.Domain, "users", len(a.Licensed), "count", a.Count,
		"used", a.Used)
	if l.opt.Answer != nil && ctx != nil {
		go l.opt.Answer(ctx, a)
	}
}

func (l *Licences) expire(gen int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if gen != l.gen || l.pending == nil {
		return
	}
	l.lastErr = fmt.Sprintf("the PBX did not answer every licence check within %s", l.opt.Timeout)
	l.opt.Log.Warn("licences: " + l.lastErr)
	l.reset()
}

// Handle implements Client.
func (l *Licences) Handle(ctx context.Context, m Msg) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.pending == nil {
		return
	}
	user, ok := l.pending[m.Src]
	if !ok {
		return // not ours, or of an abandoned check
	}
	var res struct {
		OK    *bool           `json:"ok"`
		Lic   []appLic        `json:"lic"`
		Error json.RawMessage `json:"error"`
	}
	if err := json.Unmarshal(m.Raw, &res); err != nil {
		l.abandon(fmt.Sprintf("bad %s: %v", m.MT, err))
		return
	}
	delete(l.pending, m.Src)
	switch m.MT {
	case "GetAppLicsResult":
		for _, a := range res.Lic {
			if a.is(Licence) {
				l.answer.Count, l.answer.Used = atoi(a.Count), atoi(a.Used)
			}
		}
		l.lics = true
	case "CheckAppLicResult":
		if len(res.Error) > 0 && string(res.Error) != "null" && string(res.Error) != "false" {
			// The PBX could not check this user (e.g. no such user
			// there): no answer about them, so nothing changes for them.
			l.answer.Unknown = append(l.answer.Unknown, user)
			l.opt.Log.Debug("licences: the PBX could not check a user", "user", user, "error", string(res.Error))
			break
		}
		l.answer.Licensed[user] = res.OK != nil && *res.OK
	default:
		l.abandon(fmt.Sprintf("unexpected answer %.64q to a licence check", m.MT))
		return
	}
	l.fill(l.gen)
}

func (l *Licences) abandon(why string) {
	l.lastErr = why
	l.opt.Log.Warn("licences: " + why)
	l.reset()
}

// LicenceState is what the admin view shows of the licence client.
type LicenceState struct {
	Last      *LicenceAnswer // the last complete answer, nil before the first
	LastError string         // why the last check gave no answer
	Checking  bool
}

// State reports the client's state.
func (l *Licences) State() LicenceState {
	l.mu.Lock()
	defer l.mu.Unlock()
	return LicenceState{Last: l.last, LastError: l.lastErr, Checking: l.pending != nil}
}

// LicenceSetOptions configure a LicenceSet.
type LicenceSetOptions struct {
	Log *slog.Logger
	// Users lists the users to ask domain's PBX about.
	Users func(ctx context.Context, domain string) ([]string, error)
	// Answer gets each domain's complete answers (LicenceAnswer.Domain
	// names it), on a goroutine of its own.
	Answer   func(ctx context.Context, a LicenceAnswer)
	Timeout  time.Duration
	MaxUsers int
}

// LicenceSet is the licence client of each domain (docs/pbx.md, Domains):
// each domain's PBX is asked about that domain's users on that domain's
// connection only, and each answer names its domain.
type LicenceSet struct {
	opt LicenceSetOptions

	mu      sync.Mutex
	clients map[string]*Licences // domain →
	notify  chan struct{}
}

// NewLicenceSet returns the per-domain licence clients.
func NewLicenceSet(opt LicenceSetOptions) *LicenceSet {
	return &LicenceSet{opt: opt, clients: map[string]*Licences{}, notify: make(chan struct{})}
}

// ForDomain returns the licence client of domain's PBX (the same one on
// every call), for Options.PerDomain.
func (ls *LicenceSet) ForDomain(domain string) *Licences {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	if l := ls.clients[domain]; l != nil {
		return l
	}
	users := ls.opt.Users
	l := NewLicences(LicenceOptions{Log: ls.opt.Log, Answer: ls.opt.Answer, Timeout: ls.opt.Timeout,
		MaxUsers: ls.opt.MaxUsers, Domain: domain, OnChange: ls.changed,
		Users: func(ctx context.Context) ([]string, error) {
			if users == nil {
				return nil, nil
			}
			return users(ctx, domain)
		}})
	ls.clients[domain] = l
	ls.changedLocked()
	return l
}

func (ls *LicenceSet) changed() {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	ls.changedLocked()
}

func (ls *LicenceSet) changedLocked() {
	close(ls.notify)
	ls.notify = make(chan struct{})
}

// Changed returns a channel closed at the next change of any domain's
// State.
func (ls *LicenceSet) Changed() <-chan struct{} {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	return ls.notify
}

// DomainLicenceState is one domain's licence client state.
type DomainLicenceState struct {
	Domain string
	LicenceState
}

// Domains reports each domain's client that ever ran, sorted by domain.
func (ls *LicenceSet) Domains() []DomainLicenceState {
	ls.mu.Lock()
	clients := make(map[string]*Licences, len(ls.clients))
	maps.Copy(clients, ls.clients)
	ls.mu.Unlock()
	out := make([]DomainLicenceState, 0, len(clients))
	for _, d := range slices.Sorted(maps.Keys(clients)) {
		out = append(out, DomainLicenceState{Domain: d, LicenceState: clients[d].State()})
	}
	return out
}

// State sums the domains' states up: with one domain, its state as it
// is; with several, the users of every domain's last answer (a user asked
// by several domains' PBXes is licensed if any of them says so), the
// licence figures added up (-1 unless every answer has them), checking
// while any is, and the domains' last errors.
func (ls *LicenceSet) State() LicenceState {
	ds := ls.Domains()
	if len(ds) == 1 {
		return ds[0].LicenceState
	}
	var out LicenceState
	var errs []string
	for _, d := range ds {
		out.Checking = out.Checking || d.Checking
		if d.LastError != "" {
			errs = append(errs, d.Domain+": "+d.LastError)
		}
		a := d.Last
		if a == nil {
			continue
		}
		if out.Last == nil {
			out.Last = &LicenceAnswer{Licensed: map[string]bool{}, Count: a.Count, Used: a.Used}
		} else {
			out.Last.Count = addCounts(out.Last.Count, a.Count)
			out.Last.Used = addCounts(out.Last.Used, a.Used)
		}
		for u, ok := range a.Licensed {
			out.Last.Licensed[u] = out.Last.Licensed[u] || ok
		}
		out.Last.Unknown = append(out.Last.Unknown, a.Unknown...)
	}
	out.LastError = strings.Join(errs, "; ")
	return out
}

// addCounts adds two licence figures, -1 (unknown) if either is.
func addCounts(a, b int) int {
	if a < 0 || b < 0 {
		return -1
	}
	return a + b
}

type appLic struct {
	Name  string          `json:"name"`
	Count json.RawMessage `json:"count"`
	Used  json.RawMessage `json:"used"`
}

// is matches the licence's name as GetAppLics may spell it: "App(x)" or
// the bare "x".
func (a appLic) is(lic string) bool {
	bare := strings.TrimSuffix(strings.TrimPrefix(lic, "App("), ")")
	return strings.EqualFold(a.Name, lic) || strings.EqualFold(a.Name, bare)
}

// atoi reads a count documented as a string ("5"), accepting a number.
func atoi(raw json.RawMessage) int {
	s := strings.Trim(string(raw), `"`)
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || n < 0 {
		return -1
	}
	return n
}
