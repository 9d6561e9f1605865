package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/sync/errgroup"

	"recordings/api"
	"recordings/applog"
	"recordings/calls"
	"recordings/convert"
	"recordings/health"
	"recordings/ingest"
	"recordings/media"
	"recordings/metrics"
	"recordings/retention"
	"recordings/settings"
	"recordings/store"
	"recordings/ui"
)

const usage = `usage: recordings [command] [flags]

commands:
  serve            start the service (the default)
  convert IN OUT   convert a pcap/pcapng capture to a stereo WAV ("-" = stdin/stdout)
  inspect IN       print the capture's RTP streams and warnings as JSON
  backup OUT.db    write a consistent snapshot of the database (while it runs)
  check            run the database integrity check (exit status 1 on failure)
  create-admin     create an administrator, or reset one's password
  version          print the version

Run "recordings COMMAND -h" for a command's flags.
`

// Run executes one subcommand; main is a thin shell around it.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cmd := "serve"
	if len(args) > 0 && args[0] != "" && args[0][0] != '-' {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "serve":
		return serve(ctx, args, stderr)
	case "convert":
		return runConvert(args, stdout)
	case "inspect":
		return inspect(args, stdout)
	case "backup":
		return backupCmd(ctx, args, stdout, stderr)
	case "check":
		return checkCmd(ctx, args, stdout, stderr)
	case "create-admin":
		return createAdminCmd(ctx, args, stdout, stderr)
	case "version":
		fmt.Fprintln(stdout, "recordings", buildVersion())
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	default:
		return fmt.Errorf("unknown command %q\n%s", cmd, usage)
	}
}

// config is what serve reads from flags and the environment.
type config struct {
	listen, db             string
	maxUpload              int64
	uploadUser, uploadPass string
	logLevel               string        // process log (stdout/stderr) level
	shutdown               time.Duration // how long uploads in flight may take at SIGTERM
	minFree                uint64        // free disk below which /healthz fails
}

func parseServeFlags(args []string, stderr io.Writer) (config, error) {
	c := config{listen: envOr("RECORDINGS_LISTEN", ":8080"), db: envOr("RECORDINGS_DB", "./data/recordings.db"),
		uploadUser: os.Getenv("RECORDINGS_UPLOAD_USER"), uploadPass: os.Getenv("RECORDINGS_UPLOAD_PASSWORD")}
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.listen, "listen", c.listen, "listen address (env RECORDINGS_LISTEN)")
	fs.StringVar(&c.db, "db", c.db, "SQLite database file (env RECORDINGS_DB)")
	fs.Int64Var(&c.maxUpload, "max-upload", 4<<30, "largest accepted capture upload in bytes")
	c.logLevel = envOr("RECORDINGS_LOG_LEVEL", "info")
	fs.StringVar(&c.logLevel, "log-level", c.logLevel, "process log level: debug, info, warn, error (env RECORDINGS_LOG_LEVEL)")
	fs.DurationVar(&c.shutdown, "shutdown-timeout", 30*time.Second, "at SIGTERM, how long uploads in flight may take to finish")
	fs.Uint64Var(&c.minFree, "min-free", health.DefaultMinFree, "free disk bytes below which /healthz reports failure")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("serve: unexpected arguments %q", fs.Args())
	}
	if c.shutdown <= 0 {
		return c, errors.New("serve: -shutdown-timeout must be positive")
	}
	return c, nil
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

