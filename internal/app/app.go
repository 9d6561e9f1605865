// Package app is the composition root: it builds the whole service — the
// database, the log, the settings, the event broker, ingest, the CDR
// matcher, retention, metrics, health and the HTTP layer — in one place,
// runs its long-running parts under one context and closes the database
// last. The serve command, every API test (through internal/apptest) and
// the browser tests use it, so that what is tested is what runs.
//
// Where things go: a new route belongs to its resource's file in api/; a
// new setting to settings (key, validation, typed value); a new subscriber
// to recording changes is one a.Events.Subscribe call in New.
package app

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"recordings/api"
	"recordings/applog"
	"recordings/calls"
	"recordings/capstore"
	"recordings/events"
	"recordings/health"
	"recordings/ingest"
	"recordings/internal/tlscert"
	"recordings/metrics"
	"recordings/pbxlink"
	"recordings/replica"
	"recordings/retention"
	"recordings/settings"
	"recordings/store"
	"recordings/ui"
)

// Config is what the service is started with: flags and environment in
// production, a test's choices in tests. Zero values take the defaults.
type Config struct {
	DB        string // SQLite database file (created with its folder)
	MaxUpload int64  // largest accepted capture upload; default 4 GiB
	// The ingress credentials (HTTP Basic) and the AppLogin instance
	// password given at start-up (environment): each one set is in force
	// over the stored setting, which the admin then cannot change. Unset
	// ones come from the settings; missing there, the first start
	// generates them (see ingress.go).
	UploadUser, UploadPassword string
	CDRUser, CDRPassword       string
	InstancePassword           string
	// Domain, when set, is the domain this instance serves (the App
	// Platform's instance domain), or a comma-separated list of them, the
	// first the default; it is in force over the stored setting.
	Domain string
	// AnonymousNetworks, when set, fixes the source networks that may
	// upload and post CDRs without credentials (a list of CIDRs and
	// addresses).
	AnonymousNetworks string
	// AdminPassword is the password of the first admin account on a fresh
	// database; "" generates one and logs it once. One shorter than
	// store.MinPasswordLen stops New (whether or not it is used).
	AdminPassword string
	LogOutput     io.Writer  // the process log; default io.Discard
	LogLevel      slog.Level // of the process log
	// ShutdownTimeout is how long uploads in flight may take to finish
	// when Run's context ends; default 30 s.
	ShutdownTimeout time.Duration
	MinFree         uint64 // free disk below which /healthz fails; default health.DefaultMinFree
	Version         string
	UI              fs.FS // the web apps; default the embedded ui.Files()

	// TLS makes HTTPS available (App.ListenTLS); off by default.
	TLS TLSConfig
	// BehindTLSProxy declares that browsers reach the service through a
	// TLS-terminating proxy: a request the proxy marks with
	// X-Forwarded-Proto: https gets Secure session cookies. The header is
	// trusted for nothing else.
	BehindTLSProxy bool
	// FrameAncestors is the CSP frame-ancestors source list of the pages:
	// who may show the apps in a frame (the myApps client's origin, e.g.
	// "https://pbx.example.com"); default 'self'.
	FrameAncestors string
	// MetricsToken, when set, lets a scraper read /metrics and the details
	// of /healthz with "Authorization: Bearer <token>".
	MetricsToken string
	// SessionIdle ends a session unused for this long; default
	// store.DefaultSessionIdle (8 h). Sessions also end Tuning.SessionTTL
	// after sign-in.
	SessionIdle time.Duration
	// ReplicaURL, when set, fixes where the database is replicated
	// continuously (file:///folder or s3://bucket/prefix) over the
	// replica_url setting of the admin app.
	ReplicaURL string
	// S3 is how an s3:// replica is reached (endpoint, region, keys).
	S3 replica.S3

	// CaptureStore is where completed captures are kept: "" or "sqlite"
	// (the database, the default) or s3://bucket/prefix (an S3-compatible
	// object store reached with S3). Uploads are always spooled to the
	// database first and shipped once analysed.
	// The object store is reached with S3, as the replica.
	CaptureStore string
	// KeyFile holds the master key for encryption at rest ("" = captures
	// are stored in clear). An unusable file does not stop the service:
	// it starts without a key, reports the problem in /healthz, and stores
	// new captures in clear rather than lose calls.
	KeyFile string

	Tuning Tuning
}

