package pbxlink

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"time"

	"recordings/applog"
	"recordings/pbx"
	"recordings/store"
)

// Reresolver works out again the owners of the recordings a change of the
// PBX's users may concern (calls.Matcher.DirectoryChanged).
type Reresolver interface {
	DirectoryChanged(ctx context.Context, names, macs []string) (int, error)
}

// UsersEvent tells an observer what the replication did (tests, status).
type UsersEvent struct {
	Kind UsersEventKind
	// Rows stored (upserted), Deleted users marked deleted, Refused rows
	// or messages not used.
	Rows, Deleted, Refused int
	// Pending (EventReresolved): re-resolutions queued meanwhile; 0 means
	// every change stored so far has been re-resolved.
	Pending int
	Err     error // EventFailed: why
}

// UsersEventKind says which step a UsersEvent reports.
type UsersEventKind int

// Event kinds.
const (
	EventLoaded     UsersEventKind = iota + 1 // the initial load is complete (Rows: rows of the load)
	EventApplied                              // a live change was applied
	EventReresolved                           // a batch of re-resolutions is done (Rows: recordings changed)
	EventFailed                               // the replication stopped or a write failed
	EventUnexpected                           // a message out of order or of an unknown type
)

// UsersOptions configure NewUsers.
type UsersOptions struct {
	Log *slog.Logger
	// Reresolve, if set, is told about users whose names or devices
	// changed (Run does it in the background).
	Reresolve Reresolver
	// Batch is how many rows of the initial load are stored per
	// transaction; default 256.
	Batch int
	// Observe, if set, is called after each step (from the connection's
	// read loop or Run's goroutine; it must not block).
	Observe func(UsersEvent)
}

// UsersStatus is where the replication stands.
type UsersStatus struct {
	State     string    // "idle", "starting", "loading", "live"
	Rows      int       // rows the current or last initial load delivered
	LoadedAt  time.Time // when the last initial load completed
	LastError string
}

// Users replicates the PBX's user table (api PbxTableUsers) into the
// accounts (store.PutPBXUsers): on each connection a full load, then the
// PBX's live changes. It is a Client; Run re-resolves recordings in the
// background.
type Users struct {
	db  *store.DB
	log *slog.Logger
	opt UsersOptions

	mu    sync.Mutex
	conns map[string]*usersConn // domain → the replication on its connection
	st    UsersStatus

	jobsMu sync.Mutex
	jobs   []reresolveJob
	// running: Run is re-resolving jobs it took from jobs.
	running bool
	kick    chan struct{}
}

// usersConn is the replication on one connection.
type usersConn struct {
	domain string // of the PBX connection ("": Users used as one Client)
	ctx    context.Context
	send   Sender
	rep    pbx.UserReplicator
	gen    int64
	buf    []pbx.PbxUser
	failed bool // a write of this load failed: no sweep at its end
	rows   int
}

type reresolveJob struct{ names, macs []string }

var _ Client = (*Users)(nil)

// NewUsers returns the PbxTableUsers client writing to db.
func NewUsers(db *store.DB, opt UsersOptions) *Users {
	if opt.Log == nil {
		opt.Log = slog.New(slog.DiscardHandler)
	}
	if opt.Batch <= 0 {
		opt.Batch = 256
	}
	return &Users{db: db, log: opt.Log.With("category", applog.System, "api", pbx.ReplicationAPI), opt: opt,
		kick: make(chan struct{}, 1), st: UsersStatus{State: pbx.ReplicaIdle.String()}, conns: map[string]*usersConn{}}
}

// ForDomain returns the client replicating the users of domain's PBX on
// that domain's connection (pbxlink.Options.PerDomain): the accounts it
// stores belong to domain, and its load marks only domain's users deleted.
// The clients of all domains share u's re-resolution (Run) and status.
func (u *Users) ForDomain(domain string) Client { return domainUsers{u: u, domain: domain} }

// domainUsers is one domain's replication client.
type domainUsers struct {
	u      *Users
	domain string
}

func (d domainUsers) API() string { return d.u.API() }
func (d domainUsers) Connected(ctx context.Context, s Sender, info PbxInfo) {
	d.u.connected(ctx, d.domain, s, info)
}
func (d domainUsers) Handle(ctx context.Context, m Msg) { d.u.handle(ctx, d.domain, m) }
func (d domainUsers) Disconnected()                     { d.u.disconnected(d.domain) }

// API implements Client.
func (u *Users) API() string { return pbx.ReplicationAPI }

