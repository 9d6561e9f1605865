// Package replica replicates the SQLite database continuously to a folder
// or an S3-compatible bucket, and restores a database from such a replica.
// The engine is Litestream, used as a library: it reads the database's
// write-ahead log through a connection of its own, ships each committed
// transaction as an LTX file (within about half a second under load) and
// compacts them on the replica into levels and daily snapshots, which
// also gives restores to a point in time.
//
// While it replicates, Litestream owns checkpointing: the service's
// writer turns SQLite's automatic checkpoints off (store.SetAutoCheckpoint)
// and Litestream checkpoints (PASSIVE at 1,000 WAL pages or every minute,
// TRUNCATE only past ~500 MB) between the transactions it has read. The
// PASSIVE checkpoints retention asks for still run; they cannot pass the
// read mark that Litestream holds, so no frame is checkpointed away before
// it was shipped.
//
// With a master key (Options.Key, RestoreOptions.Key: the service's
// -key-file) the replica is encrypted at rest: SealedClient encrypts each
// LTX file in AES-256-GCM segments before the backend sees it. A replica
// written with one key is refused with another, without one, or when it
// holds files in clear.
package replica

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/benbjohnson/litestream"
	"github.com/benbjohnson/litestream/file"
	lss3 "github.com/benbjohnson/litestream/s3"

	"recordings/internal/sealed"
	"recordings/settings"
	"recordings/store"
)

// S3 is how the S3-compatible server is reached; the bucket and prefix
// are in the replica URL.
type S3 struct {
	Endpoint        string // RECORDINGS_S3_ENDPOINT, e.g. http://127.0.0.1:7070; "" = AWS
	Region          string // AWS_REGION; default us-east-1
	AccessKeyID     string // AWS_ACCESS_KEY_ID
	SecretAccessKey string // AWS_SECRET_ACCESS_KEY
}

// S3FromEnv reads S3 from the environment variables named in S3.
func S3FromEnv(getenv func(string) string) S3 {
	return S3{Endpoint: getenv("RECORDINGS_S3_ENDPOINT"), Region: getenv("AWS_REGION"),
		AccessKeyID: getenv("AWS_ACCESS_KEY_ID"), SecretAccessKey: getenv("AWS_SECRET_ACCESS_KEY")}
}

// NewClient returns the Litestream replica client of a replica URL
// (settings.ParseReplicaURL's syntax).
func NewClient(rawURL string, s S3) (litestream.ReplicaClient, error) {
	u, err := settings.ParseReplicaURL(rawURL)
	if err != nil {
		return nil, err
	}
	switch u.Scheme {
	case "file":
		return file.NewReplicaClient(u.Path), nil
	case "s3":
		c := lss3.NewReplicaClient()
		c.Bucket, c.Path = u.Bucket, u.Path
		c.Region = cmp.Or(s.Region, "us-east-1")
		c.AccessKeyID, c.SecretAccessKey = s.AccessKeyID, s.SecretAccessKey
		if s.Endpoint != "" {
			// Servers other than AWS (MinIO, Ceph RGW, SeaweedFS, versitygw)
			// want path-style requests.
			c.Endpoint, c.ForcePathStyle = s.Endpoint, true
		}
		return c, nil
	}
	return nil, fmt.Errorf("replica: unsupported URL %q", rawURL)
}

// Intervals of the engine: how often the WAL is read for new transactions
// and how often they are shipped. Together they bound the recovery point
// (about 0.3 s plus the time of one upload).
const (
	DefaultMonitorInterval = 100 * time.Millisecond
	DefaultSyncInterval    = 200 * time.Millisecond
)

// Options tune a Service; zero values take the defaults.
type Options struct {
	S3 S3
	// AutoCheckpoint sets the service writer's wal_autocheckpoint (0 while
	// replicating, store.DefaultAutoCheckpoint after); nil leaves it.
	AutoCheckpoint func(ctx context.Context, pages int) error
	// MonitorInterval and SyncInterval: see DefaultMonitorInterval.
	MonitorInterval, SyncInterval time.Duration
	// Poll is how often the status (positions, lag) is refreshed; default 100 ms.
	Poll time.Duration
	Now  func() time.Time
	// Key, if set, encrypts the replica (see SealedClient).
	Key *sealed.Key
}

// Status is the replication state the admin sees.
type Status struct {
	// URL is the replica ("" = replication off). It holds no secrets.
	URL string `json:"url"`
	// State: "off", "starting", "replicating", "error" (the last attempt
	// failed: see LastError; it is retried with backoff).
	State string `json:"state"`
	// LocalTXID is the last transaction read from the WAL, ReplicaTXID
	// the last one on the replica.
	LocalTXID   uint64 `json:"local_txid"`
	ReplicaTXID uint64 `json:"replica_txid"`
	// LagSeconds is how long the oldest transaction not yet on the replica
	// has waited (0 when the replica is current).
	LagSeconds float64 `json:"lag_seconds"`
	// LastSync is when the replica last received what was pending.
	LastSync    time.Time `json:"last_sync,omitzero"`
	LastError   string    `json:"last_error,omitempty"`
	LastErrorAt time.Time `json:"last_error_at,omitzero"`
	Errors      int64     `json:"errors"` // errors since start
}

