package api_test

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"recordings/internal/app"
	"recordings/internal/apptest"
	"recordings/internal/pbxsim"
	"recordings/pbx"
	"recordings/pbxlink"
	"recordings/store"
)

// loginIn signs sip in with app through call as myApps of domain's PBX
// would; it returns the AppLoginResult.
func loginIn(t *testing.T, call func(map[string]any) map[string]any, app, domain, sip, info string) map[string]any {
	t.Helper()
	ch, _ := call(map[string]any{"mt": "AppChallenge"})["challenge"].(string)
	msg := map[string]any{"mt": "AppLogin", "app": app, "domain": domain, "sip": sip, "guid": "g-" + sip, "dn": sip,
		"digest": pbx.AppLoginDigest(app, domain, sip, "g-"+sip, sip, info, ch, testInstancePassword)}
	if info != "" {
		msg["info"] = json.RawMessage(info)
	}
	return call(msg)
}

// sessionGet sends a GET with the session cookie tok and decodes the JSON
// answer into out; it returns the status.
func sessionGet(t *testing.T, a *apptest.App, tok, path string, out any) int {
	t.Helper()
	req, _ := http.NewRequest("GET", a.URL+path, nil)
	req.AddCookie(&http.Cookie{Name: "recordings_session", Value: tok})
	res, err := a.Client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode == 200 && out != nil {
		if err := json.NewDecoder(res.Body).Decode(out); err != nil {
			t.Fatal(err)
		}
	}
	return res.StatusCode
}

// listedIDs lists the recordings the session tok sees.
func listedIDs(t *testing.T, a *apptest.App, tok string) []int64 {
	t.Helper()
	var body struct {
		Recordings []struct {
			ID int64 `json:"id"`
		} `json:"recordings"`
	}
	if st := sessionGet(t, a, tok, "/api/recordings?limit=100", &body); st != 200 {
		t.Fatalf("list: %d", st)
	}
	var out []int64
	for _, r := range body.Recordings {
		out = append(out, r.ID)
	}
	slices.Sort(out)
	return out
}

