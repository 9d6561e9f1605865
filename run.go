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
	"time"

	"golang.org/x/sync/errgroup"

	"recordings/api"
	"recordings/calls"
	"recordings/ingest"
	"recordings/media"
	"recordings/store"
	"recordings/ui"
)

const usage = `usage: recordings [command] [flags]

commands:
  serve            start the service (the default)
  convert IN OUT   convert a pcap/pcapng capture to a stereo WAV ("-" = stdin/stdout)
  inspect IN       print the capture's RTP streams and warnings as JSON
  version          print the version
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
		return convert(args, stdout)
	case "inspect":
		return inspect(args, stdout)
	case "version":
		fmt.Fprintln(stdout, "recordings", version)
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
}

func parseServeFlags(args []string, stderr io.Writer) (config, error) {
	c := config{listen: envOr("RECORDINGS_LISTEN", ":8080"), db: envOr("RECORDINGS_DB", "./data/recordings.db"),
		uploadUser: os.Getenv("RECORDINGS_UPLOAD_USER"), uploadPass: os.Getenv("RECORDINGS_UPLOAD_PASSWORD")}
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.listen, "listen", c.listen, "listen address (env RECORDINGS_LISTEN)")
	fs.StringVar(&c.db, "db", c.db, "SQLite database file (env RECORDINGS_DB)")
	fs.Int64Var(&c.maxUpload, "max-upload", 4<<30, "largest accepted capture upload in bytes")
	if err := fs.Parse(args); err != nil {
		return c, err
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
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	db, err := store.Open(ctx, cfg.db, log)
	if err != nil {
		return fmt.Errorf("open database: %w", err)
	}
	defer db.Close() // closed last, after every service below has stopped
	if err := ensureAdmin(ctx, db, log); err != nil {
		return err
	}
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
	ing := ingest.New(db, log, ingest.Options{MaxUploadBytes: cfg.maxUpload, Attach: matcher.Attach})
	srv := api.New(db, ing, log, api.Options{UI: ui.Files(), UploadUser: cfg.uploadUser, UploadPassword: cfg.uploadPass,
		Calls: matcher})
	ing.OnEvent(srv.Publish) // recording changes reach the web apps live
	publish = srv.Publish
	ln, err := net.Listen("tcp", cfg.listen)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	hs := api.NewHTTPServer(srv.Handler(), log, api.Timeouts{})
	hs.RegisterOnShutdown(srv.CloseWebsockets) // Shutdown does not wait for websockets
	log.Info("recordings started", "version", version, "listen", ln.Addr().String(), "db", cfg.db)

	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return ing.Run(gctx) })
	g.Go(func() error { return matcher.Run(gctx, 0) })
	g.Go(func() error {
		if err := hs.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("http: %w", err)
		}
		return nil
	})
	g.Go(func() error {
		<-gctx.Done()
		log.Info("shutting down: letting uploads in flight finish")
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		return hs.Shutdown(sctx)
	})
	return g.Wait()
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
func fileOpener(name string) (ingest.Opener, func(), error) {
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

func convert(args []string, stdout io.Writer) error {
	if len(args) != 2 {
		return errors.New("usage: recordings convert IN.pcap OUT.wav (\"-\" for stdin/stdout)")
	}
	open, cleanup, err := fileOpener(args[0])
	if err != nil {
		return err
	}
	defer cleanup()
	a, err := ingest.Analyze(open, media.Options{})
	if err != nil {
		return err
	}
	if args[1] == "-" {
		return ingest.WriteWAV(a, open, stdout)
	}
	tmp := args[1] + ".part"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	if err := ingest.WriteWAV(a, open, f); err != nil {
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
	a, err := ingest.Analyze(open, media.Options{})
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
