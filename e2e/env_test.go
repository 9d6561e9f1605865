package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"recordings/internal/app"
	"recordings/internal/apptest"
	"recordings/store"
)

// env is the real service in-process on a loopback listener, built by the
// composition root exactly as the serve command builds it.
type env struct {
	t      *testing.T
	ctx    context.Context
	app    *apptest.App
	db     *store.DB
	url    string
	domain string
}

const password = "correct horse battery"

func startEnv(t *testing.T, opts ...apptest.Option) *env {
	t.Helper()
	a := apptest.New(t, append([]apptest.Option{func(c *app.Config) {
		if testing.Verbose() {
			c.LogOutput, c.LogLevel = os.Stderr, slog.LevelWarn
		}
	}}, opts...)...)
	return &env{t: t, ctx: a.Ctx, app: a, db: a.DB, url: a.URL, domain: "example.com"}
}

func (e *env) createUser(name, display string, role store.Role) {
	e.t.Helper()
	if _, err := e.db.CreateUser(e.ctx, store.User{Name: name, DisplayName: display, Role: role}, password); err != nil {
		e.t.Fatalf("create user %s: %v", name, err)
	}
}

// upload PUTs a capture as the phone of owner would, with the upload
// credentials in force, and returns its id.
func (e *env) upload(owner string, body []byte) int64 {
	e.t.Helper()
	conf := make([]byte, 16)
	_, _ = rand.Read(conf)
	name := fmt.Sprintf("%s-009033aabbcc-1-%s.pcap", hex.EncodeToString(conf), owner)
	req, err := http.NewRequestWithContext(e.ctx, http.MethodPut, e.url+"/"+e.domain+"/recordings/Files/"+name, bytes.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	v := e.app.Settings.Values() // the upload credentials in force
	req.SetBasicAuth(v.UploadUser, v.UploadPassword)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatalf("upload: %v", err)
	}
	msg, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusCreated {
		e.t.Fatalf("upload %s: %s %s", name, res.Status, msg)
	}
	rec, err := e.db.RecordingByName(e.ctx, e.domain, name)
	if err != nil {
		e.t.Fatalf("uploaded recording %s: %v", name, err)
	}
	return rec.ID
}

// waitReady waits until the analysis of recording id is done.
func (e *env) waitReady(id int64) store.Recording {
	e.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		rec, err := e.db.Recording(e.ctx, id)
		if err != nil {
			e.t.Fatalf("recording %d: %v", id, err)
		}
		switch rec.State {
		case store.StateReady:
			return rec
		case store.StateFailed, store.StateIncomplete:
			e.t.Fatalf("recording %d: state %s (%s)", id, rec.State, rec.Reason)
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("recording %d still %s", id, rec.State)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// wav fetches a recording's WAV over HTTP with the given user's password.
func (e *env) wav(user string, id int64) []byte {
	e.t.Helper()
	req, err := http.NewRequestWithContext(e.ctx, http.MethodGet, fmt.Sprintf("%s/api/recordings/%d/audio.wav", e.url, id), nil)
	if err != nil {
		e.t.Fatal(err)
	}
	req.SetBasicAuth(user, password)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil || res.StatusCode != http.StatusOK {
		e.t.Fatalf("GET audio.wav %d: %s %v", id, res.Status, err)
	}
	return b
}

func (e *env) gone(id int64) bool {
	_, err := e.db.Recording(e.ctx, id)
	return errors.Is(err, store.ErrNotFound)
}

// artifacts is where screenshots go: $ARTIFACTS when set, else a temp dir.
func artifacts(t *testing.T) string {
	if dir := os.Getenv("ARTIFACTS"); dir != "" {
		dir = filepath.Join(dir, "e2e")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	return t.TempDir()
}

func safeFile(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' {
			return r
		}
		return '-'
	}, strings.ToLower(s))
}

// fixtureStart is when the calls of appsFixture start.
func fixtureStart() time.Time { return time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC) }

// appsFixture is the data both browsers' app tests work on: users alice,
// bob and root (admin); alice's calls a1 (8 s, the XSS name as the other
// party), a2 and a3 (newest), bob's b1; all ready and with CDRs.
func (e *env) appsFixture() (a1, a2, a3, b1 int64) {
	t := e.t
	t.Helper()
	e.createUser("alice", "Alice Anders", store.RoleUser)
	e.createUser("bob", "", store.RoleUser)
	e.createUser("root", "Administrator", store.RoleAdmin)

	start := fixtureStart()
	a1 = e.upload("alice", callCapture(start, 8*time.Second, 440, 660))
	a2 = e.upload("alice", callCapture(start, 3*time.Second, 500, 300))
	a3 = e.upload("alice", callCapture(start, 2*time.Second, 350, 700))
	b1 = e.upload("bob", callCapture(start, 2*time.Second, 400, 800))
	for _, id := range []int64{a1, a2, a3, b1} {
		e.waitReady(id)
	}
	cdrs := map[int64]store.CDR{
		a1: {Direction: "in", PeerName: xssName, PeerNumber: "+4970311000"},
		a2: {Direction: "out", PeerName: "Bob Builder", PeerNumber: "200"},
		a3: {Direction: "in", PeerName: "Bob Builder", PeerNumber: "201"},
		b1: {Direction: "out", PeerName: "Carla Secret", PeerNumber: "300"},
	}
	for id, c := range cdrs {
		if err := e.db.SetCDR(e.ctx, id, c); err != nil {
			t.Fatalf("set CDR: %v", err)
		}
	}
	return a1, a2, a3, b1
}
