package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"recordings/events"
	"recordings/internal/app"
	"recordings/internal/apptest"
	"recordings/internal/callgen"
	"recordings/internal/pbxsim"
	"recordings/internal/testutil"
	"recordings/pbx"
	"recordings/pbxlink"
	"recordings/store"
)

const testInstancePassword = "instance-password-for-tests"

// pbxApp starts the service with a fixed instance password (and more
// options) and returns it with its log.
func pbxApp(t *testing.T, opts ...apptest.Option) (*apptest.App, *testutil.LogBuffer) {
	t.Helper()
	logs := &testutil.LogBuffer{}
	a := apptest.New(t, append([]apptest.Option{func(c *app.Config) {
		c.InstancePassword, c.LogOutput, c.LogLevel = testInstancePassword, logs, slog.LevelDebug
	}}, opts...)...)
	a.User("admin", store.RoleAdmin, "admin-pw")
	return a, logs
}

// newSim is a simulated PBX for a, connecting to the user app's URL,
// serving PbxAdminApi with admin.
func newSim(a *apptest.App, password string, admin *pbxsim.AdminAPI) *pbxsim.Sim {
	s := pbxsim.New(pbxsim.Options{URL: "ws://" + a.Addr + "/example.com/recordings/innovaphone-recordings",
		Password: password, HTTP: a.URL, CDRUser: apptest.CDRUser, CDRPassword: apptest.CDRPassword})
	if admin != nil {
		s.Register(pbxlink.AdminAPI, admin)
	}
	a.T.Cleanup(s.Close)
	return s
}

// waitPBX waits until the PBX status satisfies ok, looking at every change
// the hub reports; it fails the test after a minute.
func waitPBX(a *apptest.App, ok func(pbxlink.Status) bool) pbxlink.Status {
	a.T.Helper()
	changed := make(chan struct{}, 1)
	a.PBX.OnChange(func() {
		select {
		case changed <- struct{}{}:
		default:
		}
	})
	timeout := time.After(time.Minute)
	for {
		st := a.PBX.Status()
		if ok(st) {
			return st
		}
		select {
		case <-changed:
		case <-timeout:
			a.T.Fatalf("PBX status not reached within a minute: %+v", st)
		}
	}
}

func connectedWithInfo(st pbxlink.Status) bool {
	return len(st.Connections) == 1 && st.Connections[0].Connected && st.Connections[0].InfoReceived
}

type adminStatus struct {
	Problems []string `json:"problems"`
	PBX      struct {
		pbxlink.Status
		Licences *struct {
			FromPBX bool `json:"from_pbx"`
			Users   int  `json:"users_checked"`
			Domains []struct {
				Domain   string `json:"domain"`
				Licensed int    `json:"users_licensed"`
			} `json:"domains"`
			Licensed  int    `json:"users_licensed"`
			Count     *int   `json:"count"`
			LastError string `json:"last_error"`
		} `json:"licences"`
	} `json:"pbx"`
}

func getStatus(t *testing.T, a *apptest.App) adminStatus {
	t.Helper()
	req, _ := http.NewRequest("GET", a.URL+"/api/admin/status", nil)
	req.SetBasicAuth("admin", "admin-pw")
	res, err := a.Client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var st adminStatus
	if err := json.NewDecoder(res.Body).Decode(&st); err != nil || res.StatusCode != 200 {
		t.Fatalf("status: %d %v", res.StatusCode, err)
	}
	return st
}

func healthProblems(t *testing.T, a *apptest.App) []string {
	t.Helper()
	req, _ := http.NewRequest("GET", a.URL+"/healthz", nil)
	req.SetBasicAuth("admin", "admin-pw")
	res, err := a.Client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var rep struct {
		Problems []string `json:"problems"`
	}
	if err := json.NewDecoder(res.Body).Decode(&rep); err != nil {
		t.Fatalf("healthz: %v", err)
	}
	return rep.Problems
}

