package api_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"recordings/internal/app"
	"recordings/internal/apptest"
	"recordings/internal/callgen"
	"recordings/internal/pbxsim"
	"recordings/pbxlink"
	"recordings/store"
)

// uploadIn uploads a capture as name under domain and waits until it is
// analysed; it returns the recording's id.
func uploadIn(t *testing.T, a *apptest.App, domain, name string) int64 {
	t.Helper()
	req, _ := http.NewRequest("PUT", a.URL+"/"+domain+"/recordings/Files/"+name, bytes.NewReader(callgen.Default(10).Bytes()))
	apptest.UploadAuth(req)
	res, err := a.Client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusCreated {
		t.Fatalf("upload %s under %s: %d", name, domain, res.StatusCode)
	}
	rec, err := a.DB.RecordingByName(a.Ctx, strings.ToLower(domain), name)
	if err != nil {
		t.Fatal(err)
	}
	a.WaitAnalysed(rec.ID)
	return rec.ID
}

// Two domains served at once, each with its PBX: each PBX replicates its
// own users into accounts of its domain (neither load marks the other's
// users deleted, and one domain's PBX cannot take a name another domain's
// user holds); a CDR posted under one domain attaches to that domain's
// recording of the call only; a user of one domain does not see the
// recordings of the other, even those owned under the user's name; and
// the URLs of a domain the instance does not serve answer 404.
func TestDomainsIsolated(t *testing.T) {
	t.Parallel()
	loaded := make(chan struct{}, 8)
	steps := make(chan struct{}, 1)
	a, _ := pbxApp(t, func(c *app.Config) {
		c.Domain = "a.example, b.example"
		c.Tuning.PBXUsersObserve = func(ev pbxlink.UsersEvent) {
			if ev.Kind == pbxlink.EventLoaded {
				loaded <- struct{}{}
			}
			select {
			case steps <- struct{}{}:
			default:
			}
		}
	})
	ctx := ctxMinute(t)
	sims := map[string]*pbxsim.UsersTable{
		"a.example": pbxsim.NewUsersTable(
			pbxsim.SimUser{GUID: "g-alice", H323: "alice", DN: "Alice", Devices: []string{"009033aa0001"}}),
		"b.example": pbxsim.NewUsersTable(
			pbxsim.SimUser{GUID: "g-bob", H323: "bob", DN: "Bob", Devices: []string{"009033bb0002"}},
			pbxsim.SimUser{GUID: "g-other-alice", H323: "alice", DN: "Alice of B"}),
	}
	pbxs := map[string]*pbxsim.Sim{}
	// A first, so that alice is A's when B's PBX names an alice too.
	for _, domain := range []string{"a.example", "b.example"} {
		table := sims[domain]
		s := pbxsim.New(pbxsim.Options{URL: "ws://" + a.Addr + "/" + domain + "/recordings/innovaphone-recordings",
			Password: testInstancePassword, SystemName: domain, GUID: "guid-" + domain, HTTP: a.URL,
			CDRUser: apptest.CDRUser, CDRPassword: apptest.CDRPassword})
		s.Register("PbxTableUsers", table)
		t.Cleanup(s.Close)
		if err := s.Connect(ctx); err != nil {
			t.Fatalf("PBX of %s: %v", domain, err)
		}
		pbxs[domain] = s
		select {
		case <-loaded:
		case <-ctx.Done():
			t.Fatalf("the users of %s's PBX not loaded within a minute", domain)
		}
	}
	st := waitPBX(a, func(st pbxlink.Status) bool {
		n := 0
		for _, c := range st.Connections {
			if c.Connected && c.InfoReceived && c.ClientsRunning {
				n++
			}
		}
		return n == 2
	})
	for _, c := range st.Connections {
		if len(c.APIsUsed) != 1 || c.APIsUsed[0] != "PbxTableUsers" {
			t.Errorf("connection of %s: APIs used %v", c.Domain, c.APIsUsed)
		}
	}
	for _, want := range []struct{ name, domain, guid string }{
		{"alice", "a.example", "g-alice"}, {"bob", "b.example", "g-bob"},
	} {
		u, err := a.DB.User(a.Ctx, want.name)
		if err != nil || u.Domain != want.domain || u.PBXGUID != want.guid || u.PBXDeleted {
			t.Fatalf("%s: %+v %v, want of %s, guid %s, not deleted", want.name, u, err, want.domain, want.guid)
		}
	}

	// The same call recorded in both domains; its CDR comes from A's PBX.
	const conf = "c2c2c2c2e909d31192e80090331032dd"
	call := conf + "-009033060014-1--TRUNK.pcap"
	recA, recB := uploadIn(t, a, "a.example", call), uploadIn(t, a, "b.example", call)
	xml, err := os.ReadFile(filepath.Join("..", "pbx", "testdata", "cdr", "trunk-in.xml"))
	if err != nil {
		t.Fatal(err)
	}
	if code, err := pbxs["a.example"].PostCDR(string(xml)); err != nil || code != http.StatusOK {
		t.Fatalf("CDR of A: %d %v", code, err)
	}
	a.WaitRecording(recA, func(r store.Recording) bool { return r.CDR })
	if r, err := a.DB.Recording(a.Ctx, recB); err != nil || r.CDR {
		t.Fatalf("B's recording after A's CDR: %+v %v", r, err)
	}

	// alice's phone recorded under both domains: both are hers by MAC, but
	// alice of A sees only A's; the instance's admin (no domain) both.
	aliceA := uploadIn(t, a, "a.example", fmt.Sprintf("%032x-009033aa0001-1.pcap", 1))
	aliceB := uploadIn(t, a, "A.EXAMPLE", fmt.Sprintf("%032x-009033aa0001-2.pcap", 2)) // a.example, as configured
	aliceOther := uploadIn(t, a, "b.example", fmt.Sprintf("%032x-009033aa0001-3.pcap", 3))
	for _, id := range []int64{aliceA, aliceB, aliceOther} {
		a.WaitRecording(id, func(r store.Recording) bool { return r.Owner == "alice" })
	}
	a.User("alice", store.RoleUser, "alice-pw")
	list := func(user, pw string) map[int64]string {
		t.Helper()
		req, _ := http.NewRequest("GET", a.URL+"/api/recordings?limit=100", nil)
		req.SetBasicAuth(user, pw)
		res, err := a.Client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var body struct {
			Recordings []struct {
				ID     int64  `json:"id"`
				Domain string `json:"domain"`
			} `json:"recordings"`
		}
		if err := json.NewDecoder(res.Body).Decode(&body); err != nil || res.StatusCode != 200 {
			t.Fatalf("list as %s: %d %v", user, res.StatusCode, err)
		}
		out := map[int64]string{}
		for _, r := range body.Recordings {
			out[r.ID] = r.Domain
		}
		return out
	}
	if got := list("alice", "alice-pw"); len(got) != 2 || got[aliceA] != "a.example" || got[aliceB] != "a.example" {
		t.Fatalf("alice of A lists %v, want %d and %d of a.example", got, aliceA, aliceB)
	}
	if got := list("admin", "admin-pw"); got[aliceOther] != "b.example" || got[recB] != "b.example" {
		t.Fatalf("the admin lists %v, want B's too", got)
	}
	for _, c := range []struct {
		id   int64
		want int
	}{{aliceA, 200}, {aliceOther, 404}} {
		req, _ := http.NewRequest("GET", fmt.Sprintf("%s/api/recordings/%d", a.URL, c.id), nil)
		req.SetBasicAuth("alice", "alice-pw")
		res, err := a.Client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != c.want {
			t.Errorf("alice of A gets recording %d: %d, want %d", c.id, res.StatusCode, c.want)
		}
	}

	// alice signs in through myApps of her own domain only.
	for _, c := range []struct {
		domain string
		ok     bool
	}{{"a.example", true}, {"b.example", false}} {
		_, call := dialApp(t, a, "/"+c.domain+"/recordings/innovaphone-recordings")
		if res := userLogin(t, call, "alice", `{"cn":"Alice"}`); (res["ok"] == true) != c.ok {
			t.Errorf("alice's AppLogin under %s: %v, want ok %v", c.domain, res, c.ok)
		}
	}

	// A domain the instance does not serve: its upload, CDR and app URLs
	// are not found, and nothing is stored.
	for _, c := range []struct{ method, path string }{
		{"PUT", "/c.example/recordings/Files/" + call},
		{"POST", "/c.example/recordings/cdr"},
		{"GET", "/c.example/recordings/innovaphone-recordings.htm"},
		{"GET", "/c.example/recordings/innovaphone-recordings"},
		{"GET", "/c.example/recordings"},
	} {
		req, _ := http.NewRequest(c.method, a.URL+c.path, bytes.NewReader(xml))
		req.SetBasicAuth(apptest.UploadUser, apptest.UploadPassword)
		res, err := a.Client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusNotFound {
			t.Errorf("%s %s: %d, want 404", c.method, c.path, res.StatusCode)
		}
	}
	if _, err := a.DB.RecordingByName(a.Ctx, "c.example", call); err == nil {
		t.Fatal("an upload under an unserved domain was stored")
	}

	// B's PBX going away leaves A's replication and users alone.
	pbxs["b.example"].Drop()
	waitPBX(a, func(st pbxlink.Status) bool {
		for _, c := range st.Connections {
			if c.Domain == "b.example" && c.Connected {
				return false
			}
		}
		return true
	})
	if err := sims["a.example"].Add(pbxsim.SimUser{GUID: "g-dora", H323: "dora"}); err != nil {
		t.Fatal(err)
	}
	deadline := time.After(time.Minute)
	for {
		if u, err := a.DB.User(a.Ctx, "dora"); err == nil {
			if u.Domain != "a.example" {
				t.Fatalf("dora: %+v", u)
			}
			break
		}
		select {
		case <-steps:
		case <-deadline:
			t.Fatal("a user added on A's PBX after B's left not replicated within a minute")
		}
	}
}

