package api

import (
	"context"
	"encoding/json"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"recordings/pbx"
	"recordings/store"
)

type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func newLoginServer(t *testing.T) (*Server, *testClock) {
	t.Helper()
	clk := &testClock{t: time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)}
	ctx := context.Background()
	log := slog.New(slog.DiscardHandler)
	db, err := store.OpenOptions(ctx, filepath.Join(t.TempDir(), "rec.db"), log, store.Options{BcryptCost: 4, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.SetSetting(ctx, settingAppPassword, "pwd"); err != nil {
		t.Fatal(err)
	}
	for _, o := range []store.AppObject{{Name: "team", Access: []string{"101"}}, {Name: "boss", Type: store.AppObjectAdmin}} {
		if _, err := db.CreateAppObject(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.CreateUser(ctx, store.User{Name: "ben", E164: "101"}, ""); err != nil {
		t.Fatal(err)
	}
	return New(db, nil, log, Options{Now: clk.Now}), clk
}

// loginMsg builds an AppLogin message signed with password over challenge.
func loginMsg(app, sip, dn, info, challenge, password string) []byte {
	m := map[string]any{"mt": "AppLogin", "app": app, "domain": "example.com", "sip": sip, "guid": "g1", "dn": dn,
		"digest": pbx.AppLoginDigest(app, "example.com", sip, "g1", dn, info, challenge, password)}
	if info != "" {
		m["info"] = json.RawMessage(info)
	}
	b, _ := json.Marshal(m)
	return b
}

// The digest vectors, through the exchange: a correct digest gets
// past the digest check (and is then refused only for its unknown app), a
// changed one is refused as wrong.
func TestAppLoginDigestVectors(t *testing.T) {
	s, _ := newLoginServer(t)
	for _, v := range []struct{ info, digest string }{
		{"", "a205299ed2ef2786c311e0be1b14db343f2cadd906a6ae7b564eee34bda5e9a1"},
		{"{}", "57b23fe824b9222a7ac879597cb509bcdc865a1bfeb057d9d12118cef0c3ba34"},
		{`{"cn":"Test User"}`, "96db3c3f657230c2b68194becc6d2a77f05de9f79f01fc81e9ca0fb196b10d9d"},
	} {
		for _, flip := range []bool{false, true} {
			d := v.digest
			if flip {
				d = strings.ToUpper(d[:1]) + "0" + d[2:]
			}
			msg := `{"mt":"AppLogin","app":"pbxadminapi","domain":"","sip":"","guid":"","dn":"","digest":"` + d + `"`
			if v.info != "" {
				msg += `,"info":` + v.info
			}
			msg += "}"
			st := &appLoginConn{challenge: "0123456789abcdef", issued: s.opt.Now()}
			_, _, err := s.appLogin(context.Background(), st, "192.0.2.1:1", []byte(msg))
			want := "unknown app"
			if flip {
				want = "wrong digest"
			}
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("info %q flip=%v: %v, want %q", v.info, flip, err, want)
			}
			s.pbx.limiter.succeed("192.0.2.1")
		}
	}
}

func TestAppLoginExchange(t *testing.T) {
	s, clk := newLoginServer(t)
	ctx := context.Background()
	st := &appLoginConn{}
	ch, err := s.appChallenge(st)
	if err != nil || len(ch.Challenge) != pbx.ChallengeDigits || strings.Trim(ch.Challenge, "0123456789") != "" {
		t.Fatalf("challenge %q %v", ch.Challenge, err)
	}
	// A user through app object "team" (spaced JSON on the wire is fine).
	msg := loginMsg(appUser, "ben", "Ben Berg", `{"appobj":"team"}`, ch.Challenge, "pwd")
	msg = []byte(strings.Replace(string(msg), `{"appobj":"team"}`, `{ "appobj" : "team" }`, 1))
	u, tok, err := s.appLogin(ctx, st, "192.0.2.1:1000", msg)
	if err != nil || u.Name != "ben" || u.Role != store.RoleUser || u.Via != "team" || tok == "" {
		t.Fatalf("login: %+v %q %v", u, tok, err)
	}
	if su, err := s.db.SessionUser(ctx, tok); err != nil || su.Via != "team" || len(su.Sees) == 0 {
		t.Fatalf("session: %+v %v", su, err)
	}
	// Replaying the same message fails: the challenge is used up.
	if _, _, err := s.appLogin(ctx, st, "192.0.2.1:1000", msg); err == nil || !strings.Contains(err.Error(), "challenge") {
		t.Fatalf("replay: %v", err)
	}
	// The admin app signs in an administrator (a new PBX-only account).
	ch, _ = s.appChallenge(st)
	u, _, err = s.appLogin(ctx, st, "192.0.2.2:1", loginMsg(appAdmin, "root", "Root", `{"appobj":"boss"}`, ch.Challenge, "pwd"))
	if err != nil || u.Role != store.RoleAdmin || u.Name != "root" {
		t.Fatalf("admin login: %+v %v", u, err)
	}
	if acc, _ := s.db.User(ctx, "root"); acc.Role != store.RoleUser || acc.HasPassword || acc.DisplayName != "Root" {
		t.Fatalf("created account: %+v", acc)
	}
	for _, tc := range []struct {
		name, app, info, password, want string
		expire                          bool
	}{
		{"wrong password", appUser, "", "nope", "wrong digest", false},
		{"unknown app object", appUser, `{"appobj":"ghost"}`, "pwd", "not configured", false},
		{"admin object for the user app", appUser, `{"appobj":"boss"}`, "pwd", "type admin", false},
		{"expired challenge", appUser, "", "pwd", "challenge", true},
	} {
		ch, _ := s.appChallenge(st)
		if tc.expire {
			clk.Advance(3 * time.Minute)
		}
		_, _, err := s.appLogin(ctx, st, "192.0.2.3:1", loginMsg(tc.app, "ben", "", tc.info, ch.Challenge, tc.password))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
	// Without an instance password AppLogin is off.
	if err := s.db.DeleteSetting(ctx, settingAppPassword); err != nil {
		t.Fatal(err)
	}
	ch, _ = s.appChallenge(st)
	if _, _, err := s.appLogin(ctx, st, "192.0.2.4:1", loginMsg(appUser, "ben", "", "", ch.Challenge, "")); err == nil ||
		!strings.Contains(err.Error(), "not configured") {
		t.Fatalf("no password: %v", err)
	}
}

func TestAppLoginRateLimit(t *testing.T) {
	s, clk := newLoginServer(t)
	ctx := context.Background()
	st := &appLoginConn{}
	try := func(addr, password string) error {
		ch, _ := s.appChallenge(st)
		_, _, err := s.appLogin(ctx, st, addr, loginMsg(appUser, "ben", "", "", ch.Challenge, password))
		return err
	}
	for i := range loginMaxFails {
		if err := try("198.51.100.7:4000", "bad"); err == nil || !strings.Contains(err.Error(), "wrong digest") {
			t.Fatalf("failure %d: %v", i, err)
		}
	}
	// Blocked now, even with the right password and from another port.
	if err := try("198.51.100.7:4001", "pwd"); err == nil || !strings.Contains(err.Error(), "too many") {
		t.Fatalf("after %d failures: %v", loginMaxFails, err)
	}
	// Other addresses are not affected.
	if err := try("198.51.100.8:4000", "pwd"); err != nil {
		t.Fatalf("other address: %v", err)
	}
	clk.Advance(loginWindow + time.Second)
	if err := try("198.51.100.7:4000", "pwd"); err != nil {
		t.Fatalf("after the window: %v", err)
	}
}
