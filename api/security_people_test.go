package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"recordings/api"
	"recordings/internal/app"
	"recordings/internal/apptest"
	"recordings/internal/testutil"
	"recordings/settings"
	"recordings/store"
)

// The "People" part of the security issue: each attack, then what is
// refused and that nothing stored changed. The users are those of
// newWSEnv: alice, bob (users) and root (admin), password wsPassword; and
// "admin" with apptest.AdminPassword.

const kelvinKim = "\u212Aim" // "Kim" with the Kelvin sign K (U+212A)

// clientFrom is an HTTP client whose connections come from the loopback
// address ip (127.0.0.0/8 is all local on Linux): a second source address
// for the sign-in throttle.
func clientFrom(t *testing.T, ip string) *http.Client {
	t.Helper()
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 5 * time.Second}
	tr := &http.Transport{DialContext: d.DialContext}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 10 * time.Second}
}

// signIn posts name and password to /api/login and returns the answer and
// its session cookie (nil when none was set).
func signIn(t *testing.T, c *http.Client, url, name, password string) (*http.Response, *http.Cookie) {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"name": name, "password": password})
	res, err := c.Post(url+"/api/login", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	for _, ck := range res.Cookies() {
		if ck.Name == api.SessionCookie && ck.Value != "" {
			return res, ck
		}
	}
	return res, nil
}

// get does GET path with auth applied and returns the status and body.
func get(t *testing.T, c *http.Client, url, path string, auth func(*http.Request)) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url+path, nil)
	if auth != nil {
		auth(req)
	}
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// send does method path with a JSON body as the admin "admin" (HTTP Basic)
// and returns the status and body.
func adminDo(t *testing.T, e *wsEnv, method, path, body string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, e.app.URL+path, strings.NewReader(body))
	req.SetBasicAuth("admin", apptest.AdminPassword)
	res, err := e.app.Client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

func withCookie(c *http.Cookie) func(*http.Request) {
	return func(r *http.Request) { r.AddCookie(c) }
}

// dialBasic opens a websocket signed in with HTTP Basic credentials.
func (e *wsEnv) dialBasic(name, password string) (*wsClientConn, *http.Response, error) {
	return e.dialHeader(http.Header{"Authorization": {"Basic " + basicToken(name, password)}})
}

func basicToken(name, password string) string {
	r, _ := http.NewRequest("GET", "/", nil)
	r.SetBasicAuth(name, password)
	return strings.TrimPrefix(r.Header.Get("Authorization"), "Basic ")
}

// closedWithin asserts that the next thing c reads, within d, is the
// close code 4401 (pushes and answers before it fail the test).
func closedWithin(t *testing.T, c *wsClientConn, d time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	_, b, err := c.c.Read(ctx)
	if err == nil {
		t.Fatalf("read %s, want the connection closed with %d", b, api.WSCloseSignIn)
	}
	if websocket.CloseStatus(err) != api.WSCloseSignIn {
		t.Fatalf("read: %v, want close %d within %v", err, api.WSCloseSignIn, d)
	}
}

