package api_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"

	"recordings/api"
	"recordings/applog"
	"recordings/events"
	"recordings/internal/apptest"
	"recordings/internal/callgen"
	"recordings/store"
)

// wsEnv is the service on a loopback port with a user alice, a user bob and
// an admin root.
type wsEnv struct {
	t   *testing.T
	ctx context.Context
	db  *store.DB
	app *apptest.App
	s   *api.Server
}

const wsPassword = "password-123"

func newWSEnv(t *testing.T, opts ...apptest.Option) *wsEnv {
	t.Helper()
	a := apptest.New(t, opts...)
	a.User("alice", store.RoleUser, wsPassword)
	a.User("bob", store.RoleUser, wsPassword)
	a.User("root", store.RoleAdmin, wsPassword)
	return &wsEnv{t: t, ctx: a.Ctx, db: a.DB, app: a, s: a.API}
}

// login signs in over HTTP and returns the session cookie.
func (e *wsEnv) login(name string) *http.Cookie {
	e.t.Helper()
	return e.app.SessionCookie(name, wsPassword)
}

// upload stores a capture for owner over HTTP and returns its id.
func (e *wsEnv) upload(owner string, packets int) int64 {
	e.t.Helper()
	conf := make([]byte, 16)
	_, _ = rand.Read(conf)
	name := hex.EncodeToString(conf) + "-009033aabbcc-1-" + owner + ".pcap"
	req, _ := http.NewRequest(http.MethodPut, e.app.URL+"/example.com/recordings/Files/"+name, bytes.NewReader(callgen.Default(packets).Bytes()))
	apptest.UploadAuth(req)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusCreated {
		e.t.Fatalf("upload: %s", res.Status)
	}
	rec, err := e.db.RecordingByName(e.ctx, "example.com", name)
	if err != nil {
		e.t.Fatal(err)
	}
	return rec.ID
}

func (e *wsEnv) waitReady(id int64) {
	e.t.Helper()
	e.app.WaitRecording(id, func(r store.Recording) bool { return r.State == store.StateReady })
}

// wsClientConn is a test client.
type wsClientConn struct {
	t *testing.T
	c *websocket.Conn
	n int
}

func (e *wsEnv) dial(cookie *http.Cookie, origin string) (*wsClientConn, *http.Response, error) {
	h := http.Header{}
	if cookie != nil {
		h.Set("Cookie", cookie.String())
	}
	if origin != "" {
		h.Set("Origin", origin)
	}
	return e.dialHeader(h)
}

// dialHeader opens a websocket with the request headers h.
func (e *wsEnv) dialHeader(h http.Header) (*wsClientConn, *http.Response, error) {
	ctx, cancel := context.WithTimeout(e.ctx, 5*time.Second)
	defer cancel()
	c, res, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(e.app.URL, "http")+"/api/ws", &websocket.DialOptions{HTTPHeader: h})
	if err != nil {
		return nil, res, err
	}
	c.SetReadLimit(1 << 20)
	e.t.Cleanup(func() { c.CloseNow() })
	return &wsClientConn{t: e.t, c: c}, res, nil
}

func (e *wsEnv) mustDial(user string) *wsClientConn {
	e.t.Helper()
	var cookie *http.Cookie
	if user != "" {
		cookie = e.login(user)
	}
	c, _, err := e.dial(cookie, e.app.URL)
	if err != nil {
		e.t.Fatalf("dial: %v", err)
	}
	return c
}

func (c *wsClientConn) send(msg string) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.c.Write(ctx, websocket.MessageText, []byte(msg)); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