func ctxMinute(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// The PBX logs in as its App object with the instance password, the admin
// sees the connection with what PbxInfo said, a drop is a problem in
// /healthz and the status, a restore ends it, and no account is made.
func TestPBXConnection(t *testing.T) {
	t.Parallel()
	a, _ := pbxApp(t)
	ctx := ctxMinute(t)
	users, err := a.DB.UserCount(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// No PBX ever seen, no domain configured: nothing is expected.
	if st := getStatus(t, a); st.PBX.Expected || slices.Contains(st.Problems, pbxlink.NotConnected) {
		t.Fatalf("before any PBX: %+v", st)
	}

	wrong := newSim(a, "not-the-instance-password", nil)
	if err := wrong.Connect(ctx); !errors.Is(err, pbxsim.ErrLoginRefused) || !strings.Contains(err.Error(), "wrong digest") {
		t.Fatalf("wrong password: %v", err)
	}
	st := getStatus(t, a)
	if st.PBX.Connected || len(st.PBX.Connections) != 1 || !strings.Contains(st.PBX.Connections[0].LastError, "wrong digest") {
		t.Fatalf("after a wrong password: %+v", st.PBX)
	}
	a.API.ForgetLoginFailures("127.0.0.1")

	admin := pbxsim.NewAdminAPI(pbxlink.Licence, 5)
	sim := newSim(a, testInstancePassword, admin)
	sim.Register("PbxApi", pbxsim.NewAdminAPI("unused", 0)) // an API no client of the service uses
	if err := sim.Connect(ctx); err != nil {
		t.Fatalf("connect: %v", err)
	}
	waitPBX(a, connectedWithInfo)
	st = getStatus(t, a)
	c := st.PBX.Connections[0]
	if !st.PBX.Connected || c.Domain != "example.com" || c.PBX != "pbx1" || c.SystemName != "example.com" ||
		c.PbxDNS != "pbx.example.com" || c.AppObject != "recordings" || c.Since == nil ||
		!slices.Equal(c.APIs, []string{"PbxAdminApi", "PbxApi"}) || !slices.Equal(c.APIsUsed, []string{"PbxAdminApi"}) ||
		!c.ClientsRunning || slices.Contains(st.Problems, pbxlink.NotConnected) {
		t.Fatalf("connected: %+v %v", c, st.Problems)
	}
	// The PBX login made no account.
	if n, _ := a.DB.UserCount(ctx); n != users {
		t.Fatalf("accounts: %d, want %d", n, users)
	}
	if _, err := a.DB.User(ctx, "recordings"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("account of the App object: %v", err)
	}

	sim.Drop()
	waitPBX(a, func(st pbxlink.Status) bool { return !st.Connected })
	if p := healthProblems(t, a); !slices.Contains(p, pbxlink.NotConnected) {
		t.Fatalf("healthz after the drop: %v", p)
	}
	st = getStatus(t, a)
	if !slices.Contains(st.Problems, pbxlink.NotConnected) || !st.PBX.Expected || st.PBX.Connections[0].Disconnected == nil {
		t.Fatalf("status after the drop: %+v", st)
	}

	if err := sim.Restore(); err != nil {
		t.Fatalf("restore: %v", err)
	}
	waitPBX(a, connectedWithInfo)
	if p := healthProblems(t, a); slices.Contains(p, pbxlink.NotConnected) {
		t.Fatalf("healthz after the restore: %v", p)
	}
	// The PBX's CDR interface reaches the service with the CDR credentials.
	if code, err := sim.PostCDR(string(cdrXML(t, "trunk-in.xml"))); err != nil || code != http.StatusOK {
		t.Fatalf("CDR: %d %v", code, err)
	}
	if cdrs, err := a.DB.CDRs(ctx, 0, 10); err != nil || len(cdrs) == 0 || cdrs[0].Domain != "example.com" {
		t.Fatalf("stored CDRs: %+v %v", cdrs, err)
	}
	// A second login of the same domain replaces the first.
	second := newSim(a, testInstancePassword, pbxsim.NewAdminAPI(pbxlink.Licence, 5))
	if err := second.Connect(ctx); err != nil {
		t.Fatalf("second login: %v", err)
	}
	select {
	case <-sim.Done():
	case <-ctx.Done():
		t.Fatal("the replaced connection stayed open")
	}
	waitPBX(a, connectedWithInfo)
}

// A user's AppLogin on the app URL is still a user's: it signs the user
// in (making the PBX-only account), while the App object's login makes
// none.
func TestPBXAppURLUserLogin(t *testing.T) {
	t.Parallel()
	a, _ := pbxApp(t)
	ctx := ctxMinute(t)
	conn, call := dialApp(t, a, "/example.com/recordings")
	res := userLogin(t, call, "alice", `{"cn":"Alice Arm","unlicensed":true}`)
	if res["ok"] != true || res["user"] != "alice" {
		t.Fatalf("user login: %v", res)
	}
	defer conn.CloseNow()
	if _, err := a.DB.User(ctx, "alice"); err != nil {
		t.Fatalf("account: %v", err)
	}
	if res := call(map[string]any{"mt": "GetMe"}); res["mt"] != "GetMeResult" || res["error"] != nil {
		t.Fatalf("GetMe: %v", res)
	}
	if a.PBX.Status().Connected {
		t.Fatal("a user's login became the PBX connection")
	}
}

// dialApp opens an AppWebsocket connection to path and returns a call
// function that sends one message and reads the next.
func dialApp(t *testing.T, a *apptest.App, path string) (*websocket.Conn, func(map[string]any) map[string]any) {
	t.Helper()
	ctx := ctxMinute(t)
	conn, _, err := websocket.Dial(ctx, "ws://"+a.Addr+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.CloseNow() })
	return conn, func(msg map[string]any) map[string]any {
		t.Helper()
		b, _ := json.Marshal(msg)
		if err := conn.Write(ctx, websocket.MessageText, b); err != nil {
			t.Fatal(err)
		}
		_, r, err := conn.Read(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var out map[string]any
		if err := json.Unmarshal(r, &out); err != nil {
			t.Fatal(err)
		}
		return out
	}
}

// userLogin signs sip in with the user app as myApps would, info as given.
func userLogin(t *testing.T, call func(map[string]any) map[string]any, sip, info string) map[string]any {
	t.Helper()
	ch, _ := call(map[string]any{"mt": "AppChallenge"})["challenge"].(string)
	return call(map[string]any{"mt": "AppLogin", "app": "innovaphone-recordings", "domain": "example.com", "sip": sip,
		"guid": "g", "dn": sip, "info": json.RawMessage(info),
		"digest": pbx.AppLoginDigest("innovaphone-recordings", "example.com", sip, "g", sip, info, ch, testInstancePassword)})
}

// Malformed messages on the PBX connection get error answers; the
// connection and the service keep running.
func TestPBXMalformedMessages(t *testing.T) {
	t.Parallel()
	a, _ := pbxApp(t)
	ctx := ctxMinute(t)
	sim := newSim(a, testInstancePassword, nil)
	if err := sim.Connect(ctx); err != nil {
		t.Fatal(err)
	}
	waitPBX(a, connectedWithInfo)
	next := func() map[string]any {
		t.Helper()
		select {
		case b := <-sim.Other():
			var m map[string]any
			if err := json.Unmarshal(b, &m); err != nil {
				t.Fatalf("answer %q: %v", b, err)
			}
			return m
		case <-ctx.Done():
			t.Fatal("no answer")
		}
		return nil
	}
	for _, tc := range []struct {
		send    string
		wantMT  string
		wantErr string
	}{
		{`not json`, "ErrorResult", "not a JSON object"},
		{`{"mt":5}`, "ErrorResult", "not a string"},
		{`{"src":"x"}`, "ErrorResult", `no "mt"`},
		{`[1,2]`, "ErrorResult", "not a JSON object"},
		{`{"mt":"Bogus","src":"s1"}`, "BogusResult", "unknown message type"},
		{`{"api":"PbxNope","mt":"Foo","src":"s2"}`, "FooResult", "not used"},
		{`{"mt":"AppLogin","src":"s3"}`, "AppLoginResult", "already logged in"},
		{`{"mt":"PbxInfo","apis":"PbxAdminApi"}`, "PbxInfoResult", "bad PbxInfo"},
		{`{"mt":"AppInfo","app":"innovaphone-recordings","src":"s4"}`, "AppInfoResult", ""},
	} {
		if err := sim.Send(ctx, []byte(tc.send)); err != nil {
			t.Fatalf("send %s: %v", tc.send, err)
		}
		m := next()
		errText, _ := m["error"].(string)
		if m["mt"] != tc.wantMT || !strings.Contains(errText, tc.wantErr) || (tc.wantErr == "") != (errText == "") {
			t.Errorf("%s: answer %v", tc.send, m)
		}
	}
	// KeepAlive and answers nobody asked for get no answer; the next
	// request is answered in order.
	for _, msg := range []string{`{"mt":"KeepAlive"}`, `{"api":"PbxNope","mt":"FooResult"}`,
		`{"mt":"AppInfo","src":"last"}`} {
		if err := sim.Send(ctx, []byte(msg)); err != nil {
			t.Fatal(err)
		}
	}
	if m := next(); m["mt"] != "AppInfoResult" || m["src"] != "last" {
		t.Fatalf("after KeepAlive: %v", m)
	}
	if !a.PBX.Status().Connected {
		t.Fatal("connection lost")
	}
	if p := healthProblems(t, a); slices.Contains(p, pbxlink.NotConnected) {
		t.Fatalf("healthz: %v", p)
	}
}

// upload stores a capture for reg name owner and returns its id.
func uploadFor(t *testing.T, a *apptest.App, name string) int64 {
	t.Helper()
	req, _ := http.NewRequest("PUT", a.URL+"/example.com/recordings/Files/"+name, bytes.NewReader(callgen.Default(10).Bytes()))
	apptest.UploadAuth(req)
	res, err := a.Client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusCreated {
		t.Fatalf("upload %s: %d", name, res.StatusCode)
	}
	rec, err := a.DB.RecordingByName(a.Ctx, "example.com", name)
	if err != nil {
		t.Fatal(err)
	}
	a.WaitAnalysed(rec.ID)
	return rec.ID
}

// Licences come from the PBX: a restart while the PBX is away deletes
// nothing, nor does one whose check the PBX leaves unanswered; the first
// answer after a restart deletes the recordings of users who lost their
// licence, each named in the License log.
func TestPBXLicencePurge(t *testing.T) {
	t.Parallel()
	db := filepath.Join(t.TempDir(), "recordings.db")
	onDB := func(c *app.Config) { c.DB = db }
	admin := pbxsim.NewAdminAPI(pbxlink.Licence, 5)
	admin.SetLicence("anna", true)
	admin.SetLicence("ben", true)
	var anna, ben int64

	t.Run("licensed", func(t *testing.T) {
		a, _ := pbxApp(t, onDB)
		for _, n := range []string{"anna", "ben"} {
			if _, err := a.DB.CreateUser(a.Ctx, store.User{Name: n}, n+"-password"); err != nil {
				t.Fatal(err)
			}
		}
		anna = uploadFor(t, a, "0123456789abcdef0123456789abcde1-009033000001-1--anna.pcap")
		ben = uploadFor(t, a, "0123456789abcdef0123456789abcde2-009033000002-1--ben.pcap")
		if r, _ := a.DB.Recording(a.Ctx, ben); r.Owner != "ben" {
			t.Fatalf("owner: %+v", r)
		}
		sim := newSim(a, testInstancePassword, admin)
		if err := sim.Connect(ctxMinute(t)); err != nil {
			t.Fatal(err)
		}
		waitPBX(a, connectedWithInfo)
		waitLicences(t, a, 3) // admin, anna, ben
		if st := getStatus(t, a); st.PBX.Licences.Licensed != 2 || st.PBX.Licences.Count == nil || *st.PBX.Licences.Count != 5 {
			t.Fatalf("licences: %+v", st.PBX.Licences)
		}
		sim.Close()
	})
	admin.SetLicence("ben", false)

	kept := func(t *testing.T, a *apptest.App) {
		t.Helper()
		for _, id := range []int64{anna, ben} {
			if _, err := a.DB.Recording(a.Ctx, id); err != nil {
				t.Fatalf("recording %d: %v", id, err)
			}
		}
	}
	t.Run("restart without PBX", func(t *testing.T) {
		a, logs := pbxApp(t, onDB)
		kept(t, a)
		if p := getStatus(t, a).Problems; !slices.Contains(p, pbxlink.NotConnected) {
			t.Fatalf("problems: %v", p)
		}
		if !strings.Contains(logs.String(), "never without its answer") {
			t.Fatalf("log:\n%s", logs)
		}
	})
	t.Run("restart, check unanswered", func(t *testing.T) {
		a, _ := pbxApp(t, onDB)
		admin.Hold(true)
		defer admin.Hold(false)
		sim := newSim(a, testInstancePassword, admin)
		before := admin.Checks()
		if err := sim.Connect(ctxMinute(t)); err != nil {
			t.Fatal(err)
		}
		if err := admin.WaitChecks(ctxMinute(t), before+1); err != nil {
			t.Fatal(err)
		}
		sim.Drop()
		waitPBX(a, func(st pbxlink.Status) bool { return !st.Connected })
		kept(t, a)
		if l := getStatus(t, a).PBX.Licences; l == nil || !strings.Contains(l.LastError, "disconnected") {
			t.Fatalf("licences: %+v", l)
		}
	})
	t.Run("restart with PBX", func(t *testing.T) {
		a, logs := pbxApp(t, onDB)
		deleted := make(chan int64, 4)
		a.Events.Subscribe(func(ev events.Recording) {
			if ev.Kind == events.Deleted {
				deleted <- ev.ID
			}
		})
		kept(t, a)
		sim := newSim(a, testInstancePassword, admin)
		if err := sim.Connect(ctxMinute(t)); err != nil {
			t.Fatal(err)
		}
		select {
		case id := <-deleted:
			if id != ben {
				t.Fatalf("deleted %d, want ben's %d", id, ben)
			}
		case <-ctxMinute(t).Done():
			t.Fatal("nothing purged")
		}
		if _, err := a.DB.Recording(a.Ctx, anna); err != nil {
			t.Fatalf("anna's recording: %v", err)
		}
		if _, err := a.DB.Recording(a.Ctx, ben); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("ben's recording: %v", err)
		}
		waitLicences(t, a, 3)
		l := logs.String()
		if !strings.Contains(l, "deleted recording of a user without licence") || !strings.Contains(l, "owner=ben") ||
			!strings.Contains(l, "category=License") {
			t.Fatalf("purge not listed in the License log:\n%s", l)
		}
		if u, _ := a.DB.User(a.Ctx, "ben"); u.Licensed {
			t.Fatal("ben still licensed")
		}
		// The audit trail notes the deletion, by the service.
		entries, _, err := a.DB.Audit(a.Ctx, store.AuditFilter{Action: store.AuditDeletedUnlicensed})
		if err != nil || len(entries) != 1 || entries[0].RecordingID != ben || entries[0].Owner != "ben" || entries[0].By != "" {
			t.Fatalf("audit of the purge: %+v, %v", entries, err)
		}
	})
}

// waitLicences waits until the licence client has a complete answer about
// n users.
func waitLicences(t *testing.T, a *apptest.App, n int) {
	t.Helper()
	ctx := ctxMinute(t)
	for {
		changed := a.Licences.Changed()
		if st := a.Licences.State(); st.Last != nil && len(st.Last.Licensed) >= n && !st.Checking {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("no licence answer: %+v", a.Licences.State())
		case <-changed:
		}
	}
}

// With -domain the instance expects a PBX from the start, takes its PBX
// on /api/ws too (the domain from the login), refuses another domain's,
// and the typed-in licences give way to the PBX's.
func TestPBXDomain(t *testing.T) {
	t.Parallel()
	a, _ := pbxApp(t, func(c *app.Config) { c.Domain = "example.com" })
	ctx := ctxMinute(t)
	if p := healthProblems(t, a); !slices.Contains(p, pbxlink.NotConnected) {
		t.Fatalf("healthz with a domain and no PBX: %v", p)
	}
	// Another domain's URL is not found; on /api/ws its login is refused.
	other := pbxsim.New(pbxsim.Options{URL: "ws://" + a.Addr + "/other.example/recordings/innovaphone-recordingsadmin",
		Password: testInstancePassword, App: "innovaphone-recordingsadmin", SystemName: "other.example"})
	t.Cleanup(other.Close)
	if err := other.Connect(ctx); err == nil || !strings.Contains(err.Error(), "404") {
		t.Fatalf("other domain's URL: %v", err)
	}
	other = pbxsim.New(pbxsim.Options{URL: "ws://" + a.Addr + "/api/ws",
		Password: testInstancePassword, App: "innovaphone-recordingsadmin", SystemName: "other.example"})
	t.Cleanup(other.Close)
	if err := other.Connect(ctx); !errors.Is(err, pbxsim.ErrLoginRefused) || !strings.Contains(err.Error(), "serves domain") {
		t.Fatalf("other domain on /api/ws: %v", err)
	}
	sim := pbxsim.New(pbxsim.Options{URL: "ws://" + a.Addr + "/api/ws", Password: testInstancePassword,
		Lics: func() *int { n := 3; return &n }()})
	t.Cleanup(sim.Close)
	if err := sim.Connect(ctx); err != nil {
		t.Fatalf("on /api/ws: %v", err)
	}
	st := waitPBX(a, func(st pbxlink.Status) bool {
		return slices.ContainsFunc(st.Connections, func(c pbxlink.ConnStatus) bool { return c.Connected && c.InfoReceived })
	})
	for _, c := range st.Connections {
		if c.Connected && (c.Domain != "example.com" || c.Lics == nil || *c.Lics != 3 || len(c.APIs) != 0) {
			t.Fatalf("connection: %+v", c)
		}
	}
	// A user's AppLogin says whether the PBX licensed the user.
	for _, tc := range []struct {
		sip, info string
		licensed  bool
	}{{"ulla", `{"cn":"Ulla","unlicensed":true}`, false}, {"lena", `{"cn":"Lena"}`, true}} {
		_, call := dialApp(t, a, "/example.com/recordings/innovaphone-recordings")
		if res := userLogin(t, call, tc.sip, tc.info); res["ok"] != true {
			t.Fatalf("login %s: %v", tc.sip, res)
		}
		if u, err := a.DB.User(ctx, tc.sip); err != nil || u.Licensed != tc.licensed {
			t.Fatalf("%s: licensed %v (%v), want %v", tc.sip, u.Licensed, err, tc.licensed)
		}
	}
	for _, c := range []struct{ path, body string }{
		{"/api/admin/licences", `{"count":5}`}, {"/api/admin/users/admin/licence", `{"licensed":true}`},
	} {
		req, _ := http.NewRequest("PUT", a.URL+c.path, strings.NewReader(c.body))
		req.SetBasicAuth("admin", "admin-pw")
		res, err := a.Client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusConflict {
			t.Fatalf("PUT %s with licences from the PBX: %d", c.path, res.StatusCode)
		}
	}
}

// A message above the size limit ends the PBX connection (the PBX
// reconnects); the reason is shown to the admin.
func TestPBXMessageTooBig(t *testing.T) {
	t.Parallel()
	a, _ := pbxApp(t)
	ctx := ctxMinute(t)
	sim := newSim(a, testInstancePassword, nil)
	if err := sim.Connect(ctx); err != nil {
		t.Fatal(err)
	}
	waitPBX(a, connectedWithInfo)
	big := []byte(`{"mt":"KeepAlive","pad":"` + strings.Repeat("x", pbxlink.MaxMessage) + `"}`)
	if err := sim.Send(ctx, big); err != nil {
		t.Fatal(err)
	}
	st := waitPBX(a, func(st pbxlink.Status) bool { return !st.Connected })
	if why := st.Connections[0].DisconnectWhy; !strings.Contains(why, "too big") {
		t.Fatalf("disconnect reason %q", why)
	}
	if err := sim.Restore(); err != nil {
		t.Fatalf("reconnect: %v", err)
	}
	waitPBX(a, connectedWithInfo)
}

// A subscribed admin's websocket hears every change of the PBX connection
// (PbxStatus) and can ask for it (GetPbxStatus); a user cannot.
func TestPBXStatusPush(t *testing.T) {
	t.Parallel()
	a, _ := pbxApp(t)
	a.User("ulf", store.RoleUser, "ulf-password")
	ctx := ctxMinute(t)
	dial := func(name, pw string) *websocket.Conn {
		h := http.Header{}
		req, _ := http.NewRequest("GET", "/", nil)
		req.SetBasicAuth(name, pw)
		h.Set("Authorization", req.Header.Get("Authorization"))
		conn, _, err := websocket.Dial(ctx, "ws://"+a.Addr+"/api/ws", &websocket.DialOptions{HTTPHeader: h})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.CloseNow() })
		return conn
	}
	send := func(conn *websocket.Conn, msg string) {
		t.Helper()
		if err := conn.Write(ctx, websocket.MessageText, []byte(msg)); err != nil {
			t.Fatal(err)
		}
	}
	// read returns the next message of type mt, skipping others.
	read := func(conn *websocket.Conn, mt string, ok func(map[string]any) bool) map[string]any {
		t.Helper()
		for {
			_, b, err := conn.Read(ctx)
			if err != nil {
				t.Fatalf("waiting for %s: %v", mt, err)
			}
			var m map[string]any
			if err := json.Unmarshal(b, &m); err != nil {
				t.Fatal(err)
			}
			if m["mt"] == mt && (ok == nil || ok(m)) {
				return m
			}
		}
	}
	user := dial("ulf", "ulf-password")
	send(user, `{"mt":"GetPbxStatus","src":"u"}`)
	if m := read(user, "GetPbxStatusResult", nil); m["error"] != "administrators only" {
		t.Fatalf("user: %v", m)
	}
	admin := dial("admin", "admin-pw")
	send(admin, `{"mt":"Subscribe"}`)
	read(admin, "SubscribeResult", nil)
	send(admin, `{"mt":"GetPbxStatus","src":"s"}`)
	if m := read(admin, "GetPbxStatusResult", nil); m["src"] != "s" || m["pbx"].(map[string]any)["connected"] != false {
		t.Fatalf("status: %v", m)
	}
	sim := newSim(a, testInstancePassword, nil)
	if err := sim.Connect(ctx); err != nil {
		t.Fatal(err)
	}
	read(admin, "PbxStatus", func(m map[string]any) bool {
		conns, _ := m["pbx"].(map[string]any)["connections"].([]any)
		return len(conns) == 1 && conns[0].(map[string]any)["pbx"] == "pbx1"
	})
	sim.Drop()
	read(admin, "PbxStatus", func(m map[string]any) bool { return m["pbx"].(map[string]any)["connected"] == false })
}