// Status reports where the replication stands.
func (u *Users) Status() UsersStatus {
	u.mu.Lock()
	defer u.mu.Unlock()
	st := u.st
	for _, d := range slices.Sorted(maps.Keys(u.conns)) {
		c := u.conns[d]
		st.State, st.Rows = c.rep.State().String(), c.rep.Rows()
		break
	}
	return st
}

// Connected implements Client: it starts a full replication.
func (u *Users) Connected(ctx context.Context, s Sender, info PbxInfo) { u.connected(ctx, "", s, info) }

func (u *Users) connected(ctx context.Context, domain string, s Sender, info PbxInfo) {
	u.mu.Lock()
	defer u.mu.Unlock()
	gen, err := u.db.NextPBXLoad(ctx)
	if err != nil {
		u.failLocked(fmt.Errorf("replication of the PBX's users not started: %w", err))
		return
	}
	c := &usersConn{domain: domain, ctx: ctx, send: s, gen: gen, rep: pbx.UserReplicator{Src: "users"}}
	u.conns[domain] = c
	start := c.rep.Start()
	u.log.Info("replicating the PBX's users", "pbx", info.PBX, "domain", domain, "system", info.Domain, "load", gen)
	if err := s.Send(ctx, start); err != nil {
		u.failLocked(fmt.Errorf("send ReplicateStart: %w", err))
	}
}

// Disconnected implements Client.
func (u *Users) Disconnected() { u.disconnected("") }

func (u *Users) disconnected(domain string) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if c := u.conns[domain]; c != nil && c.rep.State() == pbx.ReplicaLoading {
		// The rows that came are current: store them (the connection's
		// context is over), but mark nobody deleted.
		u.flush(context.WithoutCancel(c.ctx), c)
		u.log.Warn("connection to the PBX ended during the initial load of its users: no user is marked deleted",
			"rows", c.rep.Rows(), "domain", domain)
	}
	delete(u.conns, domain)
}

// Handle implements Client.
func (u *Users) Handle(ctx context.Context, m Msg) { u.handle(ctx, "", m) }

func (u *Users) handle(ctx context.Context, domain string, m Msg) {
	u.mu.Lock()
	defer u.mu.Unlock()
	c := u.conns[domain]
	if c == nil {
		return
	}
	step, err := c.rep.Handle(m.MT, m.Raw)
	if err != nil {
		if c.rep.State() == pbx.ReplicaIdle {
			u.failLocked(err)
			return
		}
		u.log.Warn("unexpected message of the PBX's user table", "mt", m.MT, "err", err)
		u.observe(UsersEvent{Kind: EventUnexpected, Err: err})
		return
	}
	for _, e := range step.Refused {
		u.log.Error("row of the PBX's user table refused; nothing stored for it", "mt", m.MT, "err", e)
	}
	u.apply(ctx, c, step)
	if step.Send != nil {
		if err := c.send.Send(ctx, step.Send); err != nil {
			u.failLocked(fmt.Errorf("send %T: %w", step.Send, err))
		}
	}
}

// apply stores what one step asks for.
func (u *Users) apply(ctx context.Context, c *usersConn, step pbx.ReplicaStep) {
	var ev UsersEvent
	ev.Refused = len(step.Refused)
	if !step.Live {
		c.buf = append(c.buf, step.Upserts...)
		c.rows += len(step.Upserts)
	}
	if step.Live || len(step.Deletes) > 0 || len(c.buf) >= u.opt.Batch || step.LoadDone {
		u.flush(ctx, c)
	}
	if step.Live && len(step.Upserts) > 0 {
		ev.Rows = len(step.Upserts)
		u.put(ctx, c, step.Upserts)
	}
	if len(step.Touched) > 0 {
		if err := u.db.TouchPBXUsers(ctx, c.gen, step.Touched); err != nil {
			c.failed = true
			u.log.Error("keep refused users of the PBX", "err", err)
		}
	}
	for _, g := range step.Deletes {
		ch, found, err := u.db.DeletePBXUser(ctx, g)
		switch {
		case err != nil:
			u.log.Error("mark a user of the PBX deleted", "guid", g, "err", err)
		case found:
			ev.Deleted++
			u.log.Info("user deleted on the PBX; its recordings stay", "user", ch.Name, "guid", g)
		}
	}
	switch {
	case step.LoadDone:
		ev.Kind, ev.Rows = EventLoaded, c.rows
		switch {
		case step.SkipSweep || c.failed:
			u.log.Warn("initial load of the PBX's users incomplete (refused rows without guid, or failed writes): "+
				"no user is marked deleted", "rows", c.rows)
		default:
			dels, err := u.db.FinishPBXLoadIn(ctx, c.domain, c.gen)
			if err != nil {
				u.log.Error("mark users absent from the PBX deleted", "err", err)
			}
			for _, d := range dels {
				u.log.Info("user no longer on the PBX; its recordings stay", "user", d.Name, "guid", d.GUID)
			}
			ev.Deleted += len(dels)
		}
		u.st.LoadedAt = time.Now()
		u.log.Info("users of the PBX loaded", "rows", c.rows, "deleted", ev.Deleted, "refused", ev.Refused)
	case step.Live:
		ev.Kind = EventApplied
	default:
		return
	}
	u.observe(ev)
}