func serve(ctx context.Context, args []string, stderr io.Writer) error {
	cfg, err := parseServeFlags(args, stderr)
	if err != nil {
		return err
	}
	outLevel, err := applog.ParseLevel(cfg.logLevel)
	if err != nil {
		return fmt.Errorf("-log-level: %w", err)
	}
	// The process log stays plain text for people; applog also stores the
	// records for the UI once the database is open (queued until then).
	levels := applog.NewLevels(slog.LevelInfo)
	sink := &lateSink{}
	text := slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: outLevel})
	alog := applog.New(text, levels, sink, 8192)
	log := alog.Slog()

	db, err := store.Open(ctx, cfg.db, log)
	if err != nil {
		return fmt.Errorf("open database: %w", err)
	}
	sink.db = db
	logCtx, stopLogs := context.WithCancel(context.WithoutCancel(ctx))
	logsDone := make(chan error, 1)
	go func() { logsDone <- alog.Run(logCtx, 0, 0) }()
	// Closed last, after every service below has stopped and the log
	// queue is written.
	defer func() {
		stopLogs()
		<-logsDone
		if err := db.Close(); err != nil {
			log.Error("closing the database", "err", err)
		}
	}()

	// A generated password goes to the process log only, never the
	// database's log table.
	if err := ensureAdmin(ctx, db, slog.New(text)); err != nil {
		return err
	}
	set := settings.New(db, log, levels)
	m := metrics.New()
	m.WatchDatabase(db.Size)
	m.WatchLogs(func() int64 { return alog.Dropped() + alog.Failed() })
	// PBX integration: recordings of users without a licence go at start-up
	// (only when a licence count is configured), then CDRs attach to
	// recordings whichever arrives first.
	if _, err := calls.PurgeUnlicensed(ctx, db, log); err != nil {
		return err
	}
	// A CDR changing a recording reaches the web apps like an ingest change;
	// publish is set to the server's Publish before anything can call it.
	publish := func(ingest.Event) {}
	matcher := calls.New(db, log, calls.Options{OnChange: func(id int64) { publish(ingest.Event{Kind: "updated", ID: id}) }})
	ing := ingest.New(db, log, ingest.Options{MaxUploadBytes: cfg.maxUpload, Attach: matcher.Attach, Observer: m})
	rt := retention.New(db, log, retention.Options{
		Policy: func(context.Context) (retention.Policy, error) {
			v := set.Values()
			return retention.Policy{RecordingDays: v.RetentionDays, LogDays: v.LogRetentionDays}, nil
		},
		OnDelete: func(id int64) {
			ing.Forget(id)
			m.RetentionDeleted(1)
			publish(ingest.Event{Kind: "deleted", ID: id})
		},
	})
	set.OnChange(func(_ context.Context, changed []string) {
		for _, k := range changed {
			if k == settings.KeyRetentionDays || k == settings.KeyLogRetentionDays {
				rt.Kick()
				return
			}
		}
	})
	if err := set.Load(ctx); err != nil {
		return err
	}
	for _, p := range set.Problems() {
		log.Warn("configuration incomplete: "+p, "category", applog.UI)
	}
	hc := &health.Checker{Ping: db.Ping, Size: db.Size, Dir: filepath.Dir(db.Path()), MinFree: cfg.minFree, Problems: set.Problems}
	srv := api.New(db, ing, log, api.Options{UI: ui.Files(), UploadUser: cfg.uploadUser, UploadPassword: cfg.uploadPass,
		Calls: matcher, Ops: api.Ops{Health: hc, Metrics: m, Settings: set, Version: version}})
	ing.OnEvent(srv.Publish) // recording changes reach the web apps live
	publish = srv.Publish
	// Settings changed through the web apps are stored, logged and take
	// effect at once through the settings service.
	srv.UseSettings(set)
	ln, err := net.Listen("tcp", cfg.listen)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	hs := api.NewHTTPServer(srv.Handler(), log, api.Timeouts{}, m)
	hs.RegisterOnShutdown(srv.CloseWebsockets) // Shutdown does not wait for websockets
	log.Info("recordings started", "version", version, "listen", ln.Addr().String(), "db", cfg.db)

	// Ingest outlives the HTTP server: uploads in flight at shutdown are
	// finished (or kept as incomplete) before its workers stop.
	ingCtx, stopIngest := context.WithCancel(context.WithoutCancel(ctx))
	defer stopIngest()
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return ing.Run(ingCtx) })
	g.Go(func() error { return matcher.Run(gctx, 0) })
	g.Go(func() error { return rt.Run(gctx) })
	g.Go(func() error { return set.Watch(gctx, 10*time.Second, nil) })
	g.Go(func() error {
		if err := hs.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("http: %w", err)
		}
		return nil
	})
	g.Go(func() error {
		<-gctx.Done()
		defer stopIngest()
		return shutdownHTTP(hs, ing, log, cfg.shutdown)
	})
	return g.Wait()
}

