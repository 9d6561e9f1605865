package api_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"recordings/events"
	"recordings/internal/app"
	"recordings/internal/apptest"
	"recordings/internal/pbxsim"
	"recordings/internal/testutil"
	"recordings/pbxlink"
	"recordings/store"
)

const twoDomains = "a.example,b.example"

// domainSim is a simulated PBX of domain serving PbxAdminApi with admin
// and, if users is not nil, PbxTableUsers with users.
func domainSim(a *apptest.App, domain string, admin *pbxsim.AdminAPI, users *pbxsim.UsersTable) *pbxsim.Sim {
	s := pbxsim.New(pbxsim.Options{URL: "ws://" + a.Addr + "/" + domain + "/recordings/innovaphone-recordings",
		Password: testInstancePassword, SystemName: domain, GUID: "guid-" + domain, PBXName: "pbx-of-" + domain,
		HTTP: a.URL, CDRUser: apptest.CDRUser, CDRPassword: apptest.CDRPassword})
	if admin != nil {
		s.Register(pbxlink.AdminAPI, admin)
	}
	if users != nil {
		s.Register("PbxTableUsers", users)
	}
	a.T.Cleanup(s.Close)
	return s
}

// waitDomainLicences waits until the licence client of domain has a
// complete answer and is not checking, and returns it.
func waitDomainLicences(t *testing.T, a *apptest.App, domain string) pbxlink.LicenceAnswer {
	t.Helper()
	ctx := ctxMinute(t)
	for {
		changed := a.Licences.Changed()
		for _, d := range a.Licences.Domains() {
			if d.Domain == domain && d.Last != nil && !d.Checking {
				return *d.Last
			}
		}
		select {
		case <-ctx.Done():
			t.Fatalf("no licence answer from the PBX of %s: %+v", domain, a.Licences.Domains())
		case <-changed:
		}
	}
}

// waitUser waits until the account name exists.
func waitUser(t *testing.T, a *apptest.App, name string, steps <-chan struct{}) store.User {
	t.Helper()
	deadline := time.After(time.Minute)
	for {
		if u, err := a.DB.User(a.Ctx, name); err == nil {
			return u
		}
		select {
		case <-steps:
		case <-deadline:
			t.Fatalf("user %s not replicated within a minute", name)
		}
	}
}

