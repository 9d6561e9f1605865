package api_test

import (
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"recordings/events"
	"recordings/internal/app"
	"recordings/internal/apptest"
	"recordings/internal/pbxsim"
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
