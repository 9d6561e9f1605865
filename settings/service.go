package settings

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strconv"
	"sync"
	"time"

	"recordings/applog"
)

// Store is where settings live (*store.DB).
type Store interface {
	Settings(ctx context.Context) (map[string]string, error)
	SetSetting(ctx context.Context, key, value string) error
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
	AppPassword      string        // the AppLogin instance password
	NoCDRGrace       time.Duration // how long a recording waits for its CDR
	NoCDRGraceSet    bool          // NoCDRGrace is configured, not the default
	Trace            map[string]string // category → level name
}

// Service reads, changes and applies settings.
type Service struct {
	db     Store
	log    *slog.Logger
	levels *applog.Levels

	mu      sync.Mutex
	applied map[string]string // the raw settings last applied
	hooks   []func(ctx context.Context, changed []string)
}

// New returns a service over db that applies trace levels to levels (which
// may be nil).
func New(db Store, log *slog.Logger, levels *applog.Levels) *Service {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Service{db: db, log: log, levels: levels}
}

// OnChange registers f to be called with the keys that changed after every
// change is applied (e.g. to start a retention run). Register before Load.
func (s *Service) OnChange(f func(ctx context.Context, changed []string)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hooks = append(s.hooks, f)
}

// Load reads the settings and applies them; call it at start. Changes made
// to the database by other writers are picked up by Watch or the next Load.
func (s *Service) Load(ctx context.Context) error {
	m, err := s.db.Settings(ctx)
	if err != nil {
		return fmt.Errorf("settings: load: %w", err)
	}
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
				s.log.Warn("ignoring stored trace level", "category", applog.UI, "key", TraceKey(cat), "err", err)
				lvl, _ = ParseTrace(DefaultTrace)
			}
			_ = s.levels.Set(cat, lvl) // cat is a known category
		}
	}
	for _, h := range hooks {
		h(ctx, changed)
	}
}

// Set validates every change before storing any, stores them, logs each
// (secrets masked) as done by user, and applies them at once.
func (s *Service) Set(ctx context.Context, user string, changes map[string]string) error {
	norm := make(map[string]string, len(changes))
	for k, v := range changes {
		key := CanonicalKey(k)
		nv, err := Validate(key, v)
		if err != nil {
			return err
		}
		norm[key] = nv
	}
	keys := slices.Sorted(maps.Keys(norm))
	for _, k := range keys {
		if err := s.db.SetSetting(ctx, k, norm[k]); err != nil {
			return fmt.Errorf("settings: store %s: %w", k, err)
		}
		shown := norm[k]
		if Secret(k) {
			shown = "(changed)"
		}
		s.log.Info("setting changed", "category", applog.UI, "user", user, "key", k, "value", shown)
	}
	return s.Load(ctx)
}

// Values returns the settings in force, typed, with defaults filled in;
// stored values that no longer validate are reported by Load's caller's log
// and read as their defaults.
func (s *Service) Values() Values {
	s.mu.Lock()
	m := s.applied
	s.mu.Unlock()
	v := Values{PBXName: m[KeyPBXName], LogRetentionDays: DefaultLogRetentionDays, CDRUser: m[KeyCDRUser],
		CDRPassword: m[KeyCDRPassword], AppPassword: m[KeyAppPassword], Trace: map[string]string{}}
	if raw, ok := m[KeyRetentionDays]; ok {
		if n, err := ParseDays(KeyRetentionDays, raw); err == nil {
			v.RetentionDays, v.RetentionSet = n, true
		}
	}
	v.NoCDRGrace = DefaultNoCDRGrace
	if raw, ok := m[KeyNoCDRGrace]; ok {
		if n, err := strconv.Atoi(raw); err == nil && n >= 0 {
			v.NoCDRGrace, v.NoCDRGraceSet = time.Duration(n)*time.Second, true
		}
	}
	if raw, ok := m[KeyLogRetentionDays]; ok {
		if n, err := ParseDays(KeyLogRetentionDays, raw); err == nil {
			v.LogRetentionDays = n
		}
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
// PBXNameMissing; empty when nothing is missing.
func (s *Service) Problems() []string {
	var out []string
	if s.Values().PBXName == "" {
		out = append(out, PBXNameMissing)
	}
	return out
}