// next reads the next message.
func (c *wsClientConn) next() map[string]any {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, b, err := c.c.Read(ctx)
	if err != nil {
		c.t.Fatalf("read: %v", err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		c.t.Fatalf("reply %s: %v", b, err)
	}
	return m
}

// call sends request mt with params and returns its answer, skipping pushes.
func (c *wsClientConn) call(mt string, params map[string]any) map[string]any {
	c.t.Helper()
	c.n++
	src := fmt.Sprintf("s%d", c.n)
	m := map[string]any{"mt": mt, "src": src}
	for k, v := range params {
		m[k] = v
	}
	b, _ := json.Marshal(m)
	c.send(string(b))
	for {
		r := c.next()
		if r["src"] == src {
			if r["mt"] != mt+"Result" {
				c.t.Fatalf("answer to %s has mt %v", mt, r["mt"])
			}
			return r
		}
	}
}

func errOf(m map[string]any) string {
	s, _ := m["error"].(string)
	return s
}

func listIDs(m map[string]any) []int64 {
	var out []int64
	recs, _ := m["recordings"].([]any)
	for _, r := range recs {
		out = append(out, int64(r.(map[string]any)["id"].(float64)))
	}
	return out
}

func TestWSOrigin(t *testing.T) {
	t.Parallel()
	e := newWSEnv(t)
	cookie := e.login("alice")
	for _, tc := range []struct {
		origin string
		ok     bool
	}{
		{e.app.URL, true},
		{"", true}, // not a browser
		{"http://evil.example", false},
		{"http://" + strings.TrimPrefix(e.app.URL, "http://") + ".evil.example", false},
		{"null", false},
	} {
		c, res, err := e.dial(cookie, tc.origin)
		if tc.ok {
			if err != nil {
				t.Errorf("origin %q refused: %v", tc.origin, err)
				continue
			}
			if r := c.call("GetMe", nil); errOf(r) != "" {
				t.Errorf("origin %q: GetMe: %v", tc.origin, r)
			}
			continue
		}
		if err == nil {
			t.Errorf("origin %q accepted", tc.origin)
			continue
		}
		if res == nil || res.StatusCode != http.StatusForbidden {
			t.Errorf("origin %q: want 403, got %v", tc.origin, res)
		}
	}
}

func TestWSProtocol(t *testing.T) {
	t.Parallel()
	e := newWSEnv(t)

	anon := e.mustDial("")
	if r := anon.call("ListRecordings", nil); errOf(r) != "sign-in required" || r["src"] != "s1" {
		t.Errorf("anonymous ListRecordings: %v", r)
	}
	if r := anon.call("GetMe", nil); errOf(r) != "sign-in required" { // still open for AppLogin
		t.Errorf("anonymous GetMe: %v", r)
	}

	c := e.mustDial("alice")
	for _, tc := range []struct {
		msg, wantMT, wantErr string
		wantSrc              any
	}{
		{`not json`, "Error", "not a JSON object", nil},
		{`[1,2]`, "Error", "not a JSON object", nil},
		{`{"src":"x"}`, "Error", `no "mt"`, "x"},
		{`{"mt":"Frobnicate","src":7}`, "FrobnicateResult", "unknown message type", float64(7)},
		{`{"mt":"GetRecording","src":{"a":[1]},"id":"one"}`, "GetRecordingResult", `field "id"`, map[string]any{"a": []any{float64(1)}}},
		{`{"mt":"GetRecording","src":"q","id":-3}`, "GetRecordingResult", "positive", "q"},
		{`{"mt":"GetRecording","src":"q","id":999}`, "GetRecordingResult", "no such recording", "q"},
		{`{"mt":"ListRecordings","src":"l","limit":501}`, "ListRecordingsResult", "limit", "l"},
		{`{"mt":"ListRecordings","src":"l","from":"yesterday"}`, "ListRecordingsResult", "from", "l"},
		{`{"mt":"ListRecordings","src":"l","cursor":"garbage"}`, "ListRecordingsResult", "cursor", "l"},
		{`{"mt":"SetProtected","src":"p","id":1}`, "SetProtectedResult", `"protected"`, "p"},
		{`{"mt":"GetSettings","src":"g"}`, "GetSettingsResult", "administrators only", "g"},
		{`{"mt":"CreateUser","src":"u","name":"x","password":"longenough"}`, "CreateUserResult", "administrators only", "u"},
		{`{"mt":"GetLogs","src":"g","level":"loud"}`, "GetLogsResult", "level", "g"},
	} {
		c.send(tc.msg)
		r := c.next()
		if r["mt"] != tc.wantMT || !strings.Contains(errOf(r), tc.wantErr) {
			t.Errorf("%s: got %v, want mt %s and error containing %q", tc.msg, r, tc.wantMT, tc.wantErr)
		}
		if fmt.Sprint(r["src"]) != fmt.Sprint(tc.wantSrc) {
			t.Errorf("%s: src %v, want %v echoed", tc.msg, r["src"], tc.wantSrc)
		}
	}
	if r := c.call("GetMe", nil); r["user"].(map[string]any)["name"] != "alice" {
		t.Errorf("GetMe: %v", r)
	}

	// A message over the read limit closes the connection with 1009.
	big := `{"mt":"GetMe","pad":"` + strings.Repeat("x", api.WSReadLimit) + `"}`
	c.send(big)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, _, err := c.c.Read(ctx)
	if websocket.CloseStatus(err) != websocket.StatusMessageTooBig {
		t.Errorf("oversized message: read error %v, want close 1009", err)
	}
}

func TestWSRecordings(t *testing.T) {
	t.Parallel()
	e := newWSEnv(t)
	a1, a2, b1 := e.upload("alice", 25), e.upload("alice", 25), e.upload("bob", 25)
	for _, id := range []int64{a1, a2, b1} {
		e.waitReady(id)
	}
	alice, root := e.mustDial("alice"), e.mustDial("root")

	if got := listIDs(alice.call("ListRecordings", nil)); fmt.Sprint(got) != fmt.Sprint([]int64{a2, a1}) {
		t.Errorf("alice lists %v, want [%d %d]", got, a2, a1)
	}
	if got := listIDs(root.call("ListRecordings", nil)); fmt.Sprint(got) != fmt.Sprint([]int64{b1, a2, a1}) {
		t.Errorf("root lists %v", got)
	}
	// Paging with the cursor.
	p1 := alice.call("ListRecordings", map[string]any{"limit": 1})
	next, _ := p1["next"].(string)
	if got := listIDs(p1); len(got) != 1 || got[0] != a2 || next == "" {
		t.Fatalf("page 1: %v", p1)
	}
	p2 := alice.call("ListRecordings", map[string]any{"limit": 1, "cursor": next})
	if got := listIDs(p2); len(got) != 1 || got[0] != a1 {
		t.Errorf("page 2: %v", p2)
	}
	// Others' recordings look absent.
	for _, mt := range []string{"GetRecording", "DeleteRecording"} {
		if r := alice.call(mt, map[string]any{"id": b1}); errOf(r) != "no such recording" {
			t.Errorf("alice %s of bob's: %v", mt, r)
		}
	}
	if r := alice.call("SetProtected", map[string]any{"id": b1, "protected": true}); errOf(r) != "no such recording" {
		t.Errorf("alice protects bob's: %v", r)
	}
	// Detail view has the envelope.
	r := alice.call("GetRecording", map[string]any{"id": a1})
	rec := r["recording"].(map[string]any)
	if env, _ := rec["envelope"].(string); env == "" || rec["state"] != "ready" {
		t.Errorf("GetRecording: %v", r)
	}
	// Protect, refused delete, unprotect, delete.
	if r := alice.call("SetProtected", map[string]any{"id": a1, "protected": true}); r["recording"].(map[string]any)["protected"] != true {
		t.Fatalf("protect: %v", r)
	}
	if r := alice.call("DeleteRecording", map[string]any{"id": a1}); errOf(r) != "recording is protected: unprotect it before deleting" {
		t.Errorf("delete protected: %v", r)
	}
	if _, err := e.db.Recording(e.ctx, a1); err != nil {
		t.Fatalf("protected recording gone: %v", err)
	}
	alice.call("SetProtected", map[string]any{"id": a1, "protected": false})
	if r := alice.call("DeleteRecording", map[string]any{"id": a1}); errOf(r) != "" || r["id"] != float64(a1) {
		t.Errorf("delete: %v", r)
	}
	if _, err := e.db.Recording(e.ctx, a1); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("deleted recording still there: %v", err)
	}
}

