package api_test

import (
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"recordings/api"
	"recordings/internal/app"
	"recordings/internal/apptest"
	"recordings/internal/pbxsim"
	"recordings/pbxlink"
	"recordings/store"
)

// The domain-administrator matrix (docs/pbx.md, Domains): with domains
// a.example and b.example configured, every admin route and every admin
// websocket request is made by ada, an administrator of a.example, and by
// admin, the administrator of no domain. What is instance-wide answers ada
// 403 (and changes nothing); what belongs to domains answers ada with
// a.example's only, never b.example's; another domain's objects are not
// found or refused.

// scope is the decision for one admin route or request.
type scope int

const (
	// instanceWide: 403 to an administrator of a domain.
	instanceWide scope = iota + 1
	// ownDomain: an administrator of a domain gets their domain's only.
	ownDomain
	// otherDomain: the request names b.example's objects; an
	// administrator of a.example is refused (their status given).
	otherDomain
)

// bMarkers are strings that only b.example's data contains.
var bMarkers = []string{"b.example", `"bea"`, "obj-b", "peer-of-b", "log-of-b", "system-of-b"}

// adminRouteCase is one admin REST route.
type adminRouteCase struct {
	route        string // the mux pattern, as registered
	path, body   string
	scope        scope
	ada, root    int    // statuses; ada's is 403 for instanceWide
	want         string // in ada's answer (ownDomain), where it has a.example's data
	rootWantsAny bool   // root's status is not checked (the route's own conditions decide)
}

// adminWSCase is one websocket request of an administrator.
type adminWSCase struct {
	mt     string
	params map[string]any
	scope  scope
	want   string // ownDomain: in ada's answer
	adaErr string // otherDomain: in ada's error
}

