package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"recordings/internal/apptest"
	"recordings/internal/callgen"
	"recordings/store"
)

func run(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	err := Run(context.Background(), args, &out, &out)
	return out.String(), err
}

// newDB creates a database with one recording and closes it.
func newDB(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "rec.db")
	db, err := store.OpenOptions(context.Background(), path, nil, store.Options{BcryptCost: 4})
	if err != nil {
		t.Fatal(err)
	}
	id, _, err := db.BeginUpload(context.Background(), "example.com", "a.pcap", store.FileName{}, "alice")
	if err != nil {
		t.Fatal(err)
	}
	if err := db.AppendChunk(context.Background(), id, callgen.Default(20).Bytes()); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestCheckCmd(t *testing.T) {
	path := newDB(t)
	out, err := run(t, "check", "-db", path)
	if err != nil || !strings.Contains(out, ": ok") {
		t.Fatalf("check: %v\n%s", err, out)
	}
	if _, err := run(t, "check", "-db", filepath.Join(t.TempDir(), "missing.db")); err == nil {
		t.Error("missing database passed the check")
	}
	// The check changes nothing: the file is byte for byte the same after.
	before, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := run(t, "check", "-db", path); err != nil {
		t.Fatal(err)
	}
	if after, _ := os.ReadFile(path); !bytes.Equal(before, after) {
		t.Error("check modified the database")
	}
	notDB := filepath.Join(t.TempDir(), "text.db")
	if err := os.WriteFile(notDB, bytes.Repeat([]byte("not a database "), 500), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := run(t, "check", "-db", notDB); err == nil {
		t.Error("a text file passed the check")
	}
	// Corrupt the pages after the header: the check (or the open) fails.
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for i := 4096 + 100; i < len(b); i += 7 {
		b[i] ^= 0x5a
	}
	bad := filepath.Join(t.TempDir(), "bad.db")
	if err := os.WriteFile(bad, b, 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := run(t, "check", "-db", bad); err == nil {
		t.Errorf("corrupt database passed the check:\n%s", out)
	}
}

func TestBackupCmd(t *testing.T) {
	path := newDB(t)
	out := filepath.Join(t.TempDir(), "snap.db")
	msg, err := run(t, "backup", "-db", path, out)
	if err != nil || !strings.Contains(msg, "written to") {
		t.Fatalf("backup: %v\n%s", err, msg)
	}
	if msg, err := run(t, "check", "-db", out); err != nil {
		t.Fatalf("backup fails the check: %v\n%s", err, msg)
	}
	db, err := store.Open(context.Background(), out, nil)
	if err != nil {
		t.Fatal(err)
	}
	r, err := db.RecordingByName(context.Background(), "example.com", "a.pcap")
	db.Close()
	if err != nil || r.Size == 0 {
		t.Fatalf("recording in backup: %+v %v", r, err)
	}
	if _, err := run(t, "backup", "-db", path, out); err == nil {
		t.Error("backup overwrote an existing file")
	}
	if _, err := run(t, "backup", "-db", path); err == nil {
		t.Error("backup without OUT accepted")
	}
}

func TestCreateAdminCmd(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "rec.db")
	t.Setenv("RECORDINGS_ADMIN_PASSWORD", "")
	if _, err := run(t, "create-admin", "-db", path, "-name", "root", "-password", "short"); err == nil {
		t.Error("short password accepted")
	}
	if out, err := run(t, "create-admin", "-db", path, "-name", "root", "-password", "correct horse"); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	// An existing user is promoted and gets the new password (env).
	db, err := store.OpenOptions(ctx, path, nil, store.Options{BcryptCost: 4})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.CreateUser(ctx, store.User{Name: "bob"}, "bob-password"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	t.Setenv("RECORDINGS_ADMIN_PASSWORD", "new bob password")
	if out, err := run(t, "create-admin", "-db", path, "-name", "bob"); err != nil || !strings.Contains(out, "made administrator") {
		t.Fatalf("%v\n%s", err, out)
	}
	db, err = store.Open(ctx, path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for name, pw := range map[string]string{"root": "correct horse", "bob": "new bob password"} {
		u, err := db.Authenticate(ctx, name, pw)
		if err != nil || u.Role != store.RoleAdmin {
			t.Errorf("%s: %+v %v", name, u, err)
		}
	}
}

// watchedLog is a process log that wakes waiters at every write.
type watchedLog struct {
	mu      sync.Mutex
	b       bytes.Buffer
	written chan struct{} // closed (and replaced) by every Write
}

func newWatchedLog() *watchedLog { return &watchedLog{written: make(chan struct{})} }

func (l *watchedLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	close(l.written)
	l.written = make(chan struct{})
	return l.b.Write(p)
}

func (l *watchedLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// await waits until the log matches re and returns the first match's
// submatches. It fails the test when ended yields first (the service
// stopped) or after 30 s: the wait is for real work of a whole service,
// a bound for a hang, not for speed.
func (l *watchedLog) await(t *testing.T, re *regexp.Regexp, ended <-chan error) []string {
	t.Helper()
	timeout := time.After(60 * time.Second)
	for {
		l.mu.Lock()
		m := re.FindStringSubmatch(l.b.String())
		written := l.written
		l.mu.Unlock()
		if m != nil {
			return m
		}
		select {
		case <-written:
		case err := <-ended:
			t.Fatalf("service ended (%v) before logging %q:\n%s", err, re, l)
		case <-timeout:
			t.Fatalf("no %q in the log after 30 s:\n%s", re, l)
		}
	}
}

// eventually checks cond every 20 ms until it holds, and fails the test
// after 30 s. Only for outcomes of a service run that it announces
// nowhere the test can wait on.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); !cond(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not after 30 s", what)
		}
	}
}

var listenRE = regexp.MustCompile(`listen=(\S+)`)

// startServe runs serve on a loopback port and returns its address, the
// process log and a function that stops it (like SIGTERM) and returns its
// error.
func startServe(t *testing.T, dbPath string, extra ...string) (string, *watchedLog, func() error) {
	t.Helper()
	t.Setenv("RECORDINGS_ADMIN_PASSWORD", "admin-password")
	ctx, cancel := context.WithCancel(context.Background())
	logs := newWatchedLog()
	done := make(chan error, 1)
	args := append([]string{"serve", "-listen", "127.0.0.1:0", "-listen-tls", "127.0.0.1:0", "-db", dbPath}, extra...)
	go func() { done <- Run(ctx, args, io.Discard, logs) }()
	m := logs.await(t, listenRE, done)
	stop := func() error {
		cancel()
		select {
		case err := <-done:
			return err
		case <-time.After(60 * time.Second):
			t.Fatal("serve did not stop")
			return nil
		}
	}
	return "http://" + m[1], logs, stop
}

// heldBody is an upload body that sends its first piece bytes, then
// nothing until release is closed, then the rest.
type heldBody struct {
	b       []byte
	piece   int
	sent    chan struct{} // closed once the first piece has been read
	release chan struct{}
	read    int
}

func (r *heldBody) Read(p []byte) (int, error) {
	if len(r.b) == 0 {
		return 0, io.EOF
	}
	if r.read >= r.piece {
		<-r.release
	} else {
		p = p[:min(len(p), r.piece-r.read)] // the client may read it in parts
	}
	n := copy(p, r.b)
	r.b = r.b[n:]
	if r.read < r.piece && r.read+n >= r.piece {
		close(r.sent)
	}
	r.read += n
	return n, nil
}

// TestServeShutdown stops the service while an upload is in flight: held
// after its first piece, it is either let go once the shutdown has begun
// (and must complete), or held beyond the shutdown timeout (and must be
// kept as incomplete with what arrived).
func TestServeShutdown(t *testing.T) {
	for _, tc := range []struct {
		name    string
		timeout string
		finish  bool        // the client sends the rest once the shutdown has begun
		want    store.State // state after restart
	}{
		{"upload finishes within the timeout", "20s", true, store.StateReady},
		{"upload cut at the timeout is kept", "300ms", false, store.StateIncomplete},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dbPath := filepath.Join(t.TempDir(), "rec.db")
			t.Setenv("RECORDINGS_UPLOAD_USER", "phone")
			t.Setenv("RECORDINGS_UPLOAD_PASSWORD", "phone-password")
			addr, logs, stop := startServe(t, dbPath, "-shutdown-timeout", tc.timeout)
			if resp, err := http.Get(addr + "/healthz"); err != nil || resp.StatusCode != 200 {
				t.Fatalf("healthz: %v %v", resp, err)
			} else {
				resp.Body.Close()
			}
			capture := callgen.Default(300).Bytes()
			body := &heldBody{b: capture, piece: 4096, sent: make(chan struct{}), release: make(chan struct{})}
			var once sync.Once
			release := func() { once.Do(func() { close(body.release) }) }
			defer release()
			name := fmt.Sprintf("%032x-0090334455aa-1-alice.pcap", 7)
			status := make(chan int, 1)
			go func() {
				req, _ := http.NewRequest("PUT", addr+"/example.com/recordings/Files/"+name, body)
				req.SetBasicAuth("phone", "phone-password")
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					status <- -1
					return
				}
				resp.Body.Close()
				status <- resp.StatusCode
			}()
			<-body.sent
			logs.await(t, regexp.MustCompile(`msg="upload started"`), nil)
			stopped := make(chan error, 1)
			go func() { stopped <- stop() }()
			down := logs.await(t, regexp.MustCompile(`msg="shutting down[^"]*".* uploads=(\d+)`), nil)
			if down[1] != "1" {
				t.Errorf("shutdown began with %s uploads in flight, want 1", down[1])
			}
			if tc.finish {
				release()
			}
			if err := <-stopped; err != nil {
				t.Fatalf("serve: %v\n%s", err, logs.String())
			}
			release() // a cut upload's client returns once its body is read
			code := <-status
			if tc.finish && code != http.StatusCreated {
				t.Errorf("upload answered %d, want 201", code)
			}
			// New connections are refused after the stop.
			if _, err := http.Get(addr + "/healthz"); err == nil {
				t.Error("still accepting after shutdown")
			}
			// Restart: the recording is there, with what arrived.
			addr, _, stop = startServe(t, dbPath)
			defer stop()
			db, err := store.Open(context.Background(), dbPath, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			var r store.Recording
			eventually(t, "recording analysed after restart", func() bool {
				r, err = db.RecordingByName(context.Background(), "example.com", name)
				return err == nil && r.State == tc.want && r.DurationMS > 0
			})
			if tc.finish && r.Size != int64(len(capture)) {
				t.Errorf("stored %d of %d bytes", r.Size, len(capture))
			}
			if !tc.finish && (r.Size < 4096 || r.Size >= int64(len(capture))) {
				t.Errorf("stored %d bytes of a capture cut after the first 4096 of %d", r.Size, len(capture))
			}
		})
	}
}