// flush stores the buffered rows of the initial load.
func (u *Users) flush(ctx context.Context, c *usersConn) {
	if len(c.buf) == 0 {
		return
	}
	u.put(ctx, c, c.buf)
	c.buf = c.buf[:0]
}

func (u *Users) put(ctx context.Context, c *usersConn, rows []pbx.PbxUser) {
	changes, err := u.db.PutPBXUsersIn(ctx, c.domain, c.gen, rows)
	if err != nil {
		c.failed = true
		u.st.LastError = err.Error()
		u.log.Error("store users of the PBX", "rows", len(rows), "err", err)
		u.observe(UsersEvent{Kind: EventFailed, Err: err})
		return
	}
	for _, ch := range changes {
		if ch.Refused != nil {
			u.log.Error("user of the PBX not stored as sent", "guid", ch.GUID, "user", ch.Name, "err", ch.Refused)
		}
		switch {
		case ch.Created:
			u.log.Info("user of the PBX added", "user", ch.Name, "guid", ch.GUID, "devices", len(ch.MACs))
		case ch.Linked:
			u.log.Info("account linked to its user on the PBX", "user", ch.Name, "guid", ch.GUID)
		case ch.Reresolve():
			u.log.Info("user of the PBX changed", "user", ch.Name, "was", ch.OldName, "guid", ch.GUID,
				"devices", len(ch.MACs))
		}
		if ch.Reresolve() && u.opt.Reresolve != nil {
			names := []string{ch.Name}
			if ch.OldName != "" && !store.SameName(ch.OldName, ch.Name) {
				names = append(names, ch.OldName)
			}
			macs := slices.Concat(ch.OldMACs, ch.MACs, ch.Moved)
			slices.Sort(macs)
			u.queue(reresolveJob{names: names, macs: slices.Compact(macs)})
		}
	}
}

func (u *Users) failLocked(err error) {
	u.st.LastError = err.Error()
	u.log.Error("replication of the PBX's users", "err", err)
	u.observe(UsersEvent{Kind: EventFailed, Err: err})
}

func (u *Users) observe(ev UsersEvent) {
	if u.opt.Observe != nil {
		u.opt.Observe(ev)
	}
}

// Reresolving reports whether re-resolutions are queued or running: false
// once every change stored so far has been re-resolved.
func (u *Users) Reresolving() bool {
	u.jobsMu.Lock()
	defer u.jobsMu.Unlock()
	return len(u.jobs) > 0 || u.running
}

func (u *Users) queue(j reresolveJob) {
	u.jobsMu.Lock()
	u.jobs = append(u.jobs, j)
	u.jobsMu.Unlock()
	select {
	case u.kick <- struct{}{}:
	default:
	}
}

// Run re-resolves, in the background, the recordings of users whose names
// or devices changed, until ctx ends. Without Run, changes are stored but
// recordings keep their owners until something else resolves them.
func (u *Users) Run(ctx context.Context) error {
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-u.kick:
		}
		for {
			u.jobsMu.Lock()
			jobs := u.jobs
			u.jobs = nil
			u.running = len(jobs) > 0
			u.jobsMu.Unlock()
			if len(jobs) == 0 {
				break
			}
			n := 0
			for _, j := range jobs {
				if ctx.Err() != nil {
					return nil
				}
				k, err := u.opt.Reresolve.DirectoryChanged(ctx, j.names, j.macs)
				n += k
				if err != nil && !errors.Is(err, context.Canceled) {
					u.log.Error("re-resolve recordings after a change of the PBX's users", "users", j.names, "err", err)
				}
			}
			u.jobsMu.Lock()
			pending := len(u.jobs)
			u.running = false
			u.jobsMu.Unlock()
			u.observe(UsersEvent{Kind: EventReresolved, Rows: n, Pending: pending})
		}
	}
}