func sessionCount(t *testing.T, e *wsEnv) int {
	t.Helper()
	n, err := e.db.SessionCount(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// 200 guesses at alice's password: after a handful the answers are 429
// with Retry-After and no password is checked any more; the right password
// from the attacker's address is refused too, while alice signs in from
// her own address at once. Nothing is stored for the guesses, the block
// grows with further failures, and the log names the source without
// writing a line per guess.
func TestSecurityPasswordGuessingThrottled(t *testing.T) {
	t.Parallel()
	clk := testutil.NewClock(time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC))
	logs := &testutil.LogBuffer{}
	e := newWSEnv(t, func(c *app.Config) { c.Tuning.Now = clk.Now; c.LogOutput = logs })
	attacker, own := clientFrom(t, "127.0.0.1"), clientFrom(t, "127.0.0.2")
	sessions := sessionCount(t, e)

	var unauthorized, throttled int
	lastRetry := 0
	for i := range 200 {
		res, cookie := signIn(t, attacker, e.app.URL, "alice", fmt.Sprintf("guess-%03d", i))
		if cookie != nil {
			t.Fatalf("guess %d got a session", i)
		}
		switch res.StatusCode {
		case http.StatusUnauthorized:
			if throttled > 0 {
				t.Fatalf("guess %d checked after the throttle started", i)
			}
			unauthorized++
		case http.StatusTooManyRequests:
			throttled++
			ra, err := strconv.Atoi(res.Header.Get("Retry-After"))
			if err != nil || ra < 1 || ra > 900 {
				t.Fatalf("guess %d: Retry-After %q", i, res.Header.Get("Retry-After"))
			}
			lastRetry = ra
		default:
			t.Fatalf("guess %d: %s", i, res.Status)
		}
	}
	if unauthorized != api.LoginMaxFails || throttled != 200-api.LoginMaxFails {
		t.Errorf("%d guesses checked, %d throttled; want %d checked", unauthorized, throttled, api.LoginMaxFails)
	}
	if res, cookie := signIn(t, attacker, e.app.URL, "alice", wsPassword); res.StatusCode != http.StatusTooManyRequests || cookie != nil {
		t.Errorf("right password from the guessing address: %s, cookie %v; want 429 and none", res.Status, cookie)
	}
	res, cookie := signIn(t, own, e.app.URL, "alice", wsPassword)
	if res.StatusCode != http.StatusOK || cookie == nil {
		t.Fatalf("alice from her own address: %s", res.Status)
	}
	if n := sessionCount(t, e); n != sessions+1 {
		t.Errorf("%d sessions, want %d (alice's own only)", n, sessions+1)
	}
	if _, err := e.db.Authenticate(e.ctx, "alice", wsPassword); err != nil {
		t.Errorf("alice's password changed: %v", err)
	}
	// After Retry-After the attacker gets one more check, then a longer block.
	clk.Advance(time.Duration(lastRetry) * time.Second)
	if res, _ := signIn(t, attacker, e.app.URL, "alice", "guess-again"); res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("after Retry-After: %s, want one more check", res.Status)
	}
	res, _ = signIn(t, attacker, e.app.URL, "alice", "and-again")
	if ra, _ := strconv.Atoi(res.Header.Get("Retry-After")); res.StatusCode != http.StatusTooManyRequests || ra <= lastRetry {
		t.Errorf("after another failure: %s, Retry-After %d; want 429 and more than %d", res.Status, ra, lastRetry)
	}
	// The log names the source; the flood is counted, not written line by line.
	clk.Advance(time.Minute)
	signIn(t, attacker, e.app.URL, "alice", "a-minute-later")
	out := logs.String()
	lines := regexp.MustCompile(`(?m)^.*msg="sign-in (failed|refused[^"]*)".*remote=127\.0\.0\.1:.*$`).FindAllString(out, -1)
	if len(lines) < api.LoginMaxFails || len(lines) > 2*api.LoginMaxFails+2 {
		t.Errorf("%d log lines for the guesses, want the first few only:\n%s", len(lines), strings.Join(lines, "\n"))
	}
	m := regexp.MustCompile(`not logged one by one".*remote=127\.0\.0\.1 count=(\d+)`).FindStringSubmatch(out)
	if n, _ := strconv.Atoi(m0(m)); n < 190 {
		t.Errorf("no count of the unlogged attempts (%v) in:\n%s", m, out)
	}
}

func m0(m []string) string {
	if len(m) < 2 {
		return ""
	}
	return m[1]
}