// Service replicates one database while Run runs, to the URL last given
// to SetURL. It is safe for concurrent use.
type Service struct {
	path string
	log  *slog.Logger
	opt  Options

	mu      sync.Mutex
	url     string        // wanted
	changed chan struct{} // closed and replaced when url changes
	st      Status
	pending []pending      // local transactions not yet on the replica, oldest first
	cur     *litestream.DB // the engine's database while replicating, else nil
	curURL  string         // the URL cur replicates to
}

type pending struct {
	txid uint64
	seen time.Time
}

// New returns a Service for the database file at dbPath (the running
// service's; it must be in WAL mode), logging to log.
func New(dbPath string, log *slog.Logger, opt Options) *Service {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	opt.MonitorInterval = cmp.Or(opt.MonitorInterval, DefaultMonitorInterval)
	opt.SyncInterval = cmp.Or(opt.SyncInterval, DefaultSyncInterval)
	opt.Poll = cmp.Or(opt.Poll, 100*time.Millisecond)
	if opt.Now == nil {
		opt.Now = time.Now
	}
	return &Service{path: dbPath, log: log, opt: opt, changed: make(chan struct{}), st: Status{State: "off"}}
}

// SetURL changes the replica (a canonical URL, see settings.ParseReplicaURL;
// "" stops replicating). Run applies it: it finishes shipping to the old
// replica and starts on the new one.
func (s *Service) SetURL(u string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if u == s.url {
		return
	}
	s.url = u
	close(s.changed)
	s.changed = make(chan struct{})
}

// Status is the replication state now.
func (s *Service) Status() Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.st
	if len(s.pending) > 0 {
		st.LagSeconds = s.opt.Now().Sub(s.pending[0].seen).Seconds()
	}
	return st
}

func (s *Service) wanted() (string, <-chan struct{}) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.url, s.changed
}

// Run replicates until ctx ends, following SetURL. At the end it ships
// what is pending (for up to 30 s) and lets go of the database; call it
// before the database closes. It returns nil: a replica that cannot be
// reached is reported in Status and retried, and never stops the service.
func (s *Service) Run(ctx context.Context) error {
	for {
		u, changed := s.wanted()
		if u == "" {
			s.setState(Status{State: "off"})
			select {
			case <-ctx.Done():
				return nil
			case <-changed:
				continue
			}
		}
		if err := s.replicate(ctx, u, changed); err != nil {
			s.fail(u, err)
			s.log.Error("replication to "+u+" failed", "err", err)
			t := time.NewTimer(5 * time.Second)
			select {
			case <-ctx.Done():
				t.Stop()
				return nil
			case <-changed:
				t.Stop()
			case <-t.C:
			}
		}
		if ctx.Err() != nil {
			return nil
		}
	}
}

// replicate runs the engine for one URL until ctx ends or the URL changes.
func (s *Service) replicate(ctx context.Context, u string, changed <-chan struct{}) (err error) {
	client, err := NewClient(u, s.opt.S3)
	if err != nil {
		return err
	}
	var sc *SealedClient
	if s.opt.Key != nil {
		if sc, err = NewSealedClient(client, s.opt.Key); err != nil {
			return err
		}
	}
	if err := client.Init(ctx); err != nil {
		return fmt.Errorf("replica %s: %w", u, err)
	}
	if err := checkReplica(ctx, client, sc); err != nil {
		return fmt.Errorf("replica %s: %w", u, err)
	}
	if sc != nil {
		client = sc
	}
	s.setState(Status{URL: u, State: "starting"})
	engineLog := slog.New(&errorTap{next: s.log.Handler(), onError: func(msg string) { s.fail(u, errors.New(msg)) }})
	db := litestream.NewDB(s.path)
	db.MonitorInterval = s.opt.MonitorInterval
	db.BusyTimeout = 5 * time.Second // as the service's own connections: a long write must not fail its start
	r := litestream.NewReplicaWithClient(db, client)
	r.SyncInterval = s.opt.SyncInterval
	db.Replica = r
	st := litestream.NewStore([]*litestream.DB{db}, litestream.DefaultCompactionLevels)
	st.Logger = engineLog
	db.SetLogger(engineLog.With("replica", u))
	if s.opt.AutoCheckpoint != nil {
		if err := s.opt.AutoCheckpoint(ctx, 0); err != nil {
			return err
		}
		defer func() {
			if cerr := s.opt.AutoCheckpoint(context.WithoutCancel(ctx), store.DefaultAutoCheckpoint); cerr != nil {
				s.log.Warn("replica: turning automatic checkpoints back on", "err", cerr)
			}
		}()
	}
	if err := st.Open(ctx); err != nil {
		return fmt.Errorf("replica %s: start: %w", u, err)
	}
	s.log.Info("replicating the database", "replica", u)
	s.mu.Lock()
	s.cur, s.curURL = db, u
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.cur, s.curURL = nil, ""
		s.mu.Unlock()
		// Ship what is pending, then let go of the database.
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		if cerr := st.Close(cctx); cerr != nil {
			s.log.Warn("replica: stopping", "replica", u, "err", cerr)
		}
		s.refresh(u, db)
		s.log.Info("replication stopped", "replica", u, "txid", s.Status().ReplicaTXID)
	}()
	t := time.NewTicker(s.opt.Poll)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-changed:
			return nil
		case <-t.C:
			s.refresh(u, db)
		}
	}
}

