package settings

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"recordings/applog"
	"recordings/internal/invalid"
)

// Store is where settings live (*store.DB).
type Store interface {
	Settings(ctx context.Context) (map[string]string, error)
	// SetSettings stores changes all or none; an empty value removes the
	// key. It may refuse a value for reasons only it can check (the
	// licence count below the licences assigned) with an *invalid.Error.
	SetSettings(ctx context.Context, changes map[string]string) error
}

// Values is the typed view of the settings in force.
type Values struct {
	PBXName          string
	RetentionDays    int  // 0: keep forever
	RetentionSet     bool // a retention period is configured (0 included)
	LogRetentionDays int
	LicenceCount     int
	LicenceSet       bool // a licence count is configured
	CDRUser          string
	CDRPassword      string
	AppPassword      string // the AppLogin password of this instance
	// AppPasswordUnseen is the token of an instance password not yet
	// confirmed by an administrator (instancepw.go); "" when none.
	AppPasswordUnseen string
	UploadUser        string // HTTP Basic credentials of capture uploads
	UploadPassword    string
	// AnonymousNets are the source networks that may upload and post CDRs
	// without credentials (empty: none).
	AnonymousNets []netip.Prefix
	// Pending lists the generated credentials the devices have not used
	// since an upgrade (PendingUpload, PendingCDR).
	Pending       []string
	NoCDRGrace    time.Duration // DefaultNoCDRGrace unless NoCDRGraceSet
	NoCDRGraceSet bool
	Trace         map[string]string // category → level name
	// ReplicaURL is where the database is replicated (canonical, see
	// ParseReplicaURL); "" when replication is off.
	ReplicaURL string
	// Domain is the domains this instance serves as configured, a
	// comma-separated list ("" : any); Domains is the same as a list, the
	// first the default.
	Domain  string
	Domains []string
	// PBXSeen lists the domains whose PBX has logged in at least once.
	PBXSeen []string
	// perDomain are the domains' own values (lower-case domain →), read
	// through ForDomain.
	perDomain map[string]ownValues
}

// Service reads, changes and applies settings.
type Service struct {
	db     Store
	log    *slog.Logger // category UI
	licLog *slog.Logger // category License: the licence count
	levels *applog.Levels

	mu      sync.Mutex
	applied map[string]string // the raw settings last applied (fixed ones included)
	fixed   map[string]fixed  // values given at start-up, in force over the stored ones
	hooks   []func(ctx context.Context, changed []string)
	// pwMu orders the writes of the instance password and their
	// confirmations (instancepw.go).
	pwMu sync.Mutex
}

// fixed is a value given at start-up and where it came from.
type fixed struct{ value, origin string }

// New returns a service over db that applies trace levels to levels (which
// may be nil). It logs under applog.UI, changes of the licence count under
// applog.License.
func New(db Store, log *slog.Logger, levels *applog.Levels) *Service {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Service{db: db, log: log.With("category", applog.UI), licLog: log.With("category", applog.License), levels: levels}
}

// OnChange registers f to be called with the keys that changed after every
// change is applied (e.g. to start a retention run). Register before Load.
func (s *Service) OnChange(f func(ctx context.Context, changed []string)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hooks = append(s.hooks, f)
}