// Every sign-in path is throttled, and failures on one count on the
// others: after a handful of wrong passwords the right one is refused on
// each path, and no session comes into being.
func TestSecurityEverySignInPathThrottled(t *testing.T) {
	t.Parallel()
	type path struct {
		name string
		// try signs in as alice with password and reports whether it was
		// refused as throttled (a wrong password must give false).
		try func(t *testing.T, e *wsEnv, password string) (throttled bool)
	}
	login := path{"login", func(t *testing.T, e *wsEnv, pw string) bool {
		res, _ := signIn(t, e.app.Client, e.app.URL, "alice", pw)
		return res.StatusCode == http.StatusTooManyRequests && res.Header.Get("Retry-After") != ""
	}}
	basic := path{"basic", func(t *testing.T, e *wsEnv, pw string) bool {
		code, _ := get(t, e.app.Client, e.app.URL, "/api/me", func(r *http.Request) { r.SetBasicAuth("alice", pw) })
		return code == http.StatusTooManyRequests
	}}
	basicWS := path{"basic websocket", func(t *testing.T, e *wsEnv, pw string) bool {
		c, res, err := e.dialBasic("alice", pw)
		if err != nil {
			return res != nil && res.StatusCode == http.StatusTooManyRequests
		}
		c.c.CloseNow()
		return false
	}}
	appLogin := path{"applogin", func(t *testing.T, e *wsEnv, pw string) bool {
		c := e.mustDial("")
		defer c.c.CloseNow()
		r := c.call("AppLogin", appLoginParams(api.AppUser, "alice", "", challengeOf(t, c), pw))
		return r["ok"] == false && strings.Contains(errOf(r), "too many failed sign-ins")
	}}
	for _, tc := range []struct {
		name          string
		fail, then    path
		wrong, secret string
	}{
		{"login", login, login, "wrong", wsPassword},
		{"basic", basic, basic, "wrong", wsPassword},
		{"basic websocket", basicWS, basicWS, "wrong", wsPassword},
		{"applogin", appLogin, appLogin, "wrong", "pwd"},
		{"basic then login", basic, login, "wrong", wsPassword},
		{"applogin then basic", appLogin, basic, "wrong", wsPassword},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := appLoginEnv(t) // instance password "pwd"
			sessions := sessionCount(t, e)
			for i := range api.LoginMaxFails {
				if tc.fail.try(t, e, fmt.Sprintf("%s-%d", tc.wrong, i)) {
					t.Fatalf("%s: failure %d was throttled already", tc.fail.name, i)
				}
			}
			if !tc.then.try(t, e, tc.secret) {
				t.Errorf("%s after %d failures on %s: the right password was not refused", tc.then.name,
					api.LoginMaxFails, tc.fail.name)
			}
			if n := sessionCount(t, e); n != sessions {
				t.Errorf("%d sessions after the attack, want %d", n, sessions)
			}
		})
	}
}

// An admin demoted while signed in: the open websockets (cookie and HTTP
// Basic) are closed within a second, and the CreateUser sent right after
// the demotion creates no administrator.
func TestSecurityDemotedAdminSocket(t *testing.T) {
	t.Parallel()
	e := newWSEnv(t)
	cookieWS := e.mustDial("root")
	basicWS, _, err := e.dialBasic("root", wsPassword)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []*wsClientConn{cookieWS, basicWS} {
		if r := c.call("GetSettings", nil); errOf(r) != "" {
			t.Fatalf("root before the demotion: %v", r)
		}
	}
	users, _ := e.db.UserCount(e.ctx)
	if code, body := adminDo(t, e, "PUT", "/api/admin/users/root", `{"role":"user"}`); code != http.StatusOK {
		t.Fatalf("demote root: %d %s", code, body)
	}
	for _, c := range []*wsClientConn{cookieWS, basicWS} {
		// The close may be on its way already: a failed write is fine.
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		_ = c.c.Write(ctx, websocket.MessageText,
			[]byte(`{"mt":"CreateUser","src":"x","name":"mallory","password":"mallory-password","role":"admin"}`))
		cancel()
		closedWithin(t, c, time.Second)
	}
	if n, _ := e.db.UserCount(e.ctx); n != users {
		t.Errorf("%d users after the demoted admin's CreateUser, want %d", n, users)
	}
	if _, err := e.db.User(e.ctx, "mallory"); err == nil {
		t.Error("the demoted admin's socket created mallory")
	}
	// A new Basic socket is a user's now.
	c, _, err := e.dialBasic("root", wsPassword)
	if err != nil {
		t.Fatal(err)
	}
	if r := c.call("CreateUser", map[string]any{"name": "mallory", "password": "mallory-password"}); errOf(r) != "administrators only" {
		t.Errorf("CreateUser as the demoted root: %v", r)
	}
}