// A PBX whose login looks like a user's (no appobj, no lics) is still
// recognised by the PbxInfo that follows: the connection becomes the PBX's
// and the account the login made is removed again.
func TestPBXRecognisedByPbxInfo(t *testing.T) {
	t.Parallel()
	a, _ := pbxApp(t)
	ctx := ctxMinute(t)
	users, _ := a.DB.UserCount(ctx)
	sim := pbxsim.New(pbxsim.Options{URL: "ws://" + a.Addr + "/example.com/recordings/innovaphone-recordings",
		Password: testInstancePassword, Object: "recorder-object", Info: `{"cn":"Recorder object"}`})
	sim.Register(pbxlink.AdminAPI, pbxsim.NewAdminAPI(pbxlink.Licence, 1))
	t.Cleanup(sim.Close)
	if err := sim.Connect(ctx); err != nil {
		t.Fatal(err)
	}
	st := waitPBX(a, connectedWithInfo)
	if c := st.Connections[0]; c.AppObject != "recorder-object" || !slices.Equal(c.APIsUsed, []string{pbxlink.AdminAPI}) {
		t.Fatalf("connection: %+v", c)
	}
	if _, err := a.DB.User(ctx, "recorder-object"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("account of the App object: %v", err)
	}
	if n, _ := a.DB.UserCount(ctx); n != users {
		t.Fatalf("accounts: %d, want %d", n, users)
	}
	// Its messages now go to the PBX side.
	if err := sim.Send(ctx, []byte(`{"mt":"AppInfo","src":"x"}`)); err != nil {
		t.Fatal(err)
	}
	select {
	case b := <-sim.Other():
		if !strings.Contains(string(b), `"AppInfoResult"`) {
			t.Fatalf("answer %s", b)
		}
	case <-ctx.Done():
		t.Fatal("no answer")
	}
}