// Fix puts value in force for key over any stored value, for as long as
// the service runs: the configuration given at start-up (flags and
// environment). origin names it for the admin (e.g.
// "RECORDINGS_UPLOAD_PASSWORD"); Set refuses to change the key. The value is
// validated like any other; an empty value fixes nothing. Call it before
// Load.
func (s *Service) Fix(key, value, origin string) error {
	if value == "" {
		return nil
	}
	key = CanonicalKey(key)
	v, err := Validate(key, value)
	if err != nil {
		return fmt.Errorf("%s: %w", origin, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fixed == nil {
		s.fixed = map[string]fixed{}
	}
	s.fixed[key] = fixed{value: v, origin: origin}
	return nil
}

// FixedBy says where a value fixed at start-up came from ("" when key is
// not fixed).
func (s *Service) FixedBy(key string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.fixed[CanonicalKey(key)].origin
}

// Load reads the settings and applies them; call it at start. Changes made
// to the database by other writers are picked up by Watch or the next Load.
func (s *Service) Load(ctx context.Context) error {
	m, err := s.db.Settings(ctx)
	if err != nil {
		return fmt.Errorf("settings: load: %w", err)
	}
	if m == nil {
		m = map[string]string{}
	}
	s.mu.Lock()
	for k, f := range s.fixed {
		m[k] = f.value
	}
	s.mu.Unlock()
	s.apply(ctx, m)
	return nil
}

// Watch reloads the settings every interval until ctx ends, so that a value
// written straight into the database takes effect without a restart.
func (s *Service) Watch(ctx context.Context, every time.Duration, after func(time.Duration) <-chan time.Time) error {
	if after == nil {
		after = time.After
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-after(every):
		}
		if err := s.Load(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("reloading settings failed", "err", err)
		}
	}
}

// apply puts m in force and tells the hooks what changed.
func (s *Service) apply(ctx context.Context, m map[string]string) {
	s.mu.Lock()
	var changed []string
	for k, v := range m {
		if old, ok := s.applied[k]; !ok || old != v {
			changed = append(changed, k)
		}
	}
	for k := range s.applied {
		if _, ok := m[k]; !ok {
			changed = append(changed, k)
		}
	}
	first := s.applied == nil
	s.applied = maps.Clone(m)
	hooks := slices.Clone(s.hooks)
	s.mu.Unlock()
	if len(changed) == 0 && !first {
		return
	}
	slices.Sort(changed)
	if s.levels != nil {
		for _, cat := range applog.Categories() {
			raw, ok := m[TraceKey(cat)]
			if !ok {
				raw = DefaultTrace
			}
			lvl, err := ParseTrace(raw)
			if err != nil {
				s.log.Warn("ignoring stored trace level", "key", TraceKey(cat), "err", err)
				lvl, _ = ParseTrace(DefaultTrace)
			}
			_ = s.levels.Set(cat, lvl) // cat is a known category
		}
	}
	for _, h := range hooks {
		h(ctx, changed)
	}
}

// Set is the one way settings are written: it validates every change
// (Validate; refusals are *invalid.Error, errors.Is ErrInvalid) before
// storing any, stores them all or none (an empty value removes the
// setting), logs each as done by user (secrets masked), and applies them
// at once, running the OnChange hooks. The typed setters below call it.
func (s *Service) Set(ctx context.Context, user string, changes map[string]string) error {
	changes, unlock := s.withUnseen(changes)
	defer unlock()
	return s.set(ctx, user, changes)
}

// set is Set without the instance password's token (withUnseen).
func (s *Service) set(ctx context.Context, user string, changes map[string]string) error {
	norm := make(map[string]string, len(changes))
	for k, v := range changes {
		key := CanonicalKey(k)
		if by := s.FixedBy(key); by != "" {
			return invalid.New(key, "set by %s when the service started: change it there", by)
		}
		nv, err := Validate(key, v)
		if err != nil {
			return err
		}
		norm[key] = nv
	}
	if len(norm) == 0 {
		return nil
	}
	if err := s.db.SetSettings(ctx, norm); err != nil {
		return fmt.Errorf("settings: set: %w", err)
	}
	for _, k := range slices.Sorted(maps.Keys(norm)) {
		shown := norm[k]
		switch {
		case Secret(k):
			shown = "(changed)"
		case shown == "":
			shown = "(cleared)"
		}
		log := s.log
		if k == KeyLicenceCount {
			log = s.licLog
		}
		log.Info("setting changed", "user", user, "key", k, "value", shown)
	}
	return s.Load(ctx)
}

// CDRCredentials are the HTTP Basic user and password the PBX sends CDRs
// with (the user may be empty; without a password no CDR is accepted
// except from the anonymous networks).
func (s *Service) CDRCredentials() (user, password string) {
	v := s.Values()
	return v.CDRUser, v.CDRPassword
}

// SetCDRUser changes the CDR user ("" removes it) as done by by.
func (s *Service) SetCDRUser(ctx context.Context, by, user string) error {
	return s.Set(ctx, by, map[string]string{KeyCDRUser: user})
}

// SetCDRPassword changes the CDR password (never to "") as done by by.
func (s *Service) SetCDRPassword(ctx context.Context, by, password string) error {
	return s.Set(ctx, by, map[string]string{KeyCDRPassword: password})
}

// AppPassword is the AppLogin password of this instance ("" when unset).
func (s *Service) AppPassword() string { return s.Values().AppPassword }

// SetAppPassword changes the AppLogin password (never to "") as done by
// by.
func (s *Service) SetAppPassword(ctx context.Context, by, password string) error {
	return s.Set(ctx, by, map[string]string{KeyAppPassword: password})
}

// NoCDRGrace is how long a recording waits for its CDR before it shows
// NoCDR, and whether that is configured (else DefaultNoCDRGrace).
func (s *Service) NoCDRGrace() (time.Duration, bool) {
	v := s.Values()
	return v.NoCDRGrace, v.NoCDRGraceSet
}

// SetNoCDRGrace changes the NoCDR grace period (whole seconds, at most
// MaxNoCDRGrace) as done by by.
func (s *Service) SetNoCDRGrace(ctx context.Context, by string, d time.Duration) error {
	if d%time.Second != 0 {
		return invalid.New(KeyNoCDRGrace, "%v is not a whole number of seconds", d)
	}
	return s.Set(ctx, by, map[string]string{KeyNoCDRGrace: strconv.FormatInt(int64(d/time.Second), 10)})
}

// LicenceCount is the number of licences and whether one is configured
// (licences are enforced only then).
func (s *Service) LicenceCount() (n int, configured bool) {
	v := s.Values()
	return v.LicenceCount, v.LicenceSet
}

// SetLicenceCount sets the number of licences, enforcing them from then
// on, as done by by. A count below the licences assigned is refused (by
// the store, in the same transaction) with an *invalid.Error.
func (s *Service) SetLicenceCount(ctx context.Context, by string, n int) error {
	return s.Set(ctx, by, map[string]string{KeyLicenceCount: strconv.Itoa(n)})
}

// ClearLicenceCount stops enforcing licences (assignments are kept), as
// done by by.
func (s *Service) ClearLicenceCount(ctx context.Context, by string) error {
	return s.Set(ctx, by, map[string]string{KeyLicenceCount: ""})
}

// Values returns the settings in force, typed, with defaults filled in;
// stored values that no longer validate are reported by Load's caller's log
// and read as their defaults.
func (s *Service) Values() Values {
	s.mu.Lock()
	m := s.applied
	s.mu.Unlock()
	v := Values{PBXName: m[KeyPBXName], LogRetentionDays: DefaultLogRetentionDays, CDRUser: m[KeyCDRUser],
		CDRPassword: m[KeyCDRPassword], AppPassword: m[KeyAppPassword], UploadUser: m[KeyUploadUser],
		AppPasswordUnseen: m[KeyAppPasswordUnseen],
		UploadPassword:    m[KeyUploadPassword], NoCDRGrace: DefaultNoCDRGrace, Trace: map[string]string{},
		perDomain: readPerDomain(m)}
	if nets, err := ParseNetworks(m[KeyAnonymousNets]); err == nil {
		v.AnonymousNets = nets
	}
	if d, err := Validate(KeyDomain, m[KeyDomain]); err == nil && d != "" {
		v.Domain, v.Domains = d, strings.Split(d, ",")
	}
	if p, err := Validate(KeyPBXSeen, m[KeyPBXSeen]); err == nil && p != "" {
		v.PBXSeen = strings.Split(p, ",")
	}
	if p, err := Validate(KeyIngressPending, m[KeyIngressPending]); err == nil && p != "" {
		v.Pending = strings.Split(p, ",")
	}
	if raw, ok := m[KeyRetentionDays]; ok {
		if n, err := ParseDays(KeyRetentionDays, raw); err == nil {
			v.RetentionDays, v.RetentionSet = n, true
		}
	}
	if raw, ok := m[KeyLogRetentionDays]; ok {
		if n, err := ParseDays(KeyLogRetentionDays, raw); err == nil {
			v.LogRetentionDays = n
		}
	}
	if raw, ok := m[KeyNoCDRGrace]; ok {
		if d, err := ParseNoCDRGrace(raw); err == nil {
			v.NoCDRGrace, v.NoCDRGraceSet = d, true
		}
	}
	if u, err := validateReplicaURL(m[KeyReplicaURL]); err == nil {
		v.ReplicaURL = u
	}
	if raw, ok := m[KeyLicenceCount]; ok {
		if n, err := strconv.Atoi(raw); err == nil && n >= 0 {
			v.LicenceCount, v.LicenceSet = n, true
		}
	}
	for _, cat := range applog.Categories() {
		lv := m[TraceKey(cat)]
		if _, err := ParseTrace(lv); err != nil {
			lv = DefaultTrace
		}
		v.Trace[cat] = lv
	}
	return v
}

// Problems lists what an admin still has to configure, e.g.
// PBXNameMissing, in the words the UI shows; empty (not nil) when nothing
// is missing. It is the one place that decides this: the API, the health
// check and the start-up log report what it returns.
func (s *Service) Problems() []string {
	out := []string{}
	v := s.Values()
	out = append(out, v.pbxNameProblems()...)
	if slices.Contains(v.Pending, PendingUpload) {
		out = append(out, UploadCredentialsPending)
	}
	if slices.Contains(v.Pending, PendingCDR) {
		out = append(out, CDRCredentialsPending)
	}
	return out
}

// EnsureCredentials gives the upload and CDR credentials and the instance
// password a value where none is configured or fixed: a generated password
// (GenerateSecret), and for the upload and CDR users DefaultUploadUser and
// DefaultCDRUser when they are empty too. It stores them as done by by and
// returns what it generated (key → value), for the caller to show once.
// inUse names the parts (PendingUpload, PendingCDR) devices used before
// without credentials (an upgrade): a password generated for one of them
// is marked pending, which Problems reports until a device has used it
// (Used).
func (s *Service) EnsureCredentials(ctx context.Context, by string, inUse ...string) (map[string]string, error) {
	v := s.Values()
	gen := map[string]string{}
	var pending []string
	for _, c := range []struct {
		userKey, user, passKey, pass, defaultUser, part string
	}{
		{KeyUploadUser, v.UploadUser, KeyUploadPassword, v.UploadPassword, DefaultUploadUser, PendingUpload},
		{KeyCDRUser, v.CDRUser, KeyCDRPassword, v.CDRPassword, DefaultCDRUser, PendingCDR},
		{"", "", KeyAppPassword, v.AppPassword, "", ""},
	} {
		if c.pass != "" {
			continue
		}
		gen[c.passKey] = GenerateSecret()
		if c.userKey != "" && c.user == "" && s.FixedBy(c.userKey) == "" {
			gen[c.userKey] = c.defaultUser
		}
		if c.part != "" && slices.Contains(inUse, c.part) {
			pending = append(pending, c.part)
		}
	}
	if len(gen) == 0 {
		return nil, nil
	}
	changes := maps.Clone(gen)
	if len(pending) > 0 {
		changes[KeyIngressPending] = strings.Join(append(slices.Clone(v.Pending), pending...), ",")
	}
	if err := s.Set(ctx, by, changes); err != nil {
		return nil, fmt.Errorf("settings: generate credentials: %w", err)
	}
	return gen, nil
}

// Serves tells whether the instance serves domain: every domain when none
// is configured (the compatibility rule, docs/pbx.md), else the configured
// ones (compared case-insensitively, as DNS names are).
func (v Values) Serves(domain string) bool {
	_, ok := v.ServedDomain(domain)
	return ok
}

// ServedDomain returns domain as configured (its configured spelling) and
// whether the instance serves it; with no domain configured, domain itself.
func (v Values) ServedDomain(domain string) (string, bool) {
	if len(v.Domains) == 0 {
		return domain, true
	}
	for _, d := range v.Domains {
		if strings.EqualFold(d, domain) {
			return d, true
		}
	}
	return "", false
}

// DefaultDomain is the first configured domain ("" when none is).
func (v Values) DefaultDomain() string {
	if len(v.Domains) == 0 {
		return ""
	}
	return v.Domains[0]
}

// PBXExpected tells whether a PBX is expected to be connected: a domain is
// configured or a PBX has logged in before (docs/pbx.md).
func (s *Service) PBXExpected() bool {
	v := s.Values()
	return v.Domain != "" || len(v.PBXSeen) > 0
}

// PBXSeen remembers that the PBX of domain has logged in (once per domain;
// a no-op when it is known).
func (s *Service) PBXSeen(ctx context.Context, domain string) error {
	v := s.Values()
	if domain == "" {
		domain = "-"
	}
	if slices.Contains(v.PBXSeen, domain) {
		return nil
	}
	next, err := Validate(KeyPBXSeen, strings.Join(append(slices.Clone(v.PBXSeen), domain), ","))
	if err != nil || next == strings.Join(v.PBXSeen, ",") {
		return nil // not a domain to remember, or the list is full: a PBX is expected either way
	}
	return s.Set(ctx, "system", map[string]string{KeyPBXSeen: next})
}

// Used records that a device used the ingress part (PendingUpload or
// PendingCDR) successfully, which ends its pending problem. It writes only
// when the part is pending.
func (s *Service) Used(ctx context.Context, part string) error {
	v := s.Values()
	if !slices.Contains(v.Pending, part) {
		return nil
	}
	rest := slices.DeleteFunc(slices.Clone(v.Pending), func(p string) bool { return p == part })
	return s.Set(ctx, "system", map[string]string{KeyIngressPending: strings.Join(rest, ",")})
}