// A logout closes the websockets of that session at once; nothing is
// pushed to them any more. Another session of the same user stays.
func TestSecurityLogoutClosesSockets(t *testing.T) {
	t.Parallel()
	e := newWSEnv(t)
	out, stay := e.login("alice"), e.login("alice")
	cOut, _, err := e.dial(out, "")
	if err != nil {
		t.Fatal(err)
	}
	cStay, _, err := e.dial(stay, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []*wsClientConn{cOut, cStay} {
		if r := c.call("Subscribe", nil); errOf(r) != "" {
			t.Fatal(r)
		}
	}
	req, _ := http.NewRequest("POST", e.app.URL+"/api/logout", nil)
	req.AddCookie(out)
	req.Header.Set("Origin", e.app.URL) // as the page sends it
	res, err := e.app.Client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusNoContent {
		t.Fatalf("logout: %s", res.Status)
	}
	closedWithin(t, cOut, time.Second)
	if code, _ := get(t, e.app.Client, e.app.URL, "/api/me", withCookie(out)); code != http.StatusUnauthorized {
		t.Errorf("the logged-out cookie: %d", code)
	}
	id := e.upload("alice", 10)
	for {
		m := cStay.next()
		if rec, _ := m["recording"].(map[string]any); rec != nil && int64(rec["id"].(float64)) == id {
			break
		}
	}
}

// The CLI's password reset works on the database behind a running
// service; its test is TestCreateAdminEndsStolenSessions (package main).
// Here: a session ended outside the service (as the CLI does) gets no
// more pushes once the push re-check finds it gone, and an HTTP Basic
// websocket whose password changed outside is closed at its next request.
func TestSecuritySessionsEndedElsewhere(t *testing.T) {
	t.Parallel()
	clk := testutil.NewClock(time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC))
	e := newWSEnv(t, func(c *app.Config) { c.Tuning.Now = clk.Now })
	cookie := e.login("alice")
	c, _, err := e.dial(cookie, "")
	if err != nil {
		t.Fatal(err)
	}
	if r := c.call("Subscribe", nil); errOf(r) != "" {
		t.Fatal(r)
	}
	b, _, err := e.dialBasic("bob", wsPassword)
	if err != nil {
		t.Fatal(err)
	}
	if r := b.call("GetMe", nil); errOf(r) != "" {
		t.Fatal(r)
	}
	clk.Advance(time.Minute)
	alice, _ := e.db.User(e.ctx, "alice")
	if _, err := e.db.DeleteUserSessions(e.ctx, alice.ID); err != nil {
		t.Fatal(err)
	}
	if err := e.db.SetPassword(e.ctx, "bob", "changed-elsewhere"); err != nil {
		t.Fatal(err)
	}
	e.s.PushRecording(store.Recording{ID: 424242, Owner: "alice", State: store.StateReady})
	closedWithin(t, c, time.Second)
	b.send(`{"mt":"GetMe","src":"b"}`)
	if r := b.next(); !strings.Contains(errOf(r), "session ended") {
		t.Errorf("bob's Basic socket after his password changed: %v", r)
	}
	closedWithin(t, b, time.Second)
}

