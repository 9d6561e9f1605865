package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"recordings/api"
	"recordings/internal/testutil"
	"recordings/pbx"
	"recordings/settings"
	"recordings/store"
)

// appLoginEnv is the websocket environment with AppLogin configured: the
// instance password "pwd" and an app object "team" whose list opens bob's
// recordings (by number).
func appLoginEnv(t *testing.T) *wsEnv {
	t.Helper()
	e := newWSEnv(t)
	if err := e.app.Settings.Set(e.ctx, "test", map[string]string{settings.KeyAppPassword: "pwd"}); err != nil {
		t.Fatal(err)
	}
	bob, _ := e.db.User(e.ctx, "bob")
	bob.E164 = "201"
	if err := e.db.UpdateUser(e.ctx, bob); err != nil {
		t.Fatal(err)
	}
	if _, err := e.db.CreateAppObject(e.ctx, store.AppObject{Name: "team", Access: []string{"201"}}); err != nil {
		t.Fatal(err)
	}
	return e
}

func appLoginParams(app, sip, info, challenge, password string) map[string]any {
	p := map[string]any{"app": app, "domain": "example.com", "sip": sip, "guid": "0123", "dn": "Alice A",
		"digest": pbx.AppLoginDigest(app, "example.com", sip, "0123", "Alice A", info, challenge, password)}
	if info != "" {
		p["info"] = json.RawMessage(info)
	}
	return p
}

func challengeOf(t *testing.T, c *wsClientConn) string {
	t.Helper()
	r := c.call("AppChallenge", nil)
	ch, _ := r["challenge"].(string)
	if ch != "0123456789abcdef" && (len(ch) != pbx.ChallengeDigits || strings.Trim(ch, "0123456789") != "") {
		t.Fatalf("AppChallengeResult %v", r)
	}
	return ch
}

func TestWSAppLoginAccessList(t *testing.T) {
	t.Parallel()
	e := appLoginEnv(t)
	own, bobs, roots := e.upload("alice", 10), e.upload("bob", 10), e.upload("root", 10)
	for _, id := range []int64{own, bobs, roots} {
		e.waitReady(id)
	}
	c := e.mustDial("")
	if r := c.call("ListRecordings", nil); !strings.Contains(errOf(r), "sign-in") {
		t.Fatalf("anonymous list: %v", r)
	}
	ch := challengeOf(t, c)
	r := c.call("AppLogin", appLoginParams(api.AppUser, "alice", `{"appobj":"team"}`, ch, "pwd"))
	if r["ok"] != true || r["user"] != "alice" || r["role"] != "user" || r["app_object"] != "team" {
		t.Fatalf("AppLoginResult %v", r)
	}
	ids := listIDs(c.call("ListRecordings", nil))
	slices.Sort(ids)
	if !slices.Equal(ids, []int64{own, bobs}) {
		t.Fatalf("lists %v, want own %d and bob's %d", ids, own, bobs)
	}
	if r := c.call("GetRecording", map[string]any{"id": roots}); errOf(r) != "no such recording" {
		t.Fatalf("root's recording: %v", r)
	}
	if r := c.call("GetRecording", map[string]any{"id": bobs}); errOf(r) != "" {
		t.Fatalf("bob's recording: %v", r)
	}
	if r := c.call("GetSettings", nil); errOf(r) != "administrators only" {
		t.Fatalf("user app reaching admin messages: %v", r)
	}
	// Pushes follow the same check: subscribed, alice hears of bob's new
	// recording and not of root's.
	if r := c.call("Subscribe", nil); errOf(r) != "" {
		t.Fatalf("subscribe: %v", r)
	}
	rootNew := e.upload("root", 5)
	bobNew := e.upload("bob", 5)
	e.waitReady(rootNew)
	e.waitReady(bobNew)
	sawBob := false
	deadline := time.Now().Add(2 * time.Second)
	for time.Now().Before(deadline) && !sawBob {
		m := c.next()
		rec, _ := m["recording"].(map[string]any)
		if rec == nil {
			continue
		}
		switch int64(rec["id"].(float64)) {
		case rootNew:
			t.Fatalf("pushed root's recording to alice: %v", m)
		case bobNew:
			sawBob = true
		}
	}
	if !sawBob {
		t.Fatal("no push of bob's recording")
	}
}

func TestWSAppLoginSessionForHTTP(t *testing.T) {
	t.Parallel()
	e := appLoginEnv(t)
	bobs, roots := e.upload("bob", 10), e.upload("root", 10)
	e.waitReady(bobs)
	e.waitReady(roots)
	c := e.mustDial("")
	r := c.call("AppLogin", appLoginParams(api.AppUser, "alice", `{"appobj":"team"}`, challengeOf(t, c), "pwd"))
	tok, _ := r["session"].(string)
	if r["ok"] != true || tok == "" {
		t.Fatalf("AppLoginResult %v", r)
	}
	for id, want := range map[int64]int{bobs: 200, roots: 404} {
		req, _ := http.NewRequest("GET", fmt.Sprintf("%s/api/recordings/%d/audio.wav", e.app.URL, id), nil)
		req.AddCookie(&http.Cookie{Name: api.SessionCookie, Value: tok})
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != want {
			t.Errorf("audio %d with the AppLogin session: %d, want %d", id, res.StatusCode, want)
		}
	}
	// Signing out ends the connection's rights too.
	req, _ := http.NewRequest("POST", e.app.URL+"/api/logout", nil)
	req.AddCookie(&http.Cookie{Name: api.SessionCookie, Value: tok})
	req.Header.Set("Origin", e.app.URL)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	// The logout closed the connection signed in with that session.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, _, err := c.c.Read(ctx); websocket.CloseStatus(err) != api.WSCloseSignIn {
		t.Fatalf("after logout: read %v, want close %d", err, api.WSCloseSignIn)
	}
}

