// Command load simulates phones streaming their calls to a recordings
// service: each of N phones uploads a realistic call capture (dummy SIP/SDP,
// then G.711 RTP both ways) by chunked PUT at real-time pace over loopback.
// It stops by itself after the calls end and reports the server's CPU and
// memory, the upload latency and whether any byte was lost.
//
//	go build -o /tmp/recordings . && go run ./bench/load -bin /tmp/recordings -calls 200 -duration 60s
//	go run ./bench/load -url http://127.0.0.1:8080 -pid 1234 -admin-password secret -calls 50
package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptrace"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/prometheus/procfs"

	"recordings/internal/callgen"
)

type config struct {
	bin, url, adminPW string
	metricsToken      string
	uploadUser        string // the phones' upload credentials (HTTP Basic)
	uploadPW          string
	pid               int
	calls             int
	duration, piece   time.Duration
	speed             float64
	ramp, timeout     time.Duration
	sample            time.Duration
	serverLog         string
}

func main() {
	var c config
	flag.StringVar(&c.bin, "bin", "", "recordings binary to start on a loopback port with a fresh database (instead of -url)")
	flag.StringVar(&c.url, "url", "", "base URL of a running service (with -pid for its CPU and memory)")
	flag.IntVar(&c.pid, "pid", 0, "process id of the service given by -url")
	flag.StringVar(&c.adminPW, "admin-password", "load-admin", "admin password (set on the started binary; that of the -url service otherwise)")
	flag.StringVar(&c.metricsToken, "metrics-token", os.Getenv("RECORDINGS_METRICS_TOKEN"),
		"scrape token for /metrics (set on the started binary, generated when empty; for -url, the admin password is used without it)")
	flag.StringVar(&c.uploadUser, "upload-user", "load-phone", "upload user (set on the started binary; that of the -url service otherwise)")
	flag.StringVar(&c.uploadPW, "upload-password", "load-upload-password", "upload password (set on the started binary; that of the -url service otherwise)")
	flag.IntVar(&c.calls, "calls", 200, "concurrent calls (phones)")
	flag.DurationVar(&c.duration, "duration", time.Minute, "length of each call, streamed in real time")
	flag.DurationVar(&c.piece, "piece", 200*time.Millisecond, "call time per written piece of the upload")
	flag.Float64Var(&c.speed, "speed", 1, "stream this many times faster than real time (e.g. 60 for a memory run of a long call)")
	flag.DurationVar(&c.ramp, "ramp", 5*time.Second, "calls start spread evenly over this time")
	flag.DurationVar(&c.timeout, "timeout", 0, "give up after this long (default duration + ramp + 2 min)")
	flag.DurationVar(&c.sample, "sample", time.Second, "CPU and memory sampling interval")
	flag.StringVar(&c.serverLog, "server-log", "", "with -bin: write the service's log to this file")
	flag.Parse()
	if err := run(c, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "load:", err)
		os.Exit(1)
	}
}

// phone is one simulated call and what became of it. Its capture is
// generated while it streams, so that a thousand long calls do not sit in
// memory.
type phone struct {
	name    string
	call    callgen.Call
	size    int    // bytes of the capture
	sum     string // SHA-256 of what was sent
	status  int
	err     error
	latency time.Duration // from the last byte sent to the answer
	late    time.Duration // how far the sender fell behind real time at worst
	// failedAfter is the time from the call's start to the failure.
	failedAfter time.Duration
	// headerDelay is how long after the generator saw its connection
	// established the request header was written (-1: never). The service
	// closes a connection that brings no header within its
	// ReadHeaderTimeout; when this generator is starved of CPU it can see
	// the connection, and so write the header, long after the service
	// accepted it, so the delay is a lower bound.
	headerDelay time.Duration
}

// pacer passes the capture on in pieces of size bytes, piece k not before
// t0 + k*every: a constant bit rate at the call's real-time pace.
type pacer struct {
	ctx   context.Context
	w     io.Writer
	size  int
	every time.Duration
	t0    time.Time
	k     int
	buf   []byte
	late  time.Duration
}

func (p *pacer) Write(b []byte) (int, error) {
	p.buf = append(p.buf, b...)
	for len(p.buf) >= p.size {
		if err := p.emit(p.size); err != nil {
			return 0, err
		}
	}
	return len(b), nil
}

