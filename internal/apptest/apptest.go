// Package apptest runs the whole service — built by internal/app, exactly
// as the serve command builds it — on a loopback port over a fresh database
// for a test, in the manner of PocketBase's tests.NewTestApp. No test builds
// the service stack by hand.
package apptest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"recordings/events"
	"recordings/internal/app"
	"recordings/store"
)

// AdminPassword is the password of the "admin" account every test app
// starts with.
const AdminPassword = "admin-password"

// The ingress credentials every test app starts with, given as at start-up
// (like the environment), so they are in force and cannot be changed
// through the admin API; a test of the stored or generated ones clears
// them with an option (see StoredCredentials).
const (
	UploadUser     = "test-phone"
	UploadPassword = "test-upload-password"
	CDRUser        = "test-pbx"
	CDRPassword    = "test-cdr-password"
)

// StoredCredentials starts the service without the fixed ingress
// credentials: they come from the settings, generated at the first start.
func StoredCredentials(c *app.Config) {
	c.UploadUser, c.UploadPassword, c.CDRUser, c.CDRPassword = "", "", "", ""
}

// UploadAuth puts the upload credentials on req (a phone's capture PUT).
func UploadAuth(req *http.Request) { req.SetBasicAuth(UploadUser, UploadPassword) }

// CDRAuth puts the CDR credentials on req (the PBX's CDR interface).
func CDRAuth(req *http.Request) { req.SetBasicAuth(CDRUser, CDRPassword) }

// App is a running service.
type App struct {
	*app.App
	T   testing.TB
	Ctx context.Context // ends when the test's cleanup begins
	URL string          // http://127.0.0.1:port
	// Addr is the listener's address.
	Addr string
	// Client is an HTTP client of its own (no cookies), whose idle
	// connections are closed when the test ends.
	Client *http.Client
	// TLSURL is https://127.0.0.1:port when the configuration turns TLS
	// on (the service then serves both), else "".
	TLSURL string
}

// Option adjusts the configuration before the service is built.
type Option func(*app.Config)

// New starts the service for t and stops it (closing the database last)
// when the test ends. Options may change any part of the configuration;
// the database lives in t.TempDir unless an option names another file.
func New(t testing.TB, opts ...Option) *App {
	t.Helper()
	cfg := app.Config{
		DB:              filepath.Join(t.TempDir(), "recordings.db"),
		AdminPassword:   AdminPassword,
		UploadUser:      UploadUser,
		UploadPassword:  UploadPassword,
		CDRUser:         CDRUser,
		CDRPassword:     CDRPassword,
		ShutdownTimeout: 5 * time.Second,
		Version:         "test",
		Tuning:          app.Tuning{BcryptCost: bcrypt.MinCost},
	}
	for _, o := range opts {
		o(&cfg)
	}
	ctx, cancel := context.WithCancel(context.Background())
	a, err := app.New(ctx, cfg)
	if err != nil {
		cancel()
		t.Fatalf("apptest: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		cancel()
		a.Close()
		t.Fatalf("apptest: listen: %v", err)
	}
	lns := []net.Listener{ln}
	var tlsURL string
	if a.TLS != nil {
		// HTTPS on a second port, as the serve command does.
		tln, err := net.Listen("tcp", "127.0.0.1:0")
		if err == nil {
			tlsURL = "https://" + tln.Addr().String()
			tln, err = a.ListenTLS(tln)
		}
		if err != nil {
			cancel()
			ln.Close()
			a.Close()
			t.Fatalf("apptest: listen TLS: %v", err)
		}
		lns = append(lns, tln)
	}
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx, lns...) }()
	// Until ingest has recovered what a stop left behind, a recording a
	// test begins directly in the store would be taken for one (and, being
	// empty, removed): wait for it.
	select {
	case <-a.Ingest.Recovered():
	case err := <-done:
		cancel()
		a.Close()
		t.Fatalf("apptest: run stopped at start: %v", err)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	t.Cleanup(func() {
		tr.CloseIdleConnections()
		cancel()
		if err := <-done; err != nil {
			t.Errorf("apptest: run: %v", err)
		}
		if err := a.Close(); err != nil {
			t.Errorf("apptest: %v", err)
		}
	})
	return &App{App: a, T: t, Ctx: ctx, URL: "http://" + ln.Addr().String(), Addr: ln.Addr().String(),
		Client: &http.Client{Transport: tr}, TLSURL: tlsURL}
}

// User creates the account name with role and password, or, when it exists
// (the "admin" every app starts with), gives it that role and password.
func (a *App) User(name string, role store.Role, password string) store.User {
	a.T.Helper()
	u, err := a.DB.CreateUser(a.Ctx, store.User{Name: name, Role: role}, password)
	if errors.Is(err, store.ErrExists) {
		if u, err = a.DB.User(a.Ctx, name); err == nil {
			u.Role = role
			if err = a.DB.UpdateUser(a.Ctx, u); err == nil {
				err = a.DB.SetPassword(a.Ctx, name, password)
			}
		}
	}
	if err != nil {
		a.T.Fatalf("apptest: user %s: %v", name, err)
	}
	return u
}

// SessionCookie signs name in with password through POST /api/login and
// returns the session cookie.
func (a *App) SessionCookie(name, password string) *http.Cookie {
	a.T.Helper()
	res, err := a.Client.Post(a.URL+"/api/login", "application/json",
		strings.NewReader(fmt.Sprintf(`{"name":%q,"password":%q}`, name, password)))
	if err != nil {
		a.T.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(res.Body)
		a.T.Fatalf("apptest: login %s: %s: %s", name, res.Status, b)
	}
	for _, c := range res.Cookies() {
		if c.Value != "" {
			return c
		}
	}
	a.T.Fatalf("apptest: login %s: no session cookie", name)
	return nil
}

// WaitRecording waits until recording id satisfies ok and returns it. It
// looks at the recording once at the start and again at every change the
// service publishes for it, so it never polls and never sleeps; it fails
// the test when a minute passes first.
func (a *App) WaitRecording(id int64, ok func(store.Recording) bool) store.Recording {
	a.T.Helper()
	changed := make(chan struct{}, 1)
	unsubscribe := a.Events.Subscribe(func(ev events.Recording) {
		if ev.ID == id {
			select {
			case changed <- struct{}{}:
			default:
			}
		}
	})
	defer unsubscribe()
	timeout := time.After(time.Minute)
	for {
		rec, err := a.DB.Recording(a.Ctx, id)
		if err == nil && ok(rec) {
			return rec
		}
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			a.T.Fatalf("apptest: recording %d: %v", id, err)
		}
		select {
		case <-changed:
		case <-timeout:
			a.T.Fatalf("apptest: recording %d did not reach the state waited for within a minute (now %+v, %v)", id, rec, err)
		}
	}
}

// WaitAnalysed waits until recording id is analysed: ready, failed or an
// analysed incomplete upload.
func (a *App) WaitAnalysed(id int64) store.Recording {
	a.T.Helper()
	return a.WaitRecording(id, func(r store.Recording) bool {
		return r.State == store.StateReady || r.State == store.StateFailed ||
			(r.State == store.StateIncomplete && (r.Codec != "" || r.DurationMS > 0 || r.Reason != ""))
	})
}