// TLSConfig configures HTTPS.
type TLSConfig struct {
	On bool
	// CertFile and KeyFile are a certificate chain and its private key
	// (PEM), re-read when they change. Both empty: a self-signed
	// certificate is generated on first use and kept next to the database
	// (tlscert.SelfSignedCert and tlscert.SelfSignedKey, mode 0600).
	CertFile, KeyFile string
	// Hosts are the DNS names and IP addresses a generated certificate is
	// made for; default tlscert.DefaultHosts("").
	Hosts []string
}

// Tuning are the knobs tests turn; production leaves them zero.
type Tuning struct {
	Now           func() time.Time // one clock for store, ingest, matcher, retention and API
	BcryptCost    int              // default bcrypt's
	ChunkBytes    int              // stored capture chunk size
	FlushInterval time.Duration    // how often a streamed upload is persisted
	UploadIdle    time.Duration    // an upload silent this long is cut off
	SessionTTL    time.Duration
	SettingsPoll  time.Duration // how often settings are re-read; default 10 s
	// CaptureInterval is how often captures waiting for the object store
	// are retried; default 10 s.
	CaptureInterval time.Duration
	// PBXUsersObserve, if set, is told each step of the PBX user
	// replication (tests wait on it).
	PBXUsersObserve func(pbxlink.UsersEvent)
	// PbxInfoTimeout is how soon after its login the PBX must send
	// PbxInfo; default pbxlink.DefaultInfoTimeout.
	PbxInfoTimeout time.Duration
	HTTP           api.Timeouts // the HTTP server's connection timeouts
	// Disk reports free and total bytes at a path for /healthz; default
	// the file system's (health.DiskSpace).
	Disk func(path string) (free, total uint64, err error)
}

// App is the running service's parts. The fields are for tests and the
// serve command to reach in; the wiring is New's.
type App struct {
	Log       *slog.Logger // the application log (process log + stored records)
	DB        *store.DB
	Events    *events.Broker
	Settings  *settings.Service
	Ingest    *ingest.Service
	Calls     *calls.Matcher
	Retention *retention.Runner
	Captures  *capstore.Runner
	Metrics   *metrics.Metrics
	Health    *health.Checker
	Replica   *replica.Service // continuous replication of the database
	API       *api.Server
	// TLS is the HTTPS configuration when Config.TLS is on, else nil.
	TLS *tls.Config
	// Certificate is the HTTPS certificate source when Config.TLS is on.
	Certificate *tlscert.Source
	// PBX keeps the PBX's App-object connections; Licences reads the
	// licences over it (pbx.go).
	PBX      *pbxlink.Hub
	Licences *pbxlink.LicenceSet
	// PBXUsers replicates the PBX's user table (PbxTableUsers).
	PBXUsers *pbxlink.Users
	// AppObjects keeps the App objects on the PBX (PbxAdminApi); the
	// app-object table is its cache.
	AppObjects *pbxlink.AppObjects

	cfg Config
	// purgeDue: the licence purge waits for the PBX's first answer.
	purgeDue atomic.Bool
	// purged: with several domains, the domains whose PBX's answer has
	// run the purge since the start (domain → true).
	purged   sync.Map
	handler  http.Handler
	alog     *applog.Logger
	stopLogs context.CancelFunc
	logsDone chan error
}