// shutdownHTTP stops accepting connections and lets requests in flight end
// within timeout; then it cuts the rest (their uploads are kept as
// incomplete) and waits briefly for ingest to store what arrived.
func shutdownHTTP(hs *http.Server, ing *ingest.Service, log *slog.Logger, timeout time.Duration) error {
	log.Info("shutting down: letting uploads in flight finish", "uploads", ing.Uploads(), "timeout", timeout)
	sctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		log.Warn("uploads still running at the shutdown timeout: cutting them off, keeping what arrived",
			"uploads", ing.Uploads())
		if cerr := hs.Close(); cerr != nil {
			log.Warn("closing connections", "err", cerr)
		}
	}
	wctx, wcancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer wcancel()
	if err := ing.WaitUploads(wctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	log.Info("http stopped")
	return nil
}

// lateSink is the log sink before and after the database is open: records
// wait in applog's queue until Run starts, which is after db is set.
type lateSink struct{ db *store.DB }

func (s *lateSink) AddLogs(ctx context.Context, es []store.LogEntry) error {
	return s.db.AddLogs(ctx, es)
}

// ensureAdmin creates the first account on a fresh database: admin with the
// password from RECORDINGS_ADMIN_PASSWORD, or a generated one logged once.
func ensureAdmin(ctx context.Context, db *store.DB, log *slog.Logger) error {
	n, err := db.UserCount(ctx)
	if err != nil {
		return fmt.Errorf("count users: %w", err)
	}
	if n > 0 {
		return nil
	}
	pw := os.Getenv("RECORDINGS_ADMIN_PASSWORD")
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

// fileOpener re-opens a named capture file for each pass; "-" spools stdin
// to a temporary file first, since conversion reads the capture twice.
func fileOpener(name string) (convert.Opener, func(), error) {
	if name == "-" {
		f, err := os.CreateTemp("", "recordings-stdin-*.pcap")
		if err != nil {
			return nil, nil, fmt.Errorf("spool stdin: %w", err)
		}
		cleanup := func() { f.Close(); os.Remove(f.Name()) }
		if _, err := io.Copy(f, os.Stdin); err != nil {
			cleanup()
			return nil, nil, fmt.Errorf("spool stdin: %w", err)
		}
		name = f.Name()
		return func() (io.ReadCloser, error) { return os.Open(name) }, cleanup, nil
	}
	if _, err := os.Stat(name); err != nil {
		return nil, nil, err
	}
	return func() (io.ReadCloser, error) { return os.Open(name) }, func() {}, nil
}

func runConvert(args []string, stdout io.Writer) error {
	if len(args) != 2 {
		return errors.New("usage: recordings convert IN.pcap OUT.wav (\"-\" for stdin/stdout)")
	}
	open, cleanup, err := fileOpener(args[0])
	if err != nil {
		return err
	}
	defer cleanup()
	a, err := convert.Analyze(open, media.Options{})
	if err != nil {
		return err
	}
	if args[1] == "-" {
		return convert.WriteWAV(a, open, stdout)
	}
	tmp := args[1] + ".part"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	if err := convert.WriteWAV(a, open, f); err != nil {
		f.Close()
		os.Remove(tmp)
		return err
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return err
	}
	return os.Rename(tmp, args[1])
}

func inspect(args []string, stdout io.Writer) error {
	if len(args) != 1 {
		return errors.New("usage: recordings inspect IN.pcap (\"-\" for stdin)")
	}
	open, cleanup, err := fileOpener(args[0])
	if err != nil {
		return err
	}
	defer cleanup()
	a, err := convert.Analyze(open, media.Options{})
	if err != nil {
		return err
	}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(struct {
		SampleRate int                 `json:"sample_rate"`
		DurationMS int64               `json:"duration_ms"`
		Streams    []media.StreamStats `json:"streams"`
		Warnings   []string            `json:"warnings"`
	}{a.SampleRate, a.DurationMS(), a.Streams, a.Warnings})
}
