package api_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"recordings/api"
	"recordings/internal/app"
	"recordings/internal/apptest"
	"recordings/internal/testutil"
	"recordings/pbx"
	"recordings/settings"
	"recordings/store"
)

// newLoginServer is the service with AppLogin configured: the instance
// password "pwd", the app objects "team" (opening number 101) and "boss"
// (admin), and ben, number 101, a PBX-only account.
func newLoginServer(t *testing.T) (*api.Server, *testutil.Clock, *apptest.App) {
	t.Helper()
	clk := testutil.NewClock(time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC))
	a := apptest.New(t, func(c *app.Config) { c.Tuning.Now = clk.Now })
	if err := a.Settings.Set(a.Ctx, "test", map[string]string{settings.KeyAppPassword: "pwd"}); err != nil {
		t.Fatal(err)
	}
	for _, o := range []store.AppObject{{Name: "team", Access: []string{"101"}}, {Name: "boss", Type: store.AppObjectAdmin}} {
		if _, err := a.DB.CreateAppObject(a.Ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := a.DB.CreateUser(a.Ctx, store.User{Name: "ben", E164: "101"}, ""); err != nil {
		t.Fatal(err)
	}
	return a.API, clk, a
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
	t.Parallel()
	s, _, _ := newLoginServer(t)
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
			_, _, err := s.AppLoginWith(context.Background(), "0123456789abcdef", "192.0.2.1:1", []byte(msg))
			want := "unknown app"
			if flip {
				want = "wrong digest"
			}
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("info %q flip=%v: %v, want %q", v.info, flip, err, want)
			}
			s.ForgetLoginFailures("192.0.2.1")
		}
	}
}

func TestAppLoginExchange(t *testing.T) {
	t.Parallel()
	s, clk, a := newLoginServer(t)
	ctx := context.Background()
	st := s.NewAppLoginConn()
	ch, err := st.Challenge()
	if err != nil || len(ch) != pbx.ChallengeDigits || strings.Trim(ch, "0123456789") != "" {
		t.Fatalf("challenge %q %v", ch, err)
	}
	// A user through app object "team" (spaced JSON on the wire is fine).
	msg := loginMsg(api.AppUser, "ben", "Ben Berg", `{"appobj":"team"}`, ch, "pwd")
	msg = []byte(strings.Replace(string(msg), `{"appobj":"team"}`, `{ "appobj" : "team" }`, 1))
	u, tok, err := st.Login(ctx, "192.0.2.1:1000", msg)
	if err != nil || u.Name != "ben" || u.Role != store.RoleUser || u.Via != "team" || tok == "" {
		t.Fatalf("login: %+v %q %v", u, tok, err)
	}
	if su, err := a.DB.SessionUser(ctx, tok); err != nil || su.Via != "team" || len(su.Sees) == 0 {
		t.Fatalf("session: %+v %v", su, err)
	}
	// Replaying the same message fails: the challenge is used up.
	if _, _, err := st.Login(ctx, "192.0.2.1:1000", msg); err == nil || !strings.Contains(err.Error(), "challenge") {
		t.Fatalf("replay: %v", err)
	}
	// The admin app signs in an administrator (a new PBX-only account).
	ch, _ = st.Challenge()
	u, _, err = st.Login(ctx, "192.0.2.2:1", loginMsg(api.AppAdmin, "root", "Root", `{"appobj":"boss"}`, ch, "pwd"))
	if err != nil || u.Role != store.RoleAdmin || u.Name != "root" {
		t.Fatalf("admin login: %+v %v", u, err)
	}
	if acc, _ := a.DB.User(ctx, "root"); acc.Role != store.RoleUser || acc.HasPassword || acc.DisplayName != "Root" {
		t.Fatalf("created account: %+v", acc)
	}
	for _, tc := range []struct {
		name, app, info, password, want string
		expire                          bool
	}{
		{"wrong password", api.AppUser, "", "nope", "wrong digest", false},
		{"unknown app object", api.AppUser, `{"appobj":"ghost"}`, "pwd", "not configured", false},
		{"admin object for the user app", api.AppUser, `{"appobj":"boss"}`, "pwd", "type admin", false},
		{"expired challenge", api.AppUser, "", "pwd", "challenge", true},
	} {
		ch, _ := st.Challenge()
		if tc.expire {
			clk.Advance(3 * time.Minute)
		}
		_, _, err := st.Login(ctx, "192.0.2.3:1", loginMsg(tc.app, "ben", "", tc.info, ch, tc.password))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
	// The instance password cannot be cleared (which would leave AppLogin
	// to an empty password, or off without the admin seeing why).
	if err := a.Settings.Set(ctx, "test", map[string]string{settings.KeyAppPassword: ""}); err == nil {
		t.Fatal("instance password cleared")
	}
	ch, _ = st.Challenge()
	if _, _, err := st.Login(ctx, "192.0.2.4:1", loginMsg(api.AppUser, "ben", "", "", ch, "")); err == nil {
		t.Fatal("AppLogin with an empty password")
	}
}

func TestAppLoginRateLimit(t *testing.T) {
	t.Parallel()
	s, clk, _ := newLoginServer(t)
	ctx := context.Background()
	st := s.NewAppLoginConn()
	try := func(addr, password string) error {
		ch, _ := st.Challenge()
		_, _, err := st.Login(ctx, addr, loginMsg(api.AppUser, "ben", "", "", ch, password))
		return err
	}
	for i := range api.LoginMaxFails {
		if err := try("198.51.100.7:4000", "bad"); err == nil || !strings.Contains(err.Error(), "wrong digest") {
			t.Fatalf("failure %d: %v", i, err)
		}
	}
	// Blocked now, even with the right password and from another port.
	if err := try("198.51.100.7:4001", "pwd"); err == nil || !strings.Contains(err.Error(), "too many") {
		t.Fatalf("after %d failures: %v", api.LoginMaxFails, err)
	}
	// Other addresses are not affected.
	if err := try("198.51.100.8:4000", "pwd"); err != nil {
		t.Fatalf("other address: %v", err)
	}
	clk.Advance(api.LoginWindow + time.Second)
	if err := try("198.51.100.7:4000", "pwd"); err != nil {
		t.Fatalf("after the window: %v", err)
	}
}