// New builds the service on cfg: it opens (and migrates) the database,
// creates the first admin on a fresh one, purges unlicensed users'
// recordings when licences are enforced, and wires every component. Call
// Run to serve and Close when done.
func New(ctx context.Context, cfg Config) (_ *App, err error) {
	if cfg.DB == "" {
		return nil, errors.New("app: no database path")
	}
	if cfg.LogOutput == nil {
		cfg.LogOutput = io.Discard
	}
	if cfg.ShutdownTimeout <= 0 {
		cfg.ShutdownTimeout = 30 * time.Second
	}
	if cfg.UI == nil {
		cfg.UI = ui.Files()
	}
	if cfg.Tuning.SettingsPoll <= 0 {
		cfg.Tuning.SettingsPoll = 10 * time.Second
	}
	a := &App{cfg: cfg, Events: &events.Broker{}, Metrics: metrics.New()}

	// The process log stays plain text for people; applog also stores the
	// records for the UI once the database is open (queued until then).
	levels := applog.NewLevels(slog.LevelInfo)
	text := slog.NewTextHandler(cfg.LogOutput, &slog.HandlerOptions{Level: cfg.LogLevel})
	sink := &dbSink{}
	a.alog = applog.New(text, levels, sink, 8192)
	a.Log = a.alog.Slog()

	if cfg.AdminPassword != "" {
		if err := store.CheckNewPassword(cfg.AdminPassword); err != nil {
			return nil, fmt.Errorf("RECORDINGS_ADMIN_PASSWORD: %w (it sets the first admin's password: choose a longer one, "+
				"or unset it to have one generated)", err)
		}
	}
	master, keyProblem := loadKey(cfg.KeyFile, a.Log)
	a.DB, err = store.OpenOptions(ctx, cfg.DB, a.Log, store.Options{Now: cfg.Tuning.Now, BcryptCost: cfg.Tuning.BcryptCost,
		SessionIdle: cfg.SessionIdle, MasterKey: master, Blobs: blobResolver(s3Config(cfg.S3))})
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	sink.db = a.DB
	logCtx, stopLogs := context.WithCancel(context.WithoutCancel(ctx))
	a.stopLogs, a.logsDone = stopLogs, make(chan error, 1)
	built := a // the closures use this: a is nil once a failure returns
	go func() { built.logsDone <- built.alog.Run(logCtx, 0, 0) }()
	defer func() {
		if err != nil {
			built.Close()
		}
	}()

	// A generated password goes to the process log only, never the
	// database's log table.
	if err := ensureAdmin(ctx, a.DB, cfg.AdminPassword, slog.New(text)); err != nil {
		return nil, err
	}
	a.Settings = settings.New(a.DB, a.Log, levels)
	if err := fixIngress(a.Settings, cfg); err != nil {
		return nil, err
	}
	if err := setCaptureStore(ctx, a.DB, cfg.CaptureStore, s3Config(cfg.S3), a.Log); err != nil {
		return nil, err
	}
	a.Captures = capstore.New(a.DB, a.Log, capstore.Options{Interval: cfg.Tuning.CaptureInterval, KeyProblem: keyProblem})
	a.Events.Subscribe(a.Captures.RecordingEvent)
	a.Metrics.WatchDatabase(a.DB.Size)
	a.Metrics.WatchLogs(func() int64 { return a.alog.Dropped() + a.alog.Failed() })
	a.Events.Subscribe(a.Metrics.RecordingEvent)
	a.Calls = calls.New(a.DB, a.Log, calls.Options{Now: cfg.Tuning.Now, Events: a.Events})
	a.Ingest = ingest.New(a.DB, a.Log, ingest.Options{MaxUploadBytes: cfg.MaxUpload, ChunkBytes: cfg.Tuning.ChunkBytes,
		FlushInterval: cfg.Tuning.FlushInterval, Now: cfg.Tuning.Now, Observer: a.Metrics, Attach: a.Calls.Attach,
		Events: a.Events})
	a.Retention = retention.New(a.DB, a.Log, retention.Options{
		Now:    cfg.Tuning.Now,
		Policy: func(context.Context) (retention.Policy, error) { return retentionPolicy(a.Settings.Values()), nil },
		Events: a.Events,
	})
	a.Replica = replica.New(a.DB.Path(), a.Log.With("category", applog.System),
		replica.Options{S3: cfg.S3, AutoCheckpoint: a.DB.SetAutoCheckpoint, Key: master})
	if err := a.Metrics.Registry().Register(replica.Collector(a.Replica.Status)); err != nil {
		return nil, fmt.Errorf("replica metrics: %w", err)
	}
	if err := a.Settings.Fix(settings.KeyReplicaURL, cfg.ReplicaURL, "-replica-url (RECORDINGS_REPLICA_URL)"); err != nil {
		return nil, fmt.Errorf("configuration: %w", err)
	}
	a.Settings.OnChange(func(_ context.Context, changed []string) {
		for _, k := range changed {
			if k == settings.KeyReplicaURL {
				a.Replica.SetURL(a.Settings.Values().ReplicaURL)
			}
		}
		for _, k := range changed {
			base, _, _ := settings.SplitDomainKey(k)
			if base == settings.KeyRetentionDays || k == settings.KeyLogRetentionDays || k == settings.KeyDomain {
				a.Retention.Kick()
				return
			}
		}
	})
	if err := a.Settings.Load(ctx); err != nil {
		return nil, err
	}
	if err := ensureCredentials(ctx, a.DB, a.Settings, slog.New(text)); err != nil {
		return nil, err
	}
	for _, p := range a.Settings.Problems() {
		a.Log.Warn("configuration incomplete: "+p, "category", applog.UI)
	}
	// Recordings of users without a licence go at start-up: with typed-in
	// licences (a licence count configured) now, with licences from the
	// PBX on its first answer (pbx.go).
	if err := a.purgeLicences(ctx); err != nil {
		return nil, err
	}
	a.setupPBX()
	if cfg.TLS.On {
		if err := a.setupTLS(); err != nil {
			return nil, err
		}
	}
	a.Health = &health.Checker{Ping: a.DB.Ping, Size: a.DB.Size, Dir: filepath.Dir(a.DB.Path()), MinFree: cfg.MinFree,
		Problems: func() []string { return append(a.Settings.Problems(), a.PBX.Problems()...) }, Disk: cfg.Tuning.Disk,
		Captures: a.Captures.Check}
	a.API, err = api.New(api.Deps{DB: a.DB, Ingest: a.Ingest, Calls: a.Calls, Settings: a.Settings, Events: a.Events,
		Health: a.Health, Metrics: a.Metrics, Log: a.Log, Replica: a.Replica, PBX: a.PBX, Licences: a.Licences,
		AppObjects: a.AppObjects},
		api.Options{UI: cfg.UI, Now: cfg.Tuning.Now, SessionTTL: cfg.Tuning.SessionTTL, UploadIdle: cfg.Tuning.UploadIdle,
			Version: cfg.Version, BehindTLSProxy: cfg.BehindTLSProxy, FrameAncestors: cfg.FrameAncestors,
			MetricsToken: cfg.MetricsToken})
	if err != nil {
		return nil, err
	}
	a.handler = a.API.Handler()
	return a, nil
}