func (p *pacer) emit(n int) error {
	if d := time.Until(p.t0.Add(time.Duration(p.k) * p.every)); d > 0 {
		select {
		case <-time.After(d):
		case <-p.ctx.Done():
			return p.ctx.Err()
		}
	} else {
		p.late = max(p.late, -d)
	}
	p.k++
	if _, err := p.w.Write(p.buf[:n]); err != nil {
		return err
	}
	p.buf = append(p.buf[:0], p.buf[n:]...)
	return nil
}

func (p *pacer) flush() error {
	if len(p.buf) == 0 {
		return nil
	}
	return p.emit(len(p.buf))
}

func run(c config, out io.Writer) error {
	if c.speed <= 0 {
		return errors.New("-speed must be positive")
	}
	if c.calls < 1 || c.calls > 10000 || c.duration < c.piece || c.piece <= 0 {
		return errors.New("want 1..10000 calls and a duration of at least one piece")
	}
	if c.timeout == 0 {
		c.timeout = c.duration + c.ramp + 2*time.Minute
	}
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()

	base, pid := c.url, c.pid
	if c.bin != "" {
		if c.metricsToken == "" {
			b := make([]byte, 16)
			_, _ = rand.Read(b)
			c.metricsToken = hex.EncodeToString(b)
		}
		srv, err := startServer(ctx, c, c.serverLog)
		if err != nil {
			return err
		}
		defer srv.stop()
		base, pid = srv.url, srv.cmd.Process.Pid
	}
	if base == "" {
		return errors.New("give -bin or -url")
	}

	packets := int(c.duration / (20 * time.Millisecond))
	phones := make([]*phone, c.calls)
	size := len(callgen.Default(packets).Bytes()) // every call has the same length
	for i := range phones {
		call := callgen.Default(packets)
		call.Start = call.Start.Add(time.Duration(i) * time.Second)
		call.LocalCode = func(j int) byte { return byte(j*7 + 3 + i) }
		call.RemoteCode = func(j int) byte { return byte(j*13 + 5 + 3*i) }
		phones[i] = &phone{name: fmt.Sprintf("%032x-009033302ab1-%d--load%d.pcap", i+1, i+1, i%50), call: call, size: size}
	}

	mon := newMonitor(pid, c.sample)
	go mon.run(ctx)
	self0 := selfCPU()
	// One connection per upload, as a phone makes it. With keep-alive, a
	// connection dialled for one phone but taken by another's request (the
	// transport races dials against connections that turn idle) waits in
	// the pool without a request; past the server's ReadHeaderTimeout the
	// server closes it, and the phone that later picks it fails ("server
	// closed idle connection": a streamed PUT body cannot be replayed).
	// That is an artefact of a shared client, not of the service.
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true, DisableCompression: true}}
	start := time.Now()
	var wg sync.WaitGroup
	for i, p := range phones {
		delay := time.Duration(0)
		if c.calls > 1 {
			delay = c.ramp * time.Duration(i) / time.Duration(c.calls-1)
		}
		wg.Go(func() {
			select {
			case <-time.After(delay):
			case <-ctx.Done():
				p.err = ctx.Err()
				return
			}
			p.stream(ctx, client, base, c, packets)
		})
	}
	wg.Wait()
	wall := time.Since(start)
	mon.stop()
	selfUsed := selfCPU() - self0

	// Compare what was sent with what the service stored.
	stored, err := storedSums(ctx, base, c.adminPW)
	if err != nil {
		return fmt.Errorf("read back: %w", err)
	}
	var lats, okHeader, failedHeader []time.Duration
	noHeader := 0
	var failed, lost, mismatched int
	why := map[string]int{}
	var sent int64
	var worstLate time.Duration
	for _, p := range phones {
		sent += int64(p.size)
		switch {
		case p.headerDelay < 0 && p.status != http.StatusCreated:
			noHeader++
		case p.headerDelay < 0:
		case p.status == http.StatusCreated:
			okHeader = append(okHeader, p.headerDelay)
		default:
			failedHeader = append(failedHeader, p.headerDelay)
		}
		worstLate = max(worstLate, p.late)
		if p.status != http.StatusCreated {
			failed++
			msg := fmt.Sprintf("status %d", p.status)
			if p.err != nil {
				msg = p.err.Error()
				if i := strings.LastIndex(msg, ": "); i >= 0 {
					msg = msg[i+2:]
				}
			}
			if why[msg]++; why[msg] <= 2 {
				fmt.Fprintf(out, "failed upload %s after %v: %s\n", p.name, p.failedAfter.Round(time.Millisecond), msg)
			}
			continue
		}
		lats = append(lats, p.latency)
		s, ok := stored[p.name]
		switch {
		case !ok:
			lost++
		case s != p.sum:
			mismatched++
		}
	}
	slices.Sort(lats)
	fmt.Fprintf(out, "calls %d x %v (%d bytes each, pieces of %v, ramp %v) in %v\n",
		c.calls, c.duration, size, c.piece, c.ramp, wall.Round(time.Millisecond))
	fmt.Fprintf(out, "uploads ok %d, failed %d; stored byte-equal %d, missing %d, differing %d; %d bytes sent\n",
		len(lats), failed, len(lats)-lost-mismatched, lost, mismatched, sent)
	fmt.Fprintf(out, "upload latency (last byte to 201): p50 %v, p99 %v, max %v; worst sender lag %v\n",
		pct(lats, 50), pct(lats, 99), pct(lats, 100), worstLate.Round(time.Millisecond))
	slices.Sort(okHeader)
	slices.Sort(failedHeader)
	fmt.Fprintf(out, "request header written after connecting: stored uploads p50 %v, p99 %v, max %v\n",
		pct(okHeader, 50), pct(okHeader, 99), pct(okHeader, 100))
	if failed > 0 {
		fmt.Fprintf(out, "  failed uploads: %d wrote it (p50 %v, p99 %v, max %v), %d never did\n",
			len(failedHeader), pct(failedHeader, 50), pct(failedHeader, 99), pct(failedHeader, 100), noHeader)
	}
	for msg, n := range why {
		fmt.Fprintf(out, "failed uploads: %d with %s\n", n, msg)
	}
	if opened, unused, err := connCounts(ctx, base, c.metricsToken, c.adminPW); err != nil {
		fmt.Fprintf(out, "server connections: %v\n", err)
	} else {
		// Each upload and each read-back request is one connection; one
		// closed without a request is a client that sent no header in time.
		fmt.Fprintf(out, "server connections: %d accepted, %d closed without a request\n", opened, unused)
	}
	mon.report(out)
	fmt.Fprintf(out, "load generator CPU: %.1f%% of one core\n", 100*selfUsed.Seconds()/wall.Seconds())
	if failed+lost+mismatched > 0 {
		return fmt.Errorf("%d uploads failed, %d missing, %d differ", failed, lost, mismatched)
	}
	return nil
}