// A disabled account signs in by no path, its session and socket end at
// once, and its recordings stay. Enabled again, it signs in.
func TestSecurityDisabledAccount(t *testing.T) {
	t.Parallel()
	e := appLoginEnv(t)
	rec := e.upload("bob", 10)
	cookie := e.login("bob")
	c, _, err := e.dial(cookie, "")
	if err != nil {
		t.Fatal(err)
	}
	if r := c.call("GetMe", nil); errOf(r) != "" {
		t.Fatal(r)
	}
	if code, body := adminDo(t, e, "PUT", "/api/admin/users/bob/disabled", `{"disabled":true}`); code != http.StatusOK ||
		!strings.Contains(body, `"disabled":true`) {
		t.Fatalf("disable bob: %d %s", code, body)
	}
	closedWithin(t, c, time.Second)
	if code, _ := get(t, e.app.Client, e.app.URL, "/api/me", withCookie(cookie)); code != http.StatusUnauthorized {
		t.Errorf("bob's session after disabling: %d", code)
	}
	if res, ck := signIn(t, e.app.Client, e.app.URL, "bob", wsPassword); res.StatusCode != http.StatusForbidden || ck != nil {
		t.Errorf("login: %s", res.Status)
	}
	if code, _ := get(t, e.app.Client, e.app.URL, "/api/me", func(r *http.Request) { r.SetBasicAuth("bob", wsPassword) }); code != http.StatusForbidden {
		t.Errorf("basic: %d", code)
	}
	if _, res, err := e.dialBasic("bob", wsPassword); err == nil || res == nil || res.StatusCode != http.StatusForbidden {
		t.Errorf("basic websocket: %v", err)
	}
	a := e.mustDial("")
	if r := a.call("AppLogin", appLoginParams(api.AppUser, "bob", "", challengeOf(t, a), "pwd")); r["ok"] != false ||
		!strings.Contains(errOf(r), "disabled") {
		t.Errorf("AppLogin: %v", r)
	}
	if r, err := e.db.Recording(e.ctx, rec); err != nil || r.Owner != "bob" {
		t.Errorf("bob's recording: %+v, %v", r, err)
	}
	// Administrators cannot lock themselves out.
	if code, _ := adminDo(t, e, "PUT", "/api/admin/users/admin/disabled", `{"disabled":true}`); code != http.StatusConflict {
		t.Errorf("disabling oneself: %d, want 409", code)
	}
	if code, _ := adminDo(t, e, "PUT", "/api/admin/users/bob/disabled", `{"disabled":false}`); code != http.StatusOK {
		t.Fatalf("enable bob: %d", code)
	}
	if res, ck := signIn(t, e.app.Client, e.app.URL, "bob", wsPassword); res.StatusCode != http.StatusOK || ck == nil {
		t.Errorf("bob enabled again: %s", res.Status)
	}
}

// A deleted account's recordings stay, reachable by admins only, until an
// admin gives them to another user, whose open app shows them at once.
func TestSecurityDeletedAccountRecordings(t *testing.T) {
	t.Parallel()
	e := newWSEnv(t)
	rec := e.upload("bob", 10)
	e.waitReady(rec)
	bob := e.mustDial("bob")
	root, alice := e.mustDial("root"), e.mustDial("alice")
	if r := alice.call("Subscribe", nil); errOf(r) != "" {
		t.Fatal(r)
	}
	if r := root.call("DeleteUser", map[string]any{"name": "bob"}); errOf(r) != "" {
		t.Fatalf("DeleteUser: %v", r)
	}
	closedWithin(t, bob, time.Second)
	if res, _ := signIn(t, e.app.Client, e.app.URL, "bob", wsPassword); res.StatusCode != http.StatusUnauthorized {
		t.Errorf("deleted bob signs in: %s", res.Status)
	}
	if r, err := e.db.Recording(e.ctx, rec); err != nil || r.Owner != "bob" || r.State != store.StateReady {
		t.Fatalf("bob's recording after the delete: %+v, %v", r, err)
	}
	if ids := listIDs(alice.call("ListRecordings", nil)); len(ids) != 0 {
		t.Errorf("alice sees %v before the reassignment", ids)
	}
	if ids := listIDs(root.call("ListRecordings", nil)); len(ids) != 1 || ids[0] != rec {
		t.Errorf("the admin lists %v, want bob's recording", ids)
	}
	for _, bad := range []map[string]any{{"from": "bob", "to": "nobody"}, {"from": "", "to": "alice"}, {"from": "alice", "to": "ALICE"}} {
		if r := root.call("ReassignRecordings", bad); errOf(r) == "" {
			t.Errorf("ReassignRecordings %v accepted", bad)
		}
	}
	if r := alice.call("ReassignRecordings", map[string]any{"from": "bob", "to": "alice"}); errOf(r) != "administrators only" {
		t.Errorf("a user reassigns: %v", r)
	}
	r := root.call("ReassignRecordings", map[string]any{"from": "bob", "to": "alice"})
	if errOf(r) != "" || r["moved"] != float64(1) {
		t.Fatalf("ReassignRecordings: %v", r)
	}
	for {
		m := alice.next()
		if m["mt"] == "RecordingAdded" && int64(m["recording"].(map[string]any)["id"].(float64)) == rec {
			break
		}
	}
	if ids := listIDs(alice.call("ListRecordings", nil)); len(ids) != 1 || ids[0] != rec {
		t.Errorf("alice lists %v after the reassignment", ids)
	}
	if r, _ := e.db.Recording(e.ctx, rec); r.Owner != "alice" || r.OwnerSource != store.OwnerByAdmin {
		t.Errorf("recording after the reassignment: %+v", r)
	}
}

