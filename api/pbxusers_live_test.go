package api_test

import (
	"fmt"
	"testing"
	"time"

	"recordings/internal/app"
	"recordings/internal/pbxsim"
	"recordings/pbx"
	"recordings/pbxlink"
	"recordings/store"
)

// The PBX's user table over the real App-object connection: the full load
// on connecting, then a user added on the PBX while connected owns the
// next upload from its phone's MAC, and a user deleted on the PBX keeps
// its recordings, marked.
func TestPBXUsersLive(t *testing.T) {
	t.Parallel()
	steps := make(chan pbxlink.UsersEvent, 64)
	a, _ := pbxApp(t, func(c *app.Config) {
		c.Tuning.PBXUsersObserve = func(ev pbxlink.UsersEvent) {
			select {
			case steps <- ev:
			default: // the test looks at the store after each step anyway
			}
		}
	})
	table := pbxsim.NewUsersTable(pbxsim.SimUser{GUID: "g-alice", H323: "alice", CN: "Alice Example", DN: "Alice", E164: "201",
		Devices: []string{"009033aa0001"}})
	sim := newSim(a, testInstancePassword, pbxsim.NewAdminAPI(pbxlink.Licence, 5))
	sim.Register("PbxTableUsers", table)
	if err := sim.Connect(ctxMinute(t)); err != nil {
		t.Fatal(err)
	}
	waitUser := func(name string, ok func(store.User) bool) store.User {
		t.Helper()
		timeout := time.After(time.Minute)
		for {
			u, err := a.DB.User(a.Ctx, name)
			if err == nil && ok(u) {
				return u
			}
			select {
			case <-steps:
			case <-timeout:
				t.Fatalf("user %s not as wanted within a minute: %+v %v (replication %+v)", name, u, err, a.PBXUsers.Status())
			}
		}
	}
	alice := waitUser("alice", func(u store.User) bool { return u.PBXGUID == "g-alice" })
	if alice.HasPassword || alice.DisplayName != "Alice" {
		t.Fatalf("replicated alice: %+v", alice)
	}

	if err := table.Add(pbxsim.SimUser{GUID: "g-bob", H323: "bob", DN: "Bob", Devices: []string{"00:90:33:aa:00:02"}}); err != nil {
		t.Fatal(err)
	}
	waitUser("bob", func(u store.User) bool { return len(u.MACs) == 1 })
	id := uploadFor(t, a, fmt.Sprintf("%032x-009033aa0002-1.pcap", 42))
	rec := a.WaitRecording(id, func(r store.Recording) bool { return r.Owner != "" })
	if rec.Owner != "bob" || rec.OwnerSource != string(pbx.OwnerByMAC) {
		t.Fatalf("upload from bob's phone: owner %q by %q", rec.Owner, rec.OwnerSource)
	}

	if err := table.Delete("g-bob"); err != nil {
		t.Fatal(err)
	}
	waitUser("bob", func(u store.User) bool { return u.PBXDeleted })
	rec = a.WaitRecording(id, func(r store.Recording) bool { return r.OwnerDeleted })
	if rec.Owner != "bob" {
		t.Fatalf("bob's recording after his deletion on the PBX: owner %q", rec.Owner)
	}
}