// stream uploads the call, one piece per piece of call time.
func (p *phone) stream(ctx context.Context, c *http.Client, base string, cfg config, packets int) {
	piece, speed := cfg.piece, cfg.speed
	pr, pw := io.Pipe()
	pieces := max(1, packets/int(piece/(20*time.Millisecond)))
	h := sha256.New()
	pc := &pacer{ctx: ctx, w: io.MultiWriter(pw, h), size: (p.size + pieces - 1) / pieces, every: time.Duration(float64(piece) / speed), t0: time.Now()}
	var lastByte time.Time
	go func() {
		err := p.call.Write(pc)
		if err == nil {
			err = pc.flush()
		}
		p.late = pc.late
		if err != nil {
			pw.CloseWithError(err)
			return
		}
		p.sum = hex.EncodeToString(h.Sum(nil))
		lastByte = time.Now()
		pw.Close()
	}()
	var connected, wroteHeaders atomic.Int64 // UnixNano
	trace := &httptrace.ClientTrace{
		ConnectDone: func(_, _ string, err error) {
			if err == nil {
				connected.Store(time.Now().UnixNano())
			}
		},
		WroteHeaders: func() { wroteHeaders.Store(time.Now().UnixNano()) },
	}
	defer func() {
		p.headerDelay = -1
		if c, w := connected.Load(), wroteHeaders.Load(); c != 0 && w != 0 {
			p.headerDelay = time.Duration(w - c)
		}
	}()
	req, err := http.NewRequestWithContext(httptrace.WithClientTrace(ctx, trace), http.MethodPut, base+"/example.com/recordings/Files/"+p.name, pr)
	if err != nil {
		p.err = err
		return
	}
	req.SetBasicAuth(cfg.uploadUser, cfg.uploadPW)
	resp, err := c.Do(req)
	if err != nil {
		pr.CloseWithError(err)
		p.err = err
		p.failedAfter = time.Since(pc.t0)
		return
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	p.status = resp.StatusCode
	if p.status != http.StatusCreated {
		p.failedAfter = time.Since(pc.t0)
	}
	if !lastByte.IsZero() { // the writer closed the pipe before the answer
		p.latency = time.Since(lastByte)
	}
}

func pct(s []time.Duration, p int) time.Duration {
	if len(s) == 0 {
		return 0
	}
	i := (len(s)*p+99)/100 - 1
	return s[max(0, min(i, len(s)-1))].Round(100 * time.Microsecond)
}

// storedSums lists every recording's SHA-256 by name, as admin.
func storedSums(ctx context.Context, base, pw string) (map[string]string, error) {
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: time.Minute}
	body, _ := json.Marshal(map[string]string{"name": "admin", "password": pw})
	resp, err := c.Post(base+"/api/login", "application/json", strings.NewReader(string(body)))
	if err != nil {
		return nil, err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("login as admin: %s", resp.Status)
	}
	out := map[string]string{}
	cursor := ""
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/api/recordings?limit=500&cursor="+url.QueryEscape(cursor), nil)
		resp, err := c.Do(req)
		if err != nil {
			return nil, err
		}
		var page struct {
			Recordings []struct {
				Name   string `json:"name"`
				SHA256 string `json:"sha256"`
			} `json:"recordings"`
			Next string `json:"next"`
		}
		err = json.NewDecoder(resp.Body).Decode(&page)
		resp.Body.Close()
		if err != nil {
			return nil, fmt.Errorf("list: %w", err)
		}
		for _, r := range page.Recordings {
			if _, dup := out[r.Name]; dup {
				return nil, fmt.Errorf("recording %s listed twice", r.Name)
			}
			out[r.Name] = r.SHA256
		}
		if page.Next == "" {
			return out, nil
		}
		cursor = page.Next
	}
}