// The digest vectors, sent over the websocket with the vectors'
// challenge: the right digest passes the digest check (then the unknown
// app is refused), a wrong one is refused as such. Then a real sign-in
// with the vectors' challenge and password.
func TestWSAppLoginDigestVectorsAndReplay(t *testing.T) {
	t.Parallel()
	e := appLoginEnv(t)
	e.s.SetChallenge(func() (string, error) { return "0123456789abcdef", nil })
	c := e.mustDial("")
	for _, v := range []struct{ info, digest string }{
		{"", "a205299ed2ef2786c311e0be1b14db343f2cadd906a6ae7b564eee34bda5e9a1"},
		{"{}", "57b23fe824b9222a7ac879597cb509bcdc865a1bfeb057d9d12118cef0c3ba34"},
		{`{"cn":"Test User"}`, "96db3c3f657230c2b68194becc6d2a77f05de9f79f01fc81e9ca0fb196b10d9d"},
	} {
		for _, wrong := range []bool{false, true} {
			if ch := challengeOf(t, c); ch != "0123456789abcdef" {
				t.Fatalf("challenge %q", ch)
			}
			d := v.digest
			if wrong {
				d = "f" + d[1:]
				if d == v.digest {
					d = "e" + d[1:]
				}
			}
			p := map[string]any{"app": "pbxadminapi", "domain": "", "sip": "", "guid": "", "dn": "", "digest": d}
			if v.info != "" {
				p["info"] = json.RawMessage(v.info)
			}
			r := c.call("AppLogin", p)
			want := "unknown app"
			if wrong {
				want = "wrong digest"
			}
			if r["ok"] != false || !strings.Contains(errOf(r), want) {
				t.Fatalf("vector info=%q wrong=%v: %v", v.info, wrong, r)
			}
			e.s.ForgetLoginFailures("127.0.0.1")
		}
	}
	msg := appLoginParams(api.AppAdmin, "root", "", challengeOf(t, c), "pwd")
	// A replay of an AppLogin without a fresh challenge fails; the first
	// use of the challenge succeeds, a second connection cannot reuse it.
	c2 := e.mustDial("")
	if r := c2.call("AppLogin", msg); r["ok"] != false || !strings.Contains(errOf(r), "challenge") {
		t.Fatalf("AppLogin on a connection that asked no challenge: %v", r)
	}
	if r := c.call("AppLogin", msg); r["ok"] != true || r["role"] != "admin" {
		t.Fatalf("admin AppLogin: %v", r)
	}
	if r := c.call("GetSettings", nil); errOf(r) != "" {
		t.Fatalf("admin app: GetSettings: %v", r)
	}
	c3 := e.mustDial("")
	challengeOf(t, c3)
	if r := c3.call("AppLogin", msg); r["ok"] != true {
		// Same challenge value (the test's fixed one) but a fresh challenge
		// of this connection: valid. Now replay on the same connection.
		t.Fatalf("fresh challenge: %v", r)
	}
	c4 := e.mustDial("")
	challengeOf(t, c4)
	c4.call("AppLogin", appLoginParams(api.AppAdmin, "root", "", "0123456789abcdef", "wrong"))
	if r := c4.call("AppLogin", msg); r["ok"] != false || !strings.Contains(errOf(r), "challenge") {
		t.Fatalf("replay after the challenge was used: %v", r)
	}
}

func TestWSAppLoginRateLimit(t *testing.T) {
	t.Parallel()
	e := appLoginEnv(t)
	clk := testutil.NewClock(time.Now())
	e.s.SetLoginClock(clk.Now)
	c := e.mustDial("")
	for i := range api.LoginMaxFails {
		r := c.call("AppLogin", appLoginParams(api.AppUser, "alice", "", challengeOf(t, c), "wrong"))
		if r["ok"] != false || errOf(r) != "wrong digest" {
			t.Fatalf("failure %d: %v", i, r)
		}
	}
	// Another connection from the same address is refused too, even with
	// the right password.
	c2 := e.mustDial("")
	r := c2.call("AppLogin", appLoginParams(api.AppUser, "alice", "", challengeOf(t, c2), "pwd"))
	if r["ok"] != false || !strings.Contains(errOf(r), "too many") {
		t.Fatalf("blocked address: %v", r)
	}
	clk.Advance(api.LoginWindow + time.Second)
	r = c2.call("AppLogin", appLoginParams(api.AppUser, "alice", "", challengeOf(t, c2), "pwd"))
	if r["ok"] != true {
		t.Fatalf("after the window: %v", r)
	}
}

// A connection a cookie signed in may sign in again by AppLogin; it then
// acts as the AppLogin's user.
func TestWSAppLoginOverCookieConnection(t *testing.T) {
	t.Parallel()
	e := appLoginEnv(t)
	c := e.mustDial("root")
	if r := c.call("GetSettings", nil); errOf(r) != "" {
		t.Fatalf("root: %v", r)
	}
	r := c.call("AppLogin", appLoginParams(api.AppUser, "alice", "", challengeOf(t, c), "pwd"))
	if r["ok"] != true || r["user"] != "alice" {
		t.Fatalf("AppLoginResult %v", r)
	}
	if r := c.call("GetSettings", nil); errOf(r) != "administrators only" {
		t.Fatalf("after AppLogin as alice: %v", r)
	}
}