// setupTLS loads or generates the HTTPS certificate and logs which one
// is in use.
func (a *App) setupTLS() error {
	t := a.cfg.TLS
	opt := tlscert.Options{Now: a.cfg.Tuning.Now, Log: a.Log.With("category", applog.System)}
	var err error
	if t.CertFile != "" || t.KeyFile != "" {
		a.Certificate, err = tlscert.Files(t.CertFile, t.KeyFile, opt)
	} else {
		hosts := t.Hosts
		if len(hosts) == 0 {
			hosts = tlscert.DefaultHosts("")
		}
		a.Certificate, err = tlscert.SelfSigned(filepath.Dir(a.DB.Path()), hosts, opt)
	}
	if err != nil {
		return err
	}
	a.TLS = a.Certificate.Config()
	a.Log.Info("HTTPS certificate", tlscert.Attrs(a.Certificate.Certificate().Leaf)...)
	return nil
}

// tlsListener is a listener whose connections speak TLS.
type tlsListener struct{ net.Listener }

// ListenTLS makes ln serve HTTPS when given to Run. It needs Config.TLS.
func (a *App) ListenTLS(ln net.Listener) (net.Listener, error) {
	if a.TLS == nil {
		return nil, errors.New("app: HTTPS is not configured")
	}
	return tlsListener{tls.NewListener(ln, a.TLS)}, nil
}

// Handler is the service's HTTP handler.
func (a *App) Handler() http.Handler { return a.handler }

// Run serves HTTP on each listener (HTTPS on those from ListenTLS) and
// runs the background work (analyses, CDR matching, retention, settings
// reloads) until ctx ends or one of them fails. Then it stops accepting
// connections, lets uploads in flight finish for Config.ShutdownTimeout,
// cuts the rest (kept as incomplete) and returns once everything has
// stopped. It does not close the database.
func (a *App) Run(ctx context.Context, lns ...net.Listener) error {
	if len(lns) == 0 {
		return errors.New("app: run: no listener")
	}
	hs := api.NewHTTPServer(a.handler, a.Log, a.cfg.Tuning.HTTP, a.Metrics)
	hs.RegisterOnShutdown(a.API.CloseWebsockets) // Shutdown does not wait for websockets
	attrs := []any{"version", a.cfg.Version}
	for _, ln := range lns {
		if _, ok := ln.(tlsListener); ok {
			attrs = append(attrs, "listen_tls", ln.Addr().String())
		} else {
			attrs = append(attrs, "listen", ln.Addr().String())
		}
	}
	a.Log.Info("recordings started", append(attrs, "db", a.DB.Path())...)
	if a.TLS == nil && !a.cfg.BehindTLSProxy {
		a.Log.Warn("serving plain HTTP only: passwords, session cookies and recordings cross the network unencrypted")
	}

	// Replication outlives everything that writes: it stops (shipping what
	// is pending) once the rest has, and before Close closes the database.
	repCtx, stopReplica := context.WithCancel(context.WithoutCancel(ctx))
	repDone := make(chan error, 1)
	go func() { repDone <- a.Replica.Run(repCtx) }()
	defer func() {
		stopReplica()
		if err := <-repDone; err != nil {
			a.Log.Error("replication", "err", err)
		}
	}()

	// Ingest outlives the HTTP server: uploads in flight at shutdown are
	// finished (or kept as incomplete) before its workers stop.
	ingCtx, stopIngest := context.WithCancel(context.WithoutCancel(ctx))
	defer stopIngest()
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return a.Ingest.Run(ingCtx) })
	g.Go(func() error { return a.Calls.Run(gctx, 0) })
	g.Go(func() error { return a.PBXUsers.Run(gctx) })
	g.Go(func() error { return a.Retention.Run(gctx) })
	g.Go(func() error { return a.Captures.Run(gctx) })
	g.Go(func() error { return a.Settings.Watch(gctx, a.cfg.Tuning.SettingsPoll, nil) })
	g.Go(func() error { return a.API.Run(gctx) })
	for _, ln := range lns {
		g.Go(func() error {
			if err := hs.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				return fmt.Errorf("http: %w", err)
			}
			return nil
		})
	}
	g.Go(func() error {
		<-gctx.Done()
		defer stopIngest()
		return a.shutdownHTTP(hs)
	})
	return g.Wait()
}