// connCounts reads the service's connection counters from /metrics, with
// the scrape token or else as admin.
func connCounts(ctx context.Context, base, token, adminPW string) (opened, unused int, err error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/metrics", nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	} else {
		req.SetBasicAuth("admin", adminPW)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, 0, fmt.Errorf("metrics: %s", resp.Status)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		return 0, 0, fmt.Errorf("metrics: %w", err)
	}
	counter := func(name string) (int, bool) {
		ms := families[name].GetMetric()
		if len(ms) != 1 || ms[0].GetCounter() == nil {
			return 0, false
		}
		return int(ms[0].GetCounter().GetValue()), true
	}
	opened, ok1 := counter("recordings_http_connections_total")
	unused, ok2 := counter("recordings_http_connections_unused_total")
	if !ok1 || !ok2 {
		return 0, 0, errors.New("metrics: no connection counters (an older binary?)")
	}
	return opened, unused, nil
}

// server is the binary started by -bin.
type server struct {
	cmd     *exec.Cmd
	url     string
	dir     string
	logFile *os.File
}

var listenRE = regexp.MustCompile(`listen=(127\.0\.0\.1:\d+)`)

func startServer(ctx context.Context, c config, logFile string) (*server, error) {
	bin := c.bin
	dir, err := os.MkdirTemp("", "recordings-load-*")
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "serve")
	cmd.Env = append(os.Environ(), "RECORDINGS_LISTEN=127.0.0.1:0", "RECORDINGS_LISTEN_TLS=off",
		"RECORDINGS_DB="+filepath.Join(dir, "rec.db"), "RECORDINGS_ADMIN_PASSWORD="+c.adminPW,
		"RECORDINGS_METRICS_TOKEN="+c.metricsToken, "RECORDINGS_UPLOAD_USER="+c.uploadUser,
		"RECORDINGS_UPLOAD_PASSWORD="+c.uploadPW)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	s := &server{cmd: cmd, dir: dir}
	var logw io.Writer = io.Discard
	if logFile != "" {
		f, err := os.Create(logFile)
		if err != nil {
			s.stop()
			return nil, err
		}
		logw = f
		s.logFile = f
	}
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		warned := 0
		for sc.Scan() {
			line := sc.Text()
			fmt.Fprintln(logw, line)
			if m := listenRE.FindStringSubmatch(line); m != nil {
				select {
				case addr <- m[1]:
				default:
				}
			}
			if strings.Contains(line, "level=ERROR") || strings.Contains(line, "level=WARN") {
				if warned++; warned <= 5 {
					fmt.Fprintln(os.Stderr, "server:", line)
				}
			}
		}
	}()
	select {
	case a := <-addr:
		s.url = "http://" + a
		return s, nil
	case <-time.After(30 * time.Second):
	case <-ctx.Done():
	}
	s.stop()
	return nil, errors.New("the service did not start")
}

