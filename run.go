package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"time"

	"recordings/applog"
	"recordings/convert"
	"recordings/health"
	"recordings/internal/app"
	"recordings/internal/gctarget"
	"recordings/internal/tlscert"
	"recordings/media"
	"recordings/replica"
	"recordings/store"
)

const usage = `usage: recordings [command] [flags]

commands:
  serve            start the service (the default)
  convert IN OUT   convert a pcap/pcapng capture to a stereo WAV ("-" = stdin/stdout)
  inspect IN       print the capture's RTP streams and warnings as JSON
  backup OUT.db    write a consistent snapshot of the database (while it runs)
  restore OUT.db   rebuild the database from its replica (-from URL, -timestamp T)
  check            run the database integrity check (exit status 1 on failure)
  create-admin     create an administrator, or reset one's password
  migrate-captures -to sqlite|s3://bucket/prefix
                   move the captures between the database and an object store (while it runs)
  rotate-key       rewrap the recordings' data keys under a new master key
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
	case "restore":
		return restoreCmd(ctx, args, stdout, stderr)
	case "create-admin":
		return createAdminCmd(ctx, args, stdout, stderr)
	case "migrate-captures":
		return migrateCapturesCmd(ctx, args, stdout, stderr)
	case "rotate-key":
		return rotateKeyCmd(ctx, args, stdout, stderr)
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
	cdrUser, cdrPass       string
	instancePass           string
	domain                 string        // the domain this instance serves
	anonymousNets          string        // source networks allowed without credentials
	logLevel               string        // process log (stdout/stderr) level
	shutdown               time.Duration // how long uploads in flight may take at SIGTERM
	minFree                uint64        // free disk below which /healthz fails

	listenTLS        string // HTTPS listen address, or "off"
	listenTLSDefault bool   // listenTLS is the default, not chosen
	tlsCert, tlsKey  string // PEM files; none: self-signed, kept next to the database
	tlsHosts         string // more names for the self-signed certificate, comma-separated
	behindTLSProxy   bool
	frameAncestors   string
	metricsToken     string
	sessionIdle      time.Duration // sessions unused this long end
	replicaURL       string        // continuous replication target; "" = the admin app's setting
	s3               replica.S3    // how an s3:// replica is reached
	captureStore     string        // sqlite or s3://bucket/prefix
	keyFile          string        // master key for encryption at rest
	memoryLimit      int64         // soft memory limit of the Go runtime in bytes; 0: off
	busyGCPercent    int           // the collector's target (GOGC) while many uploads run; 0: unchanged
}

// busyUploads is how many uploads being received make the collector's
// target -busy-gc-percent (until fewer than half as many remain).
const busyUploads = 100

// defaultBusyGCPercent is -busy-gc-percent's default: a thousand calls then
// peak 120 to 128 MiB instead of 154 to 170 (50: 133 to 151), for a
// collection every 4 to 5 seconds instead of every 15 to 20, some 3 % of
// one core (docs/benchmarks.md, "Load").
const defaultBusyGCPercent = 25

// off is the listen address that turns a listener off.
const off = "off"

// minMetricsToken is the shortest scrape token accepted.
const minMetricsToken = 16

func parseServeFlags(args []string, stderr io.Writer) (config, error) {
	c := config{listen: envOr("RECORDINGS_LISTEN", ":8080"), db: envOr("RECORDINGS_DB", "./data/recordings.db"),
		uploadUser: os.Getenv("RECORDINGS_UPLOAD_USER"), uploadPass: os.Getenv("RECORDINGS_UPLOAD_PASSWORD"),
		listenTLS: envOr("RECORDINGS_LISTEN_TLS", ":8443"), tlsCert: os.Getenv("RECORDINGS_TLS_CERT"),
		tlsKey: os.Getenv("RECORDINGS_TLS_KEY"), tlsHosts: os.Getenv("RECORDINGS_TLS_HOSTS"),
		frameAncestors: os.Getenv("RECORDINGS_FRAME_ANCESTORS"), metricsToken: os.Getenv("RECORDINGS_METRICS_TOKEN"),
		cdrUser: os.Getenv("RECORDINGS_CDR_USER"), cdrPass: os.Getenv("RECORDINGS_CDR_PASSWORD"),
		instancePass: os.Getenv("RECORDINGS_INSTANCE_PASSWORD"), anonymousNets: os.Getenv("RECORDINGS_ANONYMOUS_NETWORKS"),
		replicaURL: os.Getenv("RECORDINGS_REPLICA_URL"), s3: replica.S3FromEnv(os.Getenv),
		captureStore: envOr("RECORDINGS_CAPTURE_STORE", "sqlite"), keyFile: os.Getenv("RECORDINGS_KEY_FILE"),
		domain: os.Getenv("RECORDINGS_DOMAIN")}
	if v := os.Getenv("RECORDINGS_BEHIND_TLS_PROXY"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return c, fmt.Errorf("RECORDINGS_BEHIND_TLS_PROXY=%q: want true or false", v)
		}
		c.behindTLSProxy = b
	}
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.listen, "listen", c.listen, "plain HTTP listen address, or off (env RECORDINGS_LISTEN)")
	fs.StringVar(&c.listenTLS, "listen-tls", c.listenTLS, "HTTPS listen address, or off (env RECORDINGS_LISTEN_TLS)")
	fs.StringVar(&c.tlsCert, "tls-cert", c.tlsCert, "HTTPS certificate chain, PEM; without it and -tls-key a self-signed certificate is generated and kept next to the database (env RECORDINGS_TLS_CERT)")
	fs.StringVar(&c.tlsKey, "tls-key", c.tlsKey, "private key of -tls-cert, PEM (env RECORDINGS_TLS_KEY)")
	fs.StringVar(&c.tlsHosts, "tls-hosts", c.tlsHosts, "more DNS names or addresses for a generated certificate, comma-separated (env RECORDINGS_TLS_HOSTS)")
	fs.BoolVar(&c.behindTLSProxy, "behind-tls-proxy", c.behindTLSProxy, "browsers come through a TLS-terminating proxy that sets X-Forwarded-Proto: https (env RECORDINGS_BEHIND_TLS_PROXY)")
	fs.StringVar(&c.frameAncestors, "frame-ancestors", c.frameAncestors, "who may show the apps in a frame: CSP sources such as the myApps client's origin https://pbx.example.com; default 'self' (env RECORDINGS_FRAME_ANCESTORS)")
	fs.StringVar(&c.metricsToken, "metrics-token", c.metricsToken, "bearer token for /metrics and the details of /healthz (prefer env RECORDINGS_METRICS_TOKEN: flags show in ps)")
	fs.StringVar(&c.db, "db", c.db, "SQLite database file (env RECORDINGS_DB)")
	fs.Int64Var(&c.maxUpload, "max-upload", 4<<30, "largest accepted capture upload in bytes")
	c.logLevel = envOr("RECORDINGS_LOG_LEVEL", "info")
	fs.StringVar(&c.logLevel, "log-level", c.logLevel, "process log level: debug, info, warn, error (env RECORDINGS_LOG_LEVEL)")
	fs.DurationVar(&c.shutdown, "shutdown-timeout", 30*time.Second, "at SIGTERM, how long uploads in flight may take to finish")
	fs.Uint64Var(&c.minFree, "min-free", health.DefaultMinFree, "free disk bytes below which /healthz reports failure")
	fs.StringVar(&c.anonymousNets, "anonymous-networks", c.anonymousNets,
		"source networks (CIDRs or addresses, comma-separated) that may upload and post CDRs without credentials (env RECORDINGS_ANONYMOUS_NETWORKS)")
	fs.StringVar(&c.replicaURL, "replica-url", c.replicaURL,
		"replicate the database continuously to file:///folder or s3://bucket/prefix; unset: as set in the admin app (env RECORDINGS_REPLICA_URL)")
	s3Flags(fs, &c.s3)
	fs.StringVar(&c.captureStore, "capture-store", c.captureStore,
		"where completed captures are kept: sqlite (the database) or s3://bucket/prefix; S3 endpoint and credentials from RECORDINGS_S3_ENDPOINT, AWS_REGION, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY (env RECORDINGS_CAPTURE_STORE)")
	fs.StringVar(&c.keyFile, "key-file", c.keyFile,
		"master key for encryption at rest of the captures (64 hex digits, mode 0600, kept apart from the data); unset: stored in clear (env RECORDINGS_KEY_FILE)")
	fs.StringVar(&c.domain, "domain", c.domain,
		"the domains this instance serves (the {domain} of its URLs), comma-separated, the first the default; other domains' URLs get 404 and a PBX is expected from then on (env RECORDINGS_DOMAIN)")
	fs.StringVar(&c.instancePass, "instance-password", c.instancePass,
		"the instance password: the App objects' password on the PBX; default generated (prefer env RECORDINGS_INSTANCE_PASSWORD: flags show in ps)")
	idle, err := envDuration("RECORDINGS_SESSION_IDLE", store.DefaultSessionIdle)
	if err != nil {
		return c, err
	}
	fs.DurationVar(&c.sessionIdle, "session-idle", idle, "a sign-in session unused this long ends (env RECORDINGS_SESSION_IDLE)")
	if v := os.Getenv("RECORDINGS_MEMORY_LIMIT"); v != "" {
		if c.memoryLimit, err = strconv.ParseInt(v, 10, 64); err != nil {
			return c, fmt.Errorf("RECORDINGS_MEMORY_LIMIT=%q: want a number of bytes: %w", v, err)
		}
	}
	// An operator who set GOGC chose the collector's target: it stands
	// unless -busy-gc-percent is given too.
	c.busyGCPercent = defaultBusyGCPercent
	if os.Getenv("GOGC") != "" {
		c.busyGCPercent = 0
	}
	if v := os.Getenv("RECORDINGS_BUSY_GC_PERCENT"); v != "" {
		if c.busyGCPercent, err = strconv.Atoi(v); err != nil {
			return c, fmt.Errorf("RECORDINGS_BUSY_GC_PERCENT=%q: want a percentage: %w", v, err)
		}
	}
	fs.IntVar(&c.busyGCPercent, "busy-gc-percent", c.busyGCPercent,
		fmt.Sprintf("the Go collector's target (as GOGC) while %d or more uploads are received, if lower than GOGC: less memory under load for a little more CPU; 0: unchanged (default 0 when GOGC is set; env RECORDINGS_BUSY_GC_PERCENT)", busyUploads))
	fs.Int64Var(&c.memoryLimit, "memory-limit", c.memoryLimit,
		"soft memory limit of the Go runtime in bytes (debug.SetMemoryLimit): the collector works harder near it, at most half the CPU; 0: off, or GOMEMLIMIT if set (env RECORDINGS_MEMORY_LIMIT)")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("serve: unexpected arguments %q", fs.Args())
	}
	c.listenTLSDefault = os.Getenv("RECORDINGS_LISTEN_TLS") == ""
	fs.Visit(func(f *flag.Flag) {
		if f.Name == "listen-tls" {
			c.listenTLSDefault = false
		}
	})
	if c.shutdown <= 0 {
		return c, errors.New("serve: -shutdown-timeout must be positive")
	}
	if _, err := app.ParseCaptureStore(c.captureStore); err != nil {
		return c, fmt.Errorf("serve: -capture-store: %w", err)
	}
	if c.listen == "" {
		c.listen = off
	}
	if c.listenTLS == "" {
		c.listenTLS = off
	}
	switch {
	case c.memoryLimit < 0:
		return c, fmt.Errorf("serve: -memory-limit %d: want 0 (off) or a number of bytes", c.memoryLimit)
	case c.busyGCPercent < 0:
		return c, fmt.Errorf("serve: -busy-gc-percent %d: want 0 (unchanged) or a percentage", c.busyGCPercent)
	case c.sessionIdle < time.Minute:
		return c, errors.New("serve: -session-idle must be at least 1m")
	case c.listen == off && c.listenTLS == off:
		return c, errors.New("serve: -listen and -listen-tls are both off")
	case (c.tlsCert == "") != (c.tlsKey == ""):
		return c, errors.New("serve: -tls-cert and -tls-key go together")
	case c.tlsCert != "" && c.listenTLS == off:
		return c, errors.New("serve: -tls-cert is given but -listen-tls is off")
	case c.metricsToken != "" && len(c.metricsToken) < minMetricsToken:
		return c, fmt.Errorf("serve: the metrics token must have at least %d characters", minMetricsToken)
	}
	return c, nil
}

// tlsConfig is the HTTPS part of the service's configuration.
func (c config) tlsConfig() app.TLSConfig {
	if c.listenTLS == off {
		return app.TLSConfig{}
	}
	t := app.TLSConfig{On: true, CertFile: c.tlsCert, KeyFile: c.tlsKey}
	if c.tlsCert == "" {
		t.Hosts = tlscert.DefaultHosts(c.listenTLS)
		for _, h := range strings.Split(c.tlsHosts, ",") {
			if h = strings.TrimSpace(h); h != "" && !slices.Contains(t.Hosts, h) {
				t.Hosts = append(t.Hosts, h)
			}
		}
	}
	return t
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
	replica.DropCABundle(slog.New(slog.NewTextHandler(stderr, nil)))
	if cfg.memoryLimit > 0 {
		debug.SetMemoryLimit(cfg.memoryLimit)
	}
	a, err := app.New(ctx, app.Config{DB: cfg.db, MaxUpload: cfg.maxUpload, UploadUser: cfg.uploadUser,
		UploadPassword: cfg.uploadPass, CDRUser: cfg.cdrUser, CDRPassword: cfg.cdrPass, InstancePassword: cfg.instancePass,
		AnonymousNetworks: cfg.anonymousNets, AdminPassword: os.Getenv("RECORDINGS_ADMIN_PASSWORD"), LogOutput: stderr,
		LogLevel: level, ShutdownTimeout: cfg.shutdown, MinFree: cfg.minFree, Version: buildVersion(),
		TLS: cfg.tlsConfig(), BehindTLSProxy: cfg.behindTLSProxy, FrameAncestors: cfg.frameAncestors,
		MetricsToken: cfg.metricsToken, SessionIdle: cfg.sessionIdle, ReplicaURL: cfg.replicaURL, S3: cfg.s3,
		CaptureStore: cfg.captureStore, KeyFile: cfg.keyFile, Domain: cfg.domain})
	if err != nil {
		return err
	}
	// The database is closed last, after everything Run started has stopped.
	defer func() {
		if err := a.Close(); err != nil {
			a.Log.Error("closing", "err", err)
		}
	}()
	var lns []net.Listener
	defer func() {
		for _, ln := range lns {
			ln.Close() // Run closes them; this is for an early return
		}
	}()
	if cfg.listen != off {
		ln, err := net.Listen("tcp", cfg.listen)
		if err != nil {
			return fmt.Errorf("listen: %w", err)
		}
		lns = append(lns, ln)
	}
	if cfg.listenTLS != off {
		ln, err := net.Listen("tcp", cfg.listenTLS)
		switch {
		case err == nil:
			lns = append(lns, ln)
			if lns[len(lns)-1], err = a.ListenTLS(ln); err != nil {
				return err
			}
		case cfg.listenTLSDefault && len(lns) > 0:
			// An upgraded installation keeps serving what it served
			// before when the new default port is taken.
			a.Log.Error("HTTPS not started: its default address is not available; set -listen-tls (RECORDINGS_LISTEN_TLS) to a free address, or to off",
				"listen_tls", cfg.listenTLS, "err", err)
		default:
			return fmt.Errorf("listen-tls (HTTPS; off turns it off): %w", err)
		}
	}
	gc := &gctarget.Target{Percent: cfg.busyGCPercent, BusyAt: busyUploads, Set: debug.SetGCPercent,
		Log: a.Log.With("category", applog.System)}
	gcCtx, stopGC := context.WithCancel(ctx)
	defer stopGC()
	go gc.Run(gcCtx, time.Second, a.Ingest.Uploads)
	return a.Run(ctx, lns...)
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

// maxIndexedCapture is the largest capture the convert command parses once
// for both passes from memory (a 4-hour G.711 call is about 330 MB); a
// larger one is read from the file by each pass, with constant memory.
const maxIndexedCapture = 1 << 30

// indexedOpener maps (or, where mapping is not available, reads) the
// capture file that open opens and parses it once (convert.NewIndexed), so
// that the analysis and the render do not each parse it. Input that is not
// a regular file, or is over maxIndexedCapture, keeps open. Call release
// when done with the returned Opener.
func indexedOpener(open convert.Opener) (_ convert.Opener, release func(), err error) {
	rc, err := open()
	if err != nil {
		return nil, nil, fmt.Errorf("open capture: %w", err)
	}
	defer rc.Close()
	f, ok := rc.(*os.File)
	if !ok {
		return open, func() {}, nil
	}
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() || fi.Size() > maxIndexedCapture {
		return open, func() {}, nil
	}
	data, release, err := mapFile(f, fi.Size())
	if err != nil {
		data, release = make([]byte, fi.Size()), func() {}
		if _, err := io.ReadFull(f, data); err != nil {
			return nil, nil, fmt.Errorf("read capture: %w", err)
		}
	}
	x, err := guardFaults(func() (*convert.Indexed, error) { return convert.NewIndexed(data) })
	if err != nil {
		release()
		return nil, nil, err
	}
	return x.Open, release, nil
}

// guardFaults runs fn, turning a memory fault into an error: a mapped
// capture file that another program shortens meanwhile faults on the pages
// that are gone (SIGBUS), which must fail the conversion, not crash it.
func guardFaults[T any](fn func() (T, error)) (v T, err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			if _, ok := r.(interface{ Addr() uintptr }); !ok {
				panic(r)
			}
			err = fmt.Errorf("capture file changed while being converted: %v", r)
		}
	}()
	return fn()
}

// convertGCPercent is the convert command's GOGC (unless GOGC is set): the
// first collection comes at 4 MB × 8 = 32 MB of heap, past what a call of
// an hour needs (its index is about 11 MB).
const convertGCPercent = 800

func runConvert(args []string, stdout io.Writer) error {
	if len(args) != 2 {
		return errors.New("usage: recordings convert IN.pcap OUT.wav (\"-\" for stdin/stdout)")
	}
	if os.Getenv("GOGC") == "" {
		// A conversion allocates little garbage (its index, grown once or
		// twice, and a constant set of buffers): a collection during it is
		// CPU, page faults and thread wake-ups for nothing. The default of
		// 100 collects a ten-minute call's 5 MB heap; this lets the heap
		// grow to convertGCPercent more than what is live first. The old
		// setting is back on return (Run is also called in-process).
		defer debug.SetGCPercent(debug.SetGCPercent(convertGCPercent))
	}
	open, cleanup, err := fileOpener(args[0])
	if err != nil {
		return err
	}
	defer cleanup()
	open, release, err := indexedOpener(open)
	if err != nil {
		return err
	}
	defer release()
	a, err := guardFaults(func() (*media.Analysis, error) { return convert.Analyze(open, media.Options{}) })
	if err != nil {
		return err
	}
	writeWAV := func(w io.Writer) error {
		aw := newAsyncWriter(w)
		_, err := guardFaults(func() (struct{}, error) { return struct{}{}, convert.WriteWAV(a, open, aw) })
		return errors.Join(err, aw.Close())
	}
	if args[1] == "-" {
		return writeWAV(stdout)
	}
	if fi, err := os.Stat(args[1]); err == nil && !fi.Mode().IsRegular() {
		// A device or a pipe (/dev/null, a FIFO) is written to, not
		// replaced by a renamed file.
		f, err := os.OpenFile(args[1], os.O_WRONLY, 0)
		if err != nil {
			return err
		}
		if err := writeWAV(f); err != nil {
			f.Close()
			return err
		}
		return f.Close()
	}
	tmp := args[1] + ".part"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	if err := writeWAV(f); err != nil {
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