func TestWSPushes(t *testing.T) {
	t.Parallel()
	e := newWSEnv(t)
	alice, bob, root := e.mustDial("alice"), e.mustDial("bob"), e.mustDial("root")
	for _, c := range []*wsClientConn{alice, bob, root} {
		if r := c.call("Subscribe", nil); len(r) != 2 { // just mt and src
			t.Fatalf("Subscribe: %v", r)
		}
	}
	id := e.upload("alice", 25)
	for _, c := range []*wsClientConn{alice, root} {
		added := c.next()
		if added["mt"] != "RecordingAdded" || added["recording"].(map[string]any)["id"] != float64(id) {
			t.Fatalf("first push: %v", added)
		}
		for {
			up := c.next()
			if up["mt"] != "RecordingUpdated" {
				t.Fatalf("push: %v", up)
			}
			if up["recording"].(map[string]any)["state"] == "ready" {
				break
			}
		}
	}
	// Alice deletes: root, who was shown it, learns; bob hears nothing.
	if r := alice.call("DeleteRecording", map[string]any{"id": id}); errOf(r) != "" {
		t.Fatal(r)
	}
	if m := root.next(); m["mt"] != "RecordingDeleted" || m["id"] != float64(id) {
		t.Errorf("root push: %v", m)
	}
	// Bob's first message must be the answer to his request, not a push.
	if r := bob.call("GetMe", nil); r["mt"] != "GetMeResult" {
		t.Errorf("bob: %v", r)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if _, b, err := bob.c.Read(ctx); err == nil {
		t.Errorf("bob got a push about alice's recording: %s", b)
	}
}

// TestWSPushAddedFirst: whatever order producers publish in, a client hears
// RecordingAdded before any RecordingUpdated of a recording (a CDR attached
// before the upload's own event; a recording that comes into the user's
// sight), and an Added for a recording it was already shown comes as an
// update.
func TestWSPushAddedFirst(t *testing.T) {
	t.Parallel()
	e := newWSEnv(t)
	alice := e.mustDial("alice")
	if r := alice.call("Subscribe", nil); errOf(r) != "" {
		t.Fatal(r)
	}
	// A recording of alice's that the client has never been shown.
	id, _, err := e.db.BeginUpload(e.ctx, "example.com", "0123456789abcdef0123456789abcdef-009033aabbcc-1-alice.pcap",
		store.FileName{ConfID: "0123456789abcdef0123456789abcdef", MAC: "009033aabbcc", RegName: "alice"}, "alice")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		kind events.Kind
		want string
	}{
		{events.CDRAttached, "RecordingAdded"}, // the CDR came first
		{events.Added, "RecordingUpdated"},     // the upload's own event, late
		{events.StateChanged, "RecordingUpdated"},
	} {
		e.app.Events.Publish(events.Recording{Kind: tc.kind, ID: id, By: events.ByUpload})
		if m := alice.next(); m["mt"] != tc.want || m["recording"].(map[string]any)["id"] != float64(id) {
			t.Fatalf("after %v: %v, want %s", tc.kind, m, tc.want)
		}
	}
	// Bob's recording comes into alice's sight (it becomes hers): added.
	bobs := e.upload("bob", 5)
	e.waitReady(bobs)
	if err := e.db.SetCallOwner(e.ctx, bobs, "alice", "test"); err != nil {
		t.Fatal(err)
	}
	e.app.Events.Publish(events.Recording{Kind: events.CDRAttached, ID: bobs, By: events.ByPBX})
	for {
		m := alice.next()
		if rec, _ := m["recording"].(map[string]any); rec != nil && rec["id"] == float64(bobs) {
			if m["mt"] != "RecordingAdded" {
				t.Fatalf("a recording that came into sight: %v", m)
			}
			break
		}
	}
}