// A password shorter than store.MinPasswordLen is refused when an account
// is created, when a user changes theirs and when an admin resets one; the
// stored password stays. (At start: TestServeRefusesShortAdminPassword in
// package main.)
func TestSecurityShortPasswords(t *testing.T) {
	t.Parallel()
	e := newWSEnv(t)
	root, alice := e.mustDial("root"), e.mustDial("alice")
	short := strings.Repeat("x", store.MinPasswordLen-1)
	users, _ := e.db.UserCount(e.ctx)
	if r := root.call("CreateUser", map[string]any{"name": "carol", "password": short}); !strings.Contains(errOf(r), "password") {
		t.Errorf("create: %v", r)
	}
	if n, _ := e.db.UserCount(e.ctx); n != users {
		t.Errorf("%d users, want %d", n, users)
	}
	if r := alice.call("ChangePassword", map[string]any{"old": wsPassword, "new": short}); !strings.Contains(errOf(r), "at least") {
		t.Errorf("change (websocket): %v", r)
	}
	req, _ := http.NewRequest("PUT", e.app.URL+"/api/me/password", strings.NewReader(`{"old":"`+wsPassword+`","new":"`+short+`"}`))
	req.SetBasicAuth("alice", wsPassword)
	if res, err := e.app.Client.Do(req); err != nil || res.StatusCode != http.StatusBadRequest {
		t.Errorf("change (REST): %v %v", res, err)
	} else {
		res.Body.Close()
	}
	if code, body := adminDo(t, e, "PUT", "/api/admin/users/alice/password", `{"password":"`+short+`"}`); code != http.StatusBadRequest {
		t.Errorf("reset: %d %s", code, body)
	}
	if r := root.call("ResetPassword", map[string]any{"name": "alice", "password": short}); errOf(r) == "" {
		t.Errorf("reset (websocket): %v", r)
	}
	if _, err := e.db.Authenticate(e.ctx, "alice", wsPassword); err != nil {
		t.Errorf("alice's password changed: %v", err)
	}
	if r := alice.call("GetMe", nil); errOf(r) != "" {
		t.Errorf("alice's socket ended by refused changes: %v", r)
	}
}

// A user changes their own password: a wrong current password is refused
// (and counts as a guess); the right one changes it and ends every session
// of the user, the asking websocket after its answer.
func TestSecurityChangeOwnPassword(t *testing.T) {
	t.Parallel()
	e := newWSEnv(t)
	other := e.login("alice")
	c := e.mustDial("alice")
	if r := c.call("ChangePassword", map[string]any{"old": "not-the-password", "new": "brand-new-password"}); !strings.Contains(errOf(r), "wrong") {
		t.Fatalf("wrong current password: %v", r)
	}
	r := c.call("ChangePassword", map[string]any{"old": wsPassword, "new": "brand-new-password"})
	if errOf(r) != "" {
		t.Fatalf("ChangePassword: %v", r)
	}
	closedWithin(t, c, time.Second)
	if code, _ := get(t, e.app.Client, e.app.URL, "/api/me", withCookie(other)); code != http.StatusUnauthorized {
		t.Errorf("another session of alice: %d", code)
	}
	if res, _ := signIn(t, e.app.Client, e.app.URL, "alice", "brand-new-password"); res.StatusCode != http.StatusOK {
		t.Errorf("sign-in with the new password: %s", res.Status)
	}
	// A PBX-only account has no password to change.
	if err := e.app.Settings.Set(e.ctx, "test", map[string]string{settings.KeyAppPassword: "pwd"}); err != nil {
		t.Fatal(err)
	}
	p := e.mustDial("")
	if r := p.call("AppLogin", appLoginParams(api.AppUser, "pbxuser", "", challengeOf(t, p), "pwd")); r["ok"] != true {
		t.Fatal(r)
	}
	if r := p.call("ChangePassword", map[string]any{"old": "", "new": "brand-new-password"}); !strings.Contains(errOf(r), "no local password") {
		t.Errorf("PBX-only account: %v", r)
	}
}