func (s *server) stop() {
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(40 * time.Second):
		_ = s.cmd.Process.Kill()
		<-done
	}
	os.RemoveAll(s.dir)
	if s.logFile != nil {
		s.logFile.Close()
	}
}

// monitor samples a process's CPU time and resident memory from /proc.
type monitor struct {
	pid   int
	every time.Duration
	done  chan struct{}
	quit  chan struct{}

	mu      sync.Mutex
	samples []sample
}

type sample struct {
	at  time.Time
	cpu time.Duration
	rss int64
}

func newMonitor(pid int, every time.Duration) *monitor {
	return &monitor{pid: pid, every: every, done: make(chan struct{}), quit: make(chan struct{})}
}

func (m *monitor) run(ctx context.Context) {
	defer close(m.done)
	if m.pid == 0 {
		return
	}
	proc, err := procfs.NewProc(m.pid)
	if err != nil {
		return
	}
	t := time.NewTicker(m.every)
	defer t.Stop()
	for {
		if s, err := readProc(proc); err == nil {
			m.mu.Lock()
			m.samples = append(m.samples, s)
			m.mu.Unlock()
		}
		select {
		case <-t.C:
		case <-m.quit:
			if s, err := readProc(proc); err == nil {
				m.mu.Lock()
				m.samples = append(m.samples, s)
				m.mu.Unlock()
			}
			return
		case <-ctx.Done():
			return
		}
	}
}

func (m *monitor) stop() {
	close(m.quit)
	<-m.done
}

func (m *monitor) report(out io.Writer) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.samples) < 2 {
		fmt.Fprintln(out, "server CPU and memory: not measured (no -pid)")
		return
	}
	first, last := m.samples[0], m.samples[len(m.samples)-1]
	wall := last.at.Sub(first.at)
	var peakCPU float64
	var peakRSS int64
	var peakAt time.Duration
	for i := 1; i < len(m.samples); i++ {
		a, b := m.samples[i-1], m.samples[i]
		if d := b.at.Sub(a.at); d >= m.every/2 {
			peakCPU = max(peakCPU, float64(b.cpu-a.cpu)/float64(d))
		}
		if b.rss > peakRSS {
			peakRSS, peakAt = b.rss, b.at.Sub(first.at)
		}
	}
	fmt.Fprintf(out, "server CPU: %.1f%% of one core on average (%.1f%% of the machine's %d cores), peak %.1f%% over %v\n",
		100*float64(last.cpu-first.cpu)/float64(wall), 100*float64(last.cpu-first.cpu)/float64(wall)/float64(cores()),
		cores(), 100*peakCPU, m.every)
	q := func(f float64) int64 { return m.samples[int(f*float64(len(m.samples)-1))].rss >> 20 }
	fmt.Fprintf(out, "server RSS: start %d MiB, 25%% %d, 50%% %d, 75%% %d, end %d MiB, peak %d MiB (%v after the start of the calls)\n",
		q(0), q(0.25), q(0.5), q(0.75), q(1), peakRSS>>20, peakAt.Round(m.every))
}

// readProc reads utime+stime and the resident set size of the process.
func readProc(p procfs.Proc) (sample, error) {
	st, err := p.Stat()
	if err != nil {
		return sample{}, err
	}
	return sample{at: time.Now(), cpu: time.Duration(st.CPUTime() * float64(time.Second)), rss: int64(st.ResidentMemory())}, nil
}

func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func cores() int { return runtime.NumCPU() }