func TestDomainAdminMatrix(t *testing.T) {
	t.Parallel()
	a, _ := pbxApp(t, func(c *app.Config) { c.Domain = "a.example, b.example" })
	const pw = "password-for-tests-1"
	for _, u := range []struct {
		name, domain string
		role         store.Role
	}{
		{"ada", "a.example", store.RoleAdmin}, {"amy", "a.example", store.RoleUser},
		{"bea", "b.example", store.RoleUser}, {"bee", "b.example", store.RoleUser}, {"bob", "b.example", store.RoleUser},
	} {
		a.User(u.name, u.role, pw)
		if _, err := a.DB.SetUserDomain(a.Ctx, u.name, u.domain); err != nil {
			t.Fatal(err)
		}
	}
	for _, n := range []string{"amy", "bea"} {
		if err := a.DB.SetUserLicensed(a.Ctx, n, true); err != nil {
			t.Fatal(err)
		}
	}
	recA := uploadIn(t, a, "a.example", "0123456789abcdef0123456789abcdef-009033aa0001-1-amy.pcap")
	recB := uploadIn(t, a, "b.example", "fedcba9876543210fedcba9876543210-009033bb0002-1-bea.pcap")
	for _, d := range []string{"a.example", "b.example"} {
		postCDRIn(t, a, d)
	}
	for _, o := range []store.AppObject{{Domain: "a.example", Name: "obj-a"}, {Domain: "b.example", Name: "obj-b"},
		{Domain: "b.example", Name: "obj-b2"}} {
		if _, err := a.DB.CreateAppObject(a.Ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.DB.AddAudit(a.Ctx,
		store.AuditEntry{Action: store.AuditListened, RecordingID: recA, Owner: "amy", PeerName: "peer-of-a", By: "admin"},
		store.AuditEntry{Action: store.AuditListened, RecordingID: recB, Owner: "bea", PeerName: "peer-of-b", By: "admin"},
		// Of recordings that are gone: the domain they were written with
		// decides, not the accounts (amy acted on b.example's).
		store.AuditEntry{Action: store.AuditDeleted, RecordingID: 1 << 40, Owner: "amy", PeerName: "gone-of-a", By: "amy",
			Domain: "a.example"},
		store.AuditEntry{Action: store.AuditDeleted, RecordingID: 1<<40 + 1, Owner: "bea", PeerName: "peer-of-b", By: "admin",
			Domain: "b.example"},
		store.AuditEntry{Action: store.AuditDeleted, RecordingID: 1<<40 + 2, Owner: "amy", PeerName: "peer-of-b", By: "amy",
			Domain: "b.example"},
	); err != nil {
		t.Fatal(err)
	}
	if err := a.DB.AddLogs(a.Ctx, []store.LogEntry{
		{Level: "INFO", Category: "UI", User: "amy", Message: "log-of-a"},
		{Level: "INFO", Category: "UI", User: "bea", Message: "log-of-b"},
		{Level: "INFO", Category: "UI", User: "admin", RecordingID: recB, Message: "log-of-b about a recording"},
		{Level: "INFO", Category: "UI", Message: "system-of-b"},
	}); err != nil {
		t.Fatal(err)
	}
	// a.example is named, so that b.example's name is missing (a problem
	// of b.example's).
	if err := a.Settings.Set(a.Ctx, "admin", map[string]string{"pbx_name@a.example": "pbx-a"}); err != nil {
		t.Fatal(err)
	}
	// b.example's PBX is connected: its connection and licences are b's.
	ctx := ctxMinute(t)
	sim := pbxsim.New(pbxsim.Options{URL: "ws://" + a.Addr + "/b.example/recordings/innovaphone-recordings",
		Password: testInstancePassword, SystemName: "b.example", GUID: "guid-b", HTTP: a.URL,
		CDRUser: apptest.CDRUser, CDRPassword: apptest.CDRPassword})
	lics := pbxsim.NewAdminAPI(pbxlink.Licence, 5)
	lics.SetLicence("bea", true) // her recording is kept
	sim.Register(pbxlink.AdminAPI, lics)
	t.Cleanup(sim.Close)
	if err := sim.Connect(ctx); err != nil {
		t.Fatalf("PBX of b.example: %v", err)
	}
	waitPBX(a, func(st pbxlink.Status) bool {
		for _, c := range st.Connections {
			if c.Domain == "b.example" && c.Connected && c.InfoReceived {
				return true
			}
		}
		return false
	})

	routes := []adminRouteCase{
		{route: "GET /api/admin/appobjects", path: "/api/admin/appobjects", scope: ownDomain, want: "obj-a"},
		{route: "POST /api/admin/appobjects", path: "/api/admin/appobjects", body: `{"name":"obj-new","domain":"b.example"}`,
			scope: otherDomain, ada: 403, root: 201},
		{route: "GET /api/admin/appobjects/{name}", path: "/api/admin/appobjects/obj-b?domain=b.example", scope: otherDomain, ada: 404, root: 200},
		{route: "PUT /api/admin/appobjects/{name}", path: "/api/admin/appobjects/obj-b?domain=b.example", body: `{"display_name":"B"}`,
			scope: otherDomain, ada: 404, root: 200},
		{route: "DELETE /api/admin/appobjects/{name}", path: "/api/admin/appobjects/obj-b2?domain=b.example", scope: otherDomain, ada: 404, root: 204},
		{route: "GET /api/admin/pbx/appobjects", path: "/api/admin/pbx/appobjects", scope: ownDomain},
		{route: "POST /api/admin/pbx/appobjects", path: "/api/admin/pbx/appobjects?domain=b.example", body: `{"name":"obj-pbx","domain":"b.example"}`,
			scope: otherDomain, ada: 403, rootWantsAny: true},
		{route: "PUT /api/admin/pbx/appobjects/{name}", path: "/api/admin/pbx/appobjects/obj-b?domain=b.example", body: `{"domain":"b.example"}`,
			scope: otherDomain, ada: 403, rootWantsAny: true},
		{route: "DELETE /api/admin/pbx/appobjects/{name}", path: "/api/admin/pbx/appobjects/obj-b?domain=b.example", scope: otherDomain, ada: 403, rootWantsAny: true},
		{route: "POST /api/admin/pbx/appobjects/refresh", path: "/api/admin/pbx/appobjects/refresh?domain=b.example", scope: otherDomain, ada: 403, rootWantsAny: true},
		{route: "GET /api/admin/pbx/templates", path: "/api/admin/pbx/templates?domain=b.example", scope: otherDomain, ada: 403, rootWantsAny: true},
		{route: "PUT /api/admin/pbx/assignments", path: "/api/admin/pbx/assignments?domain=b.example", body: `{"domain":"b.example"}`,
			scope: otherDomain, ada: 403, rootWantsAny: true},
		{route: "GET /api/admin/licences", path: "/api/admin/licences", scope: ownDomain, want: `"amy"`},
		{route: "PUT /api/admin/licences", path: "/api/admin/licences", body: `{"count":5}`, scope: instanceWide, root: 409},
		{route: "GET /api/admin/cdrs", path: "/api/admin/cdrs", scope: ownDomain, want: "a.example"},
		{route: "GET /api/admin/users", path: "/api/admin/users", scope: ownDomain, want: `"amy"`},
		{route: "POST /api/admin/users", path: "/api/admin/users", body: `{"name":"newb","password":"new-password-1","domain":"b.example"}`,
			scope: otherDomain, ada: 403, root: 201},
		{route: "PUT /api/admin/users/{name}", path: "/api/admin/users/bea", body: `{"display_name":"Bea"}`, scope: otherDomain, ada: 404, root: 200},
		{route: "PUT /api/admin/users/{name}/appobject", path: "/api/admin/users/bea/appobject", body: `{"app_object":""}`,
			scope: otherDomain, ada: 404, root: 204},
		{route: "PUT /api/admin/users/{name}/licence", path: "/api/admin/users/bea/licence", body: `{"licensed":false}`,
			scope: otherDomain, ada: 404, root: 409},
		{route: "PUT /api/admin/users/{name}/password", path: "/api/admin/users/bea/password", body: `{"password":"new-password-2"}`,
			scope: otherDomain, ada: 404, root: 204},
		{route: "PUT /api/admin/users/{name}/disabled", path: "/api/admin/users/bob/disabled", body: `{"disabled":true}`,
			scope: otherDomain, ada: 404, root: 200},
		{route: "DELETE /api/admin/users/{name}", path: "/api/admin/users/newb", scope: otherDomain, ada: 404, root: 204},
		{route: "POST /api/admin/users/{name}/reassign", path: "/api/admin/users/bea/reassign", body: `{"to":"bee"}`,
			scope: otherDomain, ada: 404, root: 200},
		{route: "GET /api/admin/audit", path: "/api/admin/audit", scope: ownDomain, want: "peer-of-a"},
		{route: "GET /api/admin/status", path: "/api/admin/status", scope: ownDomain, want: `"pbx"`},
		{route: "GET /api/admin/backup", path: "/api/admin/backup", scope: instanceWide, root: 200},
		{route: "GET /api/admin/backup/status", path: "/api/admin/backup/status", scope: instanceWide, root: 200},
		{route: "GET /api/admin/replica", path: "/api/admin/replica", scope: instanceWide, root: 200},
		{route: "PUT /api/admin/replica", path: "/api/admin/replica", body: `{}`, scope: instanceWide, root: 400},
		{route: "GET /api/admin/pbx", path: "/api/admin/pbx", scope: instanceWide, root: 200},
		{route: "PUT /api/admin/pbx", path: "/api/admin/pbx", body: `{"anonymous_networks":"192.0.2.0/24"}`, scope: instanceWide, root: 200},
		{route: "POST /api/admin/pbx/instance-password/seen", path: "/api/admin/pbx/instance-password/seen", body: `{"token":"x"}`,
			scope: instanceWide, rootWantsAny: true},
		// The instance password is fixed at start-up here (400): what
		// matters is that admin passes the check that refuses ada.
		{route: "POST /api/admin/pbx/instance-password", path: "/api/admin/pbx/instance-password", scope: instanceWide, root: 400},
		{route: "GET /metrics", path: "/metrics", scope: instanceWide, root: 200},
	}
	ws := []adminWSCase{
		{mt: "GetSettings", scope: ownDomain, want: "a.example"},
		{mt: "SetSettings", params: map[string]any{"domain": "b.example", "pbx_name": "pbx-of-b"}, scope: otherDomain, adaErr: "a.example"},
		{mt: "ListUsers", scope: ownDomain, want: `"amy"`},
		{mt: "CreateUser", params: map[string]any{"name": "newb2", "password": "new-password-3", "domain": "b.example"},
			scope: otherDomain, adaErr: "a.example"},
		{mt: "ResetPassword", params: map[string]any{"name": "bea", "password": "new-password-4"}, scope: otherDomain, adaErr: "no such user"},
		{mt: "SetUserDisabled", params: map[string]any{"name": "bea", "disabled": true}, scope: otherDomain, adaErr: "no such user"},
		{mt: "PreviewDeleteUser", params: map[string]any{"name": "newb2"}, scope: otherDomain, adaErr: "no such user"},
		{mt: "DeleteUser", params: map[string]any{"name": "newb2"}, scope: otherDomain, adaErr: "no such user"},
		{mt: "ReassignRecordings", params: map[string]any{"from": "bee", "to": "bea"}, scope: otherDomain, adaErr: "no such user"},
		{mt: "UpdateUser", params: map[string]any{"name": "bea", "display_name": "Bea B"}, scope: otherDomain, adaErr: "no such user"},
		{mt: "GetPbxStatus", scope: ownDomain, want: "a.example"},
		{mt: "GetAudit", scope: ownDomain, want: "gone-of-a"},
		{mt: "PreviewSettings", params: map[string]any{"domain": "b.example", "changes": map[string]any{"retention_days": 1}},
			scope: otherDomain, adaErr: "a.example"},
		{mt: "PreviewSettings", params: map[string]any{"changes": map[string]any{"licence_count": 0}},
			scope: otherDomain, adaErr: "instance-wide"},
		// Not an admin request, but admins get the developer log.
		{mt: "GetLogs", scope: ownDomain, want: "log-of-a"},
	}

	// Every admin route and request has a decision here.
	var listed []string
	for _, c := range routes {
		listed = append(listed, c.route)
	}
	for _, r := range adminRoutes(t) {
		if !slices.Contains(listed, r) {
			t.Errorf("admin route %q has no decision in the domain-administrator matrix", r)
		}
	}
	var listedWS []string
	for _, c := range ws {
		listedWS = append(listedWS, c.mt)
	}
	for _, mt := range api.AdminWSMessages() {
		if !slices.Contains(listedWS, mt) {
			t.Errorf("admin websocket request %q has no decision in the domain-administrator matrix", mt)
		}
	}

	do := func(user, method, path, body string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(method, a.URL+path, strings.NewReader(body))
		if user == "admin" {
			req.SetBasicAuth(user, "admin-pw")
		} else {
			req.SetBasicAuth(user, pw)
		}
		req.Header.Set("Sec-Fetch-Site", "same-origin")
		res, err := a.Client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	before := a.Settings.Values()

	// ada first, so that what she is refused is still b.example's as set up.
	for _, c := range routes {
		method, _, _ := strings.Cut(c.route, " ")
		code, body := do("ada", method, c.path, c.body)
		switch c.scope {
		case instanceWide:
			if code != http.StatusForbidden || !strings.Contains(body, "instance-wide") && !strings.Contains(body, "every domain") {
				t.Errorf("ada: %s: %d %.200s, want 403 (instance-wide)", c.route, code, body)
			}
		case otherDomain:
			if code != c.ada {
				t.Errorf("ada: %s: %d %.200s, want %d", c.route, code, body, c.ada)
			}
		case ownDomain:
			if code != http.StatusOK {
				t.Errorf("ada: %s: %d %.200s, want 200", c.route, code, body)
			}
			if c.want != "" && !strings.Contains(body, c.want) {
				t.Errorf("ada: %s: %.300s lacks %s", c.route, body, c.want)
			}
		}
		if c.scope != instanceWide {
			for _, m := range bMarkers {
				if strings.Contains(body, m) {
					t.Errorf("ada: %s shows b.example's %s: %.400s", c.route, m, body)
				}
			}
		}
	}
	adaWS := dialBasicWS(t, a, "ada", pw)
	for _, c := range ws {
		r := adaWS.call(c.mt, c.params)
		raw, _ := json.Marshal(r)
		switch c.scope {
		case ownDomain:
			if errOf(r) != "" || !strings.Contains(string(raw), c.want) {
				t.Errorf("ada: %s: %.300s, want an answer with %s", c.mt, raw, c.want)
			}
		case otherDomain:
			if !strings.Contains(errOf(r), c.adaErr) {
				t.Errorf("ada: %s: %.300s, want an error with %q", c.mt, raw, c.adaErr)
			}
		default:
			t.Fatalf("%s: no websocket request is instance-wide", c.mt)
		}
		for _, m := range bMarkers {
			if strings.Contains(string(raw), m) {
				t.Errorf("ada: %s shows b.example's %s: %.400s", c.mt, m, raw)
			}
		}
	}

	// Nothing of b.example's or of the instance's changed.
	after := a.Settings.Values()
	if len(after.AnonymousNets) != len(before.AnonymousNets) || after.ReplicaURL != before.ReplicaURL || after.AppPassword != before.AppPassword ||
		after.ForDomain("b.example").PBXName != before.ForDomain("b.example").PBXName {
		t.Errorf("ada's refused requests changed settings: %+v → %+v", before, after)
	}
	if _, err := a.DB.Authenticate(a.Ctx, "bea", pw); err != nil {
		t.Errorf("bea's password after ada's requests: %v", err)
	}
	for _, n := range []string{"bea", "bob"} {
		if u, err := a.DB.User(a.Ctx, n); err != nil || u.Disabled || u.DisplayName != "" {
			t.Errorf("%s after ada's requests: %+v %v", n, u, err)
		}
	}
	if r, err := a.DB.Recording(a.Ctx, recB); err != nil || r.Owner != "bea" {
		t.Errorf("b.example's recording after ada's requests: owner %q %v", r.Owner, err)
	}
	for _, n := range []string{"obj-b", "obj-b2"} {
		if _, err := a.DB.AppObjectIn(a.Ctx, "b.example", n); err != nil {
			t.Errorf("app object %s after ada's requests: %v", n, err)
		}
	}

	// The administrator of no domain reaches all of it.
	for _, c := range routes {
		method, _, _ := strings.Cut(c.route, " ")
		code, body := do("admin", method, c.path, c.body)
		want := c.root
		if want == 0 {
			want = http.StatusOK
		}
		if c.rootWantsAny {
			if code == http.StatusForbidden || code == http.StatusUnauthorized {
				t.Errorf("admin: %s: %d %.200s, want no refusal", c.route, code, body)
			}
			continue
		}
		if code != want {
			t.Errorf("admin: %s: %d %.200s, want %d", c.route, code, body, want)
		}
		if c.route == "GET /api/admin/cdrs" && !strings.Contains(body, "b.example") {
			t.Errorf("admin: CDRs lack b.example's: %.300s", body)
		}
	}
	rootWS := dialBasicWS(t, a, "admin", "admin-pw")
	for _, c := range ws {
		if r := rootWS.call(c.mt, c.params); errOf(r) != "" {
			t.Errorf("admin: %s: %v", c.mt, r)
		}
	}
	if r := rootWS.call("GetAudit", nil); !strings.Contains(mustJSON(t, r), "peer-of-b") {
		t.Errorf("admin's audit lacks b.example's: %v", r)
	}

	// The details of /healthz are the instance's too.
	if code, body := do("ada", "GET", "/healthz", ""); code != http.StatusOK || strings.TrimSpace(body) != `{"status":"ok"}` {
		t.Errorf("ada: /healthz: %d %.200s, want the status only", code, body)
	}
	if _, body := do("admin", "GET", "/healthz", ""); !strings.Contains(body, "database") {
		t.Errorf("admin: /healthz without details: %.200s", body)
	}

	// The details of GET /api/admin/status are the instance's as well: ada
	// gets whether the service works and her domain's problems only.
	for _, c := range []struct {
		who          string
		want, absent []string
	}{
		{"ada", []string{`"health":{"status":"ok"`, `"state":"hidden"`},
			[]string{"uploads_in_progress", "database_free_bytes", `"database"`, "disk", "capture", `"took"`}},
		{"admin", []string{"uploads_in_progress", "database_free_bytes", `"database":"ok"`, `"disk":"ok"`, "b.example"}, nil},
	} {
		code, body := do(c.who, "GET", "/api/admin/status", "")
		if code != http.StatusOK {
			t.Errorf("%s: status: %d %.200s", c.who, code, body)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(body, w) {
				t.Errorf("%s: status lacks %s: %.600s", c.who, w, body)
			}
		}
		for _, w := range c.absent {
			if strings.Contains(body, w) {
				t.Errorf("%s: status shows %s: %.600s", c.who, w, body)
			}
		}
	}

	// The PbxStatus push: b.example's PBX drops; admin is told, ada is
	// not, as her domain's status did not change (the timing would tell
	// her of b.example's PBX): neither on the client that asked for the
	// status (GetPbxStatus above) nor on one that never did. Then
	// a.example's PBX connects: that is the first push either of ada's
	// clients gets. Each client's pushes come in order, so one about b's
	// drop would have come first.
	adaWS2 := dialBasicWS(t, a, "ada", pw)
	for _, c := range []*wsClientConn{adaWS, adaWS2, rootWS} {
		if r := c.call("Subscribe", nil); errOf(r) != "" {
			t.Fatalf("subscribe: %v", r)
		}
	}
	pbxPush := func(c *wsClientConn) (pbxlink.Status, string) {
		t.Helper()
		for {
			m := c.next()
			if m["mt"] != "PbxStatus" {
				continue
			}
			raw := mustJSON(t, m)
			var st struct {
				PBX pbxlink.Status `json:"pbx"`
			}
			if err := json.Unmarshal([]byte(raw), &st); err != nil {
				t.Fatal(err)
			}
			return st.PBX, raw
		}
	}
	connected := func(st pbxlink.Status, domain string) bool {
		for _, c := range st.Connections {
			if c.Domain == domain && c.Connected {
				return true
			}
		}
		return false
	}
	sim.Drop()
	rootPushes := 0
	for {
		st, _ := pbxPush(rootWS)
		rootPushes++
		if !connected(st, "b.example") {
			break
		}
	}
	simA := pbxsim.New(pbxsim.Options{URL: "ws://" + a.Addr + "/a.example/recordings/innovaphone-recordings",
		Password: testInstancePassword, SystemName: "a.example", GUID: "guid-a", HTTP: a.URL,
		CDRUser: apptest.CDRUser, CDRPassword: apptest.CDRPassword})
	simA.Register(pbxlink.AdminAPI, pbxsim.NewAdminAPI(pbxlink.Licence, 5))
	t.Cleanup(simA.Close)
	if err := simA.Connect(ctx); err != nil {
		t.Fatalf("PBX of a.example: %v", err)
	}
	for who, c := range map[string]*wsClientConn{"ada": adaWS, "ada without GetPbxStatus": adaWS2} {
		st, raw := pbxPush(c)
		if !connected(st, "a.example") || len(st.Connections) != 1 || strings.Contains(raw, "b.example") {
			t.Errorf("%s: the first PbxStatus push is not a.example's PBX connecting: %.400s", who, raw)
		}
	}
	// admin was told of both changes.
	for {
		st, _ := pbxPush(rootWS)
		rootPushes++
		if connected(st, "a.example") {
			break
		}
	}
	if rootPushes < 2 {
		t.Errorf("admin got %d PbxStatus pushes, want one per change at least", rootPushes)
	}
}

// adminRoutes are the patterns of the admin REST routes registered in the
// package's source (string literals "<METHOD> /api/admin/…" and /metrics),
// so that a new route must be decided in the matrix.
func adminRoutes(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(`^[A-Z]+ (/api/admin/|/metrics$)`)
	fset := token.NewFileSet()
	var out []string
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		file, err := parser.ParseFile(fset, f, src, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(file, func(n ast.Node) bool {
			if lit, ok := n.(*ast.BasicLit); ok && lit.Kind == token.STRING {
				if s, err := strconv.Unquote(lit.Value); err == nil && re.MatchString(s) && !slices.Contains(out, s) {
					out = append(out, s)
				}
			}
			return true
		})
	}
	if len(out) < 30 {
		t.Fatalf("found only %d admin routes in the source: %v", len(out), out)
	}
	return out
}

// postCDRIn posts a PBX CDR under domain.
func postCDRIn(t *testing.T, a *apptest.App, domain string) {
	t.Helper()
	xml, err := os.ReadFile(filepath.Join("..", "pbx", "testdata", "cdr", "internal.xml"))
	if err != nil {
		t.Fatal(err)
	}
	// Each domain's PBX has its own call ids.
	body := strings.ReplaceAll(string(xml), "e909d311", "e909d3"+strings.Repeat(domain[:1], 2))
	req, _ := http.NewRequest("POST", a.URL+"/"+domain+"/recordings/cdr", strings.NewReader(body))
	req.Header.Set("Content-Type", "text/xml")
	apptest.CDRAuth(req)
	res, err := a.Client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("CDR under %s: %d", domain, res.StatusCode)
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// dialBasicWS opens a websocket to a signed in with HTTP Basic
// credentials.
func dialBasicWS(t *testing.T, a *apptest.App, name, password string) *wsClientConn {
	t.Helper()
	e := &wsEnv{t: t, ctx: a.Ctx, db: a.DB, app: a, s: a.API}
	c, _, err := e.dialBasic(name, password)
	if err != nil {
		t.Fatalf("websocket of %s: %v", name, err)
	}
	return c
}