// Sessions end after the idle time (injected clock); one in use stays.
func TestSecurityIdleSessionExpires(t *testing.T) {
	t.Parallel()
	clk := testutil.NewClock(time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC))
	e := newWSEnv(t, func(c *app.Config) { c.Tuning.Now = clk.Now; c.Tuning.SessionTTL = 48 * time.Hour })
	idle, used := e.login("alice"), e.login("bob")
	c, _, err := e.dial(idle, "")
	if err != nil {
		t.Fatal(err)
	}
	for range 3 { // 21 h of use, an hour less than the idle time apart
		clk.Advance(store.DefaultSessionIdle - time.Hour)
		if code, _ := get(t, e.app.Client, e.app.URL, "/api/me", withCookie(used)); code != http.StatusOK {
			t.Fatalf("a session in use ended: %d", code)
		}
	}
	if code, _ := get(t, e.app.Client, e.app.URL, "/api/me", withCookie(idle)); code != http.StatusUnauthorized {
		t.Errorf("idle session: %d, want 401", code)
	}
	c.send(`{"mt":"GetMe","src":"i"}`)
	if r := c.next(); !strings.Contains(errOf(r), "session ended") {
		t.Errorf("idle session's socket: %v", r)
	}
	closedWithin(t, c, time.Second)
}

// The Kelvin-sign look-alike of kim cannot be created (by the admin app or
// by a PBX sign-in: that signs in kim herself) and so cannot read kim's
// recordings with a password of its own.
func TestSecurityLookAlikeName(t *testing.T) {
	t.Parallel()
	e := newWSEnv(t)
	e.app.User("kim", store.RoleUser, "kims-password")
	rec := e.upload("kim", 10)
	e.waitReady(rec)
	users, _ := e.db.UserCount(e.ctx)
	root := e.mustDial("root")
	r := root.call("CreateUser", map[string]any{"name": kelvinKim, "password": "mallory-password"})
	if !strings.Contains(errOf(r), "exists already") {
		t.Fatalf("CreateUser %q: %v", kelvinKim, r)
	}
	if n, _ := e.db.UserCount(e.ctx); n != users {
		t.Errorf("%d users, want %d", n, users)
	}
	path := fmt.Sprintf("/api/recordings/%d", rec)
	if code, _ := get(t, e.app.Client, e.app.URL, path, func(r *http.Request) { r.SetBasicAuth(kelvinKim, "mallory-password") }); code != http.StatusUnauthorized {
		t.Errorf("the look-alike reads kim's recording: %d", code)
	}
	// The name in any spelling is kim's account.
	if code, _ := get(t, e.app.Client, e.app.URL, path, func(r *http.Request) { r.SetBasicAuth(kelvinKim, "kims-password") }); code != http.StatusOK {
		t.Errorf("kim, spelled with the Kelvin sign: %d", code)
	}
	// A user whose access list names KIM sees kim's recording, whose owner
	// key it is; bob's list of kimberly does not open it.
	if _, err := e.db.CreateAppObject(e.ctx, store.AppObject{Name: "kims", Access: []string{"KIM"}}); err != nil {
		t.Fatal(err)
	}
	if err := e.db.SetUserAppObject(e.ctx, "alice", "kims"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.db.CreateAppObject(e.ctx, store.AppObject{Name: "kimberly", Access: []string{"kimberly"}}); err != nil {
		t.Fatal(err)
	}
	if err := e.db.SetUserAppObject(e.ctx, "bob", "kimberly"); err != nil {
		t.Fatal(err)
	}
	for user, want := range map[string]int{"alice": http.StatusOK, "bob": http.StatusNotFound} {
		if code, _ := get(t, e.app.Client, e.app.URL, path, func(r *http.Request) { r.SetBasicAuth(user, wsPassword) }); code != want {
			t.Errorf("%s: %d, want %d", user, code, want)
		}
	}
}