// ErrNotReplicating: Flush was called while no replica is being written.
var ErrNotReplicating = errors.New("replica: not replicating")

// Flush reads every transaction committed so far from the WAL and ships
// it to the replica before it returns (the engine does the same by itself
// within a few hundred milliseconds). It fails with ErrNotReplicating
// while replication is off or starting.
func (s *Service) Flush(ctx context.Context) error {
	s.mu.Lock()
	db, u := s.cur, s.curURL
	s.mu.Unlock()
	if db == nil {
		return ErrNotReplicating
	}
	if err := db.SyncAndWait(ctx); err != nil {
		return fmt.Errorf("replica %s: flush: %w", u, err)
	}
	s.refresh(u, db)
	return nil
}

// refresh reads the positions of db and its replica into the status.
func (s *Service) refresh(u string, db *litestream.DB) {
	local, lerr := db.Pos()
	remote := db.Replica.Pos()
	now := s.opt.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.st.URL != u {
		s.st = Status{URL: u}
		s.pending = nil
	}
	if lerr == nil {
		s.st.LocalTXID = uint64(local.TXID)
	}
	s.st.ReplicaTXID = uint64(remote.TXID)
	if n := len(s.pending); s.st.LocalTXID > s.st.ReplicaTXID && (n == 0 || s.pending[n-1].txid < s.st.LocalTXID) {
		if n >= 1024 { // bounded: keep the oldest, drop the middle
			s.pending = append(s.pending[:1], s.pending[2:]...)
		}
		s.pending = append(s.pending, pending{txid: s.st.LocalTXID, seen: now})
	}
	i := 0
	for i < len(s.pending) && s.pending[i].txid <= s.st.ReplicaTXID {
		i++
	}
	s.pending = s.pending[i:]
	if last := db.LastSuccessfulSyncAt(); !last.IsZero() {
		s.st.LastSync = last
	}
	switch {
	case s.st.LastError != "" && s.st.LastErrorAt.After(s.st.LastSync):
		s.st.State = "error"
	default:
		s.st.State = "replicating"
	}
}

func (s *Service) setState(st Status) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if st.URL == s.st.URL {
		st.LastError, st.LastErrorAt, st.Errors, st.LastSync = s.st.LastError, s.st.LastErrorAt, s.st.Errors, s.st.LastSync
		st.LocalTXID, st.ReplicaTXID = s.st.LocalTXID, s.st.ReplicaTXID
	}
	s.st = st
	s.pending = nil
}

func (s *Service) fail(u string, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.st.URL != u {
		s.st = Status{URL: u}
	}
	s.st.State = "error"
	s.st.LastError = err.Error()
	s.st.LastErrorAt = s.opt.Now()
	s.st.Errors++
}

// errorTap passes the engine's records on at warning level and above and
// reports its errors (the engine logs them and retries with backoff).
type errorTap struct {
	next    slog.Handler
	onError func(msg string)
}

func (h *errorTap) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= slog.LevelWarn && h.next.Enabled(ctx, l)
}

func (h *errorTap) Handle(ctx context.Context, r slog.Record) error {
	if r.Level >= slog.LevelError {
		msg := r.Message
		r.Attrs(func(a slog.Attr) bool {
			if a.Key == "error" || a.Key == "err" {
				msg += ": " + a.Value.String()
				return false
			}
			return true
		})
		h.onError(msg)
	}
	return h.next.Handle(ctx, r)
}

func (h *errorTap) WithAttrs(as []slog.Attr) slog.Handler {
	return &errorTap{next: h.next.WithAttrs(as), onError: h.onError}
}

func (h *errorTap) WithGroup(name string) slog.Handler {
	return &errorTap{next: h.next.WithGroup(name), onError: h.onError}
}

// EnvCABundle is the AWS SDK's variable for extra certificate authorities.
// The S3 client of the replication builds its own HTTP transport, with
// which the SDK refuses to start while the variable is set ("unable to add
// custom RootCAs"); SSL_CERT_FILE, which Go's TLS reads, takes its place.
const EnvCABundle = "AWS_CA_BUNDLE"

// DropCABundle removes EnvCABundle from the process environment, where it
// is set, and says so on log; the commands that replicate or restore call
// it once at their start, before anything else runs.
func DropCABundle(log *slog.Logger) {
	if v, ok := os.LookupEnv(EnvCABundle); ok {
		_ = os.Unsetenv(EnvCABundle)
		if v != "" && log != nil {
			log.Warn(EnvCABundle+" is ignored: the S3 client of the replication cannot use it; "+
				"put the certificate authorities in SSL_CERT_FILE instead", "bundle", v)
		}
	}
}