// Two domains, each with its PBX: /healthz and the status name each
// configured domain whose PBX is missing; each PBX is asked about its own
// domain's users only; after a restart, the licence loss A's PBX reports
// purges A's recordings and not B's, nothing of B goes while B's PBX is
// away, and B's recordings go once B's PBX answers.
func TestDomainLicencesAndHealth(t *testing.T) {
	t.Parallel()
	db := filepath.Join(t.TempDir(), "recordings.db")
	steps := make(chan struct{}, 1)
	onDB := func(c *app.Config) {
		c.DB, c.Domain = db, twoDomains
		c.Tuning.PBXUsersObserve = func(pbxlink.UsersEvent) {
			select {
			case steps <- struct{}{}:
			default:
			}
		}
	}
	adminA, adminB := pbxsim.NewAdminAPI(pbxlink.Licence, 5), pbxsim.NewAdminAPI(pbxlink.Licence, 3)
	for _, n := range []string{"anna", "ben"} {
		adminA.SetLicence(n, true)
		adminB.SetLicence(n, true)
	}
	adminB.SetLicence("bea", true)
	usersB := pbxsim.NewUsersTable(pbxsim.SimUser{GUID: "g-bea", H323: "bea", DN: "Bea"})
	recs := map[string]int64{} // owner@domain →

	t.Run("licensed", func(t *testing.T) {
		a, _ := pbxApp(t, onDB)
		want := []string{pbxlink.NotConnectedOf("a.example"), pbxlink.NotConnectedOf("b.example")}
		if p := healthProblems(t, a); !containsAll(p, want) || slices.Contains(p, pbxlink.NotConnected) {
			t.Fatalf("healthz without PBXes: %v, want %v", p, want)
		}
		st := getStatus(t, a)
		if !containsAll(st.Problems, want) || len(st.PBX.Connections) != 2 {
			t.Fatalf("status without PBXes: %+v", st)
		}
		for _, c := range st.PBX.Connections {
			if !c.Configured || c.Connected {
				t.Fatalf("status of %s without PBXes: %+v", c.Domain, c)
			}
		}
		for _, n := range []string{"anna", "ben"} {
			if _, err := a.DB.CreateUser(a.Ctx, store.User{Name: n}, n+"-password"); err != nil {
				t.Fatal(err)
			}
		}
		simA := domainSim(a, "a.example", adminA, nil)
		if err := simA.Connect(ctxMinute(t)); err != nil {
			t.Fatal(err)
		}
		waitDomainLicences(t, a, "a.example")
		if p := pbxProblems(healthProblems(t, a)); !slices.Equal(p, []string{pbxlink.NotConnectedOf("b.example")}) {
			t.Fatalf("healthz with A's PBX only: %v", p)
		}
		for _, c := range getStatus(t, a).PBX.Connections {
			if c.Connected != (c.Domain == "a.example") || (c.Connected && c.PBX != "pbx-of-a.example") {
				t.Fatalf("status of %s with A's PBX only: %+v", c.Domain, c)
			}
		}
		simB := domainSim(a, "b.example", adminB, usersB)
		if err := simB.Connect(ctxMinute(t)); err != nil {
			t.Fatal(err)
		}
		if u := waitUser(t, a, "bea", steps); u.Domain != "b.example" {
			t.Fatalf("bea: %+v", u)
		}
		waitDomainLicences(t, a, "b.example")
		if p := pbxProblems(healthProblems(t, a)); len(p) != 0 {
			t.Fatalf("healthz with both PBXes: %v", p)
		}
		for i, c := range []struct{ owner, domain string }{
			{"anna", "a.example"}, {"ben", "a.example"}, {"anna", "b.example"}, {"ben", "b.example"}, {"bea", "b.example"},
		} {
			id := uploadIn(t, a, c.domain, fmt.Sprintf("%032x-009033000001-1--%s.pcap", i+1, c.owner))
			a.WaitRecording(id, func(r store.Recording) bool { return r.Owner == c.owner })
			recs[c.owner+"@"+c.domain] = id
		}
		simA.Close()
		simB.Close()
	})
	// Both PBXes take ben's licence away.
	adminA.SetLicence("ben", false)
	adminB.SetLicence("ben", false)

	exists := func(t *testing.T, a *apptest.App, key string) bool {
		t.Helper()
		_, err := a.DB.Recording(a.Ctx, recs[key])
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			t.Fatal(err)
		}
		return err == nil
	}
	t.Run("restart with A's PBX only, then B's", func(t *testing.T) {
		a, logs := pbxApp(t, onDB)
		deleted := make(chan int64, 8)
		a.Events.Subscribe(func(ev events.Recording) {
			if ev.Kind == events.Deleted {
				deleted <- ev.ID
			}
		})
		checksB := adminB.Checks()
		simA := domainSim(a, "a.example", adminA, nil)
		if err := simA.Connect(ctxMinute(t)); err != nil {
			t.Fatal(err)
		}
		select {
		case id := <-deleted:
			if id != recs["ben@a.example"] {
				t.Fatalf("deleted %d, want ben's of A %d", id, recs["ben@a.example"])
			}
		case <-ctxMinute(t).Done():
			t.Fatal("A's PBX's answer purged nothing")
		}
		ans := waitDomainLicences(t, a, "a.example")
		if _, asked := ans.Licensed["bea"]; asked || !ans.Licensed["anna"] || ans.Licensed["ben"] || ans.Domain != "a.example" {
			t.Fatalf("A's answer: %+v (asked about B's bea, or anna/ben wrong)", ans)
		}
		for _, k := range []string{"anna@a.example", "anna@b.example", "ben@b.example", "bea@b.example"} {
			if !exists(t, a, k) {
				t.Fatalf("%s's recording deleted on A's answer", k)
			}
		}
		if p := pbxProblems(healthProblems(t, a)); !slices.Equal(p, []string{pbxlink.NotConnectedOf("b.example")}) {
			t.Fatalf("healthz with B's PBX away: %v", p)
		}
		if adminB.Checks() != checksB {
			t.Fatal("B's PBX asked while disconnected")
		}

		simB := domainSim(a, "b.example", adminB, usersB)
		if err := simB.Connect(ctxMinute(t)); err != nil {
			t.Fatal(err)
		}
		select {
		case id := <-deleted:
			if id != recs["ben@b.example"] {
				t.Fatalf("deleted %d, want ben's of B %d", id, recs["ben@b.example"])
			}
		case <-ctxMinute(t).Done():
			t.Fatal("B's PBX's answer purged nothing")
		}
		waitDomainLicences(t, a, "b.example")
		for _, k := range []string{"anna@a.example", "anna@b.example", "bea@b.example"} {
			if !exists(t, a, k) {
				t.Fatalf("%s's recording deleted", k)
			}
		}
		if l := logs.String(); !containsAllText(l, "deleted recording of a user without licence", "domain=a.example",
			"domain=b.example", "category=License") {
			t.Fatalf("purges not in the License log:\n%s", l)
		}
		if st := getStatus(t, a); st.PBX.Licences == nil || st.PBX.Licences.Users < 3 {
			t.Fatalf("licences in the status: %+v", st.PBX.Licences)
		}
	})
}