func TestWSSessionEnds(t *testing.T) {
	t.Parallel()
	e := newWSEnv(t)
	cookie := e.login("alice")
	c, _, err := e.dial(cookie, "")
	if err != nil {
		t.Fatal(err)
	}
	if r := c.call("GetMe", nil); errOf(r) != "" {
		t.Fatal(r)
	}
	if err := e.db.DeleteSession(e.ctx, cookie.Value); err != nil {
		t.Fatal(err)
	}
	if r := c.call("GetMe", nil); !strings.Contains(errOf(r), "session ended") {
		t.Errorf("after sign-out: %v", r)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, _, err := c.c.Read(ctx); websocket.CloseStatus(err) != api.WSCloseSignIn {
		t.Errorf("after sign-out: read %v, want close %d", err, api.WSCloseSignIn)
	}
}

// TestWSSettings changes settings over the websocket: every value is
// checked before any is stored, and what is stored takes effect at once.
func TestWSSettings(t *testing.T) {
	t.Parallel()
	e := newWSEnv(t)
	root := e.mustDial("root")
	r := root.call("GetSettings", nil)
	s := r["settings"].(map[string]any)
	if s["retention_days"] != nil || s["pbx_name"] != "" || s["trace"].(map[string]any)["UI"] != "info" ||
		fmt.Sprint(s["problems"]) != "[PBX Name missing]" {
		t.Errorf("fresh settings: %v", s)
	}
	for _, tc := range []struct {
		body    string
		wantErr string
	}{
		{`"retention_days": -1`, "retention_days"},
		{`"retention_days": 11001`, "retention_days"},
		{`"retention_days": 1.5`, "retention_days"},
		{`"retention_days": "ten"`, "retention_days"},
		{`"retention_days": true`, "retention_days"},
		{`"pbx_name": "a\u0007b"`, "control characters"},
		{`"pbx_name": "` + strings.Repeat("p", 129) + `"`, "pbx_name"},
		{`"trace": {"Sound": "debug"}`, "unknown category"},
		{`"trace": {"UI": "verbose"}`, "level"},
		{`"trace": ["UI"]`, "trace"},
		// A bad value anywhere stores nothing, not even the good ones.
		{`"pbx_name": "ok", "retention_days": 99999`, "retention_days"},
		{`"retention_days": 0`, ""},
		{`"retention_days": 11000, "pbx_name": " pbx-1 ", "trace": {"Call Information": "debug", "ui": "off"}`, ""},
	} {
		root.send(`{"mt":"SetSettings","src":"x",` + tc.body + `}`)
		r := root.next()
		if got := errOf(r); (tc.wantErr == "") != (got == "") || !strings.Contains(got, tc.wantErr) {
			t.Errorf("SetSettings %s: error %q, want %q", tc.body, got, tc.wantErr)
		}
	}
	m, err := e.db.Settings(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]string{"retention_days": "11000", "pbx_name": "pbx-1", "trace.Call Information": "debug", "trace.UI": "off"} {
		if m[k] != want {
			t.Errorf("stored %s = %q, want %q (all: %v)", k, m[k], want, m)
		}
	}
	if v := e.app.Settings.Values(); v.Trace[applog.UI] != "off" || v.Trace[applog.CallInformation] != "debug" {
		t.Errorf("trace levels not applied: %v", v.Trace)
	}
	r = root.call("GetSettings", nil)
	if s := r["settings"].(map[string]any); s["retention_days"] != float64(11000) || s["pbx_name"] != "pbx-1" ||
		len(s["problems"].([]any)) != 0 {
		t.Errorf("settings after change: %v", s)
	}
}

func TestWSUsersAndLogs(t *testing.T) {
	t.Parallel()
	e := newWSEnv(t)
	root, alice := e.mustDial("root"), e.mustDial("alice")
	for _, tc := range []struct {
		params  map[string]any
		wantErr string
	}{
		{map[string]any{"name": "", "password": "longenough"}, "name"},
		{map[string]any{"name": "a b", "password": "longenough"}, "name"},
		{map[string]any{"name": "carol", "password": "short"}, "password"},
		{map[string]any{"name": "carol", "password": "longenough", "role": "root"}, "role"},
		{map[string]any{"name": "carol", "password": "longenough", "e164": "0711-123"}, "e164"},
		{map[string]any{"name": "Alice", "password": "longenough"}, "exists already"},
		{map[string]any{"name": "carol", "display_name": "Carol", "e164": "+49711", "role": "admin", "password": "longenough"}, ""},
	} {
		r := root.call("CreateUser", tc.params)
		if got := errOf(r); (tc.wantErr == "") != (got == "") || !strings.Contains(got, tc.wantErr) {
			t.Errorf("CreateUser %v: error %q, want %q", tc.params, got, tc.wantErr)
		}
	}
	if _, err := e.db.Authenticate(e.ctx, "carol", "longenough"); err != nil {
		t.Errorf("carol cannot sign in: %v", err)
	}
	users := root.call("ListUsers", nil)["users"].([]any)
	if len(users) != 5 { // admin, alice, bob, root and carol
		t.Errorf("ListUsers: %v", users)
	}

	now := time.Now()
	if err := e.db.AddLogs(e.ctx, []store.LogEntry{
		{Time: now, Level: "INFO", Category: "UI", User: "alice", Message: "alice-1"},
		{Time: now, Level: "ERROR", Category: "Converting", User: "bob", Message: "bob-1"},
		{Time: now, Level: "DEBUG", Category: "UI", Message: "system-1"},
	}); err != nil {
		t.Fatal(err)
	}
	msgs := func(r map[string]any) string {
		var out []string
		for _, l := range r["logs"].([]any) {
			out = append(out, l.(map[string]any)["message"].(string))
		}
		return strings.Join(out, ",")
	}
	for _, tc := range []struct {
		c      *wsClientConn
		params map[string]any
		want   string
	}{
		{alice, nil, "alice-1"},
		{alice, map[string]any{"user": "bob"}, "alice-1"}, // a user cannot look at others
		{root, nil, "system-1,bob-1,alice-1"},
		{root, map[string]any{"category": "Converting"}, "bob-1"},
		{root, map[string]any{"level": "info"}, "bob-1,alice-1"},
		{root, map[string]any{"user": "alice"}, "alice-1"},
	} {
		r := tc.c.call("GetLogs", tc.params)
		if got := msgs(r); !strings.HasPrefix(got, tc.want) && !strings.Contains(got, tc.want) {
			t.Errorf("GetLogs %v: %q, want %q", tc.params, got, tc.want)
		}
		if tc.c == alice && strings.Contains(msgs(r), "bob-1") {
			t.Errorf("alice sees bob's entries: %q", msgs(r))
		}
	}
}

// A client that does not read is dropped; the others get every push in time.
func TestWSSlowClient(t *testing.T) {
	t.Parallel()
	e := newWSEnv(t)
	cookie := e.login("root")
	fast := e.mustDial("root")
	fast.call("Subscribe", nil)

	// The slow client speaks the handshake by hand and then never reads.
	addr := strings.TrimPrefix(e.app.URL, "http://")
	raw, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if tc, ok := raw.(*net.TCPConn); ok {
		_ = tc.SetReadBuffer(4096)
	}
	req := "GET /api/ws HTTP/1.1\r\nHost: " + addr + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nCookie: " + cookie.String() + "\r\n\r\n"
	// A masked client text frame: {"mt":"Subscribe"}.
	payload := []byte(`{"mt":"Subscribe"}`)
	frame := []byte{0x81, 0x80 | byte(len(payload)), 1, 2, 3, 4}
	for i, c := range payload {
		frame = append(frame, c^[]byte{1, 2, 3, 4}[i%4])
	}
	if _, err := raw.Write(append([]byte(req), frame...)); err != nil {
		t.Fatal(err)
	}
	// Wait until the server has both subscribers.
	deadline := time.Now().Add(5 * time.Second)
	for e.s.Subscribers() < 2 {
		if time.Now().After(deadline) {
			t.Fatal("slow client never subscribed")
		}
		time.Sleep(5 * time.Millisecond)
	}

	// The fast client reads everything; the pushes come in batches that it
	// keeps up with, as real events do, while the slow client's socket and
	// queue fill up.
	const pushes, batch = 3000, 100
	var received atomic.Int64
	readDone := make(chan struct{})
	go func() {
		defer close(readDone)
		for received.Load() < pushes {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			_, _, err := fast.c.Read(ctx)
			cancel()
			if err != nil {
				return
			}
			received.Add(1)
		}
	}()
	rec := store.Recording{ID: 1, Owner: "alice", State: "ready", PeerName: strings.Repeat("n", 4000)}
	var slowest time.Duration // a push blocked on a client would take a write timeout (10 s)
	for i := range pushes {
		rec.ID = int64(i + 1)
		start := time.Now()
		e.s.PushRecording(rec)
		slowest = max(slowest, time.Since(start))
		if (i+1)%batch == 0 {
			deadline := time.Now().Add(10 * time.Second)
			for received.Load() < int64(i+1) && time.Now().Before(deadline) {
				time.Sleep(time.Millisecond)
			}
		}
	}
	if slowest > time.Second {
		t.Errorf("one push took %v: a slow client held up the sender", slowest)
	}
	<-readDone
	if n := received.Load(); n != pushes {
		t.Errorf("fast client got %d of %d pushes", n, pushes)
	}
	deadline = time.Now().Add(5 * time.Second)
	for e.s.Subscribers() != 1 {
		if time.Now().After(deadline) {
			t.Fatalf("slow client still connected (%d subscribers)", e.s.Subscribers())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// FuzzWSHandle feeds arbitrary client messages to a signed-in admin's
// connection: every answer is one JSON object with an mt, and the src of a
// well-formed request comes back unchanged.
func FuzzWSHandle(f *testing.F) {
	for _, seed := range []string{
		`{"mt":"GetMe","src":"a"}`,
		`{"mt":"ListRecordings","src":1,"q":"x","from":"2026-01-01","to":"2026-02-01T00:00:00Z","limit":5}`,
		`{"mt":"ListRecordings","cursor":"cjEuMS4y"}`,
		`{"mt":"GetRecording","id":1}`,
		`{"mt":"SetProtected","id":1,"protected":true}`,
		`{"mt":"DeleteRecording","id":1}`,
		`{"mt":"GetLogs","level":"warn","category":"UI","before":5}`,
		`{"mt":"SetSettings","retention_days":12,"pbx_name":"p","trace":{"UI":"debug"}}`,
		`{"mt":"CreateUser","name":"n","password":"12345678","role":"admin","e164":"+1"}`,
		`{"mt":"Subscribe"}`, `{"mt":""}`, `null`, `"x"`, `{"mt":5}`, `{"src":{"deep":[1,{"a":null}]},"mt":"X"}`,
	} {
		f.Add([]byte(seed))
	}
	a := apptest.New(f)
	root := a.User("root", store.RoleAdmin, wsPassword)
	f.Fuzz(func(t *testing.T, msg []byte) {
		reply := a.API.HandleWSMessage(a.Ctx, root, msg)
		var out map[string]json.RawMessage
		if err := json.Unmarshal(reply, &out); err != nil {
			t.Fatalf("reply %q to %q is not a JSON object: %v", reply, msg, err)
		}
		var mt string
		if err := json.Unmarshal(out["mt"], &mt); err != nil || mt == "" {
			t.Fatalf("reply %q has no mt", reply)
		}
		var env struct {
			MT  string          `json:"mt"`
			Src json.RawMessage `json:"src"`
		}
		if json.Unmarshal(msg, &env) == nil && env.MT != "" && len(env.Src) > 0 {
			if mt != env.MT+"Result" {
				t.Errorf("reply mt %q to request %q", mt, env.MT)
			}
			var a, b any
			_ = json.Unmarshal(env.Src, &a)
			_ = json.Unmarshal(out["src"], &b)
			if fmt.Sprint(a) != fmt.Sprint(b) {
				t.Errorf("src %s came back as %s", env.Src, out["src"])
			}
		}
	})
}