// Two domains, each PBX holding an App object named "recordings" with its
// own access list: each domain's app-object rows follow its own PBX; a
// user signing in through their domain's object sees what that list
// allows in their domain and nothing of the other's; an account of no
// domain signing in through A's object gets A's list for A's recordings
// only; the plugin's edit on A and the admin's on B leave the other
// domain's list alone; an administrator of A sees and changes A's objects
// only.
func TestAppObjectsPerDomainAccess(t *testing.T) {
	t.Parallel()
	loaded := make(chan struct{}, 8)
	a, _ := pbxApp(t, func(c *app.Config) {
		c.Domain = "a.example, b.example"
		c.Tuning.PBXUsersObserve = func(ev pbxlink.UsersEvent) {
			if ev.Kind == pbxlink.EventLoaded {
				loaded <- struct{}{}
			}
		}
	})
	ctx := ctxMinute(t)
	users := map[string]*pbxsim.UsersTable{
		"a.example": pbxsim.NewUsersTable(
			pbxsim.SimUser{GUID: "g-alice", H323: "alice", E164: "201", Devices: []string{"009033aa0001"}},
			pbxsim.SimUser{GUID: "g-amy", H323: "amy", E164: "202", Devices: []string{"009033aa0002"}}),
		"b.example": pbxsim.NewUsersTable(
			pbxsim.SimUser{GUID: "g-bob", H323: "bob", E164: "201", Devices: []string{"009033bb0001"}},
			pbxsim.SimUser{GUID: "g-bea", H323: "bea", E164: "202", Devices: []string{"009033bb0002"}}),
	}
	admins := map[string]*pbxsim.AdminAPI{}
	for _, d := range []string{"a.example", "b.example"} {
		admins[d] = pbxsim.NewAdminAPI(pbxlink.Licence, 10)
		base := "https://rec.example.com/" + d + "/recordings/"
		admins[d].AddAppObject("Recordings", "recordings", base+pbxlink.UserAppFile)
		admins[d].AddAppObject("Recordings admin", "recordingsadmin", base+pbxlink.AdminAppFile)
		s := pbxsim.New(pbxsim.Options{URL: "ws://" + a.Addr + "/" + d + "/recordings/innovaphone-recordings",
			Password: testInstancePassword, SystemName: d, GUID: "guid-" + d, HTTP: a.URL,
			CDRUser: apptest.CDRUser, CDRPassword: apptest.CDRPassword})
		s.Register("PbxTableUsers", users[d])
		s.Register(pbxlink.AdminAPI, admins[d])
		t.Cleanup(s.Close)
		if err := s.Connect(ctx); err != nil {
			t.Fatalf("PBX of %s: %v", d, err)
		}
		select {
		case <-loaded:
		case <-ctx.Done():
			t.Fatalf("the users of %s's PBX not loaded", d)
		}
	}
	waitAppObjects(t, a, func(pbxlink.AppObjectsState) bool {
		return !a.AppObjects.StateOf("a.example").SyncedAt.IsZero() && !a.AppObjects.StateOf("b.example").SyncedAt.IsZero()
	})
	for _, d := range []string{"a.example", "b.example"} {
		for _, n := range []string{"recordings", "recordingsadmin"} {
			o, err := a.DB.AppObjectIn(a.Ctx, d, n)
			if err != nil || o.Domain != d || o.PBX.State != store.PBXStatePresent {
				t.Fatalf("%s of %s: %+v %v", n, d, o, err)
			}
		}
	}

	// A's list through the PBX Manager plugin on A's instance URL, B's
	// through the admin API; neither touches the other's.
	_, plugin := dialApp(t, a, "/a.example/recordings/innovaphone.recordingsmanager")
	ch, _ := plugin(map[string]any{"mt": "AppChallenge"})["challenge"].(string)
	const mgr = "innovaphone-recordingsmanager"
	if r := plugin(map[string]any{"mt": "AppLogin", "app": mgr, "domain": "a.example", "sip": "", "guid": "", "dn": "",
		"pbxObj": "-", "digest": pbx.AppLoginDigest(mgr, "a.example", "", "", "", "", ch, testInstancePassword)}); r["ok"] != true {
		t.Fatalf("plugin login: %v", r)
	}
	if r := plugin(map[string]any{"mt": "SetAppObjectAccess", "name": "recordings", "access": []string{"202"}}); r["mt"] != "SetAppObjectAccessResult" {
		t.Fatalf("plugin edit on A: %v", r)
	}
	if r := plugin(map[string]any{"mt": "RefreshAppObjects"}); r["mt"] != "RefreshAppObjectsResult" || r["domain"] != "a.example" {
		t.Fatalf("plugin refresh on A: %v", r)
	}
	if o, _ := a.DB.AppObjectIn(a.Ctx, "b.example", "recordings"); len(o.Access) != 0 {
		t.Fatalf("B's list after the plugin's edit on A: %v", o.Access)
	}
	if st := adminJSON(t, a, "PUT", "/api/admin/appobjects/recordings", map[string]any{"access": []string{"202"}}, nil); st != http.StatusConflict {
		t.Errorf("the admin of no domain changes a name of two domains without naming one: %d, want 409", st)
	}
	var got struct {
		Domain string   `json:"domain"`
		Access []string `json:"access"`
	}
	if st := adminJSON(t, a, "PUT", "/api/admin/appobjects/recordings?domain=b.example",
		map[string]any{"access": []string{"201", "amy"}}, &got); st != 200 || got.Domain != "b.example" {
		t.Fatalf("the admin's edit on B: %d %+v", st, got)
	}
	if o, _ := a.DB.AppObjectIn(a.Ctx, "a.example", "recordings"); !slices.Equal(o.Access, []string{"202"}) {
		t.Fatalf("A's list after the admin's edit on B: %v", o.Access)
	}

	// Each user's phone records under their domain; amy's phone under B's
	// URL too (hers by MAC, but of domain B).
	rec := map[string]int64{}
	for i, r := range []struct{ key, domain, mac, owner string }{
		{"alice", "a.example", "009033aa0001", "alice"},
		{"amy", "a.example", "009033aa0002", "amy"},
		{"amy@b", "b.example", "009033aa0002", "amy"},
		{"bob", "b.example", "009033bb0001", "bob"},
		{"bea", "b.example", "009033bb0002", "bea"},
	} {
		id := uploadIn(t, a, r.domain, fmt.Sprintf("%032x-%s-1.pcap", i+1, r.mac))
		a.WaitRecording(id, func(x store.Recording) bool { return x.Owner == r.owner })
		rec[r.key] = id
	}
	ids := func(keys ...string) []int64 {
		var out []int64
		for _, k := range keys {
			out = append(out, rec[k])
		}
		slices.Sort(out)
		return out
	}
	a.User("lou", store.RoleUser, "lou-pw") // a local account: of no domain
	for _, c := range []struct {
		name, domain, sip string
		want              []int64
		hidden            []int64
	}{
		// A's list [202]: amy of A.
		{"alice through A's object", "a.example", "alice", ids("alice", "amy"), ids("amy@b", "bob", "bea")},
		// B's list [201, amy]: bob of B, and amy's recording of B.
		{"bea through B's object", "b.example", "bea", ids("bea", "bob", "amy@b"), ids("alice", "amy")},
		// A's list, for A's recordings only (not amy's of B).
		{"a local account through A's object", "a.example", "lou", ids("amy"), ids("amy@b", "alice", "bob", "bea")},
	} {
		_, call := dialApp(t, a, "/"+c.domain+"/recordings/innovaphone-recordings")
		r := loginIn(t, call, "innovaphone-recordings", c.domain, c.sip, `{"appobj":"recordings"}`)
		tok, _ := r["session"].(string)
		if r["ok"] != true || tok == "" || r["app_object"] != "recordings" {
			t.Fatalf("%s: login %v", c.name, r)
		}
		if got := listedIDs(t, a, tok); !slices.Equal(got, c.want) {
			t.Errorf("%s lists %v, want %v (recordings %v)", c.name, got, c.want, rec)
		}
		for _, id := range c.hidden {
			if st := sessionGet(t, a, tok, fmt.Sprintf("/api/recordings/%d", id), nil); st != http.StatusNotFound {
				t.Errorf("%s gets recording %d: %d, want 404", c.name, id, st)
			}
		}
	}

	// A user of A cannot name B's object through B's URL (another
	// domain's user), nor an object A's PBX does not hold.
	_, call := dialApp(t, a, "/a.example/recordings/innovaphone-recordings")
	if r := loginIn(t, call, "innovaphone-recordings", "a.example", "alice", `{"appobj":"nosuch"}`); r["ok"] != false {
		t.Errorf("an object A does not hold: %v", r)
	}
	_, call = dialApp(t, a, "/b.example/recordings/innovaphone-recordings")
	if r := loginIn(t, call, "innovaphone-recordings", "b.example", "alice", `{"appobj":"recordings"}`); r["ok"] != false {
		t.Errorf("alice of A through B's object: %v", r)
	}

	// An administrator of A (amy, through A's admin object) sees A's
	// objects only and cannot change B's.
	_, call = dialApp(t, a, "/a.example/recordings/innovaphone-recordingsadmin")
	r := loginIn(t, call, "innovaphone-recordingsadmin", "a.example", "amy", `{"appobj":"recordingsadmin"}`)
	tok, _ := r["session"].(string)
	if r["ok"] != true || r["role"] != "admin" {
		t.Fatalf("amy as A's admin: %v", r)
	}
	var list struct {
		AppObjects []struct {
			Domain string `json:"domain"`
			Name   string `json:"name"`
		} `json:"app_objects"`
		PBX struct {
			Domain    string `json:"domain"`
			Connected bool   `json:"connected"`
		} `json:"pbx"`
	}
	if st := sessionGet(t, a, tok, "/api/admin/appobjects", &list); st != 200 || len(list.AppObjects) != 2 ||
		list.PBX.Domain != "a.example" || !list.PBX.Connected {
		t.Fatalf("A's admin lists: %d %+v", st, list)
	}
	for _, o := range list.AppObjects {
		if o.Domain != "a.example" {
			t.Errorf("A's admin sees %+v", o)
		}
	}
	put := func(path string) int {
		req, _ := http.NewRequest("PUT", a.URL+path, strings.NewReader(`{"access":["x"]}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Origin", a.URL)
		req.AddCookie(&http.Cookie{Name: "recordings_session", Value: tok})
		res, err := a.Client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	if st := put("/api/admin/appobjects/recordings?domain=b.example"); st != http.StatusNotFound {
		t.Errorf("A's admin changes B's object: %d, want 404", st)
	}
	if o, _ := a.DB.AppObjectIn(a.Ctx, "b.example", "recordings"); !slices.Equal(o.Access, []string{"201", "amy"}) {
		t.Errorf("B's list after A's admin tried: %v", o.Access)
	}
	if st := put("/api/admin/appobjects/recordings"); st != 200 {
		t.Errorf("A's admin changes A's object: %d", st)
	}
	if o, _ := a.DB.AppObjectIn(a.Ctx, "a.example", "recordings"); !slices.Equal(o.Access, []string{"x"}) {
		t.Errorf("A's list after A's admin: %v", o.Access)
	}

	// A's PBX drops its admin object; its re-read marks A's missing only.
	for _, o := range admins["a.example"].Objects() {
		if o.H323 == "recordingsadmin" {
			if st := adminJSON(t, a, "DELETE", "/api/admin/pbx/appobjects/recordingsadmin?domain=a.example", nil, nil); st != http.StatusNoContent {
				t.Fatalf("delete A's admin object on A's PBX: %d", st)
			}
		}
	}
	if _, err := a.DB.AppObjectIn(a.Ctx, "a.example", "recordingsadmin"); err == nil {
		t.Error("A's admin object still cached after its delete")
	}
	if o, err := a.DB.AppObjectIn(a.Ctx, "b.example", "recordingsadmin"); err != nil || o.PBX.State != store.PBXStatePresent {
		t.Errorf("B's admin object after A's was deleted: %+v %v", o, err)
	}
	if n := admins["b.example"].Requests("DeleteObject"); n != 0 {
		t.Errorf("B's PBX got %d DeleteObject", n)
	}
}

// An old database (app objects of no domain, with access lists) is
// upgraded at start; the PBX of the configured domain lists its App
// object, which becomes that domain's with its access list; a user
// signing in through it gets the list; a row the PBX does not hold stays
// an object of every domain.
func TestAppObjectsOldDatabase(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "recordings.db")
	ctx := ctxMinute(t)
	db, err := store.Open(ctx, path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	// The app-object tables as the schema before per-domain app objects
	// had them, with two objects and their lists.
	raw, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`DROP TABLE app_object_access`,
		`DROP TABLE app_objects`,
		`CREATE TABLE app_objects (name TEXT PRIMARY KEY COLLATE NOCASE, display_name TEXT NOT NULL DEFAULT '',
			type TEXT NOT NULL, created_at INTEGER NOT NULL, pbx_guid TEXT NOT NULL DEFAULT '',
			pbx_url TEXT NOT NULL DEFAULT '', pbx_state TEXT NOT NULL DEFAULT '', pbx_connected INTEGER NOT NULL DEFAULT 0,
			pbx_synced_at INTEGER NOT NULL DEFAULT 0)`,
		`CREATE TABLE app_object_access (app_object TEXT NOT NULL COLLATE NOCASE REFERENCES app_objects (name)
			ON DELETE CASCADE ON UPDATE CASCADE, pos INTEGER NOT NULL, entry TEXT NOT NULL, PRIMARY KEY (app_object, pos))`,
		`ALTER TABLE sessions DROP COLUMN app_object_domain`,
		`INSERT INTO app_objects (name, display_name, type, created_at) VALUES ('recordings', 'Recordings', 'user', 1),
			('typed', '', 'user', 2)`,
		`INSERT INTO app_object_access (app_object, pos, entry) VALUES ('recordings', 0, '202'), ('typed', 0, '9')`,
		// And without the migration after it (audit entries' domain).
		`DROP INDEX audit_domain`,
		`ALTER TABLE audit DROP COLUMN domain`,
		fmt.Sprintf(`PRAGMA user_version = %d`, store.SchemaVersion()-2),
	} {
		if _, err := raw.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if err := raw.Close(); err != nil {
		t.Fatal(err)
	}

	loaded := make(chan struct{}, 2)
	a, _ := pbxApp(t, func(c *app.Config) {
		c.DB, c.Domain = path, "example.com"
		c.Tuning.PBXUsersObserve = func(ev pbxlink.UsersEvent) {
			if ev.Kind == pbxlink.EventLoaded {
				loaded <- struct{}{}
			}
		}
	})
	admin := pbxsim.NewAdminAPI(pbxlink.Licence, 10)
	admin.AddAppObject("Recordings", "recordings", "https://rec/example.com/recordings/"+pbxlink.UserAppFile)
	sim := newSim(a, testInstancePassword, admin)
	sim.Register("PbxTableUsers", pbxsim.NewUsersTable(
		pbxsim.SimUser{GUID: "g-alice", H323: "alice", E164: "201", Devices: []string{"009033aa0001"}},
		pbxsim.SimUser{GUID: "g-amy", H323: "amy", E164: "202", Devices: []string{"009033aa0002"}}))
	if err := sim.Connect(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case <-loaded:
	case <-ctx.Done():
		t.Fatal("users not loaded")
	}
	waitAppObjects(t, a, func(s pbxlink.AppObjectsState) bool { return !s.SyncedAt.IsZero() })
	if o, err := a.DB.AppObjectIn(a.Ctx, "example.com", "recordings"); err != nil || o.Domain != "example.com" ||
		!slices.Equal(o.Access, []string{"202"}) || o.PBX.State != store.PBXStatePresent {
		t.Fatalf("recordings after the upgrade and the PBX's list: %+v %v", o, err)
	}
	if o, err := a.DB.AppObjectIn(a.Ctx, "example.com", "typed"); err != nil || o.Domain != "" ||
		!slices.Equal(o.Access, []string{"9"}) || o.PBX.State != store.PBXStateMissing {
		t.Fatalf("typed after the upgrade and the PBX's list: %+v %v", o, err)
	}
	_, call := dialApp(t, a, "/example.com/recordings/innovaphone-recordings")
	r := loginIn(t, call, "innovaphone-recordings", "example.com", "alice", `{"appobj":"recordings"}`)
	tok, _ := r["session"].(string)
	if r["ok"] != true {
		t.Fatalf("alice's login: %v", r)
	}
	var me struct {
		User struct {
			AppObject       string   `json:"app_object"`
			AppObjectDomain string   `json:"app_object_domain"`
			Sees            []string `json:"sees"`
		} `json:"user"`
	}
	if st := sessionGet(t, a, tok, "/api/session", &me); st != 200 || me.User.AppObject != "recordings" ||
		me.User.AppObjectDomain != "example.com" || !slices.Equal(me.User.Sees, []string{"202", "amy"}) {
		t.Fatalf("alice's session: %d %+v", st, me)
	}
}
