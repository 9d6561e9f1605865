// Package calls joins recordings with the PBX's call detail records: it
// stores incoming CDRs (PBX XML and gateway records, parsed once into
// facts), works out each recording's owner and call facts with pbx.Resolve
// whichever of the two arrives first, marks recordings that got no CDR
// within a grace period as NoCDR, and enforces the recorder licences at
// start-up. CDRs are facts about calls, not about accounts: they never
// change an account (names and numbers come from the admin and the PBX
// directory).
package calls

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"log/slog"
	"strconv"
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

// MaxConfsPerRequest bounds the conferences one CDR request may name: the
// matching work a request causes is at most this many conferences, each
// with at most store.MaxCDRsPerConf records and 64 recordings. A PBX
// record names one to a few.
const MaxConfsPerRequest = 64

// lockStripes is how many locks the resolutions of different conferences
// are spread over.
const lockStripes = 64

// Matcher attaches CDRs to recordings. It is safe for concurrent use.
type Matcher struct {
	db  *store.DB
	log *slog.Logger
	opt Options
	// locks serialise the resolutions of one conference (striped by its
	// id), so that a CDR stored before the lock is taken is seen by
	// whichever resolution of the conference runs last; resolutions of
	// other conferences run in parallel. No lock is held while a request
	// is parsed.
	locks [lockStripes]sync.Mutex
	seed  maphash.Seed
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
	return &Matcher{db: db, log: log.With("category", applog.CallInformation), opt: opt, seed: maphash.MakeSeed()}
}

// lock takes the lock of conference conf (of recording id when it has no
// conference id) and returns its unlock.
func (m *Matcher) lock(conf string, id int64) func() {
	if conf == "" {
		conf = "#" + strconv.FormatInt(id, 10)
	}
	mu := &m.locks[maphash.String(m.seed, strings.ToLower(conf))%lockStripes]
	mu.Lock()
	return mu.Unlock
}

// Result says what one CDR request did.
type Result struct {
	Records    int     // records stored
	Duplicates int     // records stored before (sent again), not stored twice
	Refused    int     // records not stored: their conferences hold as many records as good already
	Recordings []int64 // recordings whose details changed
}