// The attack: someone holds a stolen session of the admin. create-admin,
// run against the database of the running service, resets the password:
// the stolen session is refused at once (REST) and its websocket ends at
// its next request; the new password signs in.
func TestCreateAdminEndsStolenSessions(t *testing.T) {
	a := apptest.New(t)
	stolen := a.SessionCookie("admin", apptest.AdminPassword)
	me := func() int {
		t.Helper()
		req, _ := http.NewRequest("GET", a.URL+"/api/me", nil)
		req.AddCookie(stolen)
		res, err := a.Client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	if code := me(); code != http.StatusOK {
		t.Fatalf("stolen session before the reset: %d", code)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(a.URL, "http")+"/api/ws",
		&websocket.DialOptions{HTTPHeader: http.Header{"Cookie": {stolen.String()}}})
	if err != nil {
		t.Fatal(err)
	}
	defer ws.CloseNow()
	t.Setenv("RECORDINGS_ADMIN_PASSWORD", "")
	out, err := run(t, "create-admin", "-db", a.DB.Path(), "-name", "admin", "-password", "a-brand-new-password")
	if err != nil || !strings.Contains(out, "sessions were ended") {
		t.Fatalf("create-admin: %v\n%s", err, out)
	}
	if code := me(); code != http.StatusUnauthorized {
		t.Errorf("stolen session after the reset: %d, want 401", code)
	}
	if err := ws.Write(ctx, websocket.MessageText, []byte(`{"mt":"ListUsers","src":1}`)); err != nil {
		t.Fatal(err)
	}
	_, msg, err := ws.Read(ctx)
	if err != nil || !strings.Contains(string(msg), "session ended") {
		t.Errorf("stolen websocket after the reset: %s %v", msg, err)
	}
	if _, _, err := ws.Read(ctx); websocket.CloseStatus(err) != 4401 {
		t.Errorf("stolen websocket not closed: %v", err)
	}
	if _, err := a.DB.Authenticate(ctx, "admin", "a-brand-new-password"); err != nil {
		t.Errorf("new password: %v", err)
	}
}

// A RECORDINGS_ADMIN_PASSWORD shorter than store.MinPasswordLen stops the
// start with a message naming it, before any database is created.
func TestServeRefusesShortAdminPassword(t *testing.T) {
	path := filepath.Join(t.TempDir(), "rec.db")
	t.Setenv("RECORDINGS_ADMIN_PASSWORD", "too-short")
	err := Run(context.Background(), []string{"serve", "-listen", "127.0.0.1:0", "-db", path}, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "RECORDINGS_ADMIN_PASSWORD") || !strings.Contains(err.Error(), "at least") {
		t.Fatalf("serve with a short admin password: %v", err)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("the database was created: %v", err)
	}
	if _, err := run(t, "create-admin", "-db", path, "-password", "too-short"); err == nil {
		t.Error("create-admin took a short password")
	}
}
