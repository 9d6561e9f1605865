// Package calls joins recordings with the PBX's call detail records: it
// stores incoming CDRs (PBX XML and gateway records), works out each
// recording's owner and call facts with pbx.Resolve whichever of the two
// arrives first, marks recordings that got no CDR within a grace period as
// NoCDR, and enforces the recorder licences at start-up.
package calls

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"recordings/applog"
	"recordings/events"
	"recordings/pbx"
	"recordings/settings"
	"recordings/store"
)

// DefaultGrace is the NoCDR grace period when none is configured (the
// setting settings.KeyNoCDRGrace).
const DefaultGrace = settings.DefaultNoCDRGrace

// ErrMalformed is wrapped by the errors of AddPBX and AddGateway for input
// that is not a valid CDR (the HTTP layer answers 400).
var ErrMalformed = errors.New("malformed CDR")

// Options tune a Matcher.
type Options struct {
	Now func() time.Time // clock for the grace period; nil means time.Now
	// Grace is the NoCDR grace period when the setting is absent; 0 means
	// DefaultGrace.
	Grace time.Duration
	// Events, if set, is told (CDRAttached) about every recording whose
	// owner, call facts or NoCDR mark changed.
	Events *events.Broker
	// KeepCDRs is how long stored CDRs are kept (what they told is kept
	// with the recordings); 0 means DefaultKeepCDRs.
	KeepCDRs time.Duration
}

// DefaultKeepCDRs is how long CDRs are kept by default.
const DefaultKeepCDRs = 90 * 24 * time.Hour

// Matcher attaches CDRs to recordings. It is safe for concurrent use.
type Matcher struct {
	db  *store.DB
	log *slog.Logger
	opt Options
	// mu serialises resolutions, so that a CDR stored before the lock is
	// taken is seen by whichever resolution runs last.
	mu sync.Mutex
}