// TestSignInGoesToAServedDomain: with domains configured, the sign-in
// page's answers name the domain whose app the person goes to (their
// account's, else the host's when served, else the first served), never
// the host name of an instance reached by IP address (whose app URL
// would be a 404).
func TestSignInGoesToAServedDomain(t *testing.T) {
	t.Parallel()
	a := apptest.New(t, func(c *app.Config) { c.Domain = "a.example, b.example" })
	a.User("amy", store.RoleUser, "amy-password-1")
	bea := a.User("bea", store.RoleUser, "bea-password-1")
	if _, err := a.DB.SetUserDomain(a.Ctx, bea.Name, "b.example"); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ user, pass, host, want string }{
		{"amy", "amy-password-1", "", "a.example"}, // 127.0.0.1: the first served
		{"amy", "amy-password-1", "B.Example", "b.example"},
		{"bea", "bea-password-1", "a.example:8080", "b.example"}, // her own
	} {
		req, _ := http.NewRequest(http.MethodPost, a.URL+"/api/login",
			strings.NewReader(fmt.Sprintf(`{"name":%q,"password":%q}`, c.user, c.pass)))
		if c.host != "" {
			req.Host = c.host
		}
		res, err := a.Client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var u struct {
			AppDomain string `json:"app_domain"`
		}
		err = json.NewDecoder(res.Body).Decode(&u)
		res.Body.Close()
		if err != nil || res.StatusCode != http.StatusOK || u.AppDomain != c.want {
			t.Errorf("%s at %q: %s %q (%v), want %q", c.user, c.host, res.Status, u.AppDomain, err, c.want)
		}
		// The session answer agrees.
		req, _ = http.NewRequest(http.MethodGet, a.URL+"/api/session", nil)
		if c.host != "" {
			req.Host = c.host
		}
		req.AddCookie(a.SessionCookie(c.user, c.pass))
		res, err = a.Client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var s struct {
			User struct {
				AppDomain string `json:"app_domain"`
			} `json:"user"`
		}
		err = json.NewDecoder(res.Body).Decode(&s)
		res.Body.Close()
		if err != nil || s.User.AppDomain != c.want {
			t.Errorf("session of %s at %q: %q (%v), want %q", c.user, c.host, s.User.AppDomain, err, c.want)
		}
	}
	// Without configured domains the page keeps using the host name.
	b := apptest.New(t)
	b.User("amy", store.RoleUser, "amy-password-1")
	res, err := b.Client.Post(b.URL+"/api/login", "application/json", strings.NewReader(`{"name":"amy","password":"amy-password-1"}`))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var u map[string]any
	if err := json.NewDecoder(res.Body).Decode(&u); err != nil || u["app_domain"] != nil {
		t.Errorf("no domains: app_domain %v (%v), want none", u["app_domain"], err)
	}
}