// AddPBX stores the PBX CDRs in body (the XML of the `msg` parameter or a
// raw XML body, one or more <cdr>), each parsed once into its facts, and
// attaches them to every recording of every conference they name.
func (m *Matcher) AddPBX(ctx context.Context, domain string, body []byte) (Result, error) {
	cdrs, err := pbx.ParseCDRs(body)
	if err != nil {
		return Result{}, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	recs := make([]store.NewCDR, 0, len(cdrs))
	for i := range cdrs {
		c := &cdrs[i]
		facts, err := c.Facts()
		if err != nil {
			return Result{}, err
		}
		recs = append(recs, store.NewCDR{Kind: store.CDRKindPBX, Domain: domain, Raw: c.Raw, Parsed: facts,
			Quality: c.Quality(), ConfIDs: c.ConfIDs()})
	}
	return m.add(ctx, recs)
}

// AddGateway stores gateway CDR records (the raw query of the gateway's
// GET, or a form/text body), each parsed once into its facts, and attaches
// them by their ref.
func (m *Matcher) AddGateway(ctx context.Context, domain string, body []byte) (Result, error) {
	gws, err := pbx.ParseGatewayCDR(body)
	if err != nil {
		return Result{}, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	recs := make([]store.NewCDR, 0, len(gws))
	for i := range gws {
		g := &gws[i]
		facts, err := g.Facts()
		if err != nil {
			return Result{}, err
		}
		var ids []string
		if pbx.IsConfID(g.Ref) {
			ids = []string{strings.ToLower(g.Ref)}
		}
		recs = append(recs, store.NewCDR{Kind: store.CDRKindGateway, Domain: domain, Raw: g.Raw, Parsed: facts,
			Quality: g.Quality(), ConfIDs: ids})
	}
	return m.add(ctx, recs)
}

// add stores parsed records and resolves the conferences whose records
// changed.
func (m *Matcher) add(ctx context.Context, recs []store.NewCDR) (Result, error) {
	var confs []string
	for _, r := range recs {
		confs = appendNew(confs, r.ConfIDs...)
	}
	if len(confs) > MaxConfsPerRequest {
		return Result{}, fmt.Errorf("%w: the request names %d conferences, at most %d", ErrMalformed,
			len(confs), MaxConfsPerRequest)
	}
	added, err := m.db.AddCDRs(ctx, recs)
	if err != nil {
		if errors.Is(err, store.ErrInvalid) {
			return Result{}, fmt.Errorf("%w: %w", ErrMalformed, err)
		}
		return Result{}, err
	}
	var res Result
	confs = confs[:0]
	for _, a := range added {
		switch {
		case a.ID != 0:
			res.Records++
			confs = appendNew(confs, a.Confs...)
		case len(a.Full) > 0:
			res.Refused++
		default:
			res.Duplicates++
		}
		if len(a.Full) > 0 {
			m.log.Debug("CDR not kept: its conferences hold as many records as good", "conf", a.Full[0],
				"conferences", len(a.Full))
		}
	}
	res.Recordings, err = m.attachConfs(ctx, domainOf(recs), confs)
	return res, err
}

// domainOf is the domain the records were posted under (one request's
// records share it).
func domainOf(recs []store.NewCDR) string {
	if len(recs) == 0 {
		return ""
	}
	return recs[0].Domain
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

// attachConfs re-resolves every recording of the conferences that was
// uploaded under domain ("": every domain), loading each conference's facts
// once. A CDR posted under one domain never touches another's recordings.
func (m *Matcher) attachConfs(ctx context.Context, domain string, confs []string) ([]int64, error) {
	var changed []int64
	var errs []error
	for _, conf := range confs {
		ids, err := m.resolveConf(ctx, domain, conf)
		changed = append(changed, ids...)
		if err != nil {
			errs = append(errs, err)
		}
	}
	return changed, errors.Join(errs...)
}

func (m *Matcher) resolveConf(ctx context.Context, domain, conf string) ([]int64, error) {
	unlock := m.lock(conf, 0)
	defer unlock()
	recs, err := m.db.RecordingsByConf(ctx, domain, conf)
	if err != nil || len(recs) == 0 {
		return nil, err
	}
	facts := map[string]callFacts{} // by the recordings' domain, as stored
	var changed []int64
	var errs []error
	for _, rec := range recs {
		f, ok := facts[strings.ToLower(rec.Domain)]
		if !ok {
			if f, err = m.facts(ctx, rec.Domain, conf); err != nil {
				return changed, errors.Join(append(errs, err)...)
			}
			facts[strings.ToLower(rec.Domain)] = f
		}
		ok, err := m.resolveWith(ctx, rec, f, events.CDRAttached)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if ok {
			changed = append(changed, rec.ID)
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
	return m.resolveAs(ctx, id, events.CDRAttached)
}

// resolveAs resolves recording id and publishes a change as kind.
func (m *Matcher) resolveAs(ctx context.Context, id int64, kind events.Kind) (bool, error) {
	rec, err := m.db.Recording(ctx, id)
	if err != nil {
		return false, fmt.Errorf("resolve recording %d: %w", id, err)
	}
	conf := ""
	if pbx.IsConfID(rec.ConfID) {
		conf = strings.ToLower(rec.ConfID)
	}
	unlock := m.lock(conf, id)
	defer unlock()
	// Read again under the lock: a resolution that ran meanwhile changed it.
	if rec, err = m.db.Recording(ctx, id); err != nil {
		return false, fmt.Errorf("resolve recording %d: %w", id, err)
	}
	var f callFacts
	if conf != "" {
		if f, err = m.facts(ctx, rec.Domain, conf); err != nil {
			return false, fmt.Errorf("resolve recording %d: %w", id, err)
		}
	}
	return m.resolveWith(ctx, rec, f, kind)
}

// callFacts are the stored records of one conference.
type callFacts struct {
	cdrs []pbx.CDR
	gws  []pbx.GatewayCDR
}

// facts reads the stored facts of conference conf posted under domain: at
// most store.MaxCDRsPerConf records, decoded, never parsed again.
func (m *Matcher) facts(ctx context.Context, domain, conf string) (callFacts, error) {
	stored, err := m.db.CDRFactsByConf(ctx, domain, conf)
	if err != nil {
		return callFacts{}, err
	}
	var f callFacts
	for _, s := range stored {
		switch s.Kind {
		case store.CDRKindPBX:
			c, err := pbx.CDRFromFacts(s.Parsed)
			if err != nil {
				m.log.Warn("stored CDR has no facts", "cdr", s.ID, "err", err)
				continue
			}
			f.cdrs = append(f.cdrs, c)
		case store.CDRKindGateway:
			g, err := pbx.GatewayFromFacts(s.Parsed)
			if err != nil {
				m.log.Warn("stored gateway CDR has no facts", "cdr", s.ID, "err", err)
				continue
			}
			f.gws = append(f.gws, g)
		}
	}
	return f, nil
}

// resolveWith works out rec's owner and call facts from the facts of its
// conference and stores what changed; the caller holds the conference's
// lock. A change is published as kind.
func (m *Matcher) resolveWith(ctx context.Context, rec store.Recording, f callFacts, kind events.Kind) (bool, error) {
	id := rec.ID
	fn := pbx.FileName{ConfID: rec.ConfID, MAC: rec.MAC, Serial: rec.Serial, RegName: rec.RegName}
	info, err := pbx.Resolve(fn, f.cdrs, f.gws, directory{ctx: ctx, db: m.db})
	if err != nil {
		return false, fmt.Errorf("resolve recording %d: %w", id, err)
	}
	owner, source := decideOwner(rec, info, f.cdrs)
	if rec.Owner != "" && rec.OwnerSource != "" && rec.OwnerSource != store.OwnerByAdmin &&
		(owner != rec.Owner || source != rec.OwnerSource) {
		// A user deleted on the PBX keeps the recordings resolved to it
		// (docs/pbx.md), whatever the directory says now: the check is
		// here, where the owner is written, so that a re-resolution
		// queued before the deletion (or renaming) and run after it cannot
		// clear the owner. A recording not resolved yet (a new upload,
		// owned provisionally by its file name's registration name) is
		// not the deleted user's: it owns nothing new.
		name, deleted, err := m.db.DeletedPBXOwner(ctx, rec.Owner)
		if err != nil {
			return false, fmt.Errorf("resolve recording %d: %w", id, err)
		}
		if deleted {
			owner, source = name, rec.OwnerSource
		}
	}
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
		m.opt.Events.Publish(events.Recording{Kind: kind, ID: id, By: events.ByPBX})
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

// DirectoryChanged re-resolves the recordings whose owner may differ after
// the PBX's user table changed the accounts named names (a user's old and
// new name) or the devices macs (its old and new ones, and those it took
// from others): the ones store.RecordingIDsToReresolve lists, which leaves
// alone what an administrator reassigned and what a user deleted on the
// PBX owns. Each recording whose owner or call facts changed is published
// as events.Updated by the PBX; it returns how many.
func (m *Matcher) DirectoryChanged(ctx context.Context, names, macs []string) (int, error) {
	ids, err := m.db.RecordingIDsToReresolve(ctx, names, macs)
	if err != nil {
		return 0, err
	}
	n := 0
	var errs []error
	for _, id := range ids {
		ok, err := m.resolveAs(ctx, id, events.Updated)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if ok {
			n++
		}
	}
	if n > 0 {
		m.log.Info("recordings re-resolved after a change of the PBX's users", "users", names, "count", n)
	}
	return n, errors.Join(errs...)
}