// New returns a matcher over db; it logs under applog.CallInformation.
func New(db *store.DB, log *slog.Logger, opt Options) *Matcher {
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Grace <= 0 {
		opt.Grace = DefaultGrace
	}
	if opt.KeepCDRs <= 0 {
		opt.KeepCDRs = DefaultKeepCDRs
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Matcher{db: db, log: log.With("category", applog.CallInformation), opt: opt}
}

// Result says what one CDR request did.
type Result struct {
	Records    int     // records stored
	Recordings []int64 // recordings whose details changed
}

// AddPBX stores the PBX CDRs in body (the XML of the `msg` parameter or a
// raw XML body, one or more <cdr>), fills in the accounts they name and
// attaches them to every recording of every conference they name.
func (m *Matcher) AddPBX(ctx context.Context, domain string, body []byte) (Result, error) {
	cdrs, err := pbx.ParseCDRs(body)
	if err != nil {
		return Result{}, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	recs := make([]store.NewCDR, 0, len(cdrs))
	var confs []string
	for i := range cdrs {
		c := &cdrs[i]
		parsed, err := json.Marshal(c)
		if err != nil {
			return Result{}, fmt.Errorf("encode CDR: %w", err)
		}
		ids := c.ConfIDs()
		recs = append(recs, store.NewCDR{Kind: store.CDRKindPBX, Domain: domain, Raw: c.Raw, Parsed: parsed, ConfIDs: ids})
		confs = appendNew(confs, ids...)
	}
	if _, err := m.db.AddCDRs(ctx, recs); err != nil {
		if errors.Is(err, store.ErrInvalid) {
			return Result{}, fmt.Errorf("%w: %w", ErrMalformed, err)
		}
		return Result{}, err
	}
	m.fillUsers(ctx, cdrs)
	changed, err := m.attachConfs(ctx, confs)
	return Result{Records: len(recs), Recordings: changed}, err
}

// AddGateway stores gateway CDR records (the raw query of the gateway's
// GET, or a form/text body) and attaches them by their ref.
func (m *Matcher) AddGateway(ctx context.Context, domain string, body []byte) (Result, error) {
	gws, err := pbx.ParseGatewayCDR(body)
	if err != nil {
		return Result{}, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	recs := make([]store.NewCDR, 0, len(gws))
	var confs []string
	for i := range gws {
		g := &gws[i]
		parsed, err := json.Marshal(g)
		if err != nil {
			return Result{}, fmt.Errorf("encode gateway CDR: %w", err)
		}
		var ids []string
		if pbx.IsConfID(g.Ref) {
			ids = []string{strings.ToLower(g.Ref)}
		}
		recs = append(recs, store.NewCDR{Kind: store.CDRKindGateway, Domain: domain, Raw: g.Raw, Parsed: parsed, ConfIDs: ids})
		confs = appendNew(confs, ids...)
	}
	if _, err := m.db.AddCDRs(ctx, recs); err != nil {
		if errors.Is(err, store.ErrInvalid) {
			return Result{}, fmt.Errorf("%w: %w", ErrMalformed, err)
		}
		return Result{}, err
	}
	changed, err := m.attachConfs(ctx, confs)
	return Result{Records: len(recs), Recordings: changed}, err
}

func appendNew(list []string, items ...string) []string {
	for _, it := range items {
		found := false
		for _, x := range list {
			if x == it {
				found = true
				break
			}
		}
		if !found {
			list = append(list, it)
		}
	}
	return list
}

// attachConfs re-resolves every recording of the conferences.
func (m *Matcher) attachConfs(ctx context.Context, confs []string) ([]int64, error) {
	var changed []int64
	var errs []error
	for _, conf := range confs {
		recs, err := m.db.RecordingsByConf(ctx, conf)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, rec := range recs {
			ok, err := m.resolve(ctx, rec.ID)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			if ok {
				changed = append(changed, rec.ID)
			}
		}
	}
	return changed, errors.Join(errs...)
}

// Attach works out the owner and call facts of recording id from the
// stored CDRs; ingest calls it when an upload begins and when it ends.
// Errors are logged, not returned: an upload never fails for them.
func (m *Matcher) Attach(ctx context.Context, id int64) {
	if _, err := m.resolve(ctx, id); err != nil {
		m.log.Error("attach call details", "id", id, "err", err)
	}
}

// Resolve is Attach returning whether anything changed, and the error.
func (m *Matcher) Resolve(ctx context.Context, id int64) (bool, error) { return m.resolve(ctx, id) }

func (m *Matcher) resolve(ctx context.Context, id int64) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	rec, err := m.db.Recording(ctx, id)
	if err != nil {
		return false, fmt.Errorf("resolve recording %d: %w", id, err)
	}
	var (
		cdrs []pbx.CDR
		gws  []pbx.GatewayCDR
	)
	if pbx.IsConfID(rec.ConfID) {
		stored, err := m.db.CDRsByConf(ctx, rec.ConfID)
		if err != nil {
			return false, fmt.Errorf("resolve recording %d: %w", id, err)
		}
		for _, s := range stored {
			switch s.Kind {
			case store.CDRKindPBX:
				c, err := pbx.ParseCDRs([]byte(s.Raw))
				if err != nil {
					m.log.Warn("stored CDR no longer parses", "cdr", s.ID, "err", err)
					continue
				}
				cdrs = append(cdrs, c...)
			case store.CDRKindGateway:
				g, err := pbx.ParseGatewayCDR([]byte(s.Raw))
				if err != nil {
					m.log.Warn("stored gateway CDR no longer parses", "cdr", s.ID, "err", err)
					continue
				}
				gws = append(gws, g...)
			}
		}
	}
	fn := pbx.FileName{ConfID: rec.ConfID, MAC: rec.MAC, Serial: rec.Serial, RegName: rec.RegName}
	info, err := pbx.Resolve(fn, cdrs, gws, directory{ctx: ctx, db: m.db})
	if err != nil {
		return false, fmt.Errorf("resolve recording %d: %w", id, err)
	}
	owner, source := decideOwner(rec, info, cdrs)
	changed := false
	if owner != rec.Owner || source != rec.OwnerSource {
		if err := m.db.SetCallOwner(ctx, id, owner, source); err != nil {
			return false, fmt.Errorf("resolve recording %d: %w", id, err)
		}
		changed = true
	}
	if info.Matched {
		c := store.CDR{Direction: string(info.Direction), PeerName: clip(info.PeerName), PeerNumber: clip(info.PeerNumber),
			ConnectedAt: info.ConnectedAt, CallMS: info.CallDuration.Milliseconds()}
		if !rec.CDR || rec.NoCDR || c.Direction != rec.Direction || c.PeerName != rec.PeerName ||
			c.PeerNumber != rec.PeerNumber || !c.ConnectedAt.Equal(rec.ConnectedAt) || c.CallMS != rec.CallMS {
			if err := m.db.SetCDR(ctx, id, c); err != nil {
				return false, fmt.Errorf("resolve recording %d: %w", id, err)
			}
			changed = true
		}
		if rec.NoCDR {
			m.log.Info("late CDR attached", "id", id, "conf", rec.ConfID)
		}
	}
	if changed {
		m.log.Debug("call details attached", "id", id, "owner", owner, "rule", source,
			"matched", info.Matched, "direction", info.Direction)
		m.opt.Events.Publish(events.Recording{Kind: events.CDRAttached, ID: id, By: events.ByPBX})
	}
	return changed, nil
}

// clip keeps a CDR text within what the store accepts.
func clip(s string) string {
	const maxLen = 256
	if len(s) <= maxLen {
		return s
	}
	s = s[:maxLen]
	for len(s) > 0 && s[len(s)-1]&0xc0 == 0x80 { // do not cut a UTF-8 sequence
		s = s[:len(s)-1]
	}
	if len(s) > 0 && s[len(s)-1] >= 0xc0 {
		s = s[:len(s)-1]
	}
	return s
}

// decideOwner picks the owner to store: the one an administrator gave
// (store.OwnerByAdmin) stands; else the rule's result when there is
// one. Otherwise the recording keeps the owner it was given at upload (the
// registration name of its file name); one a rule gave earlier that no
// longer applies (an account lost a device) falls back to the registration
// name. A name the CDRs show to be a trunk or waiting queue owns nothing.
func decideOwner(rec store.Recording, info pbx.CallInfo, cdrs []pbx.CDR) (owner, source string) {
	if rec.OwnerSource == store.OwnerByAdmin {
		return rec.Owner, rec.OwnerSource // an administrator's reassignment stands
	}
	if info.Owner != "" {
		return info.Owner, string(info.OwnerSource)
	}
	owner = rec.Owner
	if rec.OwnerSource != "" {
		owner = rec.RegName
	}
	if owner == "" {
		return "", ""
	}
	for i := range cdrs {
		c := &cdrs[i]
		if c.Pseudo != "" && strings.EqualFold(c.H323, owner) && c.HasConf(info.ConfID) {
			return "", ""
		}
	}
	return owner, ""
}

// fillUsers copies display name (cn) and number (e164) from the records of
// real users to the accounts of the same name.
func (m *Matcher) fillUsers(ctx context.Context, cdrs []pbx.CDR) {
	seen := map[string]bool{}
	for i := range cdrs {
		c := &cdrs[i]
		key := strings.ToLower(c.H323)
		if !c.IsRealUser() || c.H323 == "" || seen[key] {
			continue
		}
		seen[key] = true
		u, err := m.db.User(ctx, c.H323)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			m.log.Warn("CDR: look up user", "user", c.H323, "err", err)
			continue
		}
		changed := false
		if c.CN != "" && c.CN != u.DisplayName {
			u.DisplayName, changed = clip(c.CN), true
		}
		if c.E164 != "" && c.E164 != u.E164 && validNumber(c.E164) {
			u.E164, changed = c.E164, true
		}
		if !changed {
			continue
		}
		if err := m.db.UpdateUser(ctx, u); err != nil {
			m.log.Warn("CDR: update user", "user", u.Name, "err", err)
			continue
		}
		m.log.Info("user details from CDR", "user", u.Name, "cn", u.DisplayName, "e164", u.E164)
	}
}

func validNumber(s string) bool {
	d := strings.TrimPrefix(s, "+")
	return d != "" && len(d) <= 20 && strings.Trim(d, "0123456789") == ""
}

// Grace is the NoCDR grace period in force: the setting
// settings.KeyNoCDRGrace, read from the database at each sweep so that a
// change takes effect without a restart, else the default.
func (m *Matcher) Grace(ctx context.Context) time.Duration {
	v, ok, err := m.db.Setting(ctx, settings.KeyNoCDRGrace)
	if err != nil || !ok {
		return m.opt.Grace
	}
	d, err := settings.ParseNoCDRGrace(v)
	if err != nil {
		m.log.Warn("bad NoCDR grace setting, using the default", "err", err)
		return m.opt.Grace
	}
	return d
}

// Sweep marks the recordings whose grace period ran out without a CDR.
func (m *Matcher) Sweep(ctx context.Context) ([]int64, error) {
	ids, err := m.db.MarkNoCDR(ctx, m.opt.Now().Add(-m.Grace(ctx)))
	if err != nil {
		return nil, err
	}
	if len(ids) > 0 {
		m.log.Info("recordings without CDR", "count", len(ids))
	}
	for _, id := range ids {
		m.opt.Events.Publish(events.Recording{Kind: events.CDRAttached, ID: id, By: events.ByPBX})
	}
	return ids, nil
}

// PruneCDRs deletes the CDRs older than Options.KeepCDRs.
func (m *Matcher) PruneCDRs(ctx context.Context) (int64, error) {
	n, err := m.db.PruneCDRs(ctx, m.opt.Now().Add(-m.opt.KeepCDRs))
	if err != nil {
		return 0, err
	}
	if n > 0 {
		m.log.Info("old CDRs deleted", "count", n, "older_than", m.opt.KeepCDRs)
	}
	return n, nil
}

// Run sweeps every interval (0 means 30 s), and prunes old CDRs at start
// and hourly, until ctx ends.
func (m *Matcher) Run(ctx context.Context, interval time.Duration) error {
	if interval <= 0 {
		interval = 30 * time.Second
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	var pruned time.Time
	for {
		if _, err := m.Sweep(ctx); err != nil && ctx.Err() == nil {
			m.log.Error("NoCDR sweep", "err", err)
		}
		if now := m.opt.Now(); now.Sub(pruned) >= time.Hour {
			pruned = now
			if _, err := m.PruneCDRs(ctx); err != nil && ctx.Err() == nil {
				m.log.Error("prune CDRs", "err", err)
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// RefreshDevices resolves again the recordings made under registration
// name regName or on the devices macs (after an account or its MACs
// changed) and returns how many changed.
func (m *Matcher) RefreshDevices(ctx context.Context, regName string, macs []string) (int, error) {
	ids, err := m.db.RecordingIDsByDevice(ctx, regName, macs)
	if err != nil {
		return 0, err
	}
	n := 0
	var errs []error
	for _, id := range ids {
		ok, err := m.resolve(ctx, id)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if ok {
			n++
		}
	}
	if n > 0 {
		m.log.Info("recordings reassigned after a user change", "user", regName, "count", n)
	}
	return n, errors.Join(errs...)
}
