package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"time"

	"recordings/applog"
	"recordings/convert"
	"recordings/health"
	"recordings/internal/app"
	"recordings/media"
	"recordings/store"
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
	sessionIdle            time.Duration // sessions unused this long end
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
	idle, err := envDuration("RECORDINGS_SESSION_IDLE", store.DefaultSessionIdle)
	if err != nil {
		return c, err
	}
	fs.DurationVar(&c.sessionIdle, "session-idle", idle, "a sign-in session unused this long ends (env RECORDINGS_SESSION_IDLE)")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("serve: unexpected arguments %q", fs.Args())
	}
	if c.shutdown <= 0 {
		return c, errors.New("serve: -shutdown-timeout must be positive")
	}
	if c.sessionIdle < time.Minute {
		return c, errors.New("serve: -session-idle must be at least 1m")
	}
	return c, nil
}

// envDuration reads a duration (e.g. "8h") from the environment, def when
// unset.
func envDuration(key string, def time.Duration) (time.Duration, error) {
	v := os.Getenv(key)
	if v == "" {
		return def, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", key, err)
	}
	return d, nil
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
	level, err := applog.ParseLevel(cfg.logLevel)
	if err != nil {
		return fmt.Errorf("-log-level: %w", err)
	}
	a, err := app.New(ctx, app.Config{DB: cfg.db, MaxUpload: cfg.maxUpload, UploadUser: cfg.uploadUser,
		UploadPassword: cfg.uploadPass, AdminPassword: os.Getenv("RECORDINGS_ADMIN_PASSWORD"), LogOutput: stderr,
		LogLevel: level, ShutdownTimeout: cfg.shutdown, MinFree: cfg.minFree, Version: buildVersion(),
		SessionIdle: cfg.sessionIdle})
	if err != nil {
		return err
	}
	// The database is closed last, after everything Run started has stopped.
	defer func() {
		if err := a.Close(); err != nil {
			a.Log.Error("closing", "err", err)
		}
	}()
	ln, err := net.Listen("tcp", cfg.listen)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	return a.Run(ctx, ln)
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