// shutdownHTTP stops accepting connections and lets requests in flight end
// within the shutdown timeout; then it cuts the rest (their uploads are
// kept as incomplete) and waits briefly for ingest to store what arrived.
func (a *App) shutdownHTTP(hs *http.Server) error {
	timeout := a.cfg.ShutdownTimeout
	a.Log.Info("shutting down: letting uploads in flight finish", "uploads", a.Ingest.Uploads(), "timeout", timeout)
	sctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		a.Log.Warn("uploads still running at the shutdown timeout: cutting them off, keeping what arrived",
			"uploads", a.Ingest.Uploads())
		if cerr := hs.Close(); cerr != nil {
			a.Log.Warn("closing connections", "err", cerr)
		}
	}
	wctx, wcancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer wcancel()
	if err := a.Ingest.WaitUploads(wctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	a.Log.Info("http stopped")
	return nil
}

// Close writes the queued log records and closes the database. Call it
// after Run has returned.
func (a *App) Close() error {
	a.stopLogs()
	<-a.logsDone
	if err := a.DB.Close(); err != nil {
		return fmt.Errorf("close database: %w", err)
	}
	return nil
}

// dbSink is the log sink before and after the database is open: records
// wait in applog's queue until its writer starts, which is after db is set.
type dbSink struct{ db *store.DB }

func (s *dbSink) AddLogs(ctx context.Context, es []store.LogEntry) error {
	return s.db.AddLogs(ctx, es)
}

// ensureAdmin creates the first account on a fresh database: admin with
// password, or a generated one logged once.
func ensureAdmin(ctx context.Context, db *store.DB, pw string, log *slog.Logger) error {
	n, err := db.UserCount(ctx)
	if err != nil {
		return fmt.Errorf("count users: %w", err)
	}
	if n > 0 {
		return nil
	}
	generated := pw == ""
	if generated {
		b := make([]byte, 12)
		if _, err := rand.Read(b); err != nil {
			return fmt.Errorf("generate admin password: %w", err)
		}
		pw = base64.RawURLEncoding.EncodeToString(b)
	}
	if _, err := db.CreateUser(ctx, store.User{Name: "admin", DisplayName: "Administrator", Role: store.RoleAdmin}, pw); err != nil {
		return fmt.Errorf("create admin: %w", err)
	}
	if generated {
		log.Warn("created account admin with a generated password; change it after signing in", "password", pw)
	} else {
		log.Info("created account admin with the password from RECORDINGS_ADMIN_PASSWORD")
	}
	return nil
}

// retentionPolicy is the retention in force: the instance-wide periods,
// and the own period of each configured domain that has one (docs/pbx.md,
// Domains).
func retentionPolicy(v settings.Values) retention.Policy {
	p := retention.Policy{RecordingDays: v.RetentionDays, LogDays: v.LogRetentionDays}
	for _, d := range v.Domains {
		if dv := v.ForDomain(d); dv.RetentionOwn {
			if p.DomainDays == nil {
				p.DomainDays = map[string]int{}
			}
			p.DomainDays[d] = dv.RetentionDays
		}
	}
	return p
}