// pbxProblems are the problems about PBX connections.
func pbxProblems(p []string) []string {
	return slices.DeleteFunc(slices.Clone(p), func(s string) bool { return !strings.Contains(s, "not connected") })
}

func containsAllText(s string, parts ...string) bool {
	for _, p := range parts {
		if !strings.Contains(s, p) {
			return false
		}
	}
	return true
}

func containsAll(have, want []string) bool {
	for _, w := range want {
		if !slices.Contains(have, w) {
			return false
		}
	}
	return true
}

// Each domain has its own PBX name and retention period where set, the
// instance-wide ones elsewhere; the admin of no domain sets any domain's,
// an admin of a domain only that domain's (and no instance-wide setting);
// retention deletes each domain's recordings by its own days.
func TestDomainSettingsAndRetention(t *testing.T) {
	t.Parallel()
	clk := testutil.NewClock(time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC))
	steps := make(chan struct{}, 1)
	a, _ := pbxApp(t, func(c *app.Config) {
		c.Domain, c.Tuning.Now = "a.example,b.example,c.example", clk.Now
		c.Tuning.PBXUsersObserve = func(pbxlink.UsersEvent) {
			select {
			case steps <- struct{}{}:
			default:
			}
		}
	})
	e := &wsEnv{t: t, ctx: a.Ctx, db: a.DB, app: a, s: a.API}
	dial := func(user, pw string) *wsClientConn {
		t.Helper()
		c, _, err := e.dial(a.SessionCookie(user, pw), a.URL)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	root := dial("admin", "admin-pw")
	for _, req := range []map[string]any{
		{"retention_days": 1, "pbx_name": "pbx"},
		{"domain": "a.example", "retention_days": 5},
		{"domain": "C.EXAMPLE", "retention_days": "0", "pbx_name": "pbx-c"},
	} {
		if r := root.call("SetSettings", req); errOf(r) != "" {
			t.Fatalf("SetSettings %v: %v", req, r)
		}
	}
	for _, bad := range []struct {
		req  map[string]any
		want string
	}{
		{map[string]any{"domain": "d.example", "pbx_name": "x"}, "does not serve"},
		{map[string]any{"reset": []string{"pbx_name"}}, "name the domain"},
		{map[string]any{"domain": "a.example", "reset": []string{"trace"}}, "reset"},
		{map[string]any{"domain": "a.example", "retention_days": -1}, "retention_days"},
	} {
		if r := root.call("SetSettings", bad.req); !strings.Contains(errOf(r), bad.want) {
			t.Errorf("SetSettings %v: %v, want an error with %q", bad.req, r, bad.want)
		}
	}
	type domainView struct {
		Domain        string `json:"domain"`
		PBXName       string `json:"pbx_name"`
		PBXNameOwn    bool   `json:"pbx_name_own"`
		RetentionDays *int   `json:"retention_days"`
		RetentionOwn  bool   `json:"retention_own"`
	}
	view := func(c *wsClientConn) (string, []domainView) {
		t.Helper()
		r := root.call("GetSettings", nil)
		if c != root {
			r = c.call("GetSettings", nil)
		}
		var out struct {
			Settings struct {
				Domain  string       `json:"domain"`
				Domains []domainView `json:"domains"`
			} `json:"settings"`
		}
		b, _ := json.Marshal(r)
		if err := json.Unmarshal(b, &out); err != nil {
			t.Fatal(err)
		}
		return out.Settings.Domain, out.Settings.Domains
	}
	if d, ds := view(root); d != "" || len(ds) != 3 ||
		ds[0].Domain != "a.example" || *ds[0].RetentionDays != 5 || !ds[0].RetentionOwn || ds[0].PBXName != "pbx" || ds[0].PBXNameOwn ||
		ds[1].Domain != "b.example" || *ds[1].RetentionDays != 1 || ds[1].RetentionOwn ||
		ds[2].Domain != "c.example" || *ds[2].RetentionDays != 0 || !ds[2].RetentionOwn || ds[2].PBXName != "pbx-c" || !ds[2].PBXNameOwn {
		t.Fatalf("the admin of no domain sees %q %+v", d, ds)
	}

	// bea, an admin of b.example (replicated by B's PBX).
	simB := domainSim(a, "b.example", nil, pbxsim.NewUsersTable(pbxsim.SimUser{GUID: "g-bea", H323: "bea", DN: "Bea"}))
	if err := simB.Connect(ctxMinute(t)); err != nil {
		t.Fatal(err)
	}
	waitUser(t, a, "bea", steps)
	if u := a.User("bea", store.RoleAdmin, "bea-pw"); u.Domain != "b.example" {
		t.Fatalf("bea: %+v", u)
	}
	bea := dial("bea", "bea-pw")
	if d, ds := view(bea); d != "b.example" || len(ds) != 1 || ds[0].Domain != "b.example" {
		t.Fatalf("bea sees %q %+v", d, ds)
	}
	for _, bad := range []map[string]any{
		{"domain": "a.example", "pbx_name": "x"},
		{"trace": map[string]string{"UI": "debug"}},
	} {
		if r := bea.call("SetSettings", bad); errOf(r) == "" {
			t.Errorf("bea's SetSettings %v accepted: %v", bad, r)
		}
	}
	if r := bea.call("SetSettings", map[string]any{"pbx_name": "pbx-b", "retention_days": 3}); errOf(r) != "" {
		t.Fatalf("bea sets b.example's: %v", r)
	}
	if r := bea.call("PreviewSettings", map[string]any{"domain": "a.example", "changes": map[string]any{"retention_days": 1}}); errOf(r) == "" {
		t.Errorf("bea previews a.example's retention: %v", r)
	}
	req, _ := http.NewRequest("PUT", a.URL+"/api/admin/pbx", strings.NewReader(`{"cdr_user":"mine"}`))
	req.SetBasicAuth("bea", "bea-pw")
	if res, err := a.Client.Do(req); err != nil || res.StatusCode != http.StatusForbidden {
		t.Fatalf("bea changes the instance's CDR user: %v %v", res, err)
	} else {
		res.Body.Close()
	}
	v := a.Settings.Values()
	if b := v.ForDomain("b.example"); b.PBXName != "pbx-b" || b.RetentionDays != 3 || !b.RetentionOwn || v.PBXName != "pbx" ||
		v.RetentionDays != 1 || v.Trace["UI"] != "info" || v.CDRUser != apptest.CDRUser {
		t.Fatalf("after bea's changes: b %+v, instance %q %d", b, v.PBXName, v.RetentionDays)
	}
	if r := bea.call("SetSettings", map[string]any{"reset": []string{"retention_days"}}); errOf(r) != "" {
		t.Fatalf("bea resets b.example's retention: %v", r)
	}
	if b := a.Settings.Values().ForDomain("b.example"); b.RetentionDays != 1 || b.RetentionOwn || b.PBXName != "pbx-b" {
		t.Fatalf("b.example after the reset: %+v", b)
	}
	// The overview shows bea her domain's PBX name and retention period.
	for _, who := range []struct{ user, pw, name string }{{"bea", "bea-pw", "pbx-b"}, {"admin", "admin-pw", "pbx"}} {
		req, _ := http.NewRequest("GET", a.URL+"/api/admin/status", nil)
		req.SetBasicAuth(who.user, who.pw)
		res, err := a.Client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var st struct {
			PBXName       string `json:"pbx_name"`
			RetentionDays int    `json:"retention_days"`
		}
		err = json.NewDecoder(res.Body).Decode(&st)
		res.Body.Close()
		if err != nil || st.PBXName != who.name || st.RetentionDays != 1 {
			t.Errorf("status for %s: %+v (%v), want PBX name %q, 1 day", who.user, st, err, who.name)
		}
	}

	// One recording per domain, then retention 2 and 6 days later: b.example
	// (1 day) goes first, a.example (5 days) next, c.example (0) never.
	ids := map[string]int64{}
	for i, d := range []string{"a.example", "b.example", "c.example"} {
		ids[d] = uploadIn(t, a, d, fmt.Sprintf("%032x-009033000001-1.pcap", i+1))
	}
	if r := root.call("PreviewSettings", map[string]any{"domain": "a.example", "changes": map[string]any{"retention_days": 1}}); errOf(r) != "" || r["would_delete"] != float64(0) {
		t.Fatalf("preview now: %v", r)
	}
	for _, step := range []struct {
		after time.Duration
		gone  []string
	}{{2 * 24 * time.Hour, []string{"b.example"}}, {4 * 24 * time.Hour, []string{"a.example", "b.example"}}} {
		clk.Advance(step.after)
		if _, err := a.Retention.Once(a.Ctx); err != nil {
			t.Fatal(err)
		}
		for d, id := range ids {
			_, err := a.DB.Recording(a.Ctx, id)
			if gone := errors.Is(err, store.ErrNotFound); gone != slices.Contains(step.gone, d) {
				t.Fatalf("after %v more: %s's recording gone %v (%v), want gone %v", step.after, d, gone, err, step.gone)
			}
		}
	}
}
